/**
 * JSON Lines export and import of a signature log (docs/log-format.md). One JSON object per line:
 *
 *   {"type":"header", "format":"spdmkit-signature-log/1", "logId", "publicKey", "treeSize", …}
 *   {"type":"chain", "digest", "chain"}        before the first entry that refers to it
 *   {"type":"entry", "index", "leafHash", <every leaf field>}
 *   {"type":"sth", "treeSize", "timestamp", "time", "rootHash", "signature"}   last line
 *
 * Byte strings are lowercase hex, loggedAt is ISO 8601 with milliseconds (the leaf holds its
 * milliseconds), integers are JSON numbers. The file alone lets anyone rebuild every leaf, the tree
 * and check the head and every device signature.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { equalBytes, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { entryTranscriptProblems } from './entry-transcript.js';
import { LIMITS } from '../wire/limits.js';
import { boundedLines } from '../wire/bounded-lines.js';
import { checkJsonText } from '../wire/json-depth.js';
import {
  chainDigestOf,
  leafHashWithDigests,
  hexBytes,
  encodePci,
  FIELDS,
  PCI_FIELDS,
  LEAF_FORMAT,
  type ChainRecord,
  type LogEntry,
} from './entry.js';
import { publicKeyFromSpki, type LogPublicKey } from './log-key.js';
import { Frontier, HASH_SIZE, SubtreeLevels, verifyConsistency } from './merkle.js';
import { sthFromJson, sthToJson, verifyTreeHead, type SignedTreeHead } from './sth.js';
import {
  LOG_FORMAT,
  rowToEntry,
  sthFromColumns,
  type LogStore,
  type StoredEntryRow,
  type WriteTx,
} from './store/store.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function entryToJson(e: LogEntry, storedLeafHash: Uint8Array): Record<string, unknown> {
  const o: Record<string, unknown> = { type: 'entry', index: e.index, leafHash: toHex(storedLeafHash) };
  for (const f of FIELDS) {
    if (f.name === 'index') continue;
    const v = e[f.name];
    if (v === undefined) continue;
    if (f.name === 'loggedAt') o[f.name] = new Date(v as number).toISOString();
    else if (f.type === 'bytes') o[f.name] = toHex(v as Uint8Array);
    else if (f.type === 'blocks') o[f.name] = (v as readonly Uint8Array[]).map((b) => toHex(b));
    else o[f.name] = v;
  }
  return o;
}

function lineError(line: number, what: string): SpdmError {
  return new SpdmError('DECODE_ERROR', `line ${line}: ${what}`, { line });
}

/** What a JSON value is, for "must be …, got …" messages: `string "0"`, `number 1.5`, `object`. */
function got(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  // undefined, a function or a symbol: JSON has no text for them.
  const s = JSON.stringify(v) ?? typeof v;
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 37)}...` : s}`;
}

function hexValue(v: unknown, line: number, field: string): Uint8Array {
  const b = typeof v === 'string' && !/[A-F]/.test(v) ? hexBytes(v) : undefined;
  if (!b) throw lineError(line, `${field} must be lowercase hex`);
  return b;
}

/**
 * The members each line type may have. No hash covers a member outside the leaf (or the signed
 * head), so an importer that kept one would carry unverified data under a verified root: an
 * unknown member fails the import instead.
 */
const LINE_MEMBERS: Readonly<Record<string, ReadonlySet<string>>> = {
  header: new Set([
    'type',
    'format',
    'leafFormat',
    'hash',
    'treeHeadSignature',
    'logId',
    'publicKey',
    'createdAt',
    'exportedAt',
    'treeSize',
  ]),
  chain: new Set(['type', 'digest', 'chain']),
  entry: new Set(['type', 'leafHash', ...FIELDS.map((f) => f.name)]),
  sth: new Set(['type', 'treeSize', 'timestamp', 'time', 'rootHash', 'signature', 'logId', 'consistency']),
};

const PCI_MEMBERS: ReadonlySet<string> = new Set(PCI_FIELDS.map((f) => f.name));

/**
 * The informational members (no signature covers them, nothing relies on them) still have the one
 * form the exporter writes, so that schemas/log-export.schema.json states exactly what import accepts.
 */
const INFORMATIONAL: Readonly<Record<string, Readonly<Record<string, (v: unknown) => boolean>>>> = {
  header: {
    hash: (v) => v === 'SHA-256',
    treeHeadSignature: (v) => v === 'Ed25519',
    createdAt: (v) => typeof v === 'string',
    exportedAt: (v) => typeof v === 'string',
  },
  sth: { time: (v) => typeof v === 'string' },
};

/** Refuses members the line type does not have, and `null` anywhere at the top level (absent is left out, never null). */
function checkMembers(o: Record<string, unknown>, type: string, line: number): void {
  const allowed = LINE_MEMBERS[type];
  if (!allowed) return;
  for (const [k, v] of Object.entries(o)) {
    if (!allowed.has(k)) throw lineError(line, `${type} line: unknown member ${JSON.stringify(k)}`);
    if (v === null) throw lineError(line, `${type} line: ${k} is null (an absent field is left out)`);
    const form = INFORMATIONAL[type]?.[k];
    if (form && !form(v)) throw lineError(line, `${type} line: ${k} is not what an export writes there, got ${got(v)}`);
  }
}

/** A JSON entry line back to an entry; every field checked, each failure names line and field. */
export function entryFromJson(o: Record<string, unknown>, line: number): LogEntry {
  checkMembers(o, 'entry', line);
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = o[f.name];
    if (v === undefined) {
      if (!f.optional) throw lineError(line, `field ${f.name} missing`);
      continue;
    }
    switch (f.type) {
      case 'u8':
      case 'u16':
      case 'u32':
      case 'u64':
        if (f.name === 'loggedAt') {
          if (typeof v !== 'string' || !ISO_MS.test(v) || new Date(Date.parse(v)).toISOString() !== v)
            throw lineError(line, 'loggedAt must be ISO 8601 UTC with milliseconds');
          out[f.name] = Date.parse(v);
        } else {
          if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
            throw lineError(line, `${f.name} must be a non-negative integer, got ${got(v)}`);
          out[f.name] = v;
        }
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw lineError(line, `${f.name} must be true or false`);
        out[f.name] = v;
        break;
      case 'utf8':
        if (typeof v !== 'string') throw lineError(line, `${f.name} must be a string`);
        out[f.name] = v;
        break;
      case 'bytes':
        out[f.name] = hexValue(v, line, f.name);
        break;
      case 'blocks':
        if (!Array.isArray(v)) throw lineError(line, `${f.name} must be an array of hex strings`);
        out[f.name] = v.map((b, i) => hexValue(b, line, `${f.name}[${i}]`));
        break;
      case 'pci':
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw lineError(line, 'pci must be an object');
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          if (!PCI_MEMBERS.has(k)) throw lineError(line, `pci: unknown member ${JSON.stringify(k)}`);
          if (x === null) throw lineError(line, `pci: ${k} is null (an absent field is left out)`);
        }
        try {
          encodePci(v as NonNullable<LogEntry['pci']>);
        } catch (e) {
          throw lineError(line, `pci: ${e instanceof Error ? e.message : String(e)}`);
        }
        out[f.name] = v;
        break;
    }
  }
  return out as unknown as LogEntry;
}

async function writeLine(out: Writable, o: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(o)}\n`)) await once(out, 'drain');
}

/** Writes the log up to its newest signed tree head. Stored leaf hashes are written as stored. */
export async function exportJsonl(
  store: LogStore,
  key: LogPublicKey,
  out: Writable,
  pageSize = 2000,
): Promise<{ entries: number; chains: number }> {
  const sth = await store.latestSth();
  if (!sth) throw new SpdmError('LOG_CORRUPT', `${store.description}: no tree head to export`);
  const meta = await store.readMeta();
  await writeLine(out, {
    type: 'header',
    format: LOG_FORMAT,
    leafFormat: LEAF_FORMAT,
    hash: 'SHA-256',
    treeHeadSignature: 'Ed25519',
    logId: toHex(key.logId),
    publicKey: toHex(key.spki),
    createdAt: meta.get('created_at'),
    exportedAt: new Date().toISOString(),
    treeSize: sth.treeSize,
  });
  // Every signed head up to the newest, in order: a head line follows the entry that completes it,
  // with the consistency proof from the head before (one pass, SubtreeLevels keeps what it needs).
  const heads = (await store.readSths())
    .map(sthFromColumns)
    .filter((h): h is SignedTreeHead => h !== undefined && h.treeSize <= sth.treeSize)
    .sort((a, b) => a.treeSize - b.treeSize);
  const levels = new SubtreeLevels();
  let headAt = 0;
  let previous: SignedTreeHead | undefined;
  const headLines = async (): Promise<void> => {
    while (headAt < heads.length && (heads[headAt] as SignedTreeHead).treeSize === levels.size) {
      const h = heads[headAt++] as SignedTreeHead;
      // The newest head is the final line, after all entries.
      if (h.treeSize === sth.treeSize) return;
      await writeLine(out, headLine(h, key.logId, previous, levels));
      previous = h;
    }
  };
  await headLines();
  const sent = new Set<string>();
  let next = 0;
  while (next < sth.treeSize) {
    const rows = await store.readRows(next, Math.min(pageSize, sth.treeSize - next));
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row['seq'] !== next) throw new SpdmError('LOG_CORRUPT', `entry ${next} is missing; run \`spdm log verify\``);
      const r = rowToEntry(row);
      if (!r.entry || !r.leafHash)
        throw new SpdmError(
          'DECODE_ERROR',
          `entry ${next} is unreadable (${r.problems.map((p) => p.column).join(', ')}); run \`spdm log verify\``,
        );
      const cd = r.entry.chainDigest;
      if (cd && !sent.has(toHex(cd))) {
        const chain = await store.readChain(cd);
        if (!chain)
          throw new SpdmError(
            'LOG_CORRUPT',
            `certificate chain ${toHex(cd)} of entry ${next} is missing; run \`spdm log verify\``,
          );
        await writeLine(out, { type: 'chain', digest: toHex(cd), chain: toHex(chain) });
        sent.add(toHex(cd));
      }
      await writeLine(out, entryToJson(r.entry, r.leafHash));
      levels.append(r.leafHash);
      next++;
      await headLines();
      if (next >= sth.treeSize) break;
    }
  }
  if (next !== sth.treeSize)
    throw new SpdmError('LOG_CORRUPT', `entries ${next}..${sth.treeSize - 1} are missing; run \`spdm log verify\``);
  await writeLine(out, headLine(sth, key.logId, previous, levels));
  return { entries: next, chains: sent.size };
}

/**
 * Each `sth` line is a head of the entries read so far: its size is their count, its root theirs,
 * its time no earlier than the head before, and after the first it carries the consistency proof
 * from the head before — what a witness that keeps only heads checks. (Its signature is checked by
 * the caller.)
 */
function checkHeadInSequence(
  h: SignedTreeHead,
  consistency: unknown,
  previous: SignedTreeHead | undefined,
  source: Frontier,
  line: number,
): void {
  if (h.treeSize !== source.size)
    throw lineError(line, `the tree head covers ${h.treeSize} entries, ${source.size} come before it`);
  if (!equalBytes(source.root(), h.rootHash))
    throw lineError(
      line,
      `the entries before it have root ${toHex(source.root())}, the tree head of size ${h.treeSize} signs ${toHex(h.rootHash)}`,
    );
  if (!previous) {
    if (consistency !== undefined)
      throw lineError(line, `the first tree head has a consistency proof, but there is no head before it`);
    return;
  }
  if (h.timestamp < previous.timestamp)
    throw lineError(line, `the tree head of size ${h.treeSize} is older than the one before it`);
  if (!Array.isArray(consistency))
    throw lineError(
      line,
      `the tree head of size ${h.treeSize} has no consistency proof from size ${previous.treeSize}`,
    );
  if (consistency.length > 64) throw lineError(line, 'consistency: more than 64 nodes');
  const path = consistency.map((x, i) => {
    const b = hexValue(x, line, `consistency[${i}]`);
    if (b.length !== HASH_SIZE) throw lineError(line, `consistency[${i}] is not ${HASH_SIZE} bytes`);
    return b;
  });
  if (!verifyConsistency(previous.treeSize, h.treeSize, previous.rootHash, h.rootHash, path))
    throw lineError(line, `the consistency proof from size ${previous.treeSize} to ${h.treeSize} does not verify`);
}

/** An `sth` line: the head, and (after the first) the RFC 9162 consistency proof from the head before it. */
function headLine(
  h: SignedTreeHead,
  logId: Uint8Array,
  previous: SignedTreeHead | undefined,
  levels: SubtreeLevels,
): Record<string, unknown> {
  return {
    type: 'sth',
    ...sthToJson(h, logId),
    ...(previous ? { consistency: levels.consistencyPath(previous.treeSize, h.treeSize).map(toHex) } : {}),
  };
}

export interface ImportOptions {
  /** The source log's key, pinned: the header must name it. */
  readonly publicKey?: LogPublicKey;
  readonly onProgress?: (entries: number) => void;
  /**
   * Longest line accepted, in bytes (default LIMITS.logImportLineBytes). A longer line fails the
   * import with a LimitError naming it, after reading at most this much of it.
   */
  readonly maxLineBytes?: number;
}

export interface ImportResult {
  /** Entries added (entries the log already held are checked, not added again). */
  readonly imported: number;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly sourceLogId: string;
  readonly sourceTreeHead: SignedTreeHead;
}

const FLUSH = 1000;

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v <= 0) throw new TypeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

export async function importJsonl(
  store: LogStore,
  input: Readable,
  options: ImportOptions,
  commitHead: (tx: WriteTx, frontier: Frontier) => Promise<SignedTreeHead>,
  lockedState: (tx: WriteTx) => Promise<{ frontier: Frontier }>,
): Promise<ImportResult> {
  const maxLineBytes = positiveInt(options.maxLineBytes ?? LIMITS.logImportLineBytes, 'maxLineBytes');
  return store.write(async (tx) => {
    const { frontier } = await lockedState(tx);
    const existing = frontier.size;
    const existingHashes = existing > 0 ? await tx.leafHashes(0, existing) : [];
    const source = new Frontier();
    // The chains of this export by digest: each entry is held to its transcript with its chain.
    const chains = new Map<string, Uint8Array>();
    let pendingChains: ChainRecord[] = [];
    let pendingRows: StoredEntryRow[] = [];
    // Bytes of the lines behind pendingChains and pendingRows: a flush is due past LIMITS.logImportPendingBytes.
    let pendingBytes = 0;
    let header: { key: LogPublicKey; treeSize: number } | undefined;
    let sth: SignedTreeHead | undefined;
    let lastWasHead = false;
    let lineNo = 0;
    let imported = 0;
    const flush = async () => {
      if (pendingChains.length) await tx.insertChains(pendingChains);
      if (pendingRows.length) await tx.insertEntries(pendingRows);
      pendingChains = [];
      pendingRows = [];
      pendingBytes = 0;
      options.onProgress?.(source.size);
    };
    for await (const { line, text: raw } of boundedLines(input, {
      maxBytes: maxLineBytes,
      limit: options.maxLineBytes !== undefined ? 'maxLineBytes' : 'logImportLineBytes',
    })) {
      lineNo = line;
      if (raw.trim() === '') continue;
      lastWasHead = false;
      // JSON.parse copes with any nesting, but a line of a million "[{}," would cost many times its size.
      checkJsonText(raw, '', {
        firstLine: lineNo,
        maxItems: LIMITS.logImportLineItems,
        itemsLimit: 'logImportLineItems',
      });
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw lineError(lineNo, 'not JSON');
      }
      if (typeof o !== 'object' || o === null) throw lineError(lineNo, 'not a JSON object');
      if (typeof o['type'] === 'string') checkMembers(o, o['type'], lineNo);
      if (!header) {
        if (o['type'] !== 'header' || o['format'] !== LOG_FORMAT)
          throw lineError(lineNo, `the first line must be the ${LOG_FORMAT} header`);
        if (o['leafFormat'] !== LEAF_FORMAT)
          throw lineError(lineNo, `leaf format ${String(o['leafFormat'])} is not supported`);
        const key = publicKeyFromSpki(hexValue(o['publicKey'], lineNo, 'publicKey'));
        // The log id is the hash of these bytes: only the one DER encoding of the key is its name.
        if (toHex(key.spki) !== o['publicKey'])
          throw lineError(lineNo, 'publicKey is not the DER encoding of an Ed25519 SubjectPublicKeyInfo');
        if (o['logId'] !== toHex(key.logId)) throw lineError(lineNo, 'logId is not the SHA-256 of publicKey');
        if (options.publicKey && !equalBytes(options.publicKey.spki, key.spki))
          throw lineError(
            lineNo,
            `the export is of log ${toHex(key.logId)}, not of the pinned log ${toHex(options.publicKey.logId)}`,
          );
        const declared = o['treeSize'];
        if (typeof declared !== 'number' || !Number.isSafeInteger(declared) || declared < 0)
          throw lineError(lineNo, `header treeSize must be a non-negative integer, got ${got(declared)}`);
        header = { key, treeSize: declared };
        continue;
      }
      switch (o['type']) {
        case 'chain': {
          const d = hexValue(o['digest'], lineNo, 'digest');
          const c = hexValue(o['chain'], lineNo, 'chain');
          if (!equalBytes(chainDigestOf(c), d))
            throw lineError(lineNo, `chain ${toHex(d)} does not hash to its digest (altered)`);
          if (!chains.has(toHex(d))) {
            chains.set(toHex(d), c);
            pendingChains.push({ digest: d, chain: c });
            pendingBytes += raw.length;
            if (pendingBytes >= LIMITS.logImportPendingBytes) await flush();
          }
          break;
        }
        case 'entry': {
          const idx = o['index'];
          if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0)
            throw lineError(
              lineNo,
              idx === undefined ? 'field index missing' : `entry index must be a non-negative integer, got ${got(idx)}`,
            );
          if (idx !== source.size)
            throw lineError(
              lineNo,
              `entry index ${String(idx)} where ${source.size} was expected (entries dropped or reordered)`,
            );
          const e = entryFromJson(o, lineNo);
          if (o['leafHash'] === undefined) throw lineError(lineNo, 'field leafHash missing');
          const enc = leafHashWithDigests(e);
          const lh = enc.leafHash;
          if (toHex(lh) !== o['leafHash'])
            throw lineError(
              lineNo,
              `entry ${e.index}: its fields hash to ${toHex(lh)}, not to the exported leafHash (altered)`,
            );
          if (e.chainDigest && !chains.has(toHex(e.chainDigest)) && !(await tx.hasChain(e.chainDigest)))
            throw lineError(lineNo, `entry ${e.index}: certificate chain ${toHex(e.chainDigest)} not given before it`);
          // The same rules as `spdm log verify`: a side field that is not what the device signed is refused.
          const chain = e.chainDigest
            ? (chains.get(toHex(e.chainDigest)) ?? (await tx.readChain(e.chainDigest)))
            : undefined;
          const disagree = entryTranscriptProblems(e, chain);
          if (disagree.length > 0)
            throw lineError(
              lineNo,
              `entry ${e.index}: ${disagree[0]!.code} (${disagree[0]!.fields.join(', ')}): ${disagree[0]!.message}`,
            );
          source.append(lh);
          if (e.index < existing) {
            if (!equalBytes(existingHashes[e.index] as Uint8Array, lh))
              throw lineError(
                lineNo,
                `entry ${e.index} differs from entry ${e.index} already in this log: the log is not a prefix of the export`,
              );
            break;
          }
          pendingRows.push({ entry: e, leafHash: lh, fieldDigests: enc.fieldDigests });
          frontier.append(lh);
          imported++;
          pendingBytes += raw.length;
          if (pendingRows.length >= FLUSH || pendingBytes >= LIMITS.logImportPendingBytes) await flush();
          break;
        }
        case 'sth': {
          const h = sthFromJson(o);
          // The signed bytes hold the header's log id; an sth line naming another is not this log's head.
          if (h.logId && !equalBytes(h.logId, header.key.logId))
            throw lineError(lineNo, 'the sth line names another logId than the header');
          if (!verifyTreeHead(header.key.key, header.key.logId, h))
            throw lineError(lineNo, 'the tree head is not signed by the exported log key');
          checkHeadInSequence(h, o['consistency'], sth, source, lineNo);
          sth = h;
          lastWasHead = true;
          break;
        }
        default:
          throw lineError(lineNo, `unknown line type ${JSON.stringify(o['type'])}`);
      }
    }
    if (!header) throw new SpdmError('DECODE_ERROR', 'empty export');
    if (!sth || !lastWasHead || sth.treeSize !== header.treeSize)
      throw new SpdmError(
        'DECODE_ERROR',
        `the export does not end with the sth line of the ${header.treeSize} entries its header announces (cut short?)`,
      );
    if (sth.treeSize !== source.size)
      throw new SpdmError(
        'DECODE_ERROR',
        `the export's tree head covers ${sth.treeSize} entries but it holds ${source.size}`,
      );
    if (!equalBytes(source.root(), sth.rootHash))
      throw new SpdmError(
        'DECODE_ERROR',
        `the exported entries have root ${toHex(source.root())}, the tree head signs ${toHex(sth.rootHash)}`,
      );
    if (existing > source.size)
      throw new SpdmError(
        'LOG_IMPORT_CONFLICT',
        `this log holds ${existing} entries, more than the export's ${source.size}`,
      );
    await flush();
    if (imported > 0) await commitHead(tx, frontier);
    await tx.putMeta(`imported:${toHex(header.key.logId)}`, JSON.stringify(sthToJson(sth, header.key.logId)));
    return {
      imported,
      treeSize: frontier.size,
      rootHash: frontier.root(),
      sourceLogId: toHex(header.key.logId),
      sourceTreeHead: sth,
    };
  });
}
