/** spdmkitd as a library: its configuration, the server over a CmaService, and clients of its API. */
export {
  compileDaemonConfig,
  loadDaemonConfigFile,
  parseDaemonConfigText,
  DaemonConfigError,
  type DaemonConfig,
  type PlatformConfig,
} from './config.js';
export { DAEMON_CONFIG_SCHEMA, DAEMON_CONFIG_SCHEMA_ID } from './config-schema.js';
export {
  startDaemon,
  loadDaemonVerifierInputs,
  type DaemonOptions,
  type RunningDaemon,
  type ReloadReport,
  type VerifierInputs,
} from './daemon.js';
export { createDaemonService, openPlatform, type DaemonService } from './service.js';
export { openApiDocument } from './openapi.js';
export { callApi, callApiOk, ApiCallError, type ApiAnswer, type ClientTarget } from './client.js';
export { openEventStream, type EventStream } from './event-client.js';
