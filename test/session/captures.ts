/** The libspdm captures, unframed: the SPDM and secured payloads in order, for the session tests. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { LinkType, parsePcap } from '../../src/capture/pcap.js';
import { decodeDoeObject, DoeObjectType } from '../../src/transport/doe.js';
import { decodeMctpMessage, MctpMessageType } from '../../src/transport/mctp.js';
import type { SecuredTransport } from '../../src/session/record.js';

export interface CapturedPayload {
  readonly index: number;
  readonly kind: 'spdm' | 'secured' | 'other';
  readonly body: Uint8Array;
}

export interface Capture {
  readonly name: string;
  readonly transport: SecuredTransport;
  readonly payloads: readonly CapturedPayload[];
  /** The capture has a PSK_EXCHANGE in the clear. */
  readonly hasPskSession: boolean;
}

export const capturesDir = (): string => join(libspdmVectors(), 'captures');

/** libspdm's sample PSK as libspdm feeds it to HKDF-Extract: the C string "TestPskData" with its NUL. */
export const LIBSPDM_PSK = new Uint8Array(Buffer.from('TestPskData\0', 'latin1'));

export function loadCapture(file: string): Capture {
  const pcap = parsePcap(new Uint8Array(readFileSync(join(capturesDir(), file))));
  const payloads: CapturedPayload[] = pcap.records.map((r) => {
    if (pcap.linkType === LinkType.PCI_DOE) {
      const o = decodeDoeObject(r.data);
      const kind =
        o.type === DoeObjectType.CMA_SPDM ? 'spdm' : o.type === DoeObjectType.SECURED_CMA_SPDM ? 'secured' : 'other';
      return { index: r.index, kind, body: o.payload };
    }
    const m = decodeMctpMessage(r.data.subarray(4));
    const kind =
      m.type === MctpMessageType.SPDM ? 'spdm' : m.type === MctpMessageType.SECURED_SPDM ? 'secured' : 'other';
    return { index: r.index, kind, body: m.body };
  });
  return {
    name: file.replace(/\.pcap$/, ''),
    transport: pcap.linkType === LinkType.MCTP ? 'mctp' : 'doe',
    payloads,
    hasPskSession: payloads.some((p) => p.kind === 'spdm' && p.body[1] === 0xe6),
  };
}

export function captureFiles(): string[] {
  return readdirSync(capturesDir())
    .filter((f) => f.endsWith('.pcap'))
    .sort();
}
