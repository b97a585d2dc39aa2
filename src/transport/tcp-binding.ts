/**
 * SPDM over TCP (DMTF DSP0287) binding header: PayloadLength (u16, little-endian as libspdm
 * writes it, counting everything after the length field itself), BindingVersion 1, MessageType.
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const TcpMessageType = {
  SPDM: 0x05,
  SECURED_SPDM: 0x06,
  ROLE_INQUIRY: 0xbf,
  ERROR_TOO_LARGE: 0xc0,
  ERROR_NOT_SUPPORTED: 0xc1,
  ERROR_CANNOT_BE_REQUESTER: 0xc2,
  ERROR_CANNOT_BE_RESPONDER: 0xc3,
} as const;

export const TCP_BINDING_VERSION = 0x01;
export const TCP_HEADER_SIZE = 4;

export interface TcpBindingMessage {
  readonly bindingVersion: number;
  readonly type: number;
  readonly body: Uint8Array;
}

export function encodeTcpBinding(type: number, body: Uint8Array): Uint8Array {
  if (body.length + 2 > 0xffff) throw new RangeError('SPDM-over-TCP payload too large');
  return new Writer(TCP_HEADER_SIZE + body.length)
    .u16(body.length + 2)
    .u8(TCP_BINDING_VERSION)
    .u8(type)
    .bytes(body)
    .finish();
}

export function decodeTcpBinding(bytes: Uint8Array): TcpBindingMessage {
  const r = new Reader(bytes, 'SPDM-over-TCP message');
  const len = r.u16('PayloadLength');
  const bindingVersion = r.u8('BindingVersion');
  if (bindingVersion !== TCP_BINDING_VERSION)
    r.fail('BindingVersion', `unsupported binding version ${bindingVersion}`, 2);
  const type = r.u8('MessageType');
  if (len < 2) r.fail('PayloadLength', `${len} is smaller than the header it counts`, 0);
  const body = r.bytes(len - 2, 'Payload');
  if (r.remaining !== 0) r.fail('PayloadLength', `${r.remaining} byte(s) beyond PayloadLength`, 0);
  return { bindingVersion, type, body };
}
