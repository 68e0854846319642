package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/buildlog"
	"github.com/sdbuild/sdbuild/slots"
)

// submit checks a request and queues it. Errors wrap build.ErrBadRequest
// when the request can be fixed.
func (d *Daemon) submit(p *peer, req *build.Request) (*api.Build, error) {
	_, b, err := d.submitJob(p, req)
	return b, err
}

// submitJob is submit, also returning the job, for a front end that
// waits for its end (the runner service).
func (d *Daemon) submitJob(p *peer, req *build.Request) (*job, *api.Build, error) {
	return d.submitJobAt(p, req, time.Now())
}

// submitJobAt is submitJob of a request received at received (the
// phases of the build's record start there).
func (d *Daemon) submitJobAt(p *peer, req *build.Request, received time.Time) (*job, *api.Build, error) {
	return d.submitWith(p, req, submitExtra{received: received, avoidSlot: -1})
}

// submitWith is submitJobAt with what the API adds: the request as the
// client sent it, recorded for reruns, and a slot to avoid (rerun.go).
func (d *Daemon) submitWith(p *peer, req *build.Request, x submitExtra) (*job, *api.Build, error) {
	ph := build.NewPhases(x.received)
	c, err := d.runner.Check(req)
	if err != nil {
		return nil, nil, err
	}
	id := build.NewID()
	// A build that must avoid a slot may lease twice (lease, rerun.go):
	// a prepared sandbox is bound to its build id's first lease, and a
	// second lease under the same id would start a scope of that name
	// again. Such builds (rerun --check) start the ordinary way.
	if pp := d.prep; pp != nil && x.avoidSlot < 0 {
		if pid, ok := pp.claimPrepared(c); ok {
			id = pid
		}
	}
	lg, err := buildlog.Create(d.logDir, id, "")
	if err != nil {
		if pp := d.prep; pp != nil {
			pp.dropPrepared(id)
		}
		return nil, nil, fmt.Errorf("build %s: %w", id, err)
	}
	ph.Mark("request")
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{
		id: id, checked: c, log: lg, ctx: ctx, cancel: cancel, done: make(chan struct{}), ended: make(chan struct{}),
		changed: make(chan struct{}), b: build.NewRecord(id, req, p.name, p.uid), phases: ph,
		memoryLimit: memoryLimit(req.Properties),
		avoidSlot:   x.avoidSlot,
	}
	if x.follower.closed != nil {
		// Counted before the build can start, let alone end.
		j.followers = append(j.followers, x.follower)
	}
	j.b.Request = x.request
	d.mu.Lock()
	j.b.Created = time.Now().UTC() // under the lock: creation order is queue order
	if d.stopping {
		d.mu.Unlock()
		cancel()
		lg.Close()
		if pp := d.prep; pp != nil {
			pp.dropPrepared(id)
		}
		return nil, nil, ErrShuttingDown
	}
	d.jobs[id] = j
	d.queue = append(d.queue, j)
	j.position = len(d.queue)
	snap := j.snapshotLocked()
	d.updateStatusLocked()
	d.mu.Unlock()
	// The queued record is handed to the history before the dispatcher
	// is woken, so that it is written before the running record; the
	// slot's scan then runs while it is committed. The client hears of
	// the build only once it is on disk.
	recorded := d.store.PutOrdered(snap)
	d.kick()
	buildlog.Queued(id, "")
	d.describePrepared(id, req)
	if err := recorded(); err != nil {
		d.log.Error("record build", "id", id, "err", err)
	}
	return j, snap, nil
}

// dispatch starts queued builds, oldest first, whenever a job and a UID
// slot are free. It runs until ctx ends.
func (d *Daemon) dispatch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		}
		for d.startNext() {
		}
	}
}

// noSlotRetry is how long the queue waits to try again when no slot was
// free although fewer than max-jobs builds of its own run.
const noSlotRetry = time.Second

// startNext starts the head of the queue if it can, and reports whether
// it should be called again.
func (d *Daemon) startNext() bool {
	d.mu.Lock()
	if d.stopping || len(d.queue) == 0 || d.running >= d.cfg.MaxJobs {
		if !d.stopping {
			d.queueWaitsLocked()
		}
		d.mu.Unlock()
		return false
	}
	j := d.queue[0]
	d.mu.Unlock()

	// Acquire may take a while when it clears what a crashed holder left;
	// it runs without the lock.
	j.phases.Mark("queue")
	lease, err := d.lease(j)
	j.phases.Mark("slot")
	if errors.Is(err, slots.ErrNoFreeSlot) {
		// A finishing build kicks us; but the slots may be held by other
		// processes (sdbuild run --local on the same state directory, a
		// quarantined slot's survivors), whose end nothing reports: look
		// again after a while too, once however often we were woken.
		if d.retrying.CompareAndSwap(false, true) {
			time.AfterFunc(noSlotRetry, func() {
				d.retrying.Store(false)
				d.kick()
			})
		}
		d.mu.Lock()
		d.queueWaitsLocked()
		d.mu.Unlock()
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 || d.queue[0] != j {
		// Cancelled while we acquired.
		if lease != nil {
			lease.Release()
		}
		return true
	}
	d.queue = d.queue[1:]
	d.renumberLocked()
	if err != nil {
		d.finishLocked(j, nil, err) // err makes the record failed
		return true
	}
	d.running++
	j.position = 0
	j.b.Status, j.b.Slot, j.b.Started = api.StatusRunning, lease.Slot(), time.Now().UTC()
	j.notifyLocked()
	snap := j.snapshotLocked()
	d.updateStatusLocked()
	d.wg.Add(1)
	go d.run(j, lease, snap)
	return true
}

// run runs one build on its lease and records the result.
func (d *Daemon) run(j *job, lease Lease, snap *api.Build) {
	defer d.wg.Done()
	// The running record is committed while the build starts, off its
	// path: the queued record, on disk since the client heard of the
	// build, already makes Recover find and mark it after a crash, and
	// the final record is written after this one (PutOrdered).
	recorded := d.store.PutOrdered(snap)
	j.phases.Mark("record start")
	res, err := lease.Run(j.ctx, j.checked, j.log)
	if err := recorded(); err != nil {
		d.log.Error("record build", "id", j.id, "err", err)
	}
	j.log.Close()
	if res != nil {
		j.phases.Append(res.Phases)
	}
	d.mu.Lock()
	d.running--
	d.finishLocked(j, res, err)
	d.mu.Unlock()
	d.kick()
	if pp := d.prep; pp != nil {
		// The sandbox that replaces the one the build took is started
		// once the build's final record is stored, not while its client
		// waits for the final event (starting its init, a vfork of this
		// process, holds up the thread that would send it), and once the
		// build's clients have exited, not while they exit
		// (followers.go).
		go func() {
			<-j.done
			<-d.clientsGone(j)
			pp.builtOne()
		}()
	}
}

// finishLocked makes j's record final, stores it and wakes its watchers.
func (d *Daemon) finishLocked(j *job, res *build.Result, err error) {
	if pp := d.prep; pp != nil {
		pp.dropPrepared(j.id) // unless it ran: then its lease had it
	}
	b := j.b
	b.Finished = time.Now().UTC()
	j.result = res
	switch {
	case j.interrupted:
		b.Status, b.Error = api.StatusInterrupted, "sdbuildd stopped while the build ran; it was killed"
	case res != nil:
		res.Record(b)
		oomOutcome(&b.Outcome, j.oomKills, j.memoryLimit)
	default:
		b.Status = api.StatusFailed
	}
	if err != nil {
		// A build cancelled, or stopped with the daemon, while it was
		// being started (its scope, its sandbox) ends with the context's
		// error: that is why it ended, not a failure of sdbuild's.
		switch {
		case errors.Is(err, context.Canceled) && j.interrupted:
		case errors.Is(err, context.Canceled) && j.cancelledBy != "":
			b.Status, b.Error = api.StatusCancelled, "cancelled while it started"
		default:
			b.Status, b.Error = api.StatusFailed, err.Error()
		}
	}
	b.CPUUsec, b.MemoryPeak, b.TasksPeak = j.stats.CPUUsec, j.stats.MemoryPeak, j.stats.TasksPeak
	b.IOReadBytes, b.IOWriteBytes = j.stats.IOReadBytes, j.stats.IOWriteBytes
	b.Cause = causeOf(&b.Outcome, j.oomKills)
	if b.Status == api.StatusCancelled {
		b.CancelledBy = j.cancelledBy
	}
	close(j.ended) // finishLocked runs once per job: it leaves d.queue or d.run with it
	j.phases.Mark("finish")
	b.Phases = j.phases.List()
	j.notifyLocked()
	snap := j.snapshotLocked()
	d.metrics.observeLocked(snap)
	d.updateStatusLocked()
	// Storing and journalling happen off the lock, before done closes, so
	// that a watcher woken by done finds the record in the history. The
	// job stays findable until its final record is stored: a client that
	// looked it up in between would otherwise find only the record stored
	// when it started, and take "running" for how it ended.
	go func() {
		if err := d.store.Put(snap); err != nil {
			d.log.Error("record build", "id", j.id, "err", err)
		}
		d.mu.Lock()
		delete(d.jobs, j.id)
		d.mu.Unlock()
		buildlog.Finished(j.id, snap.Unit, journalOutcome(snap))
		j.cancel()
		close(j.done)
	}()
}

// cancelBuild cancels a queued or running build on behalf of user by.
func (d *Daemon) cancelBuild(id, by string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.jobs[id]
	if !ok {
		return fmt.Errorf("cancel build %s: %w (it may have finished)", id, ErrNotFound)
	}
	j.cancelledBy = by
	if j.b.Status == api.StatusQueued {
		d.removeQueuedLocked(j)
		j.log.Close()
		d.finishLocked(j, &build.Result{Slot: -1, Outcome: api.Outcome{Status: api.StatusCancelled, Error: "cancelled while queued"}}, nil)
		return nil
	}
	j.cancel()
	return nil
}

func (d *Daemon) removeQueuedLocked(j *job) {
	for i, q := range d.queue {
		if q == j {
			d.queue = append(d.queue[:i], d.queue[i+1:]...)
			break
		}
	}
	d.renumberLocked()
}

// queueWaitsLocked marks every queued job as waiting (the dispatcher found
// no job or slot free for the head) and tells its watchers, so that its
// clients hear of the wait; a build started at once never does.
func (d *Daemon) queueWaitsLocked() {
	for _, q := range d.queue {
		if !q.waiting {
			q.waiting = true
			q.notifyLocked()
		}
	}
}

// renumberLocked gives every queued job its place and tells its watchers.
func (d *Daemon) renumberLocked() {
	for i, q := range d.queue {
		q.position = i + 1
		q.notifyLocked()
	}
}

// runningInit returns the host pid of a running build's sandbox init and
// its scope's cgroup as placed, for tools that join the build's namespaces.
func (d *Daemon) runningInit(id string) (init int, cgroup string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, ok := d.jobs[id]
	if !ok || j.b.Status != api.StatusRunning || j.initPID == 0 {
		return 0, "", fmt.Errorf("build %s: %w: it is not running", id, ErrNotFound)
	}
	return j.initPID, j.cgroup, nil
}
