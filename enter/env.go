package enter

import (
	"fmt"
	"strings"
)

// pathEnv is the entered command's PATH, inside the build's root.
const pathEnv = "PATH=/usr/bin:/bin:/usr/sbin:/sbin"

// Term checks a client's environment for an entered command, of which
// only TERM passes, and returns TERM's value ("" without one).
func Term(env []string) (string, error) {
	term := ""
	for _, e := range env {
		v, ok := strings.CutPrefix(e, "TERM=")
		if !ok {
			return "", fmt.Errorf("env %q: only TERM may be passed to an entered command", e)
		}
		if !validTerm(v) {
			return "", fmt.Errorf("env TERM=%q: not a terminal type", v)
		}
		term = v
	}
	return term, nil
}

// validTerm reports whether v can be a terminal type: short printable
// ASCII without spaces, as terminal type names are.
func validTerm(v string) bool {
	return len(v) <= 64 && !strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' })
}

// environ is the entered command's whole environment.
func environ(id, term string) []string {
	env := []string{pathEnv, "HOME=/homeless-shelter", "SDBUILD_BUILD_ID=" + id}
	if term != "" {
		env = append(env, "TERM="+term)
	}
	return env
}
