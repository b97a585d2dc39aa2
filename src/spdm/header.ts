import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { codeName, DECODABLE_VERSIONS } from './codes.js';

export interface Header {
  readonly version: number;
  readonly code: number;
  readonly param1: number;
  readonly param2: number;
}

/**
 * Reads and checks the 4-byte common header. `expectedCode` pins the message type, so a decoder
 * can never be fed the wrong message silently.
 */
export function readHeader(r: Reader, expectedCode: number, opts: { anyVersion?: boolean } = {}): Header {
  const version = r.u8('SPDMVersion');
  const code = r.u8('RequestResponseCode');
  if (code !== expectedCode) {
    r.fail(
      'RequestResponseCode',
      `expected ${codeName(expectedCode)} (0x${expectedCode.toString(16)}), got 0x${code.toString(16)}`,
      1,
    );
  }
  if (!opts.anyVersion && !DECODABLE_VERSIONS.includes(version)) {
    r.fail('SPDMVersion', `unknown version 0x${version.toString(16)}`, 0);
  }
  const param1 = r.u8('Param1');
  const param2 = r.u8('Param2');
  return { version, code, param1, param2 };
}

export function writeHeader(w: Writer, version: number, code: number, param1 = 0, param2 = 0): Writer {
  return w.u8(version).u8(code).u8(param1).u8(param2);
}

/** Peeks at the header of any SPDM message without interpreting the body. */
export function peekHeader(bytes: Uint8Array): Header {
  const r = new Reader(bytes, 'SPDM message');
  const version = r.u8('SPDMVersion');
  const code = r.u8('RequestResponseCode');
  const param1 = r.u8('Param1');
  const param2 = r.u8('Param2');
  return { version, code, param1, param2 };
}
