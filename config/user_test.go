package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/slots"
)

// useSubIDFiles points the subordinate id files at temporary ones.
func useSubIDFiles(t *testing.T, subuid, subgid string) {
	t.Helper()
	old := hostIDSources
	t.Cleanup(func() { hostIDSources = old })
	hostIDSources.SubUID = writeFile(t, "subuid", subuid)
	hostIDSources.SubGID = writeFile(t, "subgid", subgid)
}

func TestLoadUser(t *testing.T) {
	alice := &Account{Name: "alice", UID: 1000, GID: 100, Home: "/home/alice"}
	env := []string{"XDG_RUNTIME_DIR=/run/user/1000", "XDG_STATE_HOME=/st", "XDG_CONFIG_HOME=/cfg-does-not-exist"}
	for _, tc := range []struct {
		name           string
		subuid, subgid string
		environ        []string
		want           slots.Options
		wantErr        string
	}{
		{
			name:   "a 65536 grant is one slot",
			subuid: "bob:100000:65536\nalice:165536:65536\n", subgid: "alice:200000:65536\n",
			want: slots.Options{Dir: "/st/sdbuild/userpool", StartID: 165536, StartGID: 200000, IDsPerBuild: 65536, Slots: 1},
		},
		{
			name:   "a large grant is capped at 128 slots",
			subuid: "alice:100000:16777216\n", subgid: "alice:100000:16777216\n",
			want: slots.Options{Dir: "/st/sdbuild/userpool", StartID: 100000, StartGID: 100000, IDsPerBuild: 65536, Slots: 128},
		},
		{
			name:   "a small grant is one slot of all its ids",
			subuid: "1000:100000:1000\n", subgid: "alice:300000:2000\n",
			want: slots.Options{Dir: "/st/sdbuild/userpool", StartID: 100000, StartGID: 300000, IDsPerBuild: 1000, Slots: 1},
		},
		{
			name:   "ids-per-build splits the grant",
			subuid: "alice:100000:131072\n", subgid: "alice:100000:131072\n",
			environ: []string{"SDBUILD_IDS_PER_BUILD=32768"},
			want:    slots.Options{Dir: "/st/sdbuild/userpool", StartID: 100000, StartGID: 100000, IDsPerBuild: 32768, Slots: 4},
		},
		{
			name:   "no grant: shared slots of the user's own id",
			subuid: "bob:100000:65536\n", subgid: "",
			environ: []string{"SDBUILD_MAX_JOBS=3"},
			want:    slots.Options{Dir: "/st/sdbuild/userpool", StartID: 1000, StartGID: 100, IDsPerBuild: 1, Slots: 3, Shared: true},
		},
		{
			name:   "start-id outside the grant",
			subuid: "alice:100000:65536\n", subgid: "alice:100000:65536\n",
			environ: []string{"SDBUILD_START_ID=872415232"},
			wantErr: "not all granted to alice",
		},
		{
			name:   "id keys without a grant",
			subuid: "", subgid: "",
			environ: []string{"SDBUILD_ID_COUNT=65536"},
			wantErr: "id-count: user alice has no subordinate ids",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useSubIDFiles(t, tc.subuid, tc.subgid)
			c, err := Load(Source{Environ: append(env, tc.environ...), User: alice})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load: err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.SlotOptions(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SlotOptions() = %+v\nwant %+v", got, tc.want)
			}
			if c.Socket != "/run/user/1000/sdbuild/sdbuild.sock" || c.StateDir != "/st/sdbuild" {
				t.Errorf("socket %s, state %s: want XDG paths", c.Socket, c.StateDir)
			}
			if strings.Join(c.AllowedUsers, ",") != "alice" {
				t.Errorf("allowed-users %v, want only alice", c.AllowedUsers)
			}
			if err := c.CheckHostIDs(); err != nil {
				t.Errorf("CheckHostIDs: %v", err)
			}
		})
	}
}

func TestLoadUserReadsXDGConfigFile(t *testing.T) {
	useSubIDFiles(t, "", "")
	dir := t.TempDir()
	writeAt(t, filepath.Join(dir, "sdbuild", "sdbuild.toml"), "max-jobs = 7\n")
	c, err := Load(Source{
		Environ: []string{"XDG_CONFIG_HOME=" + dir, "XDG_RUNTIME_DIR=/run/user/5"},
		User:    &Account{Name: "u", UID: 5, GID: 5, Home: "/home/u"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxJobs != 7 || c.StateDir != "/home/u/.local/state/sdbuild" {
		t.Errorf("max-jobs %d, state-dir %s: want 7 from %s/sdbuild/sdbuild.toml and ~/.local/state/sdbuild", c.MaxJobs, c.StateDir, dir)
	}
}

func TestNoSubIDsErrorNamesTheLine(t *testing.T) {
	useSubIDFiles(t, "bob:100000:65536\ncarol:165536:65536\n", "bob:100000:65536\n")
	c, err := Load(Source{Environ: []string{"XDG_RUNTIME_DIR=/r"}, User: &Account{Name: "alice", UID: 1000, GID: 1000, Home: "/h"}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Rootless.NoSubIDsError()
	if !errors.Is(err, ErrNoSubIDs) {
		t.Fatalf("%v: want ErrNoSubIDs", err)
	}
	for _, want := range []string{"/etc/subuid and /etc/subgid", `"alice:262144:65536"`, "usermod --add-subuids 262144-327679"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nwant it to contain %s", err, want)
		}
	}
}

func writeAt(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
