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
