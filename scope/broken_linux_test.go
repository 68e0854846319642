package scope

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"
)

// What makes do reconnect and try again, and what it passes back as
// systemd's answer.
func TestBrokenConn(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{io.EOF, true},
		{fmt.Errorf("call: %w", syscall.ECONNRESET), true},
		{dbus.ErrClosed, true},
		// systemd re-executed while the call was in flight: the bus
		// answers NoReply ("Message recipient disconnected from message
		// bus without replying").
		{dbus.Error{Name: errNoReply, Body: []any{"Message recipient disconnected from message bus without replying"}}, true},
		{&dbus.Error{Name: errServiceUnknown}, true},
		{dbus.Error{Name: errNoSuchUnit}, false},
		{dbus.Error{Name: errUnitExists}, false},
		{errors.New("job failed"), false},
	} {
		if got := brokenConn(tt.err); got != tt.want {
			t.Errorf("brokenConn(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
