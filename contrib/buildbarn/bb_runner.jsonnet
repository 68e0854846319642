// The stock runner on the same build directory, to measure sdbuild's
// per-action overhead against it (BB_RUNNER=unix://$BB_STATE/bb_runner.sock).
local c = import 'common.libsonnet';
{
  buildDirectoryPath: c.state + '/build',
  grpcServers: [{ listenPaths: [c.state + '/bb_runner.sock'], authenticationPolicy: c.allow }],
}
