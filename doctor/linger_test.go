package doctor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/config"
)

func TestCheckLinger(t *testing.T) {
	h := healthyHost()
	if got := checkLinger(h); got != nil {
		t.Errorf("checkLinger(system daemon) = %v, want nothing", got)
	}
	h.Config.Rootless = &config.Rootless{Account: config.Account{Name: "alice", UID: 1000, GID: 1000}}
	got := checkLinger(h)
	if len(got) != 1 || got[0].Status != Warning || !strings.Contains(got[0].Reason, "loginctl enable-linger alice") {
		t.Errorf("checkLinger(not lingering) = %+v", got)
	}
	if !strings.Contains(fmt.Sprint(Diagnose(h).Checks), "loginctl enable-linger alice") {
		t.Error("Diagnose does not report lingering")
	}
	h.Files[lingerFile("alice")] = ""
	if got := checkLinger(h); len(got) != 1 || got[0].Status != OK {
		t.Errorf("checkLinger(lingering) = %+v", got)
	}
}
