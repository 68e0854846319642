//go:build !linux

package slots

import (
	"errors"
	"time"
)

// The pool needs flock, pidfds, /proc and cgroup2: Linux only. Open fails
// here, so none of the functions below is reached.

func prepareDir(string) error                { return errors.ErrUnsupported }
func lockSlotFile(string) (int, bool, error) { return -1, false, errors.ErrUnsupported }
func readFD(int) ([]byte, error)             { return nil, errors.ErrUnsupported }
func writeRecord(int, Record) error          { return errors.ErrUnsupported }
func closeFD(int) error                      { return errors.ErrUnsupported }
func closeProcs([]proc)                      {}
func anyAlive([]proc) bool                   { return false }
func initAlive(int, uint64) bool             { return true }
func pidStartTime(int) (uint64, error)       { return 0, errors.ErrUnsupported }
func clearSlot(Record, slotIDs, func(int) bool, time.Duration) ([]int, *stuck) {
	return nil, &stuck{reason: errors.ErrUnsupported.Error()}
}
func (*nspawnLocks) take([]uint32) (bool, error) { return false, errors.ErrUnsupported }
func (*nspawnLocks) drop([]uint32) error         { return errors.ErrUnsupported }
