package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	grpcpeer "google.golang.org/grpc/peer"

	"github.com/sdbuild/sdbuild/api"
	"github.com/sdbuild/sdbuild/bbrunner"
	"github.com/sdbuild/sdbuild/build"
)

// runnerServer is the runner service (package bbrunner) on the daemon's
// queue: one gRPC server for every runner listener.
func (d *Daemon) runnerServer() *grpc.Server {
	r := d.cfg.Runner
	g := grpc.NewServer(grpc.Creds(peerCreds{d}))
	bbrunner.New(bbrunner.Options{
		BuildDir: r.BuildDir, Features: r.Features, Properties: r.Properties, Inputs: r.SandboxPaths,
		Log: d.log,
		Submit: func(ctx context.Context, req *build.Request) (*api.Build, *build.Result, error) {
			p := runnerPeer(ctx)
			if p == nil {
				return nil, nil, fmt.Errorf("run remote action: %w: no peer credentials", ErrForbidden)
			}
			rec, res, err := d.runAction(ctx, p, req)
			switch {
			case errors.Is(err, ErrShuttingDown):
				err = fmt.Errorf("%w: %w", build.ErrUnavailable, err)
			case errors.Is(err, ErrForbidden):
				err = fmt.Errorf("%w: %w", bbrunner.ErrPermissionDenied, err)
			}
			return rec, res, err
		},
	}).Register(g)
	return g
}

// stopRunner stops the runner service once the builds are over (their
// calls have then returned), and every connection within a bounded time.
func stopRunner(g *grpc.Server) {
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		g.Stop() // closes every connection; GracefulStop then returns
		<-done
	}
}

// peerCreds gives every runner connection its peer's credentials
// (SO_PEERCRED), as the HTTP API has them: no TLS on a Unix socket.
type peerCreds struct{ d *Daemon }

type peerInfo struct {
	credentials.CommonAuthInfo
	p *peer
}

func (peerInfo) AuthType() string { return "peercred" }

func (c peerCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	cred, err := peerOf(conn)
	if err != nil {
		return nil, nil, err
	}
	return conn, peerInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}, p: c.d.resolvePeer(cred)}, nil
}

func (peerCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("peer credentials: server side only")
}

func (peerCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (c peerCreds) Clone() credentials.TransportCredentials { return c }

func (peerCreds) OverrideServerName(string) error { return nil }

// runnerPeer is the peer of a runner call.
func runnerPeer(ctx context.Context) *peer {
	gp, ok := grpcpeer.FromContext(ctx)
	if !ok {
		return nil
	}
	pi, ok := gp.AuthInfo.(peerInfo)
	if !ok {
		return nil
	}
	return pi.p
}
