package doctor

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/sdbuild/sdbuild/sandbox"
)

func TestCheckNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(h *Host)
		check  string
		status Status
		want   []string
	}{
		{"created", func(h *Host) {}, "user namespace", OK, []string{"user.max_user_namespaces = 15000"}},
		{"max_user_namespaces 0", func(h *Host) {
			h.Files["/proc/sys/user/max_user_namespaces"] = "0\n"
			h.NamespaceErrs["user"] = syscall.ENOSPC
		}, "user namespace", Missing, []string{"user.max_user_namespaces = 0", "sysctl -w user.max_user_namespaces="}},
		{"limit 0 though not probed", func(h *Host) {
			h.Files["/proc/sys/user/max_user_namespaces"] = "0"
			delete(h.NamespaceErrs, "user")
		}, "user namespace", Missing, []string{"user.max_user_namespaces = 0"}},
		{"net limit reached", func(h *Host) {
			h.Files["/proc/sys/user/max_net_namespaces"] = "3"
			h.NamespaceErrs["network"] = syscall.ENOSPC
		}, "network namespace", Missing, []string{"user.max_net_namespaces = 3 is reached", "no space left on device"}},
		{"limit unreadable and reached", func(h *Host) {
			delete(h.Files, "/proc/sys/user/max_mnt_namespaces")
			h.NamespaceErrs["mount"] = syscall.ENOSPC
		}, "mount namespace", Missing, []string{"the limit user.max_mnt_namespaces is reached"}},
		{"forbidden", func(h *Host) { h.NamespaceErrs["pid"] = syscall.EPERM }, "pid namespace", Missing,
			[]string{"not permitted", "security module"}},
		{"not built in", func(h *Host) { h.NamespaceErrs["ipc"] = syscall.EINVAL }, "ipc namespace", Missing,
			[]string{"does not support ipc namespaces"}},
		{"other error", func(h *Host) { h.NamespaceErrs["uts"] = fmt.Errorf("probe uts namespace: exit status 2") },
			"uts namespace", Missing, []string{"exit status 2"}},
		{"not probed", func(h *Host) { delete(h.NamespaceErrs, "cgroup") }, "cgroup namespace", Warning, []string{"not probed"}},
		{"unprivileged clone off explains EPERM", func(h *Host) {
			h.EUID = 1000
			h.Files[fileUnprivClone] = "0"
			h.NamespaceErrs["user"] = syscall.EPERM
		}, "user namespace", Missing, []string{"kernel.unprivileged_userns_clone = 0"}},
		{"apparmor explains EPERM", func(h *Host) {
			h.EUID = 1000
			h.Files[fileAppArmorUserns] = "1"
			h.NamespaceErrs["user"] = syscall.EPERM
		}, "user namespace", Missing, []string{"kernel.apparmor_restrict_unprivileged_userns = 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthyHost()
			tc.change(h)
			items := checkNamespaces(h)
			if len(items) != len(sandbox.Namespaces) {
				t.Fatalf("checkNamespaces gave %d items, want %d", len(items), len(sandbox.Namespaces))
			}
			if p := wantItem(items, tc.check, tc.status, tc.want...); p != "" {
				t.Error(p)
			}
			for _, it := range items {
				if !it.Required {
					t.Errorf("%s not required: every build needs it", it.Name)
				}
			}
		})
	}
}

func TestCheckUnprivileged(t *testing.T) {
	type want struct {
		knob    string
		status  Status
		contain string
	}
	for _, tc := range []struct {
		name  string
		euid  int
		files map[string]string
		want  []want // exactly these items, in this order
	}{
		{"kernel has neither", 0, nil, nil},
		{"debian knob allows", 1000, map[string]string{fileUnprivClone: "1\n"},
			[]want{{"kernel.unprivileged_userns_clone", OK, "unprivileged users may"}}},
		{"debian knob restricts, root", 0, map[string]string{fileUnprivClone: "0"},
			[]want{{"kernel.unprivileged_userns_clone", OK, "as root"}}},
		{"debian knob restricts, user", 1000, map[string]string{fileUnprivClone: "0"},
			[]want{{"kernel.unprivileged_userns_clone", Missing, "sysctl -w kernel.unprivileged_userns_clone=1"}}},
		{"apparmor restricts, user", 1000, map[string]string{fileAppArmorUserns: "1", fileUnprivClone: "1"},
			[]want{
				{"kernel.unprivileged_userns_clone", OK, "= 1"},
				{"kernel.apparmor_restrict_unprivileged_userns", Missing, "refuses every build"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := checkUnprivileged(&Host{EUID: tc.euid, Files: tc.files})
			if len(items) != len(tc.want) {
				t.Fatalf("checkUnprivileged = %v, want %d items", items, len(tc.want))
			}
			for i, w := range tc.want {
				if items[i].Name != w.knob {
					t.Errorf("item %d = %s, want %s", i, items[i].Name, w.knob)
				}
				if p := wantItem(items, w.knob, w.status, w.contain); p != "" {
					t.Error(p)
				}
			}
		})
	}
}

func TestCheckPrivilege(t *testing.T) {
	for _, tc := range []struct {
		euid   int
		status Status
		want   string
	}{
		{0, OK, "root"},
		{1000, OK, "checking your own daemon"},
	} {
		if p := wantItem([]Item{checkPrivilege(&Host{EUID: tc.euid})}, "privilege", tc.status, tc.want); p != "" {
			t.Errorf("euid %d: %s", tc.euid, p)
		}
	}
}
