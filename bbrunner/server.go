package bbrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/bbrunner/pb"
	"github.com/sdbuild/sdbuild/build"
	"github.com/sdbuild/sdbuild/outputs"
	"github.com/sdbuild/sdbuild/sandbox"
)

// SubmitFunc runs a build through the daemon's queue to its end and
// returns its final record and result (nil when it never ran). Cancelling
// ctx cancels the build; SubmitFunc returns only once nothing of it is
// left.
type SubmitFunc func(ctx context.Context, req *build.Request) (*api.Build, *build.Result, error)

// Options configure a Server.
type Options struct {
	// BuildDir is the build directory the worker shares with sdbuild
	// (absolute): every path in a request is relative to it.
	BuildDir string
	// Features, Properties and Inputs every action gets: sandbox
	// features, systemd scope properties, HOST[:SANDBOX] read-only paths.
	Features, Properties, Inputs []string
	Submit                       SubmitFunc
	Log                          *slog.Logger
}

// Server is the runner service.
type Server struct {
	pb.UnimplementedRunnerServer
	opt Options
}

// New returns the runner service for opt.
func New(opt Options) *Server {
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Server{opt: opt}
}

// Register adds the service to a gRPC server.
func (s *Server) Register(g *grpc.Server) { pb.RegisterRunnerServer(g, s) }

// openBase opens the shared build directory.
func (s *Server) openBase() (int, error) {
	fd, err := unix.Open(s.opt.BuildDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open runner build directory %s: %w (set runner-build-directory to the worker's build directory)", s.opt.BuildDir, err)
	}
	return fd, nil
}

// CheckReadiness answers once the path exists in the build directory, as
// the worker expects: a worker and a runner that do not share the build
// directory fail here rather than on every action.
func (s *Server) CheckReadiness(ctx context.Context, r *pb.CheckReadinessRequest) (*emptypb.Empty, error) {
	if err := sandbox.CheckRelative(r.Path); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "check readiness: %v", err)
	}
	base, err := s.openBase()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	defer unix.Close(base)
	fd, err := sandbox.OpenBeneath(base, r.Path, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "check readiness: path %q in build directory %s: %v", r.Path, s.opt.BuildDir, err)
	}
	unix.Close(fd)
	return &emptypb.Empty{}, nil
}

// Run runs one action as an sdbuild build and answers once nothing of it
// is left.
func (s *Server) Run(ctx context.Context, r *pb.RunRequest) (*pb.RunResponse, error) {
	p, err := planRun(s.opt.BuildDir, r)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	base, err := s.openBase()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	defer unix.Close(base)
	a, err := s.prepare(base, p)
	if err != nil {
		code := codes.Internal
		if errors.Is(err, ErrBadRunRequest) {
			code = codes.InvalidArgument
		}
		return nil, status.Error(code, err.Error())
	}
	defer a.close()
	req := &build.Request{
		Name: p.name, Args: p.args, Env: p.env, Inputs: s.opt.Inputs,
		Features: s.opt.Features, Properties: s.opt.Properties,
		Owner: outputs.Owner{UID: int(a.worker.uid), GID: int(a.worker.gid)},
		Action: &build.Action{
			Sandbox: p.action, Stdout: a.stdout, Stderr: a.stderr,
			Lend: a.lend, Return: a.give, Journal: p.journal,
		},
	}
	rec, res, err := s.opt.Submit(ctx, req)
	if cerr := ctx.Err(); cerr != nil {
		// The worker's timeout, or the worker gone: the build is dead
		// by now, and the worker reads no answer.
		return nil, status.FromContextError(cerr).Err()
	}
	switch {
	case errors.Is(err, build.ErrBadRequest):
		return nil, status.Errorf(codes.InvalidArgument, "run action: %v", err)
	case errors.Is(err, ErrPermissionDenied):
		return nil, status.Errorf(codes.PermissionDenied, "run action: %v", err)
	case errors.Is(err, build.ErrUnavailable):
		return nil, status.Errorf(codes.Unavailable, "run action: %v", err)
	case err != nil:
		return nil, status.Errorf(codes.Internal, "run action: %v", err)
	case a.err != nil:
		return nil, status.Errorf(codes.Internal, "run action as build %s: %v", rec.ID, a.err)
	}
	return s.answer(rec, res)
}

// answer turns a finished build into the worker's answer.
func (s *Server) answer(rec *api.Build, res *build.Result) (*pb.RunResponse, error) {
	if res != nil && res.ActionErr != nil {
		return nil, status.Errorf(codes.Internal, "run action as build %s: write its output: %v", rec.ID, res.ActionErr)
	}
	if res == nil || (res.Rusage == nil && rec.Status != api.StatusSucceeded && rec.Signal == 0) {
		// The command never ran: it could not be started (not found,
		// not executable), or sdbuild could not build its sandbox.
		if rec.ExitCode == 126 || rec.ExitCode == 127 {
			return nil, status.Errorf(codes.InvalidArgument, "run action as build %s: %s", rec.ID, rec.Error)
		}
		return nil, status.Errorf(codes.Internal, "run action as build %s: %s", rec.ID, rec.Error)
	}
	resp := &pb.RunResponse{ExitCode: int64(rec.ExitCode)}
	if rec.Signal != 0 {
		resp.ExitCode = -1 // how a worker expects a death by signal
	}
	usage, err := resourceUsage(rec, res)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "run action as build %s: %v", rec.ID, err)
	}
	resp.ResourceUsage = usage
	return resp, nil
}

// actionFiles are what one Run holds on the host: the action's stdout and
// stderr files, the fds of its directories, and who the worker is.
type actionFiles struct {
	stdout, stderr *os.File
	dirs           []int // input root, temporary directory
	worker         owner
	lent           bool
	err            error // the first failure to give the directories back
}

// prepare creates the action's output files, exclusively and beneath the
// build directory, owned like the input root (the worker), and opens its
// directories for the walks.
func (s *Server) prepare(base int, p *plan) (*actionFiles, error) {
	a := &actionFiles{}
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()
	for _, rel := range []string{p.inputRoot, p.tmp} {
		if rel == "" {
			continue
		}
		fd, err := openDir(base, rel)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRunRequest, err)
		}
		a.dirs = append(a.dirs, fd)
	}
	var st unix.Stat_t
	if err := unix.Fstat(a.dirs[0], &st); err != nil {
		return nil, os.NewSyscallError("fstat", err)
	}
	a.worker = owner{st.Uid, st.Gid}
	for _, f := range []struct {
		rel string
		to  **os.File
	}{{p.stdout, &a.stdout}, {p.stderr, &a.stderr}} {
		fd, err := sandbox.OpenBeneath(base, f.rel, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return nil, fmt.Errorf("%w: create %w", ErrBadRunRequest, err)
		}
		*f.to = os.NewFile(uintptr(fd), f.rel)
		if err := unix.Fchown(fd, int(a.worker.uid), int(a.worker.gid)); err != nil {
			return nil, fmt.Errorf("chown %s: %w", f.rel, err)
		}
	}
	ok = true
	return a, nil
}

func (a *actionFiles) lend(ids build.IDs) error {
	a.lent = true
	for _, fd := range a.dirs {
		if err := lendDirs(fd, ids); err != nil {
			return fmt.Errorf("lend the action's directories to the build: %w", err)
		}
	}
	return nil
}

func (a *actionFiles) give(ids build.IDs) error {
	if !a.lent {
		return nil
	}
	for _, fd := range a.dirs {
		if err := reclaim(fd, ids, a.worker); err != nil {
			a.err = fmt.Errorf("give the action's files back to uid %d: %w", a.worker.uid, err)
			return a.err
		}
	}
	return nil
}

func (a *actionFiles) close() {
	for _, f := range []io.Closer{a.stdout, a.stderr} {
		if f != nil && f != (*os.File)(nil) {
			f.Close()
		}
	}
	for _, fd := range a.dirs {
		unix.Close(fd)
	}
}
