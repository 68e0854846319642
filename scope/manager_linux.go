package scope

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// privateSocket is systemd's own D-Bus socket, reachable as root when no bus
// daemon runs.
const privateSocket = "unix:path=/run/systemd/private"

// Manager starts, kills, stops and lists scopes over one connection to
// systemd. Its methods may be called concurrently.
type Manager struct {
	// ctx ends at Close; every connection is bound to it.
	ctx    context.Context
	cancel context.CancelFunc

	// user: the calling user's own systemd (systemctl --user), over the
	// user bus, instead of the system's.
	user bool

	mu     sync.Mutex
	conn   *conn // protected by mu; nil until the first dial or after a broken one
	closed bool  // protected by mu
}

// conn is one go-systemd connection and the way to tell it broke.
type conn struct {
	*sddbus.Conn
	lost   chan struct{}      // closed once either of its two sockets has closed
	cancel context.CancelFunc // closes it
}

func (c *conn) isLost() bool {
	select {
	case <-c.lost:
		return true
	default:
		return false
	}
}

// NewManager connects to systemd; ctx bounds the connecting only.
func NewManager(ctx context.Context) (*Manager, error) {
	return newManager(ctx, false)
}

// NewUserManager connects to the calling user's own systemd over the user
// bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), or its
// private socket when the bus is not there. Its scopes are the user's
// (systemctl --user), and Delegate=yes works in them because the user's
// manager has a delegated cgroup of its own (user@.service).
func NewUserManager(ctx context.Context) (*Manager, error) {
	return newManager(ctx, true)
}

func newManager(ctx context.Context, user bool) (*Manager, error) {
	mctx, cancel := context.WithCancel(context.Background())
	m := &Manager{ctx: mctx, cancel: cancel, user: user}
	if _, err := m.connection(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Close closes the connection. Scopes keep running.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.conn = nil
	m.cancel()
	return nil
}

// connection returns the current connection, or dials a new one if there is
// none or it broke.
func (m *Manager) connection(ctx context.Context) (*conn, error) {
	m.mu.Lock()
	old, closed := m.conn, m.closed
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if old != nil && !old.isLost() {
		return old, nil
	}
	c, err := m.dial(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		c.cancel()
		return nil, ErrClosed
	case m.conn != old && m.conn != nil && !m.conn.isLost():
		// Another caller replaced the connection meanwhile.
		c.cancel()
		return m.conn, nil
	}
	if m.conn != nil {
		m.conn.cancel()
	}
	m.conn = c
	return c, nil
}

// discard closes c and forgets it if it is still the current connection.
func (m *Manager) discard(c *conn) {
	c.cancel()
	m.mu.Lock()
	if m.conn == c {
		m.conn = nil
	}
	m.mu.Unlock()
}

// userBus opens a private connection to the user bus: the address
// systemd gives user services, else $XDG_RUNTIME_DIR/bus (never
// dbus-launch, which would start a bus of its own).
func userBus(o ...dbus.ConnOption) (*dbus.Conn, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		addr = "unix:path=" + runtimeDir() + "/bus"
	}
	return dbus.Dial(addr, o...)
}

// userPrivateSocket is the user manager's own D-Bus socket.
func userPrivateSocket() string {
	return "unix:path=" + runtimeDir() + "/systemd/private"
}

// runtimeDir is $XDG_RUNTIME_DIR, or where systemd puts it.
func runtimeDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return d
	}
	return "/run/user/" + strconv.Itoa(os.Getuid())
}

// dial connects to the system bus, or as root to systemd's private socket
// if the bus is not there; for a user manager, to the user bus or the
// manager's private socket.
func (m *Manager) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithCancel(m.ctx)
	// ctx bounds the dial only; afterwards the connection lives as long as
	// the Manager (or until it breaks).
	stop := context.AfterFunc(ctx, cancel)
	var done []<-chan struct{}
	dialer := func(open func(...dbus.ConnOption) (*dbus.Conn, error), hello bool) func() (*dbus.Conn, error) {
		return func() (*dbus.Conn, error) {
			c, err := open(dbus.WithContext(dctx))
			if err != nil {
				return nil, err
			}
			// EXTERNAL with the numeric uid: no user name lookup.
			if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
				c.Close()
				return nil, err
			}
			if hello {
				if err := helloSystemd(c); err != nil {
					c.Close()
					return nil, err
				}
			}
			done = append(done, c.Context().Done())
			return c, nil
		}
	}
	bus, busName, private := dbus.SystemBusPrivate, "system bus", privateSocket
	if m.user {
		bus, busName, private = userBus, "user bus", userPrivateSocket()
	}
	sc, err := sddbus.NewConnection(dialer(bus, true))
	if err != nil && (m.user || os.Geteuid() == 0) && ctx.Err() == nil {
		busErr := err
		done = nil
		sc, err = sddbus.NewConnection(dialer(func(o ...dbus.ConnOption) (*dbus.Conn, error) {
			return dbus.Dial(private, o...)
		}, false))
		if err != nil {
			err = fmt.Errorf("%s: %w; %s: %w", busName, busErr, private, err)
		}
	}
	if !stop() && err == nil {
		// ctx ended during the dial and took the connection with it.
		sc.Close()
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("connect to systemd: %w", err)
	}
	c := &conn{Conn: sc, lost: make(chan struct{}), cancel: cancel}
	go func() {
		select {
		case <-done[0]:
		case <-done[1]:
		}
		close(c.lost)
	}()
	return c, nil
}

// helloSystemd registers c on the bus and checks that systemd is there: for a
// moment after the bus restarts it is not, and calls would fail with
// ServiceUnknown; the private socket works then.
func helloSystemd(c *dbus.Conn) error {
	if err := c.Hello(); err != nil {
		return err
	}
	var has bool
	if err := c.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, systemdName).Store(&has); err != nil {
		return err
	}
	if !has {
		return fmt.Errorf("%s is not on the bus", systemdName)
	}
	return nil
}

// reconnectFor bounds how long do keeps trying to reach systemd again
// after the connection broke: systemd re-executing, or the bus restarting,
// leaves it unreachable for a moment (longer on a loaded machine).
const reconnectFor = 10 * time.Second

// do runs fn on the connection. If fn fails because the connection broke
// or systemd left the bus (systemd re-executed, the bus restarted), do
// reconnects, retrying with a growing pause until systemd answers again,
// ctx ends or reconnectFor has passed, and runs fn once more.
func (m *Manager) do(ctx context.Context, fn func(*conn) error) error {
	c, err := m.connection(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	if err == nil || ctx.Err() != nil || !(c.isLost() || brokenConn(err)) {
		return err
	}
	m.discard(c)
	deadline := time.Now().Add(reconnectFor)
	pause := 20 * time.Millisecond
	for {
		if c, err = m.connection(ctx); err == nil {
			return fn(c)
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil || time.Now().Add(pause).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// brokenConn reports whether err comes from the transport, or from a bus
// that has lost systemd, rather than from systemd's answer. NoReply is the
// bus's answer for a call whose recipient disconnected before replying:
// systemd re-executing mid-call.
func brokenConn(err error) bool {
	return errors.Is(err, dbus.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		isDBusError(err, errServiceUnknown, errNameHasNoOwner, errDisconnected, errNoReply)
}

// systemdName is systemd's name on the bus.
const systemdName = "org.freedesktop.systemd1"

// D-Bus error names systemd and the bus answer with.
const (
	errNoSuchUnit     = "org.freedesktop.systemd1.NoSuchUnit"
	errUnitExists     = "org.freedesktop.systemd1.UnitExists"
	errNoSuchProcess  = "org.freedesktop.systemd1.NoSuchProcess"
	errServiceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
	errNameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
	errDisconnected   = "org.freedesktop.DBus.Error.Disconnected"
	errNoReply        = "org.freedesktop.DBus.Error.NoReply"
)

// isDBusError reports whether err is a D-Bus error reply named one of names.
func isDBusError(err error, names ...string) bool {
	var v dbus.Error
	if errors.As(err, &v) {
		return slices.Contains(names, v.Name)
	}
	var p *dbus.Error
	return errors.As(err, &p) && slices.Contains(names, p.Name)
}
