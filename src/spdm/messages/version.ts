/** GET_VERSION / VERSION. Both always carry SPDMVersion 0x10. */
import { Reader } from '../../wire/reader.js';
import { Writer } from '../../wire/writer.js';
import { readHeader, writeHeader } from '../header.js';
import { RequestCode, ResponseCode } from '../codes.js';

export interface VersionNumber {
  readonly major: number;
  readonly minor: number;
  readonly update: number;
  readonly alpha: number;
}

export interface GetVersionRequest {
  readonly raw: Uint8Array;
  readonly version: number;
}

export interface VersionResponse {
  readonly raw: Uint8Array;
  readonly version: number;
  readonly entries: readonly VersionNumber[];
}

export function versionNumberFromU16(v: number): VersionNumber {
  return { major: (v >> 12) & 0xf, minor: (v >> 8) & 0xf, update: (v >> 4) & 0xf, alpha: v & 0xf };
}

export function versionNumberToU16(v: VersionNumber): number {
  return ((v.major & 0xf) << 12) | ((v.minor & 0xf) << 8) | ((v.update & 0xf) << 4) | (v.alpha & 0xf);
}

/** The header byte for a version entry (update and alpha are not part of the negotiated version). */
export function versionByte(v: VersionNumber): number {
  return ((v.major & 0xf) << 4) | (v.minor & 0xf);
}

export function encodeGetVersion(): Uint8Array {
  return writeHeader(new Writer(4), 0x10, RequestCode.GET_VERSION).finish();
}

export function decodeGetVersion(bytes: Uint8Array): GetVersionRequest {
  const r = new Reader(bytes, 'GET_VERSION');
  const h = readHeader(r, RequestCode.GET_VERSION, { anyVersion: true });
  if (h.version !== 0x10) r.fail('SPDMVersion', `GET_VERSION must carry 0x10, got 0x${h.version.toString(16)}`, 0);
  return { raw: r.consumed(), version: h.version };
}

export function encodeVersion(entries: readonly VersionNumber[]): Uint8Array {
  const w = new Writer(6 + 2 * entries.length);
  writeHeader(w, 0x10, ResponseCode.VERSION);
  w.u8(0).u8(entries.length);
  for (const e of entries) w.u16(versionNumberToU16(e));
  return w.finish();
}

export function decodeVersion(bytes: Uint8Array): VersionResponse {
  const r = new Reader(bytes, 'VERSION');
  const h = readHeader(r, ResponseCode.VERSION, { anyVersion: true });
  if (h.version !== 0x10) r.fail('SPDMVersion', `VERSION must carry 0x10, got 0x${h.version.toString(16)}`, 0);
  r.skip(1, 'Reserved');
  const count = r.u8('VersionNumberEntryCount');
  if (count === 0) r.fail('VersionNumberEntryCount', 'no version entries', r.offset - 1);
  const entries: VersionNumber[] = [];
  for (let i = 0; i < count; i++) entries.push(versionNumberFromU16(r.u16(`VersionNumberEntry[${i}]`)));
  return { raw: r.consumed(), version: h.version, entries };
}
