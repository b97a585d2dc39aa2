/**
 * MCTP framing for SPDM (DSP0275) and secured SPDM (DSP0276): a one-byte MCTP message header
 * (type in bits 6:0, integrity check bit 7 = 0) in front of the SPDM message or DSP0277 record,
 * plus the 4-byte MCTP transport header seen in packet captures.
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const MctpMessageType = { CONTROL: 0x00, PLDM: 0x01, SPDM: 0x05, SECURED_SPDM: 0x06 } as const;

export interface MctpMessage {
  readonly type: number;
  readonly body: Uint8Array;
}

export function encodeMctpMessage(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = type & 0x7f;
  out.set(body, 1);
  return out;
}

export function decodeMctpMessage(bytes: Uint8Array): MctpMessage {
  const r = new Reader(bytes, 'MCTP message');
  const t = r.u8('MessageType');
  if (t & 0x80) r.fail('MessageType', 'integrity check bit set: SPDM over MCTP never uses it', 0);
  return { type: t, body: r.rest() };
}

export interface MctpTransportHeader {
  readonly headerVersion: number;
  readonly destinationEid: number;
  readonly sourceEid: number;
  readonly som: boolean;
  readonly eom: boolean;
  readonly packetSequence: number;
  readonly tagOwner: boolean;
  readonly messageTag: number;
}

export function encodeMctpTransportHeader(h: MctpTransportHeader): Uint8Array {
  const flags =
    (h.som ? 0x80 : 0) |
    (h.eom ? 0x40 : 0) |
    ((h.packetSequence & 3) << 4) |
    (h.tagOwner ? 0x08 : 0) |
    (h.messageTag & 7);
  return new Writer(4)
    .u8(h.headerVersion & 0x0f)
    .u8(h.destinationEid)
    .u8(h.sourceEid)
    .u8(flags)
    .finish();
}

export function decodeMctpTransportHeader(bytes: Uint8Array): MctpTransportHeader {
  const r = new Reader(bytes, 'MCTP transport header');
  const v = r.u8('HeaderVersion');
  const destinationEid = r.u8('DestinationEID');
  const sourceEid = r.u8('SourceEID');
  const f = r.u8('Flags');
  return {
    headerVersion: v & 0x0f,
    destinationEid,
    sourceEid,
    som: (f & 0x80) !== 0,
    eom: (f & 0x40) !== 0,
    packetSequence: (f >> 4) & 3,
    tagOwner: (f & 0x08) !== 0,
    messageTag: f & 7,
  };
}
