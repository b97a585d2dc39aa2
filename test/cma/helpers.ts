/** Setting up a CMA service over the fixture platform, in a temporary data directory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCma } from '../../src/cma/manager.js';
import type { CmaOptions } from '../../src/cma/options.js';
import type { CmaEvent, CmaService } from '../../src/cma/api.js';
import { TrustStore } from '../../src/verifier/trust-store.js';
import { FixturePlatform, testClock, vendorRoot } from './fixture-platform.js';

export interface Rig {
  readonly platform: FixturePlatform;
  readonly dir: string;
  readonly clock: ReturnType<typeof testClock>;
  readonly trust: TrustStore;
  /** Starts (or restarts) the service on the rig's data directory. */
  start(extra?: Partial<CmaOptions>): Promise<CmaService>;
  events: CmaEvent[];
  cleanup(): Promise<void>;
}

/** A platform, clock and trust store over a data directory (a fresh temporary one unless given). */
export function rig(dataDir?: string): Rig {
  const clock = testClock();
  const platform = new FixturePlatform(clock);
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'spdmkit-cma-'));
  const trust = TrustStore.fromCertificates([vendorRoot().anchor]);
  const started: CmaService[] = [];
  const r: Rig = {
    platform,
    dir,
    clock,
    trust,
    events: [],
    async start(extra = {}) {
      const cma = await createCma({
        platform,
        trust,
        dataDir: dir,
        clock,
        retry: { attempts: 2, baseMs: 50, maxMs: 200 },
        ...extra,
      });
      // What happened during start-up, then everything after (no await between: nothing is missed).
      const last = r.events.at(-1)?.id ?? 0;
      r.events.push(...cma.eventsSince(last, 1_000_000));
      cma.subscribe((e) => r.events.push(e));
      started.push(cma);
      return cma;
    },
    async cleanup() {
      for (const c of started) await c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

/** Resolves when `pred` holds for an event seen so far or a later one. */
export function waitForEvent(r: Rig, pred: (e: CmaEvent) => boolean, cma: CmaService): Promise<CmaEvent> {
  const hit = r.events.find(pred);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve) => {
    const off = cma.subscribe((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}
