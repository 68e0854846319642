package daemon

import (
	"context"
	"sync"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
)

// job is one active (queued or running) build.
type job struct {
	id      string
	checked *build.Checked
	log     *buildlog.Log
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the build is final and recorded
	// memoryLimit is the request's MemoryMax= property, for an OOM kill's
	// message.
	memoryLimit string
	// ended is closed when the build is final in memory, before it is
	// recorded: nothing of it runs any more and its slot is free. The
	// runner service answers on it, so that the history's fsync is not
	// on a remote action's critical path.
	ended chan struct{}
	// avoidSlot is a slot the build should not run on (a rerun --check
	// of a build that ran there), or -1.
	avoidSlot int
	// clientsGone is closed once the build's followers are gone
	// (followers.go); made, and the wait started, by the first who asks.
	clientsGone     chan struct{}
	clientsGoneOnce sync.Once

	// protected by Daemon.mu
	b           *api.Build
	changed     chan struct{} // closed and replaced on every change of b or position
	position    int           // place in the queue, 1 = next; 0 once running
	waiting     bool          // queued where the dispatcher found no job or slot free
	interrupted bool          // the daemon is stopping: record it as interrupted
	cancelledBy string        // the user who cancelled it, if one did
	stats       cgroup2.Stats // what the scope's cgroup measured
	oomKills    uint64        // the scope's memory.events oom_kill
	initPID     int           // the sandbox's init, once placed; 0 before and after
	cgroup      string        // the scope's cgroup as placed (build.Placement.Cgroup)
	result      *build.Result // how it ended, once final; nil if it never ran
	phases      *build.Phases // the daemon's steps, from the request on
	followers   []follower    // the clients that followed it (followers.go)
}

// snapshotLocked copies the build record for a reader.
func (j *job) snapshotLocked() *api.Build {
	b := *j.b
	b.Args = append([]string(nil), j.b.Args...)
	return &b
}

// notifyLocked wakes everyone waiting for a change of j.
func (j *job) notifyLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}
