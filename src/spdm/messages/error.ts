/** ERROR (every code) and RESPOND_IF_READY. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export const ErrorCode = {
  InvalidRequest: 0x01,
  InvalidSession: 0x02,
  Busy: 0x03,
  UnexpectedRequest: 0x04,
  Unspecified: 0x05,
  DecryptError: 0x06,
  UnsupportedRequest: 0x07,
  RequestInFlight: 0x08,
  InvalidResponseCode: 0x09,
  SessionLimitExceeded: 0x0a,
  SessionRequired: 0x0b,
  ResetRequired: 0x0c,
  ResponseTooLarge: 0x0d,
  RequestTooLarge: 0x0e,
  LargeResponse: 0x0f,
  MessageLost: 0x10,
  InvalidPolicy: 0x11,
  DataTooLarge: 0x12,
  VersionMismatch: 0x41,
  ResponseNotReady: 0x42,
  RequestResynch: 0x43,
  OperationFailed: 0x44,
  NoPendingRequests: 0x45,
  RequestSessionTerminated: 0x46,
  InvalidState: 0x47,
  VendorDefined: 0xff,
} as const;

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

export function errorCodeName(code: number): string {
  return ERROR_NAMES.get(code) ?? `Reserved(0x${code.toString(16)})`;
}

export interface ResponseNotReadyData {
  readonly rdtExponent: number;
  readonly requestCode: number;
  readonly token: number;
  readonly rdtm: number;
}

export interface ErrorResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly errorCode: number;
  readonly errorData: number;
  readonly extendedData: Uint8Array;
  readonly notReady?: ResponseNotReadyData;
  /** ResponseTooLarge: size of the response that did not fit. */
  readonly responseSize?: number;
  /** LargeResponse: handle for CHUNK_GET. */
  readonly largeResponseHandle?: number;
}

export const MAX_EXTENDED_ERROR_DATA = 32;

export function encodeError(
  version: number,
  errorCode: number,
  errorData = 0,
  extendedData: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const w = new Writer(4 + extendedData.length);
  writeHeader(w, version, ResponseCode.ERROR, errorCode, errorData);
  w.bytes(extendedData);
  return w.finish();
}

export function encodeResponseNotReady(version: number, d: ResponseNotReadyData): Uint8Array {
  const ext = new Uint8Array([d.rdtExponent, d.requestCode, d.token, d.rdtm]);
  return encodeError(version, ErrorCode.ResponseNotReady, 0, ext);
}

export function decodeError(bytes: Uint8Array): ErrorResponse {
  const r = new Reader(bytes, 'ERROR');
  const h = readHeader(r, ResponseCode.ERROR, { anyVersion: true });
  const errorCode = h.param1;
  let notReady: ResponseNotReadyData | undefined;
  let responseSize: number | undefined;
  let largeResponseHandle: number | undefined;
  const extStart = r.offset;
  if (errorCode === ErrorCode.ResponseNotReady) {
    const rdtExponent = r.u8('ExtendedErrorData.RDTExponent');
    const requestCode = r.u8('ExtendedErrorData.RequestCode');
    const token = r.u8('ExtendedErrorData.Token');
    const rdtm = r.u8('ExtendedErrorData.RDTM');
    notReady = { rdtExponent, requestCode, token, rdtm };
  } else if (errorCode === ErrorCode.ResponseTooLarge) {
    responseSize = r.u32('ExtendedErrorData.ResponseSize');
  } else if (errorCode === ErrorCode.LargeResponse) {
    largeResponseHandle = r.u8('ExtendedErrorData.Handle');
  } else if (errorCode === ErrorCode.VendorDefined) {
    // Registry-defined extended data: {VendorIDLen, VendorID, opaque}. Keep the bytes but bound them.
    const remaining = Math.min(r.remaining, MAX_EXTENDED_ERROR_DATA);
    r.skip(remaining, 'ExtendedErrorData');
  }
  return {
    raw: r.consumed(),
    version: h.version,
    errorCode,
    errorData: h.param2,
    extendedData: bytes.subarray(extStart, r.offset),
    ...(notReady ? { notReady } : {}),
    ...(responseSize !== undefined ? { responseSize } : {}),
    ...(largeResponseHandle !== undefined ? { largeResponseHandle } : {}),
  };
}

export interface RespondIfReadyRequest {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly requestCode: number;
  readonly token: number;
}

export function encodeRespondIfReady(version: number, requestCode: number, token: number): Uint8Array {
  return writeHeader(new Writer(4), version, RequestCode.RESPOND_IF_READY, requestCode, token).finish();
}

export function decodeRespondIfReady(bytes: Uint8Array): RespondIfReadyRequest {
  const r = new Reader(bytes, 'RESPOND_IF_READY');
  const h = readHeader(r, RequestCode.RESPOND_IF_READY);
  return { raw: r.consumed(), version: h.version, requestCode: h.param1, token: h.param2 };
}
