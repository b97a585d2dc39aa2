/**
 * Peak memory (max RSS) of spdmkit against two hostile inputs, each in a fresh child process:
 *
 *   flood   a device that answers the spdm-emu greeting, then streams unsolicited frames
 *   import  `spdm log import` of an export whose first line is one very long line
 *
 * Sizes in MiB: BENCH_FLOOD_MIB (default 512), BENCH_LINE_MIB (default 300). Prints one line per
 * case: what the requester or the import said, and the child's peak RSS.
 *
 *   npm run build && node dist/bench/hostile-memory.bench.js
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmuCommand, EmuFrameReader, encodeEmuFrame, SERVER_HELLO } from '../src/transport/emu-frame.js';
import { EmuSocketTransport } from '../src/transport/emu-socket.js';
import { openLog } from '../src/log/log.js';

const MiB = 1024 * 1024;

function errText(e: unknown): string {
  const s = e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
  return s.length > 110 ? `${s.slice(0, 107)}...` : s;
}

async function flood(mib: number): Promise<string> {
  const total = mib * MiB;
  let written = 0;
  let finished: Promise<void> = Promise.resolve();
  const server = createServer((sock: Socket) => {
    sock.on('error', () => undefined);
    const reader = new EmuFrameReader();
    sock.once('data', (d: Buffer) => {
      if (!reader.push(new Uint8Array(d)).some((f) => f.command === EmuCommand.TEST)) return;
      sock.write(encodeEmuFrame(EmuCommand.TEST, 1, SERVER_HELLO));
      const frame = encodeEmuFrame(EmuCommand.NORMAL, 1, new Uint8Array(64 * 1024).fill(5));
      finished = (async () => {
        await new Promise((r) => setTimeout(r, 20));
        while (written < total && !sock.destroyed) {
          written += frame.length;
          if (!sock.write(frame)) await new Promise((r) => (sock.once('drain', r), sock.once('close', r)));
        }
        sock.end();
      })();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  const t = await EmuSocketTransport.connect({ port, transport: 'mctp' });
  await new Promise((r) => setTimeout(r, 50));
  await finished;
  let outcome: string;
  try {
    await t.exchange(new Uint8Array([0x10, 0x84, 0, 0]), { timeoutMs: 1000 });
    outcome = 'exchange returned a frame nobody asked for';
  } catch (e) {
    outcome = errText(e);
  }
  await t.close();
  server.close();
  return `device wrote ${(written / MiB).toFixed(1)} MiB; ${outcome}`;
}

/** The export with one long line, written a MiB at a time (by the parent: it must not count in the child's RSS). */
function writeLongLine(file: string, mib: number): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, '{"type":"header","format":"spdmkit-signature-log/1","pad":"');
    const x = Buffer.alloc(MiB, 'x');
    for (let i = 0; i < mib; i++) writeSync(fd, x);
    writeSync(fd, '"}\n');
  } finally {
    closeSync(fd);
  }
}

async function importLongLine(file: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-bench-'));
  try {
    const log = await openLog(join(dir, 'target.sqlite'));
    try {
      await log.importJsonl(createReadStream(file));
      return 'imported';
    } catch (e) {
      return errText(e);
    } finally {
      await log.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === 'flood' || mode === 'import') {
  const outcome =
    mode === 'flood' ? await flood(Number(process.argv[3])) : await importLongLine(process.argv[4] as string);
  process.stdout.write(`${JSON.stringify({ outcome, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
} else {
  const self = fileURLToPath(import.meta.url);
  const cases: [string, number][] = [
    ['flood', Number(process.env['BENCH_FLOOD_MIB'] ?? 512)],
    ['import', Number(process.env['BENCH_LINE_MIB'] ?? 300)],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-bench-'));
  for (const [m, mib] of cases) {
    const file = join(dir, 'long.jsonl');
    if (m === 'import') writeLongLine(file, mib);
    const r = spawnSync(process.execPath, [self, m, String(mib), file], { encoding: 'utf8', timeout: 300_000 });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    let out = `child failed: ${r.stderr.trim().split('\n').at(-1) ?? r.status}`;
    try {
      const j = JSON.parse(line) as { outcome: string; maxRssMiB: number };
      out = `peak RSS ${j.maxRssMiB.toFixed(0).padStart(5)} MiB  ${j.outcome}`;
    } catch {
      // keep the failure text
    }
    process.stdout.write(`${m.padEnd(6)} ${String(mib).padStart(4)} MiB  ${out}\n`);
  }
  rmSync(dir, { recursive: true, force: true });
}
