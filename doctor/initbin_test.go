package doctor

import "testing"

func TestCheckInit(t *testing.T) {
	h := healthyHost()
	if p := wantItem([]Item{checkInit(h)}, checkSandboxInit, OK, "builds start /usr/libexec/sdbuild/sdbuild-init"); p != "" {
		t.Error(p)
	}
	h.InitBinary = ""
	r := Diagnose(h)
	if p := wantItem(r.Checks, checkSandboxInit, Warning, "re-execute sdbuild itself", "make install"); p != "" {
		t.Error(p)
	}
	if !r.OK {
		t.Errorf("without sdbuild-init the report is not OK; blocking: %v", r.Blocking())
	}
}
