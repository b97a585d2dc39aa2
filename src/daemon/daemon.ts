/**
 * spdmkitd as a library: from a configuration and a service factory to listening servers, with
 * reload and drain. The command (cli/daemon-command.ts) resolves the environment-dependent
 * defaults, builds the service, and turns SIGHUP into reload() and SIGTERM into close().
 */
import type { CmaService } from '../cma/api.js';
import { TrustStore } from '../verifier/trust-store.js';
import { loadPolicyFile } from '../verifier/policy-loader.js';
import type { Policy } from '../verifier/policy.js';
import type { DaemonConfig } from './config.js';
import { readTokenFile } from './auth.js';
import { listenTcp, listenUnix } from './listen.js';
import { buildServer, type Api, type ServerOptions } from './server.js';

/** What the verifier reads, loaded from the configuration's trust, deny and policy files. */
export interface VerifierInputs {
  readonly trust: TrustStore;
  readonly policy?: Policy;
}

export function loadDaemonVerifierInputs(c: DaemonConfig): VerifierInputs {
  const trust = new TrustStore({ anchors: [...c.trust], deny: [...c.deny] });
  return { trust, ...(c.policy !== undefined ? { policy: loadPolicyFile(c.policy) } : {}) };
}

export interface ReloadReport {
  readonly ok: boolean;
  readonly anchors: number;
  readonly denyEntries: number;
  /** `reloaded`: the policy file was re-read, valid, and applies from the next verification on. */
  readonly policy: 'reloaded' | 'unchanged';
  readonly errors: readonly string[];
}

export interface DaemonOptions {
  readonly config: DaemonConfig;
  /** The Unix socket (the command's default when the configuration names none). */
  readonly socketPath: string;
  readonly service: CmaService;
  /** The platform under the service, closed after it (the service does not close its platform). */
  readonly platform?: { close(): Promise<void> };
  readonly inputs: VerifierInputs;
  readonly logger?: ServerOptions['logger'];
}

export interface RunningDaemon {
  readonly socketPath: string;
  /** The TCP port, when listening on TCP. */
  readonly tcpPort?: number;
  /** The socket server's fastify instance (its logger is the daemon's). */
  readonly app: Api;
  /** SIGHUP: re-read trust anchors, deny-list and policy; the old state stays when one fails. */
  reload(): ReloadReport;
  /** SIGTERM: stop accepting, end event streams, finish requests, close the service. */
  close(): Promise<void>;
}

export async function startDaemon(o: DaemonOptions): Promise<RunningDaemon> {
  const { config, service } = o;
  const events = {
    heartbeatMs: config.events.heartbeatSeconds * 1000,
    maxBufferedBytes: config.events.maxBufferedBytes,
  };
  const common = { service, events, ...(o.logger ? { logger: o.logger } : {}) };
  const app = await buildServer(common);
  const token = config.listen ? readTokenFile(config.listen.tokenFile) : undefined;
  const tcp = token !== undefined ? await buildServer({ ...common, token }) : undefined;
  const unsubscribe = service.subscribe((e) => app.log.info({ event: e }, `cma event ${e.type}`));
  let tcpPort: number | undefined;
  try {
    await listenUnix(app, {
      path: o.socketPath,
      mode: config.socket.mode,
      ...(config.socket.group !== undefined ? { group: config.socket.group } : {}),
    });
    if (tcp && config.listen) tcpPort = await listenTcp(tcp, config.listen.host, config.listen.port);
  } catch (e) {
    unsubscribe();
    await Promise.allSettled([app.close(), tcp?.close()]);
    throw e;
  }
  app.log.info({ socket: o.socketPath, tcpPort }, 'spdmkitd listening');

  let policyPath = config.policy;
  return {
    socketPath: o.socketPath,
    ...(tcpPort !== undefined ? { tcpPort } : {}),
    app,
    reload(): ReloadReport {
      const errors: string[] = [];
      const r = o.inputs.trust.reload();
      if (!r.ok && r.error) errors.push(r.error);
      let policy: ReloadReport['policy'] = 'unchanged';
      if (policyPath !== undefined) {
        try {
          // From the next verification on; trust anchors and deny-list are read from the TrustStore every time.
          service.setPolicy(loadPolicyFile(policyPath));
          policy = 'reloaded';
        } catch (e) {
          errors.push(e instanceof Error ? e.message : String(e));
        }
      }
      const report = { ok: errors.length === 0, anchors: r.anchors, denyEntries: r.denyEntries, policy, errors };
      app.log.info({ reload: report }, 'reload');
      return report;
    },
    async close(): Promise<void> {
      policyPath = undefined;
      app.log.info('draining');
      await Promise.allSettled([app.close(), tcp?.close()]);
      unsubscribe();
      try {
        await service.close();
      } finally {
        await o.platform?.close();
        o.inputs.trust.close();
      }
      app.log.info('stopped');
    },
  };
}
