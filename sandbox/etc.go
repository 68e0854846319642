package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// etcFiles are the files init writes into the sandbox's /etc: just enough
// for tools that look up their own user, group or host name.
func (s *Spec) etcFiles() map[string]string {
	uid, gid := s.builderIdentity()
	passwd := "root:x:0:0:root:/build:/noshell\n"
	group := "root:x:0:\n"
	if uid != 0 {
		passwd += fmt.Sprintf("sdbuild:x:%d:%d:sdbuild builder:%s:/noshell\n", uid, gid, HomeDir)
		group += fmt.Sprintf("sdbuild:x:%d:\n", gid)
	}
	passwd += "nobody:x:65534:65534:nobody:/var/empty:/noshell\n"
	group += "nogroup:x:65534:\n"
	files := map[string]string{
		"/etc/passwd": passwd,
		"/etc/group":  group,
		"/etc/hosts":  "127.0.0.1 localhost\n::1 localhost\n",
	}
	if s.Features.SystemdCgroup {
		// systemd, and systemd-nspawn, need a machine id: one per build.
		sum := sha256.Sum256([]byte("sdbuild machine-id " + s.BuildID))
		files["/etc/machine-id"] = hex.EncodeToString(sum[:16]) + "\n"
	}
	if s.Features.Network {
		files["/etc/resolv.conf"] = "nameserver " + slirpDNS + "\n"
	}
	return files
}

// slirpDNS is slirp4netns's built-in resolver, a network build's
// nameserver.
const slirpDNS = "10.0.2.3"
