/**
 * A `certificates/slotN` view as the service keeps it: the chain's bytes (off the JavaScript
 * heap) and where its DER certificates start, with the hex chain and the base64 certificates of
 * the SlotView made when asked. The listing and the status call show only the slot and its leaf
 * subject; the text forms are for the certificate route and the store, and keeping them for
 * every device held three times the chain's size on the heap for nothing.
 */
import { splitDerCertificates } from '../x509/der.js';
import type { SlotView } from './api.js';

const HEX = /^(?:[0-9a-f]{2})*$/;

export class KeptSlot implements SlotView {
  readonly slot: number;
  readonly leafSubject?: string;
  /** The SPDM chain as received. */
  private readonly bytes: Buffer;
  /** A stored chain that is not hex (a damaged store row): kept as it reads, not as bytes. */
  private readonly text: string | undefined;
  /** Offset of the first DER certificate in `bytes` (after the header and the root hash), -1 when unknown. */
  readonly certificatesAt: number;
  /** Certificates as stored before slots were kept compact, when they are not cut from the chain. */
  private readonly given: readonly string[] | undefined;

  constructor(v: {
    slot: number;
    chain: string;
    certificatesAt: number;
    leafSubject?: string;
    certificates?: readonly string[];
  }) {
    this.slot = v.slot;
    if (v.leafSubject !== undefined) this.leafSubject = v.leafSubject;
    const hex = HEX.test(v.chain);
    // Its own buffer, not a slice of Node's shared pool (which it would keep alive whole).
    this.bytes = Buffer.allocUnsafeSlow(hex ? v.chain.length / 2 : 0);
    if (hex) this.bytes.write(v.chain, 'hex');
    else this.text = v.chain;
    this.certificatesAt = v.certificatesAt;
    this.given = v.certificates;
  }

  /** The SPDM certificate chain (header, root hash, DER certificates), hex. */
  get chain(): string {
    return this.text ?? this.bytes.toString('hex');
  }

  /** Each DER certificate, root first, base64 (none when the chain does not split). */
  get certificates(): readonly string[] {
    if (this.given) return this.given;
    if (this.certificatesAt < 0 || this.certificatesAt > this.bytes.length) return [];
    try {
      return splitDerCertificates(this.bytes.subarray(this.certificatesAt)).map((c) =>
        Buffer.from(c).toString('base64'),
      );
    } catch {
      return [];
    }
  }

  /** The SlotView as JSON (the certificate route's `format=json`), in the order it always had. */
  toJSON(): SlotView {
    return {
      slot: this.slot,
      chain: this.chain,
      certificates: this.certificates,
      ...(this.leafSubject !== undefined ? { leafSubject: this.leafSubject } : {}),
    };
  }
}
