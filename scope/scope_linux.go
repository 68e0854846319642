package scope

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
)

// cleanupTimeout bounds the ResetFailedUnit that follows a failed job, which
// runs even when the caller's context has ended.
const cleanupTimeout = 5 * time.Second

// errJobLost means the connection broke before a job's result arrived.
var errJobLost = errors.New("connection to systemd lost while waiting for the job")

// Start starts the scope s describes, with Delegate=yes and
// CollectMode=inactive-or-failed, and returns once systemd's start job is
// done. If a failed unit of that name is still loaded, it is reset and the
// start retried once. On failure no unit is left behind by Start (a failed one
// is reset), and the build's processes are where they were.
func (m *Manager) Start(ctx context.Context, s Spec) (*Scope, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	props := s.dbusProperties()
	start := func() (string, error) {
		return m.runJob(ctx, func(c *sddbus.Conn, ch chan<- string) error {
			_, err := c.StartTransientUnitContext(ctx, s.Name, "fail", props, ch)
			return err
		})
	}
	result, err := start()
	if isDBusError(err, errUnitExists) {
		m.resetFailed(ctx, s.Name)
		if result, err = start(); isDBusError(err, errUnitExists) {
			return nil, fmt.Errorf("start scope %s: %w", s.Name, ErrUnitExists)
		}
	}
	if errors.Is(err, errJobLost) {
		// The unit's state tells whether the start job got done.
		if state, serr := m.activeState(ctx, s.Name); serr == nil && state == "active" {
			result, err = "done", nil
		}
	}
	if err == nil && result != "done" {
		err = fmt.Errorf("%w: result %q", ErrJobFailed, result)
	}
	if err != nil {
		m.resetFailed(ctx, s.Name)
		return nil, fmt.Errorf("start scope %s: %w", s.Name, err)
	}
	var cgroup string
	err = m.do(ctx, func(c *conn) error {
		p, err := c.GetUnitTypePropertyContext(ctx, s.Name, "Scope", "ControlGroup")
		if err == nil {
			cgroup, _ = p.Value.Value().(string)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start scope %s: read ControlGroup: %w", s.Name, err)
	}
	return &Scope{Name: s.Name, Cgroup: cgroup}, nil
}

// Kill sends SIGKILL to every process of the scope and returns once they
// are dead and the scope is gone. A scope that does not exist is not an
// error.
func (m *Manager) Kill(ctx context.Context, name string) error {
	err := m.do(ctx, func(c *conn) error {
		return c.KillUnitWithTarget(ctx, name, sddbus.All, int32(syscall.SIGKILL))
	})
	if err != nil && !isDBusError(err, errNoSuchUnit, errNoSuchProcess) {
		return fmt.Errorf("kill scope %s: %w", name, err)
	}
	// The stop job ends once the kernel reports the cgroup empty, that is
	// once every process is dead, not just signalled.
	if err := m.stop(ctx, name); err != nil {
		return fmt.Errorf("kill scope %s: %w", name, err)
	}
	return nil
}

// Stop stops the scope (SIGTERM, then SIGKILL after systemd's stop timeout)
// and returns once it is gone. A scope that does not exist is not an error.
func (m *Manager) Stop(ctx context.Context, name string) error {
	if err := m.stop(ctx, name); err != nil {
		return fmt.Errorf("stop scope %s: %w", name, err)
	}
	return nil
}

func (m *Manager) stop(ctx context.Context, name string) error {
	result, err := m.runJob(ctx, func(c *sddbus.Conn, ch chan<- string) error {
		_, err := c.StopUnitContext(ctx, name, "replace", ch)
		return err
	})
	if isDBusError(err, errNoSuchUnit) {
		return nil
	}
	if errors.Is(err, errJobLost) {
		if state, serr := m.activeState(ctx, name); serr == nil && (state == "inactive" || state == "failed") {
			result, err = "done", nil
		}
	}
	if err == nil && result != "done" {
		err = fmt.Errorf("%w: result %q", ErrJobFailed, result)
	}
	if err != nil {
		m.resetFailed(ctx, name)
	}
	return err
}

// List returns the names of the loaded units matching pattern, such as
// "sdbuild-*.scope", sorted: after a crash, the daemon's leftover builds.
func (m *Manager) List(ctx context.Context, pattern string) ([]string, error) {
	var units []sddbus.UnitStatus
	err := m.do(ctx, func(c *conn) error {
		var err error
		units, err = c.ListUnitsByPatternsContext(ctx, nil, []string{pattern})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list units %s: %w", pattern, err)
	}
	names := make([]string, 0, len(units))
	for _, u := range units {
		names = append(names, u.Name)
	}
	slices.Sort(names)
	return names, nil
}

// runJob enqueues a job and waits for its result. The result channel is
// buffered: go-systemd's signal dispatch blocks until a result is taken.
func (m *Manager) runJob(ctx context.Context, enqueue func(*sddbus.Conn, chan<- string) error) (string, error) {
	ch := make(chan string, 1)
	var lost <-chan struct{}
	err := m.do(ctx, func(c *conn) error {
		lost = c.lost
		return enqueue(c.Conn, ch)
	})
	if err != nil {
		return "", err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-lost:
		select {
		case r := <-ch:
			return r, nil
		default:
			return "", errJobLost
		}
	case <-ctx.Done():
		return "", fmt.Errorf("wait for job: %w", ctx.Err())
	}
}

func (m *Manager) activeState(ctx context.Context, name string) (string, error) {
	var state string
	err := m.do(ctx, func(c *conn) error {
		p, err := c.GetUnitPropertyContext(ctx, name, "ActiveState")
		if err == nil {
			state, _ = p.Value.Value().(string)
		}
		return err
	})
	return state, err
}

// resetFailed frees the name of a failed unit. It runs after a failure,
// when ctx may be over, and its own failure is not the caller's problem: the
// unit is not loaded, or not failed.
func (m *Manager) resetFailed(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = m.do(ctx, func(c *conn) error { return c.ResetFailedUnitContext(ctx, name) })
}
