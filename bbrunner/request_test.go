package bbrunner

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sdbuild/sdbuild/bbrunner/pb"
)

func runRequest(mod func(r *pb.RunRequest)) *pb.RunRequest {
	r := &pb.RunRequest{
		Arguments:            []string{"cc", "-c", "a.c"},
		EnvironmentVariables: map[string]string{"PATH": "/usr/bin", "B": "2"},
		WorkingDirectory:     "pkg",
		StdoutPath:           "0123456789abcdef/stdout",
		StderrPath:           "0123456789abcdef/stderr",
		InputRootDirectory:   "0123456789abcdef/root",
		TemporaryDirectory:   "0123456789abcdef/tmp",
		ServerLogsDirectory:  "0123456789abcdef/server_logs",
	}
	if mod != nil {
		mod(r)
	}
	return r
}

func TestPlanRun(t *testing.T) {
	p, err := planRun("/var/lib/w/build", runRequest(nil))
	if err != nil {
		t.Fatalf("planRun: %v", err)
	}
	if !slices.Equal(p.env, []string{"B=2", "PATH=/usr/bin"}) {
		t.Errorf("env = %q, want exactly the request's, sorted", p.env)
	}
	a := p.action
	if a.WorkDir != "/var/lib/w/build/0123456789abcdef/root/pkg" || !slices.Equal(a.Binds, []string{"0123456789abcdef/root", "0123456789abcdef/tmp"}) {
		t.Errorf("action = %+v", a)
	}
	if p.name != "action 0123456789abcdef" || p.journal["SDBUILD_ACTION_DIGEST_PREFIX"] != "0123456789abcdef" {
		t.Errorf("name = %q, journal %q", p.name, p.journal)
	}
}

func TestPlanRunRefuses(t *testing.T) {
	tests := []struct {
		name string
		mod  func(r *pb.RunRequest)
		want string
	}{
		{"no args", func(r *pb.RunRequest) { r.Arguments = nil }, "no arguments"},
		{"absolute root", func(r *pb.RunRequest) { r.InputRootDirectory = "/etc" }, "input_root_directory: path \"/etc\": must be relative"},
		{"dotdot root", func(r *pb.RunRequest) { r.InputRootDirectory = "../x" }, "leaves the directory"},
		{"unclean stdout", func(r *pb.RunRequest) { r.StdoutPath = "a/../../stdout" }, "must be clean"},
		{"dotdot workdir", func(r *pb.RunRequest) { r.WorkingDirectory = "../.." }, "working_directory"},
		{"no stderr", func(r *pb.RunRequest) { r.StderrPath = "" }, "stderr_path: empty"},
		{"tmp in root", func(r *pb.RunRequest) { r.TemporaryDirectory = r.InputRootDirectory + "/t" }, "overlap"},
		{"root in tmp", func(r *pb.RunRequest) { r.TemporaryDirectory = "0123456789abcdef" }, "overlap"},
		{"bad env", func(r *pb.RunRequest) { r.EnvironmentVariables["A=B"] = "c" }, "not a valid name"},
	}
	for _, tt := range tests {
		_, err := planRun("/b", runRequest(tt.mod))
		if err == nil || !errors.Is(err, ErrBadRunRequest) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: planRun = %v, want ErrBadRunRequest containing %q", tt.name, err, tt.want)
		}
	}
}
