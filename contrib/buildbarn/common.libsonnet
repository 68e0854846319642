// A one-machine remote-execution cluster on loopback, with sdbuild as its
// runner: what sdbuild's README ("Under Buildbarn") describes. Paths come
// from the environment (std.extVar reads it), so that one set of files
// serves any directory:
//   BB_STATE    directory for storage, the worker's cache and its build
//               directory (runner-build-directory is $BB_STATE/build)
//   BB_RUNNER   the runner socket: unix:///run/sdbuild/runner.sock for
//               sdbuild, or the stock runner's socket for a comparison
{
  state: std.extVar('BB_STATE'),
  runner: std.extVar('BB_RUNNER'),
  // Storage doubles as the front end clients talk to.
  frontend: '127.0.0.1:8980',
  schedulerClients: '127.0.0.1:8982',
  schedulerWorkers: '127.0.0.1:8983',
  maximumMessageSizeBytes: 16 * 1024 * 1024,
  allow: { allow: {} },
  // Prometheus metrics (the worker's per-stage timings among them).
  diagnostics(port): {
    diagnosticsHttpServer: {
      httpServers: [{ listenAddresses: ['127.0.0.1:' + port], authenticationPolicy: { allow: {} } }],
      enablePrometheus: true,
    },
  },
  // A local block-device store of the given sizes, for the CAS or the AC.
  localStore(dir, mapBytes, blockBytes, newBlocks):: {
    'local': {
      keyLocationMapOnBlockDevice: { file: { path: dir + '/key_location_map', sizeBytes: mapBytes } },
      keyLocationMapMaximumGetAttempts: 16,
      keyLocationMapMaximumPutAttempts: 64,
      oldBlocks: 8,
      currentBlocks: 24,
      newBlocks: newBlocks,
      blocksOnBlockDevice: { source: { file: { path: dir + '/blocks', sizeBytes: blockBytes } }, spareBlocks: 3 },
    },
  },
}
