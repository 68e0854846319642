package doctor

import (
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/config"
	"github.com/sdbuild/sdbuild/internal/cgroup2"
	"github.com/sdbuild/sdbuild/sandbox"
)

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(h *Host)
		feature string
		status  Status
		want    []string
	}{
		{"uid-range", func(h *Host) {}, "uid-range", OK, []string{"root over its slot's 65536 ids"}},
		{"uid-range without user namespaces", func(h *Host) {
			h.Files["/proc/sys/user/max_user_namespaces"] = "0"
			h.NamespaceErrs["user"] = syscall.ENOSPC
		}, "uid-range", Missing, []string{"user namespace"}},
		{"uid-range with small slots", func(h *Host) { h.Config.IDsPerBuild = 1024 }, "uid-range", Missing,
			[]string{"ids-per-build = 1024 (needs 65536)"}},
		{"uid-range unmapped", func(h *Host) { h.Files[fileUIDMap] = "0 0 65536" }, "uid-range", Missing, []string{"id mapping"}},
		{"systemd-cgroup", func(h *Host) {}, "systemd-cgroup", OK, []string{"delegated cgroup"}},
		{"systemd-cgroup without delegation", func(h *Host) { delete(h.Files, fileDelegate) }, "systemd-cgroup", Missing,
			[]string{"cgroup delegation"}},
		{"systemd-cgroup without systemd", func(h *Host) { h.SystemdErr = errors.New("no bus") }, "systemd-cgroup", Missing,
			[]string{"systemd D-Bus"}},
		{"systemd-cgroup without cgroup2", func(h *Host) { h.Cgroup2Err = cgroup2.ErrNoCgroup2 }, "systemd-cgroup", Missing,
			[]string{"cgroup2"}},
		{"systemd-cgroup without uid-range", func(h *Host) { h.Config.IDsPerBuild = 1 }, "systemd-cgroup", Missing,
			[]string{"uid-range"}},
		{"hybrid host still delegates", func(h *Host) {
			*h = *hybridHost()
		}, "systemd-cgroup", OK, nil},
		{"network", func(h *Host) {}, "network", OK, []string{"/usr/bin/slirp4netns"}},
		{"network without slirp4netns", func(h *Host) { delete(h.Executables, sandbox.Slirp4netns.Name) }, "network", Missing,
			[]string{"slirp4netns on PATH (Debian package slirp4netns)"}},
		{"network without tun", func(h *Host) { delete(h.Devices, sandbox.DevTUN) }, "network", Missing, []string{"/dev/net/tun"}},
		{"network without netns", func(h *Host) { h.NamespaceErrs["network"] = syscall.EPERM }, "network", Missing,
			[]string{"network namespace"}},
		{"kvm", func(h *Host) {}, "kvm", OK, []string{"character device (10:232)"}},
		{"no kvm", func(h *Host) { delete(h.Devices, sandbox.DevKVM) }, "kvm", Missing, []string{"/dev/kvm (none here: load the kvm"}},
		{"kvm not a char device", func(h *Host) { h.Devices[sandbox.DevKVM] = Device{Exists: true} }, "kvm", Missing,
			[]string{"not a character device"}},
		{"tun", func(h *Host) {}, "tun", OK, []string{"(10:200)"}},
		{"systemd-cgroup names nspawn", func(h *Host) {}, "systemd-cgroup", OK, []string{"systemd-nspawn at /usr/bin/systemd-nspawn runs inside"}},
		{"systemd-cgroup without nspawn", func(h *Host) { delete(h.Executables, sandbox.Nspawn.Name) }, "systemd-cgroup", OK,
			[]string{"Debian package systemd-container"}},
		{"kvm for a user's daemon", func(h *Host) {
			h.Config.Rootless = &config.Rootless{Account: config.Account{Name: "alice", UID: 1000, GID: 1000}}
		}, "kvm", Missing, []string{"needs root: only the system daemon"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthyHost()
			tc.change(h)
			r := Diagnose(h)
			if p := wantItem(r.Features, tc.feature, tc.status, tc.want...); p != "" {
				t.Error(p)
			}
		})
	}
}

// doctor lists exactly the features sdbuild run --feature knows, in the
// table's order.
func TestFeaturesAreTheTable(t *testing.T) {
	r := Diagnose(healthyHost())
	var got []string
	for _, f := range r.Features {
		got = append(got, f.Name)
	}
	var want []string
	for _, f := range sandbox.KnownFeatures() {
		want = append(want, string(f))
	}
	if !slices.Equal(got, want) {
		t.Errorf("doctor's features = %v, want sandbox's %v", got, want)
	}
}
