package doctor

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/config"
)

func TestCheckIDRange(t *testing.T) {
	for _, tc := range []struct {
		name         string
		change       func(h *Host)
		rangeStatus  Status
		rangeWant    string
		mapStatus    Status
		mapWant      string
		wantBlocking bool
	}{
		{"healthy", func(h *Host) {}, OK, "ids 2013265920-2021654527: 128 slots of 65536", OK, "whole range", false},
		{"config does not load", func(h *Host) {
			h.Config = nil
			h.ConfigErr = errors.Join(errors.New("config: start-id = 0: must be greater than 0"), errors.New("config: id-count = 0"))
		}, Missing, "start-id = 0: must be greater than 0; config: id-count = 0", Warning, "not checked", true},
		{"clash names the entry", func(h *Host) {
			h.HostIDsErr = fmt.Errorf(`id range 2013265920-2021654527 (start-id 2013265920, id-count 8388608) overlaps user "builder" (uid 2013265990) in /etc/passwd line 30; choose a start-id outside it`)
		}, Missing, `user "builder" (uid 2013265990) in /etc/passwd line 30`, OK, "", true},
		{"container maps 65536 ids", func(h *Host) {
			h.Files[fileUIDMap] = "0 100000 65536\n"
		}, OK, "", Missing, "uid 2013265920 of the range is not mapped in this user namespace (/proc/self/uid_map maps only 0-65535)", true},
		{"gid map short", func(h *Host) {
			h.Files[fileGIDMap] = "0 0 2013265920\n2013265920 5 65536\n"
		}, OK, "", Missing, "gid 2013331456 of the range is not mapped", true},
		{"range mapped in two pieces", func(h *Host) {
			h.Files[fileUIDMap] = "0 0 1000\n2013265920 0 4194304\n2017460224 9 4194304\n"
		}, OK, "", OK, "", false},
		{"uid_map malformed", func(h *Host) { h.Files[fileUIDMap] = "0 0\n" }, OK, "", Missing, "read /proc/self/uid_map: id map line 1", true},
		{"uid_map unreadable", func(h *Host) {
			delete(h.Files, fileUIDMap)
			h.FileErrs = map[string]error{fileUIDMap: errors.New("permission denied")}
		}, OK, "", Missing, "cannot read /proc/self/uid_map: permission denied", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthyHost()
			tc.change(h)
			items := checkIDRange(h)
			if p := wantItem(items, "id range", tc.rangeStatus, tc.rangeWant); p != "" {
				t.Error(p)
			}
			if p := wantItem(items, "id mapping", tc.mapStatus, tc.mapWant); p != "" {
				t.Error(p)
			}
			if tc.name != "config does not load" {
				if p := wantItem(items, "id allocators", OK, "apart from"); p != "" {
					t.Error(p)
				}
			}
			if got := len(Report{Checks: items}.Blocking()) > 0; got != tc.wantBlocking {
				t.Errorf("blocking = %v, want %v (%v)", got, tc.wantBlocking, items)
			}
		})
	}
}

func TestCheckSubIDs(t *testing.T) {
	grant := config.Rootless{Account: config.Account{Name: "alice", UID: 1000, GID: 1000},
		SubUID: config.SubIDRange{Start: 100000, Count: 65536, File: "/etc/subuid", Line: 2},
		SubGID: config.SubIDRange{Start: 200000, Count: 65536, File: "/etc/subgid", Line: 3}}
	tools := map[string]string{binNewuidmap: "/usr/bin/newuidmap", binNewgidmap: "/usr/bin/newgidmap"}
	for _, tc := range []struct {
		name   string
		r      config.Rootless
		exes   map[string]string
		check  string
		status Status
		want   string
	}{
		{"granted", grant, tools, "subordinate ids", OK, "uids 100000-165535 (/etc/subuid line 2), gids from 200000"},
		{"granted, no newgidmap", grant, map[string]string{binNewuidmap: "/usr/bin/newuidmap"}, binNewgidmap, Missing, "install the uidmap package"},
		{"no grant", config.Rootless{Account: config.Account{Name: "alice", UID: 1000}}, tools, "subordinate ids", Warning, "every build runs as your uid 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			c := &config.Config{StartID: r.SubUID.Start, IDCount: r.SubUID.Count, IDsPerBuild: max(r.SubUID.Count, 1), Rootless: &r}
			items := checkIDRange(&Host{Config: c, Executables: tc.exes})
			if p := wantItem(items, tc.check, tc.status, tc.want); p != "" {
				t.Error(p)
			}
		})
	}
}

// Without a grant, uid-range is missing for the grant alone, not for
// newuidmap and newgidmap, which are not checked then.
func TestUIDRangeFeatureWithoutGrant(t *testing.T) {
	h := healthyHost()
	h.Config = &config.Config{StartID: 1000, IDCount: 1, IDsPerBuild: 1,
		Rootless: &config.Rootless{Account: config.Account{Name: "alice", UID: 1000}}}
	r := Diagnose(h)
	if p := wantItem(r.Features, "uid-range", Missing, "needs a range in /etc/subuid and /etc/subgid"); p != "" {
		t.Error(p)
	}
	if it, _ := find(r.Features, "uid-range"); strings.Contains(it.Reason, "newuidmap") {
		t.Errorf("uid-range: %q names newuidmap, which was not checked", it.Reason)
	}
}

// The daemon refuses a range Nix hands out, and doctor says the same;
// a range others might hand out is a warning that blocks nothing.
func TestCheckAllocators(t *testing.T) {
	const nixClash = "id range 872415232-880803839 (start-id 872415232, id-count 8388608) overlaps Nix's auto-allocate-uids range 872415232-880803839 " +
		"(/etc/nix/nix.conf line 3: auto-allocate-uids = true; start-id unset, Nix's default 872415232; id-count unset, Nix's default 8388608); " +
		"set start-id to 2013265920, or give Nix a start-id outside sdbuild's range"
	const pick = "the range overlaps systemd's container range " +
		"(systemd-nspawn --private-users=pick, systemd-nsresourced) 524288-1879048191 (systemd's docs/UIDS-GIDS.md): systemd-nspawn -U may pick ids of it"
	const lxd = "the range overlaps LXD's and Incus's range without /etc/subuid 1000000-1000999999"
	for _, tc := range []struct {
		name     string
		change   func(h *Host)
		check    string
		status   Status
		want     []string
		blocking bool
	}{
		{"Nix hands out the range", func(h *Host) { h.HostIDsErr = errors.New(nixClash) },
			"id range", Missing, []string{nixClash}, true},
		{"others might", func(h *Host) { h.IDRangeWarnings = []string{pick, lxd} },
			"id allocators", Warning, []string{pick, "; " + lxd}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthyHost()
			h.Config.StartID = 872415232
			tc.change(h)
			r := Diagnose(h)
			if p := wantItem(r.Checks, tc.check, tc.status, tc.want...); p != "" {
				t.Error(p)
			}
			if got := len(r.Blocking()) > 0; got != tc.blocking {
				t.Errorf("blocking = %v, want %v (%v)", got, tc.blocking, r.Blocking())
			}
		})
	}
}
