package daemon

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/sandbox"
	"github.com/sdbuild/sdbuild/scope"
)

// Slice is the parent of every build's scope.
const Slice = "sdbuild.slice"

// scopeTimeout bounds each systemd job (start or stop of a scope).
const scopeTimeout = 30 * time.Second

// UnitName is the scope of build id.
func UnitName(id string) string { return "sdbuild-" + id + ".scope" }

var buildUnitRe = regexp.MustCompile(`^sdbuild-[0-9a-f]{12}\.scope$`)

// IsBuildUnit reports whether unit is named like a build's scope.
func IsBuildUnit(unit string) bool { return buildUnitRe.MatchString(unit) }

// parseProperties turns -p NAME=VALUE strings into scope properties.
func parseProperties(ss []string) ([]scope.Property, error) {
	var props []scope.Property
	for _, s := range ss {
		p, err := scope.ParseProperty(s)
		if err != nil {
			return nil, err
		}
		props = append(props, p)
	}
	return props, nil
}

// place is the runner's placement: it starts the build's transient scope
// with init's pid in it, Delegate=yes so the build owns its cgroup
// subtree, in sdbuild.slice. The builder starts only afterwards, in a
// cgroup namespace rooted at the scope.
//
// The runner calls it while init builds the sandbox root, because starting
// the scope is slow for a reason outside sdbuild: systemd moves init into
// the new cgroup, and the kernel makes that move wait for an RCU grace
// period (cgroup_procs_write_start -> percpu_down_write -> synchronize_rcu;
// 10-20 ms on the machines measured) unless cgroup2 is mounted with
// favordynmods.
func (d *Daemon) place(ctx context.Context, id string, pid int, req *build.Request) (*build.Placement, error) {
	prepared := req == nil
	if prepared {
		req = &build.Request{Properties: d.preparedProps}
	}
	props, err := parseProperties(req.Properties)
	if err != nil {
		return nil, err
	}
	desc := description(id, req)
	if prepared {
		// systemctl shows it for what it is until a build takes it.
		desc = fmt.Sprintf("sdbuild build %s: sandbox prepared, waiting for a request", id)
	}
	unit := UnitName(id)
	sctx, cancel := context.WithTimeout(ctx, scopeTimeout)
	defer cancel()
	sc, err := d.scopes.Start(sctx, scope.Spec{
		Name: unit, Slice: Slice, Description: desc, PIDs: []uint32{uint32(pid)}, Properties: props,
	})
	if err != nil {
		return nil, err
	}
	pl := &build.Placement{Unit: unit, Cgroup: sc.Cgroup}
	if slices.Contains(req.Features, string(sandbox.FeatureSystemdCgroup)) {
		scopeDir, err := cgroup2.Dir(sc.Cgroup)
		if err == nil {
			pl.BuilderCgroup, err = delegate(scopeDir, pid)
		}
		if err != nil {
			d.killScope(unit, sc.Cgroup)
			return nil, fmt.Errorf("feature %s: %w", sandbox.FeatureSystemdCgroup, err)
		}
	}
	// What init used while it prepared the sandbox is not the build's.
	var beforeCPU uint64 // what a prepared scope's init used before the build
	claim := func(req *build.Request) {
		slot := -1
		d.mu.Lock()
		if j := d.jobs[id]; j != nil {
			j.b.Unit, slot, j.initPID, j.cgroup = unit, j.b.Slot, pid, pl.Cgroup
			j.log.SetUnit(unit)
			j.notifyLocked()
		}
		d.mu.Unlock()
		buildlog.Started(id, unit, slot)
	}
	if prepared {
		// The scope says what it holds before the builder runs: the daemon
		// starts describing it when the build is queued (describePrepared)
		// and Claim waits for that. A failure is for the log; the build runs.
		var once sync.Once
		describe := func(req *build.Request) {
			once.Do(func() {
				sd, ok := d.scopes.(describer)
				if !ok {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), scopeTimeout)
				defer cancel()
				if err := sd.SetDescription(ctx, unit, description(id, req)); err != nil {
					d.log.Warn("describe scope", "unit", unit, "err", err)
				}
			})
		}
		d.mu.Lock()
		d.describers[id] = describe
		d.mu.Unlock()
		pl.Claim = func(req *build.Request) {
			beforeCPU = cgroup2.ReadCPUUsec(sc.Cgroup)
			claim(req)
			describe(req)
		}
	} else {
		claim(req)
	}
	var ended *job // the build's job, once End has read its measurements
	pl.End = func() (stop func()) {
		// Every process of the build but init is dead by now; read what
		// the cgroup measured while the scope still exists.
		st := cgroup2.ReadStats(sc.Cgroup)
		// Without the memory controller there is no memory.events, and
		// no OOM kill to report.
		ev, _ := cgroup2.ReadMemoryEvents(sc.Cgroup)
		st.CPUUsec -= min(st.CPUUsec, beforeCPU)
		d.mu.Lock()
		delete(d.describers, id)
		if j := d.jobs[id]; j != nil {
			j.stats, j.oomKills, j.initPID = st, ev.OOMKill, 0
			ended = j
		}
		d.mu.Unlock()
		return func() { d.killScope(unit, sc.Cgroup) }
	}
	pl.Linger = func() {
		// A queued build is not kept waiting for this one's clients: the
		// slot is released after the teardown.
		if ended == nil {
			return
		}
		d.mu.Lock()
		queued := len(d.queue) > 0
		d.mu.Unlock()
		if !queued {
			<-d.clientsGone(ended)
		}
	}
	return pl, nil
}

// describePrepared starts describing the scope of the prepared sandbox a
// queued build took as that build's, off the request's path.
func (d *Daemon) describePrepared(id string, req *build.Request) {
	d.mu.Lock()
	f := d.describers[id]
	d.mu.Unlock()
	if f != nil {
		go f(req)
	}
}

// description is a build's scope's description.
func description(id string, req *build.Request) string {
	if req.Name != "" {
		return fmt.Sprintf("sdbuild build %s (%s)", id, req.Name)
	}
	return fmt.Sprintf("sdbuild build %s", id)
}

// describer is a Scopes that can change a running scope's description
// (scope.Manager).
type describer interface {
	SetDescription(ctx context.Context, name, desc string) error
}

// killScope ends what is left in a build's scope. cgroup.kill does it in
// one write, nested containers and all; the emptied scope then stops and
// is collected by systemd on its own, off the build's critical path.
// Without cgroup.kill (Linux < 5.14) ask systemd.
func (d *Daemon) killScope(unit, cgroup string) {
	if err := cgroup2.Kill(cgroup); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scopeTimeout)
	defer cancel()
	if err := d.scopes.Kill(ctx, unit); err != nil {
		d.log.Warn("kill scope", "unit", unit, "err", err)
	}
}
