/**
 * PCIe Data Object Exchange (DOE, PCIe r6.x sec 6.30) data-object framing and the DOE Discovery
 * payloads. This is the only module that knows the DOE header layout; the mailbox driver, the
 * simulated device and the spdm-emu socket framing all go through it.
 *
 * A data object is a 2-DW header followed by the payload, DW aligned:
 *   DW0: Vendor ID (15:0), Data Object Type (23:16), reserved (31:24)
 *   DW1: Length in DW including the header (17:0; 0 means 2^18), Connection ID (29:18) for the
 *        PCI-SIG "with Connection ID" types 3 and 4, reserved otherwise (31:18 / 31:30)
 * DWs are little-endian, so byte 0 of the payload is bits 7:0 of the first payload DW.
 */
import { LIMITS } from '../wire/limits.js';
import { DecodeError, SpdmError } from '../wire/errors.js';
import { Reader } from '../wire/reader.js';

export const PCI_SIG_VENDOR_ID = 0x0001;

/** PCI-SIG data object types (vendor 0x0001). */
export const DoeObjectType = {
  DISCOVERY: 0x00,
  CMA_SPDM: 0x01,
  SECURED_CMA_SPDM: 0x02,
  /** SPDM with Connection ID (newer PCIe; libspdm PCI_DOE_DATA_OBJECT_TYPE_SPDM_CONN_ID). */
  SPDM_CONNECTION_ID: 0x03,
  SECURED_SPDM_CONNECTION_ID: 0x04,
  ASYNC_MESSAGE: 0x05,
} as const;

/** Largest data object: 2^18 DW (1 MiB), header included. */
export const DOE_MAX_OBJECT_DW = LIMITS.doeObjectDwords;
export const DOE_HEADER_DW = 2;
/** Largest payload one data object can carry, in bytes. */
export const DOE_MAX_PAYLOAD_BYTES = (DOE_MAX_OBJECT_DW - DOE_HEADER_DW) * 4;

const LENGTH_MASK = 0x0003ffff;
const CONNECTION_ID_SHIFT = 18;
const CONNECTION_ID_MAX = 0xfff;

export interface DoeObject {
  readonly vendorId: number;
  readonly type: number;
  readonly payload: Uint8Array;
  /** Only for PCI-SIG types 3 and 4 (SPDM with Connection ID). */
  readonly connectionId?: number;
}

export interface DoeHeader {
  readonly vendorId: number;
  readonly type: number;
  /** Object length in DW including the 2 header DWs (a 0 on the wire is returned as 2^18). */
  readonly lengthDw: number;
  readonly connectionId?: number;
}

export interface DecodedDoeObject extends DoeHeader {
  /** The payload, DW padding included (it is part of the object; only the payload's own format knows its true length). */
  readonly payload: Uint8Array;
}

export interface DoeProtocol {
  readonly vendorId: number;
  readonly type: number;
}

/** What a CMA device's DOE instance lists: discovery, CMA-SPDM and secured CMA-SPDM. */
export const CMA_DOE_PROTOCOLS: readonly DoeProtocol[] = [
  { vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.DISCOVERY },
  { vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.CMA_SPDM },
  { vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.SECURED_CMA_SPDM },
];

function usesConnectionId(vendorId: number, type: number): boolean {
  return (
    vendorId === PCI_SIG_VENDOR_ID &&
    (type === DoeObjectType.SPDM_CONNECTION_ID || type === DoeObjectType.SECURED_SPDM_CONNECTION_ID)
  );
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new SpdmError('ENCODE_ERROR', `DOE object ${name} ${v} outside 0..0x${max.toString(16)}`, {
      field: name,
      value: v,
    });
  }
}

/** Number of DWs a payload of `payloadBytes` occupies once padded. */
export function doePayloadDwords(payloadBytes: number): number {
  return Math.ceil(payloadBytes / 4);
}

/**
 * The two header DWs (as numbers, for writing to the Write Data Mailbox) for an object carrying
 * `payloadBytes` bytes. Throws ENCODE_ERROR if the object would exceed 2^18 DW.
 */
export function encodeDoeHeader(h: {
  vendorId: number;
  type: number;
  payloadBytes: number;
  connectionId?: number;
}): [number, number] {
  checkField('VendorID', h.vendorId, 0xffff);
  checkField('DataObjectType', h.type, 0xff);
  if (!Number.isInteger(h.payloadBytes) || h.payloadBytes < 0 || h.payloadBytes > DOE_MAX_PAYLOAD_BYTES) {
    throw new SpdmError(
      'ENCODE_ERROR',
      `DOE payload of ${h.payloadBytes} bytes exceeds the ${DOE_MAX_PAYLOAD_BYTES}-byte maximum of one data object`,
      {
        payloadBytes: h.payloadBytes,
        max: DOE_MAX_PAYLOAD_BYTES,
      },
    );
  }
  let connection = 0;
  if (h.connectionId !== undefined) {
    if (!usesConnectionId(h.vendorId, h.type)) {
      throw new SpdmError(
        'ENCODE_ERROR',
        `DOE object type ${h.type} of vendor 0x${h.vendorId.toString(16)} carries no Connection ID`,
      );
    }
    checkField('ConnectionID', h.connectionId, CONNECTION_ID_MAX);
    connection = h.connectionId << CONNECTION_ID_SHIFT;
  }
  const lengthDw = DOE_HEADER_DW + doePayloadDwords(h.payloadBytes);
  const dw0 = (h.vendorId | (h.type << 16)) >>> 0;
  const dw1 = ((lengthDw === DOE_MAX_OBJECT_DW ? 0 : lengthDw) | connection) >>> 0;
  return [dw0, dw1];
}

/**
 * Decodes the two header DWs. Rejects reserved bits and a length below 2; does not know the
 * buffer size (the caller compares `lengthDw` with what it holds).
 */
export function decodeDoeHeader(dw0: number, dw1: number, messageName = 'DOE object'): DoeHeader {
  const vendorId = dw0 & 0xffff;
  const type = (dw0 >>> 16) & 0xff;
  if (dw0 >>> 24 !== 0)
    throw new DecodeError(messageName, 'Reserved', 3, `DW0 bits 31:24 must be 0, got 0x${(dw0 >>> 24).toString(16)}`);
  const raw = dw1 & LENGTH_MASK;
  const lengthDw = raw === 0 ? DOE_MAX_OBJECT_DW : raw;
  let connectionId: number | undefined;
  if (usesConnectionId(vendorId, type)) {
    if (dw1 >>> 30 !== 0)
      throw new DecodeError(messageName, 'Reserved', 7, `DW1 bits 31:30 must be 0, got 0x${(dw1 >>> 30).toString(16)}`);
    connectionId = (dw1 >>> CONNECTION_ID_SHIFT) & CONNECTION_ID_MAX;
  } else if (dw1 >>> 18 !== 0) {
    throw new DecodeError(messageName, 'Reserved', 6, `DW1 bits 31:18 must be 0, got 0x${(dw1 >>> 18).toString(16)}`);
  }
  if (lengthDw < DOE_HEADER_DW)
    throw new DecodeError(messageName, 'Length', 4, `${lengthDw} DW is shorter than the 2-DW header`);
  return connectionId === undefined ? { vendorId, type, lengthDw } : { vendorId, type, lengthDw, connectionId };
}

/** Frames a payload as one data object, zero-padding it to a DW multiple. */
export function encodeDoeObject(o: DoeObject): Uint8Array {
  const header = encodeDoeHeader({
    vendorId: o.vendorId,
    type: o.type,
    payloadBytes: o.payload.length,
    ...(o.connectionId !== undefined ? { connectionId: o.connectionId } : {}),
  });
  const out = new Uint8Array((DOE_HEADER_DW + doePayloadDwords(o.payload.length)) * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, header[0], true);
  view.setUint32(4, header[1], true);
  out.set(o.payload, 8);
  return out;
}

/** Decodes one whole data object; the buffer must hold exactly the length the header states. */
export function decodeDoeObject(bytes: Uint8Array): DecodedDoeObject {
  const name = 'DOE object';
  if (bytes.length < DOE_HEADER_DW * 4)
    throw new DecodeError(name, 'Header', 0, `needs 8 bytes, ${bytes.length} present`);
  if (bytes.length % 4 !== 0)
    throw new DecodeError(name, 'Length', 0, `${bytes.length} bytes is not a whole number of DWs`);
  const r = new Reader(bytes, name);
  const h = decodeDoeHeader(r.u32('DW0'), r.u32('DW1'), name);
  if (h.lengthDw * 4 !== bytes.length) {
    throw new DecodeError(
      name,
      'Length',
      4,
      `header says ${h.lengthDw} DW (${h.lengthDw * 4} bytes), the buffer holds ${bytes.length} bytes`,
    );
  }
  return { ...h, payload: r.rest() };
}

// ---------------------------------------------------------------------------------------------
// DOE Discovery (type 0)

export interface DoeDiscoveryRequest {
  readonly index: number;
  /** DOE Discovery Version: 0 for the original format; 2 when the DOE capability version is >= 2 (as Linux sends it). */
  readonly version: number;
}

export interface DoeDiscoveryResponse {
  readonly vendorId: number;
  readonly type: number;
  /** 0 when this was the last entry. */
  readonly nextIndex: number;
  /**
   * Discovery version 2 may append a DW for some types: max data object length (17:0) and
   * type-specific additional info (31:18, e.g. the max Connection ID).
   */
  readonly extra?: { readonly maxObjectLengthDw: number; readonly additionalInfo: number };
}

export function encodeDoeDiscoveryRequest(req: { index: number; version?: number }): Uint8Array {
  checkField('Discovery Index', req.index, 0xff);
  const version = req.version ?? 0;
  checkField('Discovery Version', version, 0xff);
  return new Uint8Array([req.index, version, 0, 0]);
}

export function decodeDoeDiscoveryRequest(payload: Uint8Array): DoeDiscoveryRequest {
  const name = 'DOE Discovery request';
  const r = new Reader(payload, name);
  const index = r.u8('Index');
  const version = r.u8('Version');
  const reserved = r.u16('Reserved');
  if (reserved !== 0) r.fail('Reserved', 'must be 0', 2);
  if (r.remaining !== 0) r.fail('Length', `payload is ${payload.length} bytes, expected 4`, 4);
  return { index, version };
}

export function encodeDoeDiscoveryResponse(res: DoeDiscoveryResponse): Uint8Array {
  checkField('VendorID', res.vendorId, 0xffff);
  checkField('DataObjectType', res.type, 0xff);
  checkField('NextIndex', res.nextIndex, 0xff);
  const out = new Uint8Array(res.extra ? 8 : 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, res.vendorId, true);
  out[2] = res.type;
  out[3] = res.nextIndex;
  if (res.extra) {
    checkField('MaxDataObjectLength', res.extra.maxObjectLengthDw, LENGTH_MASK);
    checkField('AdditionalInfo', res.extra.additionalInfo, 0x3fff);
    view.setUint32(4, (res.extra.maxObjectLengthDw | (res.extra.additionalInfo << 18)) >>> 0, true);
  }
  return out;
}

export function decodeDoeDiscoveryResponse(payload: Uint8Array): DoeDiscoveryResponse {
  const name = 'DOE Discovery response';
  const r = new Reader(payload, name);
  const vendorId = r.u16('VendorID');
  const type = r.u8('DataObjectType');
  const nextIndex = r.u8('NextIndex');
  if (r.remaining === 0) return { vendorId, type, nextIndex };
  if (r.remaining !== 4) r.fail('Length', `payload is ${payload.length} bytes, expected 4 or 8`, 4);
  const dw = r.u32('Extra');
  return { vendorId, type, nextIndex, extra: { maxObjectLengthDw: dw & LENGTH_MASK, additionalInfo: dw >>> 18 } };
}

/**
 * The discovery entry a device answers for `request`. Throws DecodeError for an index beyond the
 * list (libspdm's responder refuses it the same way: INVALID_MSG_FIELD, no response).
 */
export function discoveryEntry(
  request: DoeDiscoveryRequest,
  protocols: readonly DoeProtocol[] = CMA_DOE_PROTOCOLS,
): DoeDiscoveryResponse {
  const p = protocols[request.index];
  if (!p)
    throw new DecodeError(
      'DOE Discovery request',
      'Index',
      0,
      `index ${request.index} beyond the ${protocols.length} protocol(s) supported`,
    );
  return {
    vendorId: p.vendorId,
    type: p.type,
    nextIndex: request.index + 1 < protocols.length ? request.index + 1 : 0,
  };
}

/** Device side: the whole DOE discovery response object for a discovery request payload. */
export function answerDoeDiscovery(
  requestPayload: Uint8Array,
  protocols: readonly DoeProtocol[] = CMA_DOE_PROTOCOLS,
): Uint8Array {
  const entry = discoveryEntry(decodeDoeDiscoveryRequest(requestPayload), protocols);
  return encodeDoeObject({
    vendorId: PCI_SIG_VENDOR_ID,
    type: DoeObjectType.DISCOVERY,
    payload: encodeDoeDiscoveryResponse(entry),
  });
}
