package daemon

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

var pidSelf = os.Getpid()

// lookupUID accepts a user name or a numeric uid.
func lookupUID(s string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return 0, fmt.Errorf("user %q: %w", s, err)
	}
	n, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("user %q: uid %q: %w", s, u.Uid, err)
	}
	return uint32(n), nil
}
