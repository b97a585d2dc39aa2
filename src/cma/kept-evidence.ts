/**
 * A device's latest evidence as the service keeps it between authentications: one buffer off the
 * JavaScript heap, its byte strings (transcripts, chains, signatures, measurement blocks) as the
 * bytes they are rather than hex text, the rest as JSON. It is read back only when someone asks
 * (the evidence and Redfish routes, accept): with thousands of devices the evidence objects were
 * the larger part of the daemon's heap, and a garbage-collected heap grows to a multiple of what
 * is live, so each kilobyte kept there cost two or three of resident memory.
 *
 * Lossless for any JSON value: a string is stored as bytes only when it is lowercase hex of an
 * even length (which hex of those bytes gives back exactly), and a string that happens to start
 * with the marker character is escaped.
 */
import type { Evidence } from '../evidence/evidence.js';

/** Hex strings shorter than this stay in the JSON (their bytes would save less than the bookkeeping). */
const MIN_HEX = 32;
const HEX = /^(?:[0-9a-f]{2})+$/;
/** Starts a placeholder for the n-th byte string, or (doubled) escapes a string that began with it. */
const MARK = '\u0001';

export class KeptEvidence {
  /** u32 count, u32 length of each byte string, the byte strings, then the JSON (UTF-8). */
  private readonly packed: Buffer;

  constructor(evidence: Evidence) {
    const strings: string[] = [];
    let bytes = 0;
    const json = JSON.stringify(evidence, (_key, v: unknown) => {
      if (typeof v !== 'string') return v;
      if (v.length >= MIN_HEX && HEX.test(v)) {
        strings.push(v);
        bytes += v.length / 2;
        return MARK + String(strings.length - 1);
      }
      return v.startsWith(MARK) ? MARK + v : v;
    });
    const head = 4 + 4 * strings.length;
    // A buffer of its own, not a slice of Node's shared pool: a long-lived slice would keep the
    // whole pool chunk around it alive.
    const buf = Buffer.allocUnsafeSlow(head + bytes + Buffer.byteLength(json));
    buf.writeUInt32LE(strings.length, 0);
    let at = head;
    strings.forEach((s, i) => {
      buf.writeUInt32LE(s.length / 2, 4 + 4 * i);
      at += buf.write(s, at, 'hex');
    });
    buf.write(json, at, 'utf8');
    this.packed = buf;
  }

  /** Bytes kept (for the record: what a device's evidence costs the service). */
  get size(): number {
    return this.packed.length;
  }

  /** The evidence, a fresh object each time (equal to the one kept, as JSON round-trips it). */
  evidence(): Evidence {
    const buf = this.packed;
    const n = buf.readUInt32LE(0);
    const strings: string[] = [];
    let at = 4 + 4 * n;
    for (let i = 0; i < n; i++) {
      const len = buf.readUInt32LE(4 + 4 * i);
      strings.push(buf.toString('hex', at, at + len));
      at += len;
    }
    return JSON.parse(buf.toString('utf8', at), (_key, v: unknown) => {
      if (typeof v !== 'string' || !v.startsWith(MARK)) return v;
      return v.startsWith(MARK, 1) ? v.slice(1) : strings[Number(v.slice(1))];
    }) as Evidence;
  }
}
