/**
 * `spdm log …`: the signature log from the command line.
 *
 *   spdm log verify [--db FILE|URL] [--json] [--pubkey FILE] [--checkpoint FILE] [--workers N]
 *   spdm log export [--db FILE|URL] [--out FILE]
 *   spdm log import [--db FILE|URL] [--pubkey FILE] [--max-line-bytes N] FILE|-
 *   spdm log show   [--db FILE|URL] [--from N] [--count N] [--json]
 *   spdm log info   [--db FILE|URL] [--json]
 *
 * --db is a SQLite file or a postgres:// URL; without it ./spdmkit-log.sqlite. Exit status: 0 ok,
 * 1 verification failed (the failing entries are named), 2 bad input or no such log.
 *
 * main.ts wires this in with `registerLogCommands(program, { setExitCode: (c) => { exitCode = c; } })`;
 * `appendEvidenceToLog` (re-exported here) serves `spdm authenticate --log FILE|URL`.
 */
import { createReadStream, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { asymInfo, hashInfo } from '../crypto/algorithms.js';
import { toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { readTextFileBounded } from '../wire/bounded-file.js';
import { checkJsonText } from '../wire/json-depth.js';
import { DEFAULT_LOG_TARGET, openLog, type SignatureLog } from '../log/log.js';
import { loadPublicKeyFile, type LogPublicKey } from '../log/log-key.js';
import { sthFromJson, sthToJson, type SignedTreeHead } from '../log/sth.js';
import type { VerifyProblem, VerifyProgress, VerifyReport } from '../log/verify.js';
import { encodeLeaf, type LogEntry } from '../log/entry.js';
import { splitEndpointInfoTranscript } from '../spdm/endpoint-info-transcript.js';
import { sessionIdText, signedSessionId, splitKeyExchangeTranscript } from '../spdm/key-exchange-transcript.js';
import { entryToJson } from '../log/jsonl.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../log/merkle.js';
import {
  defaultOrigin,
  MAX_CHECKPOINT_BYTES,
  noteVerifierKey,
  verifyCheckpoint,
  type Checkpoint,
} from '../log/checkpoint.js';
import { logKeyOptions } from './log-env.js';

export { appendEvidenceToLog, DEFAULT_LOG_TARGET } from '../log/log.js';

import { EXIT } from './exit-codes.js';

export interface LogCliIo {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
  /** Standard input, for `log import -`. */
  readonly stdin?: Readable;
  /** Milliseconds between progress lines when stderr is not a terminal. */
  readonly progressIntervalMs?: number;
}

function defaultIo(): LogCliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}

function short(hex: string, n = 16): string {
  return hex.length > n ? `${hex.slice(0, n)}…` : hex;
}

/** Progress on stderr: a redrawn bar on a terminal, a line every few seconds otherwise. */
export function progressReporter(io: LogCliIo, label: string): { update(p: VerifyProgress): void; end(): void } {
  const tty = io.stderr.isTTY === true;
  const interval = io.progressIntervalMs ?? (tty ? 100 : 5000);
  let last = 0;
  let drawn = false;
  const t0 = Date.now();
  return {
    update(p) {
      if (p.total < 1000) return;
      const now = Date.now();
      if (now - last < interval && p.phase !== 'done') return;
      last = now;
      const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
      const secs = ((now - t0) / 1000).toFixed(1);
      if (tty) {
        const width = 30;
        const full = Math.round(frac * width);
        io.stderr.write(
          `\r${label} [${'#'.repeat(full)}${' '.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${p.done}/${p.total} entries ${secs}s`,
        );
        drawn = true;
      } else {
        io.stderr.write(`${label}: ${p.phase} ${p.done}/${p.total} entries (${(frac * 100).toFixed(0)}%, ${secs}s)\n`);
      }
    },
    end() {
      if (drawn) io.stderr.write('\n');
    },
  };
}

function problemLine(p: VerifyProblem): string {
  const where =
    p.entry !== undefined
      ? `entry ${p.entry}`
      : p.entries
        ? `entries ${p.entries[0]}..${p.entries[1]}`
        : p.chainDigest
          ? `chain ${short(p.chainDigest)}`
          : p.treeSize !== undefined
            ? `tree head ${p.treeSize}`
            : p.table;
  return `  ${p.severity === 'error' ? 'ERROR' : 'warn '} ${p.code.padEnd(28)} ${where}${p.fields?.length ? ` [${p.fields.join(', ')}]` : ''}: ${p.message}`;
}

function formatEntries(list: readonly number[], max = 40): string {
  // Runs of consecutive indices as a..b.
  const parts: string[] = [];
  for (let i = 0; i < list.length && parts.length < max;) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === (list[j] as number) + 1) j++;
    parts.push(i === j ? String(list[i]) : `${list[i]}..${list[j]}`);
    i = j + 1;
  }
  const shown = parts.join(', ');
  return parts.length >= max ? `${shown}, …` : shown;
}

export function formatVerifyReport(r: VerifyReport, backend: string): string {
  const lines: string[] = [];
  lines.push(`signature log ${r.target} (${backend}), log id ${r.logId}`);
  lines.push(
    r.publicKeySource === 'pinned'
      ? 'log key: pinned (--pubkey)'
      : 'log key: taken from the log itself — pin it with --pubkey to detect a log re-signed with another key',
  );
  lines.push(`tree size ${r.treeSize}, root ${r.rootHash}${r.sth ? `, signed ${r.sth.time}` : ''}`);
  lines.push(
    `${r.entriesRead} entries read, ${r.signaturesChecked} device signatures re-verified (${r.signaturesValid} valid), ${r.treeHeadsChecked} tree heads checked, ${(r.durationMs / 1000).toFixed(2)} s` +
      (r.appendedDuringVerification ? `; ${r.appendedDuringVerification} entries appended meanwhile` : ''),
  );
  const shown = r.problems.slice(0, 60);
  for (const p of shown) lines.push(problemLine(p));
  if (r.problems.length > shown.length)
    lines.push(`  … and ${r.problems.length - shown.length} more problems (--json lists all)`);
  if (r.ok) lines.push(r.warnings ? `OK (${r.warnings} warning${r.warnings === 1 ? '' : 's'})` : 'OK');
  else
    lines.push(
      `FAILED: ${r.errors} error${r.errors === 1 ? '' : 's'}${r.failingEntries.length ? `; failing entries: ${formatEntries(r.failingEntries)}` : ''}`,
    );
  return lines.join('\n');
}

export interface LogVerifyOptions {
  readonly db?: string;
  readonly json?: boolean;
  readonly pubkey?: string;
  readonly checkpoint?: string;
  /** With a C2SP checkpoint: its origin (default spdmkit.log/<log id>). */
  readonly origin?: string;
  readonly workers?: number;
}

async function withLog<T>(
  db: string | undefined,
  fn: (log: SignatureLog) => Promise<T>,
  opts: { pubkey?: LogPublicKey; write?: boolean } = {},
): Promise<T> {
  const target = db ?? DEFAULT_LOG_TARGET;
  const log = await openLog(target, {
    ...logKeyOptions(),
    readOnly: !opts.write,
    ...(opts.pubkey ? { publicKey: opts.pubkey } : {}),
  });
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

function fail(io: LogCliIo, cmd: string, e: unknown): number {
  io.stderr.write(
    `spdm log ${cmd}: ${e instanceof SpdmError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}\n`,
  );
  return EXIT.USAGE;
}

/** The tree head a checkpoint file holds: a small JSON file, read with a bound. */
function readCheckpoint(path: string): SignedTreeHead {
  const text = readTextFileBounded(path, LIMITS.checkpointFileBytes, 'checkpointFileBytes');
  checkJsonText(text, path);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SpdmError('DECODE_ERROR', `${path} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return sthFromJson(doc);
}

export async function runLogVerify(o: LogVerifyOptions, io: LogCliIo = defaultIo()): Promise<number> {
  let pinned: LogPublicKey | undefined;
  let trusted: SignedTreeHead | undefined;
  let note: string | undefined;
  try {
    if (o.pubkey) pinned = loadPublicKeyFile(o.pubkey);
    if (o.checkpoint && existsSync(o.checkpoint)) {
      // A C2SP checkpoint (spdm log checkpoint, or one a witness kept) or the JSON head verify saves.
      const text = readTextFileBounded(o.checkpoint, LIMITS.checkpointFileBytes, 'checkpointFileBytes');
      if (text.trimStart().startsWith('{')) trusted = readCheckpoint(o.checkpoint);
      else note = text;
    }
  } catch (e) {
    return fail(io, 'verify', e);
  }
  try {
    return await withLog(
      o.db,
      async (log) => {
        // A note is checked with the pinned key, or the log's own when none is pinned (as verify does).
        const trustedCheckpoint =
          note !== undefined ? verifyCheckpoint(note, pinned ?? log.logKey, o.origin) : undefined;
        const bar = progressReporter(io, 'verifying');
        const report = await log.verify({
          onProgress: (p) => bar.update(p),
          ...(trusted ? { trusted } : {}),
          ...(trustedCheckpoint ? { trustedCheckpoint } : {}),
          ...(o.workers !== undefined ? { workers: o.workers } : {}),
        });
        bar.end();
        if (o.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else io.stdout.write(`${formatVerifyReport(report, log.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL')}\n`);
        // A C2SP checkpoint is left as it is (re-signing needs the key); the JSON head moves on.
        if (report.ok && o.checkpoint && report.sth && note === undefined)
          writeFileSync(o.checkpoint, `${JSON.stringify(report.sth, null, 2)}\n`);
        if (!report.ok && !o.json)
          io.stderr.write(
            `spdm log verify: FAILED${report.failingEntries.length ? ` — failing entries ${formatEntries(report.failingEntries)}` : ''}\n`,
          );
        return report.ok ? EXIT.OK : EXIT.FAILED;
      },
      pinned ? { pubkey: pinned } : {},
    );
  } catch (e) {
    if (e instanceof SpdmError && e.code === 'CHECKPOINT_INVALID') {
      io.stderr.write(`spdm log verify: FAILED — ${e.message}\n`);
      return EXIT.FAILED;
    }
    return fail(io, 'verify', e);
  }
}

export async function runLogExport(o: { db?: string; out?: string }, io: LogCliIo = defaultIo()): Promise<number> {
  try {
    return await withLog(o.db, async (log) => {
      const out = o.out ? createWriteStream(o.out) : io.stdout;
      const r = await log.exportJsonl(out);
      if (o.out) {
        out.end();
        await once(out, 'finish');
      }
      io.stderr.write(
        `exported ${r.entries} entries and ${r.chains} certificate chains of log ${log.logId}${o.out ? ` to ${o.out}` : ''}\n`,
      );
      return EXIT.OK;
    });
  } catch (e) {
    return fail(io, 'export', e);
  }
}

export async function runLogImport(
  file: string,
  o: { db?: string; pubkey?: string; maxLineBytes?: number },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  try {
    const pinned = o.pubkey ? loadPublicKeyFile(o.pubkey) : undefined;
    if (file !== '-' && !existsSync(file)) throw new Error(`${file}: no such file`);
    const input = file === '-' ? (io.stdin ?? process.stdin) : createReadStream(file);
    return await withLog(
      o.db,
      async (log) => {
        const r = await log.importJsonl(input, {
          ...(pinned ? { publicKey: pinned } : {}),
          ...(o.maxLineBytes !== undefined ? { maxLineBytes: o.maxLineBytes } : {}),
        });
        io.stdout.write(
          `imported ${r.imported} entries from log ${r.sourceLogId} (its tree head: size ${r.sourceTreeHead.treeSize}, root ${toHex(r.sourceTreeHead.rootHash)})\n`,
        );
        io.stdout.write(`this log (${log.logId}): tree size ${r.treeSize}, root ${toHex(r.rootHash)}\n`);
        return EXIT.OK;
      },
      { write: true },
    );
  } catch (e) {
    return fail(io, 'import', e);
  }
}

function algoText(e: LogEntry): string {
  return `${asymInfo(e.asymAlgo)?.name ?? `asym 0x${e.asymAlgo.toString(16)}`}/${hashInfo(e.hashAlgo)?.name ?? `hash 0x${e.hashAlgo.toString(16)}`}`;
}

/** The session a logged KEY_EXCHANGE_RSP set up, read from its signed transcript (the log holds no other record of it). */
function keyExchangeSession(e: LogEntry): string {
  try {
    return `session ${sessionIdText(signedSessionId(splitKeyExchangeTranscript(e.transcript, e.hashAlgo)))} (as signed)`;
  } catch (err) {
    return `session unknown: the transcript does not decode (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** The EPInfo a logged ENDPOINT_INFO signed, read from its transcript (the log has no field for it). */
function endpointInfoText(e: LogEntry): string {
  try {
    const epInfo = splitEndpointInfoTranscript(e.transcript, e.hashAlgo).response.epInfo;
    return `EPInfo ${short(toHex(epInfo), 48)} (${epInfo.length} B, as signed)`;
  } catch (err) {
    return `EPInfo unknown: the transcript does not decode (${err instanceof Error ? err.message : String(err)})`;
  }
}

export function formatEntry(e: LogEntry): string {
  const version = `${e.version >> 4}.${e.version & 0xf}`;
  const dev = e.device ?? (e.pci?.bdf ? e.pci.bdf : '-');
  const lines = [
    `#${e.index}  ${new Date(e.loggedAt).toISOString()}  ${dev}  ${e.kind}  SPDM ${version}  ${algoText(e)}  slot ${e.slot}`,
    `    collected ${e.collectedAt}${e.evidenceIndex !== e.index ? `, with #${e.evidenceIndex}` : ''}${e.pci ? `, PCI ${e.pci.vendorId.toString(16).padStart(4, '0')}:${e.pci.deviceId.toString(16).padStart(4, '0')}${e.pci.serialNumber ? ` DSN ${e.pci.serialNumber}` : ''}` : ''}`,
    `    chain ${e.chainDigest ? short(toHex(e.chainDigest), 24) : '(none)'}  nonce ${short(toHex(e.requesterNonce))}  transcript ${e.transcript.length} B  signature ${short(toHex(e.signature))} (${e.signature.length} B)${e.verified ? '' : '  NOT VERIFIED AT RECEIPT'}`,
  ];
  if (e.context) lines.push(`    context "${e.context}"`);
  if (e.kind === 'KEY_EXCHANGE_RSP') lines.push(`    ${keyExchangeSession(e)}`);
  if (e.kind === 'ENDPOINT_INFO') lines.push(`    ${endpointInfoText(e)}`);
  if (e.measurements.length)
    lines.push(`    ${e.measurements.length} measurement block${e.measurements.length === 1 ? '' : 's'} signed`);
  if (e.measurementSummaryHash)
    lines.push(`    measurement summary hash ${short(toHex(e.measurementSummaryHash), 24)}`);
  return lines.join('\n');
}

export async function runLogShow(
  o: { db?: string; from?: number; count?: number; json?: boolean },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  try {
    return await withLog(o.db, async (log) => {
      const sth = await log.signedTreeHead();
      const from = o.from ?? Math.max(0, sth.treeSize - (o.count ?? 20));
      const count = Math.min(o.count ?? 20, Math.max(0, sth.treeSize - from));
      const list = count > 0 ? await log.entries(from, count) : [];
      if (o.json) {
        io.stdout.write(
          `${JSON.stringify({ logId: log.logId, sth: sthToJson(sth), entries: list.map((e) => entryToJson(e, leafHash(encodeLeaf(e)))) }, null, 2)}\n`,
        );
        return EXIT.OK;
      }
      io.stdout.write(
        `signature log ${log.description}: ${sth.treeSize} entries, root ${toHex(sth.rootHash)} signed ${new Date(sth.timestamp).toISOString()}\n`,
      );
      io.stdout.write(
        list.length
          ? `${list.map(formatEntry).join('\n')}\n`
          : `(no entries in ${from}..${from + (o.count ?? 20) - 1})\n`,
      );
      return EXIT.OK;
    });
  } catch (e) {
    return fail(io, 'show', e);
  }
}

export async function runLogInfo(o: { db?: string; json?: boolean }, io: LogCliIo = defaultIo()): Promise<number> {
  try {
    return await withLog(o.db, async (log) => {
      const sth = await log.signedTreeHead();
      const info = {
        target: log.description,
        backend: log.backend,
        logId: log.logId,
        publicKeyPem: log.publicKeyPem(),
        sth: sthToJson(sth, log.logKey.logId),
      };
      if (o.json) io.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else
        io.stdout.write(
          `signature log ${info.target} (${info.backend})\nlog id ${info.logId}\ntree size ${sth.treeSize}, root ${toHex(sth.rootHash)}, signed ${info.sth.time}\n${info.publicKeyPem}`,
        );
      return EXIT.OK;
    });
  } catch (e) {
    return fail(io, 'info', e);
  }
}

/** `spdm log checkpoint`: the newest head as a C2SP signed-note checkpoint, signed with the log key. */
export async function runLogCheckpoint(
  o: { db?: string; origin?: string; out?: string },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  try {
    return await withLog(
      o.db,
      async (log) => {
        const note = await log.checkpoint(o.origin);
        if (o.out) writeFileSync(o.out, note);
        else io.stdout.write(note);
        const origin = o.origin ?? defaultOrigin(log.logKey.logId);
        io.stderr.write(`verifier key: ${noteVerifierKey(origin, log.logKey)}\n`);
        return EXIT.OK;
      },
      { write: true },
    );
  } catch (e) {
    return fail(io, 'checkpoint', e);
  }
}

function readNote(path: string): string {
  return readTextFileBounded(path, MAX_CHECKPOINT_BYTES, 'checkpointFileBytes');
}

/**
 * `spdm log checkpoint-verify FILE --pubkey P`: the note's signature by the pinned log key; with
 * `--db`, also that the log holds that head (the root over its first treeSize leaves).
 */
export async function runLogCheckpointVerify(
  file: string,
  o: { pubkey: string; origin?: string; db?: string; json?: boolean },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  let cp: Checkpoint;
  try {
    const pub = loadPublicKeyFile(o.pubkey);
    cp = verifyCheckpoint(readNote(file), pub, o.origin);
    if (o.db) {
      const held = await withLog(o.db, (log) => log.treeHead(cp.treeSize), { pubkey: pub });
      if (toHex(held.rootHash) !== toHex(cp.rootHash))
        throw new SpdmError(
          'CHECKPOINT_INVALID',
          `the log's tree of size ${cp.treeSize} has root ${toHex(held.rootHash)}, the checkpoint ${toHex(cp.rootHash)}`,
        );
    }
  } catch (e) {
    if (e instanceof SpdmError && e.code === 'CHECKPOINT_INVALID') {
      io.stderr.write(`spdm log checkpoint-verify: ${e.message}\n`);
      return EXIT.FAILED;
    }
    return fail(io, 'checkpoint-verify', e);
  }
  const out = { origin: cp.origin, treeSize: cp.treeSize, rootHash: toHex(cp.rootHash) };
  io.stdout.write(
    o.json
      ? `${JSON.stringify(out, null, 2)}\n`
      : `checkpoint OK: ${out.origin}, size ${out.treeSize}, root ${out.rootHash}\n`,
  );
  return EXIT.OK;
}

/** `spdm log proof inclusion INDEX | consistency FIRST [--size N]`: an RFC 9162 proof as JSON. */
export async function runLogProof(
  kind: 'inclusion' | 'consistency',
  at: number,
  o: { db?: string; size?: number },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  try {
    return await withLog(o.db, async (log) => {
      const doc =
        kind === 'inclusion'
          ? ((p) => ({
              type: 'inclusion',
              leafIndex: p.leafIndex,
              treeSize: p.treeSize,
              leafHash: toHex(p.leafHash),
              path: p.path.map(toHex),
              rootHash: toHex(p.rootHash),
            }))(await log.inclusionProof(at, o.size))
          : ((p) => ({
              type: 'consistency',
              first: p.first,
              second: p.second,
              firstRoot: toHex(p.firstRoot),
              secondRoot: toHex(p.secondRoot),
              path: p.path.map(toHex),
            }))(await log.consistencyProof(at, o.size));
      io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return EXIT.OK;
    });
  } catch (e) {
    return fail(io, 'proof', e);
  }
}

function proofHex(v: unknown, field: string, size = 32): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-f]*$/.test(v) || v.length !== size * 2)
    throw new SpdmError('CHECKPOINT_INVALID', `proof: ${field} must be ${size} bytes of lowercase hex`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}

function proofInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new SpdmError('CHECKPOINT_INVALID', `proof: ${field} must be a non-negative integer`);
  return v;
}

function proofPath(v: unknown): Uint8Array[] {
  if (!Array.isArray(v) || v.length > 64)
    throw new SpdmError('CHECKPOINT_INVALID', 'proof: path must be at most 64 hashes');
  return v.map((x, i) => proofHex(x, `path[${i}]`));
}

/**
 * `spdm log proof-verify PROOF --checkpoint CP --pubkey P`: offline, with no log at hand — the
 * checkpoint's signature by the pinned key, then the proof against the checkpoint's size and root
 * (inclusion: the leaf is in that tree; consistency: the tree of `first` leaves with `firstRoot`,
 * e.g. an older checkpoint, is a prefix of it).
 */
export async function runLogProofVerify(
  file: string,
  o: { checkpoint: string; pubkey: string; origin?: string },
  io: LogCliIo = defaultIo(),
): Promise<number> {
  try {
    const cp = verifyCheckpoint(readNote(o.checkpoint), loadPublicKeyFile(o.pubkey), o.origin);
    const text = readTextFileBounded(file, LIMITS.checkpointFileBytes, 'checkpointFileBytes');
    checkJsonText(text, file);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new SpdmError('CHECKPOINT_INVALID', `${file}: not JSON`);
    }
    let ok: boolean;
    let what: string;
    if (doc['type'] === 'inclusion') {
      const size = proofInt(doc['treeSize'], 'treeSize');
      const index = proofInt(doc['leafIndex'], 'leafIndex');
      if (size !== cp.treeSize)
        throw new SpdmError('CHECKPOINT_INVALID', `the proof is for size ${size}, the checkpoint ${cp.treeSize}`);
      ok = verifyInclusion(index, size, proofHex(doc['leafHash'], 'leafHash'), proofPath(doc['path']), cp.rootHash);
      what = `entry ${index} is in the tree of size ${size}`;
    } else if (doc['type'] === 'consistency') {
      const first = proofInt(doc['first'], 'first');
      const second = proofInt(doc['second'], 'second');
      if (second !== cp.treeSize)
        throw new SpdmError('CHECKPOINT_INVALID', `the proof is to size ${second}, the checkpoint ${cp.treeSize}`);
      ok = verifyConsistency(
        first,
        second,
        proofHex(doc['firstRoot'], 'firstRoot'),
        cp.rootHash,
        proofPath(doc['path']),
      );
      what = `the tree of size ${first} (root ${String(doc['firstRoot'])}) is a prefix of the tree of size ${second}`;
    } else throw new SpdmError('CHECKPOINT_INVALID', 'proof: type must be inclusion or consistency');
    if (!ok) {
      io.stderr.write(
        `spdm log proof-verify: the proof does not verify against checkpoint ${cp.origin} size ${cp.treeSize}\n`,
      );
      return EXIT.FAILED;
    }
    io.stdout.write(`proof OK: ${what}, checkpoint ${cp.origin}\n`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof SpdmError && e.code === 'CHECKPOINT_INVALID') {
      io.stderr.write(`spdm log proof-verify: ${e.message}\n`);
      return EXIT.FAILED;
    }
    return fail(io, 'proof-verify', e);
  }
}

export { registerLogCommands, type RegisterLogOptions } from './log-command.js';
