package bbrunner

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/bbrunner/pb"
	"github.com/sdbuild/sdbuild/build"
)

// resourceUsage is what the worker files in the action result: the
// command's rusage as a worker's own runner reports it, and what the
// build's scope measured over all of the action's processes (cpu.stat's
// usage_usec, memory.peak, pids.peak; 0 where cgroup2 lacks the
// controller), with the build's id, unit and slot.
func resourceUsage(rec *api.Build, res *build.Result) ([]*anypb.Any, error) {
	var out []*anypb.Any
	posix := &pb.POSIXResourceUsage{}
	if ru := res.Rusage; ru != nil {
		posix = &pb.POSIXResourceUsage{
			UserTime:                   durationpb.New(time.Duration(ru.UtimeUsec) * time.Microsecond),
			SystemTime:                 durationpb.New(time.Duration(ru.StimeUsec) * time.Microsecond),
			MaximumResidentSetSize:     ru.MaxRSSKiB * 1024, // bytes, as the worker's readers take it
			PageReclaims:               ru.MinFlt,
			PageFaults:                 ru.MajFlt,
			BlockInputOperations:       ru.InBlock,
			BlockOutputOperations:      ru.OuBlock,
			VoluntaryContextSwitches:   ru.NVCSw,
			InvoluntaryContextSwitches: ru.NIVCSw,
		}
	}
	if rec.Signal != 0 {
		posix.TerminationSignal = strings.TrimPrefix(unix.SignalName(syscall.Signal(rec.Signal)), "SIG")
	}
	// What the scope measured travels as a google.protobuf.Struct: a
	// worker resolves every Any by its own registry (to log and show the
	// result), which has no type of sdbuild's; a Struct it can read.
	sd, err := structpb.NewStruct(map[string]any{
		"sdbuild_build_id":  rec.ID,
		"unit":              rec.Unit,
		"slot":              rec.Slot,
		"cpu_usec":          rec.CPUUsec,
		"memory_peak_bytes": rec.MemoryPeak,
		"tasks_peak":        rec.TasksPeak,
	})
	if err != nil {
		return nil, fmt.Errorf("resource usage: %w", err)
	}
	for _, m := range []proto.Message{posix, sd} {
		a, err := anypb.New(m)
		if err != nil {
			return nil, fmt.Errorf("resource usage: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}
