/**
 * A generated platform (bench/scale.bench.ts at a small N): 50 copies of the shipped default
 * platform's genuine devices, written as a platform file, under the daemon as the command builds
 * it (configuration file, service, API on its socket). Every device must end authenticated and
 * trusted, with both of its signatures (CHALLENGE_AUTH, MEASUREMENTS) in the signature log and
 * announced on the event stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CmaEvent } from '../../src/cma/api.js';
import { callApiOk } from '../../src/daemon/client.js';
import { loadDaemonConfigFile } from '../../src/daemon/config.js';
import { loadDaemonVerifierInputs, startDaemon } from '../../src/daemon/daemon.js';
import { openEventStream } from '../../src/daemon/event-client.js';
import { createDaemonService } from '../../src/daemon/service.js';
import { scaledBdf, scaledPlatform, type PlatformDocument } from '../../src/platform/scaled.js';
import { repoRoot } from '../support/paths.js';

const N = 50;

test(`the daemon authenticates every device of a generated ${N}-device platform`, { timeout: 180_000 }, async () => {
  const shipped = join(repoRoot(), 'platform', 'default');
  const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-scale-'));
  try {
    symlinkSync(join(shipped, 'devices'), join(dir, 'devices'));
    const template = parse(readFileSync(join(shipped, 'platform.yaml'), 'utf8')) as PlatformDocument;
    const doc = scaledPlatform(template, { count: N, pick: (f) => f['kind'] === 'genuine', responseDelayMs: 1 });
    writeFileSync(join(dir, 'platform.json'), JSON.stringify(doc));
    writeFileSync(
      join(dir, 'spdmkitd.json'),
      JSON.stringify({
        version: 1,
        dataDir: 'state',
        trust: [join(shipped, 'trust')],
        deny: [join(shipped, 'deny-list.txt')],
        policy: join(shipped, 'policy.yaml'),
        // The emulators in a device thread, as the scale bench runs them.
        platform: { kind: 'simulated', file: 'platform.json', deviceThreads: 1 },
        concurrency: 16,
      }),
    );
    const config = loadDaemonConfigFile(join(dir, 'spdmkitd.json'));
    const inputs = loadDaemonVerifierInputs(config);
    const { service, platform } = await createDaemonService(config, inputs);
    const socketPath = join(dir, 's.sock');
    const daemon = await startDaemon({ config, socketPath, service, platform, inputs });
    try {
      const target = { socketPath };
      const stream = await openEventStream(target, 0);
      const done = new Set<string>();
      await stream.waitFor(
        (e: CmaEvent) => {
          if (e.type === 'authenticated') done.add(e.bdf);
          return done.size === N;
        },
        150_000,
        `an authenticated event for each of the ${N} devices`,
      );
      const { devices } = (await callApiOk(target, 'GET', '/v1/devices')) as {
        devices: {
          bdf: string;
          authenticated: { state: string };
          verdict?: { status: string };
          signatures: number[];
        }[];
      };
      assert.deepEqual(
        devices.map((d) => d.bdf),
        Array.from({ length: N }, (_, i) => scaledBdf(i)),
      );
      for (const d of devices) {
        assert.equal(d.authenticated.state, 'yes', `${d.bdf} authenticated`);
        assert.equal(d.verdict?.status, 'trusted', `${d.bdf} trusted`);
        assert.equal(d.signatures.length, 2, `${d.bdf}: CHALLENGE_AUTH and MEASUREMENTS logged`);
      }
      // Every signature is its own log entry, and each was announced once.
      const indices = devices.flatMap((d) => d.signatures);
      assert.equal(new Set(indices).size, 2 * N);
      const head = (await callApiOk(target, 'GET', '/v1/log/tree-head')) as { treeSize: number };
      assert.equal(head.treeSize, 2 * N);
      assert.equal(stream.events.filter((e) => e.type === 'signature').length, 2 * N);
      // Ids rise by one, with no gap and no repeat, however the commits were grouped.
      assert.deepEqual(
        stream.events.map((e) => e.id),
        stream.events.map((_, i) => i + 1),
      );
      stream.close();
    } finally {
      await daemon.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
