/**
 * `spdm dump`: decodes a capture written by spdm-emu — every packet's transport header and SPDM
 * message field by field, requests paired with responses, signatures re-verified when the chain
 * is in the capture, secured messages shown as records.
 */
import { DecodeError, SpdmError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';
import { toHex } from '../wire/bytes.js';
import { codeName, isRequestCode, versionString } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import { ConversationDecoder, type DecodedMessage } from '../spdm/conversation.js';
import { decodeDoeObject, DoeObjectType } from '../transport/doe.js';
import { decodeMctpMessage, decodeMctpTransportHeader, MctpMessageType } from '../transport/mctp.js';
import { LinkType, parsePcap } from './pcap.js';
import { SignatureTracker, type SignatureFinding } from './signatures.js';

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
  /** Index of the request this response answers. */
  readonly answers?: number;
  readonly signature?: SignatureFinding;
}

export interface Dump {
  readonly linkType: number;
  readonly packets: readonly DumpedPacket[];
  readonly summary: {
    readonly packets: number;
    readonly decoded: number;
    readonly secured: number;
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
    sessionId: `0x${sessionId.toString(16).padStart(8, '0')}`,
    ...(sequenceNumber !== undefined ? { sequenceNumber } : {}),
    length,
    encryptedBytes: Math.min(length, r.remaining),
  };
}

export function dumpCapture(bytes: Uint8Array): Dump {
  const pcap = parsePcap(bytes);
  const decoder = new ConversationDecoder();
  const tracker = new SignatureTracker();
  const packets: DumpedPacket[] = [];
  let lastDirection: Direction = 'response';
  let pendingRequest: number | undefined;
  let errors = 0;
  for (const rec of pcap.records) {
    const base = { index: rec.index, timestampUs: rec.timestampUs };
    let u: Unframed;
    try {
      u = unframe(pcap.linkType, rec.data);
    } catch (e) {
      errors++;
      packets.push({ ...base, direction: lastDirection === 'request' ? 'response' : 'request', transport: {}, kind: 'other', name: 'undecodable', decodeError: String(e instanceof Error ? e.message : e) });
      continue;
    }
    let direction: Direction;
    if (u.kind === 'spdm' && u.body.length >= 2) direction = isRequestCode(u.body[1] as number) ? 'request' : 'response';
    else direction = lastDirection === 'request' ? 'response' : 'request';
    lastDirection = direction;
    const answers = direction === 'response' ? pendingRequest : undefined;
    pendingRequest = direction === 'request' ? rec.index : undefined;
    const common = { ...base, direction, transport: u.transport, ...(answers !== undefined ? { answers } : {}) };
    if (u.kind === 'doe-discovery') {
      const p = u.body;
      const fields =
        direction === 'request'
          ? { index: p[0], version: p[1] }
          : { vendorId: (p[0] ?? 0) | ((p[1] ?? 0) << 8), dataObjectType: p[2], nextIndex: p[3] };
      packets.push({ ...common, kind: 'doe-discovery', name: `DOE_DISCOVERY_${direction.toUpperCase()}`, fields });
      continue;
    }
    if (u.kind === 'secured') {
      let fields: unknown;
      let decodeError: string | undefined;
      try {
        fields = securedFields(pcap.linkType, u.body);
      } catch (e) {
        decodeError = e instanceof SpdmError ? e.message : String(e);
        errors++;
      }
      packets.push({ ...common, kind: 'secured', name: 'SECURED_MESSAGE', ...(fields ? { fields } : {}), ...(decodeError ? { decodeError } : {}) });
      continue;
    }
    if (u.kind === 'other') {
      packets.push({ ...common, kind: 'other', name: 'NON_SPDM', fields: { bytes: toHex(u.body) } });
      continue;
    }
    let d: DecodedMessage;
    try {
      d = decoder.feed(direction, u.body);
    } catch (e) {
      errors++;
      let name = 'SPDM';
      try {
        name = codeName(peekHeader(u.body).code);
      } catch {
        // header itself is short; keep the generic name
      }
      packets.push({ ...common, kind: 'spdm', name, decodeError: e instanceof SpdmError ? e.message : String(e) });
      continue;
    }
    const finding = tracker.observe(d);
    const version = d.kind === 'other' ? d.header.version : (d.msg as { version: number }).version;
    packets.push({
      ...common,
      kind: 'spdm',
      name: d.kind === 'other' ? d.name : d.kind,
      version: versionString(version),
      fields: d.kind === 'other' ? { header: d.header, body: toHex(d.body) } : plain(d.msg),
      ...(finding ? { signature: finding } : {}),
    });
  }
  const sigs = packets.map((p) => p.signature).filter((s): s is SignatureFinding => s !== undefined);
  return {
    linkType: pcap.linkType,
    packets,
    summary: {
      packets: packets.length,
      decoded: packets.filter((p) => p.kind === 'spdm' && !p.decodeError && p.fields && !(p.fields as { header?: unknown }).header).length,
      secured: packets.filter((p) => p.kind === 'secured').length,
      undecoded: packets.filter((p) => p.kind === 'spdm' && (p.fields as { header?: unknown } | undefined)?.header !== undefined).length,
      errors,
      signatures: {
        verified: sigs.filter((s) => s.ok === true).length,
        failed: sigs.filter((s) => s.ok === false).length,
        unchecked: sigs.filter((s) => s.ok === null).length,
      },
    },
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

/** The human form: one block per packet, fields indented, signature verdicts inline. */
export function formatDump(d: Dump): string {
  const out: string[] = [`link type ${d.linkType} (${d.linkType === LinkType.PCI_DOE ? 'PCI DOE' : d.linkType === LinkType.MCTP ? 'MCTP' : 'unknown'}), ${d.packets.length} packets`];
  for (const p of d.packets) {
    const arrow = p.direction === 'request' ? '→' : '←';
    const v = p.version ? ` (SPDM ${p.version})` : '';
    const pair = p.answers !== undefined ? ` answers #${p.answers}` : '';
    out.push(`#${p.index} ${arrow} ${p.name}${v}${pair}`);
    const t = Object.entries(p.transport)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(' ');
    if (t) out.push(`    transport: ${t}`);
    if (p.decodeError) out.push(`    DECODE ERROR: ${p.decodeError}`);
    if (p.fields) fieldLines(p.fields, '    ', out);
    if (p.signature) {
      const s = p.signature;
      out.push(`    signature: ${s.ok === true ? 'VERIFIED' : s.ok === false ? `INVALID (${s.reason ?? ''})` : `not checked (${s.reason ?? ''})`}`);
    }
  }
  const s = d.summary;
  out.push(
    '',
    `${s.packets} packets: ${s.decoded} SPDM decoded, ${s.undecoded} SPDM header-only, ${s.secured} secured, ${s.errors} errors; signatures ${s.signatures.verified} verified, ${s.signatures.failed} invalid, ${s.signatures.unchecked} unchecked`,
  );
  return out.join('\n');
}
