// bb_storage: CAS and action cache, and the front end that passes
// Execute on to the scheduler.
local c = import 'common.libsonnet';
{
  grpcServers: [{ listenAddresses: [c.frontend], authenticationPolicy: c.allow }],
  maximumMessageSizeBytes: c.maximumMessageSizeBytes,
  global: c.diagnostics(9980),
  contentAddressableStorage: {
    backend: c.localStore(c.state + '/cas', 64 * 1024 * 1024, 2 * 1024 * 1024 * 1024, 3),
    getAuthorizer: c.allow,
    putAuthorizer: c.allow,
    findMissingAuthorizer: c.allow,
  },
  actionCache: {
    backend: c.localStore(c.state + '/ac', 1024 * 1024, 64 * 1024 * 1024, 1),
    getAuthorizer: c.allow,
    putAuthorizer: c.allow,
  },
  schedulers: { '': { endpoint: { address: c.schedulerClients } } },
  executeAuthorizer: c.allow,
}
