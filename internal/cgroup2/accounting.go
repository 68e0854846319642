package cgroup2

import (
	"strconv"
	"strings"
)

// ParseIOStat sums rbytes and wbytes over the devices of an io.stat file,
// whose lines read "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N
// dios=N"; keys it does not know are skipped, as later kernels add some.
func ParseIOStat(b []byte) (read, write uint64) {
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}

// ParseFlatKeyed returns key's value in a flat-keyed cgroup file
// ("key value" lines: memory.events, pids.events), and whether it is there.
func ParseFlatKeyed(b []byte, key string) (uint64, bool) {
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}
