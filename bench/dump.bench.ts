/**
 * `spdm dump` figures on synthetic PCI DOE captures: a large MEASUREMENTS fetched in 64-byte
 * CHUNK_GET / CHUNK_RESPONSE rounds (captures of ~5 MB and ~20 MB) and 2,000,000 empty or garbage
 * records. For each: seconds and peak RSS of the streamed dump (text to a sink that discards it),
 * and, as the baseline in the same process, of reading the same file through the pcap reader
 * without decoding. Each capture runs in a process of its own so that peak RSS is its own.
 *
 *   npm run bench:dump
 *   BENCH_DUMP_RECORDS=200000 node dist/bench/dump.bench.js
 *   BENCH_DUMP_COMPARE=/path/to/other/bin/spdm.js BENCH_DUMP_TIMEOUT=200 node dist/bench/dump.bench.js
 *
 * BENCH_DUMP_COMPARE also times that `spdm` executable's `dump FILE > /dev/null` (e.g. an older
 * build), killed after BENCH_DUMP_TIMEOUT seconds. Prints figures; never fails on a timing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { dumpFile } from '../src/capture/dump-file.js';
import { PcapFileSource, PcapReader } from '../src/capture/pcap.js';
import { writeChunkedCapture, writeGarbageCapture } from '../test/capture/synthetic-pcap.js';

interface Figures {
  readonly name: string;
  readonly fileBytes: number;
  readonly records: number;
  readonly recordBytes: number;
  readonly readSeconds: number;
  readonly readPeakRssMb: number;
  readonly dumpSeconds: number;
  readonly dumpPeakRssMb: number;
  readonly packets: number;
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

/** Child: the baseline read, then the dump, of one capture; figures as one JSON line. */
async function measure(name: string, path: string): Promise<Figures> {
  let t0 = performance.now();
  const fd = openSync(path, 'r');
  let records = 0;
  let bytes = 0;
  try {
    const reader = new PcapReader(new PcapFileSource(fd));
    for (const r of reader.records()) {
      records++;
      bytes += r.data.length;
    }
  } finally {
    closeSync(fd);
  }
  const readSeconds = (performance.now() - t0) / 1000;
  const readPeakRssMb = peakRssMb();
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  t0 = performance.now();
  const summary = await dumpFile(path, sink);
  const dumpSeconds = (performance.now() - t0) / 1000;
  return {
    name,
    fileBytes: statSync(path).size,
    records,
    recordBytes: bytes,
    readSeconds,
    readPeakRssMb,
    dumpSeconds,
    dumpPeakRssMb: peakRssMb(),
    packets: summary.packets,
  };
}

function runChild(name: string, path: string): Figures {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', name, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Figures;
}

/** Another `spdm` build's `dump FILE` to /dev/null: seconds and peak RSS, or the timeout. */
function compare(bin: string, path: string, timeoutS: number): Promise<string> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // GNU time reports the child's peak RSS; without it, seconds only.
    const time = existsSync('/usr/bin/time');
    const argv = [bin, 'dump', path];
    const child = time
      ? spawn('/usr/bin/time', ['-f', '%M', process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const s = (performance.now() - t0) / 1000;
      if (signal) return resolve(`killed after ${s.toFixed(1)} s (timeout ${timeoutS} s)`);
      const kb = time ? Number(/(\d+)\s*$/.exec(err.trim())?.[1] ?? NaN) : NaN;
      resolve(`${s.toFixed(2)} s${Number.isNaN(kb) ? '' : `, peak RSS ${(kb / 1024).toFixed(0)} MB`} (exit ${code})`);
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--measure') {
    process.stdout.write(`${JSON.stringify(await measure(args[1] ?? '', args[2] ?? ''))}\n`);
    return;
  }
  const records = Number(process.env['BENCH_DUMP_RECORDS'] ?? 2_000_000);
  const other = process.env['BENCH_DUMP_COMPARE'];
  const timeoutS = Number(process.env['BENCH_DUMP_TIMEOUT'] ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-dump-bench-'));
  try {
    const captures: [string, string][] = [];
    const chunked = (name: string, largeBytes: number) => {
      const path = join(dir, `${name}.pcap`);
      writeChunkedCapture(path, { largeBytes, chunkBytes: 64 });
      captures.push([name, path]);
    };
    // 64-byte chunks cost ~136 bytes of capture each (CHUNK_GET, CHUNK_RESPONSE, DOE and pcap headers).
    chunked('chunked-5MB', 2_400_000);
    chunked('chunked-20MB', 9_600_000);
    const garbage = join(dir, 'garbage.pcap');
    writeGarbageCapture(garbage, records);
    captures.push([`${records}-empty-records`, garbage]);

    console.log(
      'spdm dump, streamed (text to a discarding sink); baseline: the same file read through the pcap reader, not decoded',
    );
    for (const [name, path] of captures) {
      const f = runChild(name, path);
      const mb = (f.fileBytes / 1e6).toFixed(1);
      console.log(`  ${name}: ${mb} MB, ${f.records} records (${(f.recordBytes / 1e6).toFixed(1)} MB of record data)`);
      console.log(`    read only: ${f.readSeconds.toFixed(2)} s, peak RSS ${f.readPeakRssMb.toFixed(0)} MB`);
      console.log(
        `    dump:      ${f.dumpSeconds.toFixed(2)} s, peak RSS ${f.dumpPeakRssMb.toFixed(0)} MB (${f.packets} packets; ${(f.dumpSeconds / f.readSeconds).toFixed(1)}x the read, ${((f.dumpSeconds / f.records) * 1e6).toFixed(1)} µs per record, ${(f.fileBytes / 1e6 / f.dumpSeconds).toFixed(1)} MB/s)`,
      );
      if (other) console.log(`    ${other} dump: ${await compare(other, path, timeoutS)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
