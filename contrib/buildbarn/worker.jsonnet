// bb_worker: a native build directory (inputs hard-linked from its cache)
// that it shares with the runner at BB_RUNNER. With sdbuild, set
// runner-build-directory to $BB_STATE/build; concurrency N means N
// actions at once, each an sdbuild build on a slot of its own, queued
// with every other build (max-jobs and the slots bound them all).
local c = import 'common.libsonnet';
{
  blobstore: {
    contentAddressableStorage: { grpc: { address: c.frontend } },
    actionCache: { grpc: { address: c.frontend } },
  },
  browserUrl: 'http://127.0.0.1:7984',
  maximumMessageSizeBytes: c.maximumMessageSizeBytes,
  scheduler: { address: c.schedulerWorkers },
  global: c.diagnostics(9986),
  buildDirectories: [{
    native: {
      buildDirectoryPath: c.state + '/build',
      cacheDirectoryPath: c.state + '/cache',
      maximumCacheFileCount: 10000,
      maximumCacheSizeBytes: 1024 * 1024 * 1024,
      cacheReplacementPolicy: 'LEAST_RECENTLY_USED',
    },
    runners: [{
      endpoint: { address: c.runner },
      concurrency: 2,
      platform: { properties: [{ name: 'OSFamily', value: 'linux' }] },
      workerId: { host: 'localhost' },
    }],
  }],
  filePool: { blockDevice: { file: { path: c.state + '/filepool', sizeBytes: 256 * 1024 * 1024 } } },
  inputDownloadConcurrency: 4,
  outputUploadConcurrency: 4,
  // Clients that speak REv2.0 only (output_files, output_directories).
  supportLegacyOutputFilesAndDirectories: true,
}
