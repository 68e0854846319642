// bb_scheduler: one queue, keyed on the action's platform.
local c = import 'common.libsonnet';
{
  clientGrpcServers: [{ listenAddresses: [c.schedulerClients], authenticationPolicy: c.allow }],
  workerGrpcServers: [{ listenAddresses: [c.schedulerWorkers], authenticationPolicy: c.allow }],
  adminHttpServers: [{ listenAddresses: ['127.0.0.1:7982'], authenticationPolicy: c.allow }],
  browserUrl: 'http://127.0.0.1:7984',
  contentAddressableStorage: { grpc: { address: c.frontend } },
  maximumMessageSizeBytes: c.maximumMessageSizeBytes,
  global: c.diagnostics(9982),
  executeAuthorizer: c.allow,
  modifyDrainsAuthorizer: c.allow,
  killOperationsAuthorizer: c.allow,
  synchronizeAuthorizer: c.allow,
  actionRouter: {
    simple: {
      platformKeyExtractor: { action: {} },
      invocationKeyExtractors: [{ toolInvocationId: {} }],
      initialSizeClassAnalyzer: { defaultExecutionTimeout: '600s', maximumExecutionTimeout: '3600s' },
    },
  },
  platformQueueWithNoWorkersTimeout: '900s',
}
