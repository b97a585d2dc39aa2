/**
 * `spdm daemon` / `spdmkitd`: reads the configuration, fills in the environment's defaults (the
 * socket path), starts the service and the API, and runs until SIGTERM or SIGINT: SIGHUP reloads
 * the trust anchors, deny-list and policy. Logs are JSON lines on standard error.
 */
import { loadDaemonConfigFile } from '../daemon/config.js';
import { loadDaemonVerifierInputs, startDaemon } from '../daemon/daemon.js';
import { createDaemonService } from '../daemon/service.js';
import { defaultDaemonSocket } from './daemon-client.js';
import { limitDaemonHeapGrowth } from './daemon-heap.js';
import { EXIT } from './exit-codes.js';

export interface DaemonCommandOptions {
  readonly config: string;
  readonly socket?: string;
  readonly logLevel: string;
}

export async function runDaemonCommand(
  o: DaemonCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
  proc: NodeJS.Process = process,
): Promise<number> {
  limitDaemonHeapGrowth(proc.execArgv, env['NODE_OPTIONS']);
  const config = loadDaemonConfigFile(o.config);
  const socketPath = o.socket ?? config.socket.path ?? defaultDaemonSocket(env, proc.getuid?.() ?? -1);
  const inputs = loadDaemonVerifierInputs(config);
  // Background failures go to the daemon's log once it exists (before that, to standard error).
  const background: { log: (e: unknown) => void } = {
    log: (e) => void proc.stderr.write(`spdmkitd: ${e instanceof Error ? e.message : String(e)}\n`),
  };
  const { service, platform } = await createDaemonService(config, inputs, (e) => background.log(e));
  let d;
  try {
    d = await startDaemon({
      config,
      socketPath,
      service,
      platform,
      inputs,
      logger: { level: o.logLevel, stream: proc.stderr },
    });
  } catch (e) {
    await service.close();
    await platform.close();
    inputs.trust.close();
    throw e;
  }
  const daemon = d;
  background.log = (e) => daemon.app.log.error({ err: e }, 'background failure');
  await new Promise<void>((resolve) => {
    const hup = () => void daemon.reload();
    const stop = (signal: string) => {
      daemon.app.log.info({ signal }, 'stopping');
      proc.off('SIGHUP', hup);
      void daemon.close().then(resolve, (e: unknown) => {
        daemon.app.log.error({ err: e }, 'shutdown failed');
        resolve();
      });
    };
    proc.on('SIGHUP', hup);
    proc.once('SIGTERM', () => stop('SIGTERM'));
    proc.once('SIGINT', () => stop('SIGINT'));
  });
  return EXIT.OK;
}
