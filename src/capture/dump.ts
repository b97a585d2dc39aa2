/**
 * `spdm dump`: decodes a capture written by spdm-emu — every packet's transport header and SPDM
 * message field by field, requests paired with responses, signatures re-verified when the chain
 * is in the capture, secured messages shown as records, and decrypted when they belong to a PSK
 * session and the PSK is given (capture/session-tracker.ts).
 *
 * A decrypted message is decoded by a ConversationDecoder of its own session, seeded with the
 * connection's negotiated state when the session was created: a session is a request/response
 * channel of its own (a GET_MEASUREMENTS in the session is answered in the session, whatever
 * the clear channel does in between), while the algorithms it needs are the connection's.
 */
import { DecodeError, SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { Reader } from '../wire/reader.js';
import { toHex } from '../wire/bytes.js';
import { parseByteText } from '../wire/byte-text.js';
import { codeName, isRequestCode, versionString } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import { ConversationDecoder, type DecodedMessage } from '../spdm/conversation.js';
import { pairingRoleOfBytes, RequestPairer } from '../spdm/pairer.js';
import { decodeDoeObject, DoeObjectType } from '../transport/doe.js';
import { decodeMctpMessage, decodeMctpTransportHeader, MctpMessageType } from '../transport/mctp.js';
import { SessionTracker, type RecordResult, type SessionEvent, type SessionReport } from './session-tracker.js';
import { bytesSource, LinkType, PcapReader, type PcapRecord } from './pcap.js';
import { SignatureTracker, type SignatureFinding } from './signatures.js';

export interface DumpOptions {
  /** PSK for PSK sessions: records of those sessions are decrypted and decoded. */
  readonly psk?: Uint8Array;
}

/** What the dump knows about a secured record. */
export interface SecuredRecordInfo {
  readonly sessionId: string;
  readonly status: 'decrypted' | 'undecrypted' | 'failed';
  readonly reason?: string;
  /** Decrypted records: the key that opened it. */
  readonly keys?: 'handshake' | 'data';
  readonly generation?: number;
  /** The 64-bit sequence counter of that key (the nonce input). */
  readonly sequence?: number;
  /** Record header and framing: Length, the wire SequenceNumber (MCTP), application data and random padding sizes, inner transport header. */
  readonly record: Readonly<Record<string, unknown>>;
  readonly notes?: readonly string[];
}

export type Direction = 'request' | 'response';

export interface DumpedPacket {
  readonly index: number;
  readonly timestampUs: number;
  readonly direction: Direction;
  readonly transport: Readonly<Record<string, unknown>>;
  readonly kind: 'doe-discovery' | 'spdm' | 'secured' | 'other';
  readonly name: string;
  readonly version?: string;
  /** Decoded fields (byte strings as hex). */
  readonly fields?: unknown;
  readonly decodeError?: string;
  /** The message decoded, but something about it is irregular (e.g. excess zero bytes after it). */
  readonly warning?: string;
  /** Index of the request this response answers. */
  readonly answers?: number;
  readonly signature?: SignatureFinding;
  /** Secured records: session, decryption status, key and record fields. */
  readonly secured?: SecuredRecordInfo;
  /** A PSK_EXCHANGE_RSP / KEY_EXCHANGE_RSP: the session it created (and, for PSK, whether the PSK verified). */
  readonly session?: Omit<SessionEvent, 'sessionId'> & { readonly sessionId: string };
}

export interface Dump {
  readonly linkType: number;
  readonly packets: readonly DumpedPacket[];
  /** Every secure session seen, with its record counts and key switch points. */
  readonly sessions: readonly SessionReport[];
  /** Sessions created before those listed, left out over LIMITS.captureSessionReports (absent when none were). */
  readonly sessionsNotListed?: number;
  readonly summary: {
    readonly packets: number;
    readonly decoded: number;
    readonly secured: number;
    readonly securedRecords: { readonly decrypted: number; readonly undecrypted: number; readonly failed: number };
    readonly undecoded: number;
    readonly errors: number;
    readonly signatures: { readonly verified: number; readonly failed: number; readonly unchecked: number };
  };
}

/** Decoded values as plain JSON: byte strings become hex, the bulky raw views are dropped. */
export function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'raw' || k === 'unsigned' || k === 'bytes') continue;
      out[k] = plain(x);
    }
    return out;
  }
  return v;
}

interface Unframed {
  readonly transport: Record<string, unknown>;
  readonly kind: 'doe-discovery' | 'spdm' | 'secured' | 'other';
  readonly body: Uint8Array;
}

function unframe(linkType: number, data: Uint8Array): Unframed {
  if (linkType === LinkType.PCI_DOE) {
    const o = decodeDoeObject(data);
    const transport = { vendorId: o.vendorId, type: o.type, lengthDw: o.lengthDw };
    if (o.type === DoeObjectType.DISCOVERY) return { transport, kind: 'doe-discovery', body: o.payload };
    if (o.type === DoeObjectType.CMA_SPDM) return { transport, kind: 'spdm', body: o.payload };
    if (o.type === DoeObjectType.SECURED_CMA_SPDM) return { transport, kind: 'secured', body: o.payload };
    return { transport, kind: 'other', body: o.payload };
  }
  if (linkType === LinkType.MCTP) {
    const header = decodeMctpTransportHeader(data.subarray(0, 4));
    const m = decodeMctpMessage(data.subarray(4));
    const transport = { ...header, messageType: m.type };
    if (m.type === MctpMessageType.SPDM) return { transport, kind: 'spdm', body: m.body };
    if (m.type === MctpMessageType.SECURED_SPDM) return { transport, kind: 'secured', body: m.body };
    return { transport, kind: 'other', body: m.body };
  }
  throw new DecodeError('pcap', 'network', 20, `link type ${linkType} is not PCI DOE (292) or MCTP (291)`);
}

function securedFields(linkType: number, body: Uint8Array): Record<string, unknown> {
  const r = new Reader(body, 'secured message');
  const sessionId = r.u32('SessionID');
  const sequenceNumber = linkType === LinkType.MCTP ? r.u16('SequenceNumber') : undefined;
  const length = r.u16('Length');
  return {
    sessionId: hex32(sessionId),
    ...(sequenceNumber !== undefined ? { sequenceNumber } : {}),
    length,
    encryptedBytes: Math.min(length, r.remaining),
  };
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function errorText(e: unknown): string {
  return e instanceof SpdmError ? e.message : String(e instanceof Error ? e.message : e);
}

/**
 * The `--psk` argument: hex, or `ascii:TEXT` with `\0`, `\\` and `\xNN` escapes (wire/byte-text.ts).
 * libspdm's sample PSK is the C string "TestPskData" *with* its NUL: `ascii:TestPskData\0`.
 */
export function parsePskArgument(arg: string): Uint8Array {
  return parseByteText(arg, { what: '--psk' });
}

type Summary = Dump['summary'];

/**
 * Decodes a capture one record at a time, in order: `packet()` returns the record's dump and
 * keeps only what later records need (the conversation's negotiated state, transcripts and
 * chains for signatures, session keys, the last request for pairing) and the summary counts, so
 * that a capture of any length is dumped in bounded memory.
 */
export class CaptureDecoder {
  private readonly decoder = new ConversationDecoder();
  private readonly tracker = new SignatureTracker();
  private readonly tracked: SessionTracker | undefined;
  private lastDirection: Direction = 'response';
  /** Packet indices: a response shows the request it answers (the dump pairs on the wire, by packet). */
  private readonly pairer = new RequestPairer<number>();
  private errors = 0;
  private readonly counts = {
    packets: 0,
    decoded: 0,
    secured: 0,
    decrypted: 0,
    undecrypted: 0,
    failedRecords: 0,
    undecoded: 0,
    verified: 0,
    failed: 0,
    unchecked: 0,
  };

  constructor(
    readonly linkType: number,
    options: DumpOptions = {},
  ) {
    this.tracked =
      linkType === LinkType.PCI_DOE || linkType === LinkType.MCTP
        ? new SessionTracker({
            transport: linkType === LinkType.MCTP ? 'mctp' : 'doe',
            ...(options.psk ? { psk: options.psk } : {}),
          })
        : undefined;
  }

  /** The dump of the next record. */
  packet(rec: PcapRecord): DumpedPacket {
    // A capture of garbage throws a DecodeError per record, caught here and shown by its message
    // only: capturing their stack traces was a third of the time of such a dump.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let p: DumpedPacket;
    try {
      p = this.decode(rec);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.count(p);
    return p;
  }

  /** Every secure session seen so far (the latest LIMITS.captureSessionReports). */
  get sessions(): SessionReport[] {
    return this.tracked?.sessions ?? [];
  }

  /** Sessions left out of `sessions` by the bound. */
  get sessionsNotListed(): number {
    return this.tracked?.unlistedSessions ?? 0;
  }

  get summary(): Summary {
    const c = this.counts;
    return {
      packets: c.packets,
      decoded: c.decoded,
      secured: c.secured,
      securedRecords: { decrypted: c.decrypted, undecrypted: c.undecrypted, failed: c.failedRecords },
      undecoded: c.undecoded,
      errors: this.errors,
      signatures: { verified: c.verified, failed: c.failed, unchecked: c.unchecked },
    };
  }

  private count(p: DumpedPacket): void {
    const c = this.counts;
    c.packets++;
    const header = (p.fields as { header?: unknown } | undefined)?.header;
    if (p.kind === 'spdm' && !p.decodeError && p.fields && !header) c.decoded++;
    if (p.kind === 'spdm' && header !== undefined) c.undecoded++;
    if (p.kind === 'secured') c.secured++;
    if (p.secured?.status === 'decrypted') c.decrypted++;
    if (p.secured?.status === 'undecrypted') c.undecrypted++;
    if (p.secured?.status === 'failed') c.failedRecords++;
    if (p.signature?.ok === true) c.verified++;
    if (p.signature?.ok === false) c.failed++;
    if (p.signature?.ok === null) c.unchecked++;
  }

  private decode(rec: PcapRecord): DumpedPacket {
    const base = { index: rec.index, timestampUs: rec.timestampUs };
    let u: Unframed;
    try {
      u = unframe(this.linkType, rec.data);
    } catch (e) {
      this.errors++;
      return {
        ...base,
        direction: this.lastDirection === 'request' ? 'response' : 'request',
        transport: {},
        kind: 'other',
        name: 'undecodable',
        decodeError: String(e instanceof Error ? e.message : e),
      };
    }
    let direction: Direction;
    if (u.kind === 'spdm' && u.body.length >= 2)
      direction = isRequestCode(u.body[1] as number) ? 'request' : 'response';
    else direction = this.lastDirection === 'request' ? 'response' : 'request';
    // A secured record's direction is a guess from alternation, unless the key that opens it says otherwise.
    let opened: RecordResult | undefined;
    let recordError: string | undefined;
    if (u.kind === 'secured' && this.tracked) {
      try {
        opened = this.tracked.open(u.body, direction, rec.index);
        direction = opened.direction;
      } catch (e) {
        recordError = errorText(e);
      }
    }
    this.lastDirection = direction;
    const role = u.kind === 'spdm' ? pairingRoleOfBytes(direction, u.body) : direction;
    const { answers } = this.pairer.feed(role, rec.index);
    const common = { ...base, direction, transport: u.transport, ...(answers !== undefined ? { answers } : {}) };
    if (u.kind === 'doe-discovery') {
      const p = u.body;
      const fields =
        direction === 'request'
          ? { index: p[0], version: p[1] }
          : { vendorId: (p[0] ?? 0) | ((p[1] ?? 0) << 8), dataObjectType: p[2], nextIndex: p[3] };
      return { ...common, kind: 'doe-discovery', name: `DOE_DISCOVERY_${direction.toUpperCase()}`, fields };
    }
    if (u.kind === 'secured') {
      if (opened?.status === 'decrypted') {
        if (opened.decodeError) this.errors++;
        return decryptedPacket(common, opened, this.tracker);
      }
      let fields: unknown;
      let decodeError = recordError;
      try {
        fields = securedFields(this.linkType, u.body);
      } catch (e) {
        decodeError ??= errorText(e);
      }
      if (decodeError || opened?.status === 'failed') this.errors++;
      const secured: SecuredRecordInfo | undefined = opened
        ? {
            sessionId: hex32(opened.sessionId),
            status: opened.status,
            ...(opened.reason ? { reason: opened.reason } : {}),
            record: recordFields(opened),
          }
        : undefined;
      return {
        ...common,
        kind: 'secured',
        name: 'SECURED_MESSAGE',
        ...(fields ? { fields } : {}),
        ...(decodeError ? { decodeError } : {}),
        ...(secured ? { secured } : {}),
      };
    }
    if (u.kind === 'other') {
      return { ...common, kind: 'other', name: 'NON_SPDM', fields: { bytes: toHex(u.body) } };
    }
    let d: DecodedMessage;
    try {
      d = this.decoder.feed(direction, u.body);
    } catch (e) {
      this.errors++;
      let name = 'SPDM';
      try {
        name = codeName(peekHeader(u.body).code);
      } catch {
        // header itself is short; keep the generic name
      }
      return { ...common, kind: 'spdm', name, decodeError: e instanceof SpdmError ? e.message : String(e) };
    }
    const finding = this.tracker.observe(d);
    let event: SessionEvent | undefined;
    try {
      event = this.tracked?.observe(d, this.decoder.state, rec.index);
    } catch (e) {
      // Deriving keys can only fail on an algorithm node:crypto lacks; the clear message still decodes.
      this.errors++;
      return {
        ...common,
        kind: 'spdm',
        name: d.kind === 'other' ? d.name : d.kind,
        decodeError: `session keys: ${errorText(e)}`,
      };
    }
    if (event) {
      this.tracker.resetSession(event.sessionId);
      if (event.responderVerifyData === false) this.errors++;
    }
    const version = d.kind === 'other' ? d.header.version : (d.msg as { version: number }).version;
    return {
      ...common,
      kind: 'spdm',
      name: d.kind === 'other' ? d.name : d.kind,
      version: versionString(version),
      fields: d.kind === 'other' ? { header: d.header, body: toHex(d.body) } : plain(d.msg),
      ...(d.anomaly ? { warning: d.anomaly } : {}),
      ...(finding ? { signature: finding } : {}),
      ...(event ? { session: { ...event, sessionId: hex32(event.sessionId) } } : {}),
    };
  }
}

/** A whole capture in memory, dumped into one object (the CLI streams instead: dump-file.ts). */
export function dumpCapture(bytes: Uint8Array, options: DumpOptions = {}): Dump {
  const reader = new PcapReader(bytesSource(bytes));
  const c = new CaptureDecoder(reader.header.linkType, options);
  const packets: DumpedPacket[] = [];
  for (const rec of reader.records()) packets.push(c.packet(rec));
  const notListed = c.sessionsNotListed;
  return {
    linkType: c.linkType,
    packets,
    sessions: c.sessions,
    ...(notListed > 0 ? { sessionsNotListed: notListed } : {}),
    summary: c.summary,
  };
}

function recordFields(r: RecordResult): Record<string, unknown> {
  return {
    length: r.record.length,
    ...(r.record.sequenceNumber !== undefined ? { sequenceNumber: r.record.sequenceNumber } : {}),
    ...(r.applicationData ? { applicationDataLength: r.applicationData.length } : {}),
    ...(r.randomData && r.randomData.length > 0 ? { randomDataLength: r.randomData.length } : {}),
    ...(r.record.trailing.length > 0 ? { padding: r.record.trailing.length } : {}),
    ...(r.innerHeader ?? {}),
  };
}

type PacketCommon = Pick<DumpedPacket, 'index' | 'timestampUs' | 'direction' | 'transport' | 'answers'>;

/** A decrypted record: the inner message decoded field by field, the record in `secured`. */
function decryptedPacket(common: PacketCommon, r: RecordResult, signatures: SignatureTracker): DumpedPacket {
  const secured: SecuredRecordInfo = {
    sessionId: hex32(r.sessionId),
    status: 'decrypted',
    ...(r.phase ? { keys: r.phase } : {}),
    ...(r.generation !== undefined ? { generation: r.generation } : {}),
    ...(r.sequence !== undefined ? { sequence: Number(r.sequence) } : {}),
    record: recordFields(r),
    ...(r.notes.length > 0 ? { notes: r.notes } : {}),
  };
  const d = r.message;
  if (!d) {
    const name =
      r.innerHeader?.mctpMessageType !== undefined
        ? `MCTP_TYPE_0x${r.innerHeader.mctpMessageType.toString(16).padStart(2, '0')}`
        : 'APPLICATION_DATA';
    return {
      ...common,
      kind: 'secured',
      name: r.decodeError ? 'SPDM' : name,
      fields: { bytes: toHex(r.payload ?? new Uint8Array(0)) },
      ...(r.decodeError ? { decodeError: r.decodeError } : {}),
      secured,
    };
  }
  const finding = signatures.observe(d, r.sessionId);
  if (d.kind === 'END_SESSION_ACK') signatures.resetSession(r.sessionId);
  const version = d.kind === 'other' ? d.header.version : (d.msg as { version: number }).version;
  return {
    ...common,
    kind: 'secured',
    name: d.kind === 'other' ? d.name : d.kind,
    version: versionString(version),
    fields: d.kind === 'other' ? { header: d.header, body: toHex(d.body) } : plain(d.msg),
    ...(finding ? { signature: finding } : {}),
    secured,
  };
}

function fieldLines(v: unknown, indent: string, out: string[]): void {
  if (!v || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      out.push(`${indent}${k}:`);
      fieldLines(x, `${indent}  `, out);
    } else if (Array.isArray(x)) {
      if (x.length === 0) out.push(`${indent}${k}: []`);
      x.forEach((e, i) => {
        if (e && typeof e === 'object') {
          out.push(`${indent}${k}[${i}]:`);
          fieldLines(e, `${indent}  `, out);
        } else out.push(`${indent}${k}[${i}]: ${String(e)}`);
      });
    } else {
      const s = typeof x === 'string' && x.length > 96 ? `${x.slice(0, 96)}… (${x.length / 2} bytes)` : String(x);
      out.push(`${indent}${k}: ${s}`);
    }
  }
}

/** The human form's first line. */
export function formatDumpHeader(linkType: number, packets: number): string {
  return `link type ${linkType} (${linkType === LinkType.PCI_DOE ? 'PCI DOE' : linkType === LinkType.MCTP ? 'MCTP' : 'unknown'}), ${packets} packets`;
}

/** One packet of the human form: its lines. */
export function formatPacketLines(p: DumpedPacket, out: string[] = []): string[] {
  const arrow = p.direction === 'request' ? '→' : '←';
  const v = p.version ? ` (SPDM ${p.version})` : '';
  const pair = p.answers !== undefined ? ` answers #${p.answers}` : '';
  out.push(`#${p.index} ${arrow} ${p.name}${v}${pair}`);
  const t = Object.entries(p.transport)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(' ');
  if (t) out.push(`    transport: ${t}`);
  if (p.secured) {
    const s = p.secured;
    const rec = Object.entries(s.record)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(' ');
    if (s.status === 'decrypted') {
      const key = s.keys === 'data' ? `data keys gen ${s.generation ?? 0}` : 'handshake keys';
      out.push(`    secured: session ${s.sessionId}, decrypted with ${key}, sequence ${s.sequence ?? '?'}; ${rec}`);
    } else
      out.push(
        `    secured: session ${s.sessionId}, ${s.status === 'failed' ? 'DECRYPTION FAILED' : 'not decrypted'}: ${s.reason ?? ''}`,
      );
    for (const n of s.notes ?? []) out.push(`    session: ${n}`);
  }
  if (p.session) out.push(`    session ${p.session.sessionId} (${p.session.kind}): ${p.session.note}`);
  if (p.decodeError) out.push(`    DECODE ERROR: ${p.decodeError}`);
  if (p.warning) out.push(`    WARNING: ${p.warning}`);
  if (p.fields) fieldLines(p.fields, '    ', out);
  if (p.signature) {
    const s = p.signature;
    out.push(
      `    signature: ${s.ok === true ? 'VERIFIED' : s.ok === false ? `INVALID (${s.reason ?? ''})` : `not checked (${s.reason ?? ''})`}`,
    );
  }
  return out;
}

/** The human form's last lines: the summary (after an empty line) and the sessions. */
export function formatDumpFooter(
  s: Summary,
  sessions: readonly SessionReport[],
  out: string[] = [],
  notListed = 0,
): string[] {
  out.push(
    '',
    `${s.packets} packets: ${s.decoded} SPDM decoded, ${s.undecoded} SPDM header-only, ${s.secured} secured (${s.securedRecords.decrypted} decrypted, ${s.securedRecords.undecrypted} not decrypted, ${s.securedRecords.failed} failed), ${s.errors} errors; signatures ${s.signatures.verified} verified, ${s.signatures.failed} invalid, ${s.signatures.unchecked} unchecked`,
  );
  if (notListed > 0)
    out.push(
      `${notListed} earlier session(s) not listed (over the captureSessionReports limit of ${LIMITS.captureSessionReports})`,
    );
  for (const x of sessions) {
    const r = x.records;
    const verify =
      x.kind === 'psk'
        ? `, ResponderVerifyData ${x.responderVerifyData === null ? 'not checked' : x.responderVerifyData ? 'ok' : 'MISMATCH'}, RequesterVerifyData ${x.requesterVerifyData === null ? 'not checked' : x.requesterVerifyData ? 'ok' : 'MISMATCH'}`
        : '';
    out.push(
      `session ${hex32(x.sessionId)} (${x.kind}${x.createdAt !== undefined ? `, #${x.createdAt}` : ''}): ${r.decrypted} decrypted, ${r.undecrypted} not decrypted, ${r.failed} failed${verify}${x.reason ? ` — ${x.reason}` : ''}`,
    );
    for (const k of x.keySwitches) {
      out.push(
        `    ${k.direction} ${k.phase} key${k.phase === 'data' ? ` gen ${k.generation}` : ''} (after ${k.derivedAfter}) first used by ${k.firstMessage ?? '?'}${k.firstRef !== undefined ? ` #${k.firstRef}` : ''}`,
      );
    }
  }
  return out;
}

/** The human form: one block per packet, fields indented, signature verdicts inline. */
export function formatDump(d: Dump): string {
  const out: string[] = [formatDumpHeader(d.linkType, d.packets.length)];
  for (const p of d.packets) formatPacketLines(p, out);
  formatDumpFooter(d.summary, d.sessions, out, d.sessionsNotListed ?? 0);
  return out.join('\n');
}
