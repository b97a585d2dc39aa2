/**
 * The daemon's CmaService: the platform its configuration names, opened, and createCma over it
 * with the configured trust, policy, data directory, concurrency and autoAccept. The service does
 * not close the platform: the daemon does, after the service (startDaemon's `platform`).
 */
import { mkdir } from 'node:fs/promises';
import type { CmaService } from '../cma/api.js';
import { createCma } from '../cma/manager.js';
import type { Platform } from '../platform/platform.js';
import type { PlatformConfig, DaemonConfig } from './config.js';
import type { VerifierInputs } from './daemon.js';

/** Opens the platform of the configuration; each kind is loaded only when it is the one asked for. */
export async function openPlatform(p: PlatformConfig): Promise<Platform> {
  if (p.kind === 'simulated') {
    const { loadSimulatedPlatform } = await import('../platform/simulated.js');
    return loadSimulatedPlatform(p.file, p.deviceThreads ? { deviceThreads: p.deviceThreads } : {});
  }
  const { openSysfsPlatform } = await import('../platform/sysfs.js');
  return openSysfsPlatform(p.root !== undefined ? { root: p.root } : {});
}

export interface DaemonService {
  readonly service: CmaService;
  readonly platform: Platform;
}

/** The platform and the service over it; `onError` hears about failures no request awaits. */
export async function createDaemonService(
  c: DaemonConfig,
  inputs: VerifierInputs,
  onError?: (e: unknown) => void,
): Promise<DaemonService> {
  await mkdir(c.dataDir, { recursive: true, mode: 0o700 });
  const platform = await openPlatform(c.platform);
  try {
    const cma = await createCma({
      platform,
      trust: inputs.trust,
      ...(inputs.policy ? { policy: inputs.policy } : {}),
      dataDir: c.dataDir,
      concurrency: c.concurrency,
      autoAccept: c.autoAccept,
      ...(c.holdDrivers ? { holdDrivers: true } : {}),
      ...(onError ? { onError } : {}),
    });
    return { service: cma, platform };
  } catch (e) {
    await platform.close();
    throw e;
  }
}
