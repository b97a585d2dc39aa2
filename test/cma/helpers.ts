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
      // What happened during start-up, then everything after: live events are held while the
      // stored ones are read, and merged by id (no await between the merge and going live).
      const held: CmaEvent[] = [];
      let live = false;
      cma.subscribe((e) => (live ? r.events.push(e) : held.push(e)));
      for (;;) {
        const page = await cma.eventsSince(r.events.at(-1)?.id ?? 0, 1_000_000);
        if (page.length === 0) break;
        r.events.push(...page);
      }
      for (const e of held) if (e.id > (r.events.at(-1)?.id ?? 0)) r.events.push(e);
      live = true;
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
