package bbrunner

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sdbuild/sdbuild/bbrunner/pb"
	"github.com/sdbuild/sdbuild/sandbox"
)

// plan is a worker's request, checked, as the build that runs it.
type plan struct {
	args      []string
	env       []string // sorted K=V: the action's whole environment
	inputRoot string   // relative to the build directory
	tmp       string   // relative; "" when the worker gave none
	stdout    string
	stderr    string
	action    *sandbox.Action
	name      string // the build's name: the action's directory
	journal   map[string]string
}

// planRun checks a request against the build directory base (absolute)
// without touching the file system. Its errors wrap ErrBadRunRequest.
func planRun(base string, r *pb.RunRequest) (*plan, error) {
	p, err := planRunUnwrapped(base, r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRunRequest, err)
	}
	return p, nil
}

func planRunUnwrapped(base string, r *pb.RunRequest) (*plan, error) {
	if len(r.Arguments) == 0 || r.Arguments[0] == "" {
		return nil, fmt.Errorf("no arguments: an action needs a command")
	}
	for _, f := range []struct{ what, v string }{
		{"input_root_directory", r.InputRootDirectory}, {"stdout_path", r.StdoutPath},
		{"stderr_path", r.StderrPath}, {"temporary_directory", r.TemporaryDirectory},
		{"working_directory", r.WorkingDirectory},
	} {
		if err := sandbox.CheckRelative(f.v); err != nil {
			return nil, fmt.Errorf("%s: %w", f.what, err)
		}
	}
	for _, f := range []struct{ what, v string }{
		{"input_root_directory", r.InputRootDirectory}, {"stdout_path", r.StdoutPath}, {"stderr_path", r.StderrPath},
	} {
		if f.v == "" || f.v == "." {
			return nil, fmt.Errorf("%s: empty: the worker must name it", f.what)
		}
	}
	if r.TemporaryDirectory == "." {
		return nil, fmt.Errorf("temporary_directory: the whole build directory cannot be an action's")
	}
	if within(r.TemporaryDirectory, r.InputRootDirectory) || within(r.InputRootDirectory, r.TemporaryDirectory) {
		return nil, fmt.Errorf("input root %q and temporary directory %q overlap", r.InputRootDirectory, r.TemporaryDirectory)
	}
	env := make([]string, 0, len(r.EnvironmentVariables))
	for k, v := range r.EnvironmentVariables {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("environment variable %q: not a valid name", k)
		}
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	p := &plan{
		args: r.Arguments, env: env, inputRoot: r.InputRootDirectory, tmp: r.TemporaryDirectory,
		stdout: r.StdoutPath, stderr: r.StderrPath, name: "action " + firstElem(r.InputRootDirectory),
	}
	// A worker names an action's directory after the first 16 hex digits
	// of its digest (a number when it may run twice at once): the one
	// clue to the action the protocol carries.
	dir := firstElem(r.InputRootDirectory)
	p.journal = map[string]string{"SDBUILD_ACTION_DIRECTORY": path.Join(base, dir)}
	if digestPrefixRe.MatchString(dir) {
		p.journal["SDBUILD_ACTION_DIGEST_PREFIX"] = dir
	}
	binds := []string{p.inputRoot}
	if p.tmp != "" {
		binds = append(binds, p.tmp)
	}
	p.action = &sandbox.Action{
		Base: base, Binds: binds,
		WorkDir: path.Join(base, p.inputRoot, r.WorkingDirectory),
	}
	return p, nil
}

var digestPrefixRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// within reports whether the relative path p is dir or lies below it.
func within(p, dir string) bool {
	return p != "" && dir != "" && (p == dir || strings.HasPrefix(p, dir+"/"))
}

// firstElem is the first element of a relative path: the directory a
// worker makes for each action.
func firstElem(p string) string {
	first, _, _ := strings.Cut(p, "/")
	return first
}
