/** Reading certificates (PEM or DER) and listing the files of a trust or deny source. */
import { readdirSync, statSync } from 'node:fs';
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { join } from 'node:path';
import { SpdmError } from '../wire/errors.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { splitDerCertificates } from '../x509/der.js';

/** A trust anchor, deny-list or policy source that cannot be read or parsed. */
export class TrustSourceError extends SpdmError {
  constructor(message: string, options?: ErrorOptions) {
    super('DECODE_ERROR', message, {}, options);
    this.name = 'TrustSourceError';
  }
}

/** File names that hold certificates. */
export const CERT_FILE = /\.(pem|crt|cer|der|cert)$/i;

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle or in concatenated DER. `name` labels errors. */
export function certificatesInBytes(data: Uint8Array, name: string): ParsedCertificate[] {
  try {
    const text = Buffer.from(data).toString('latin1');
    if (text.includes('-----BEGIN ')) {
      const blocks = [...text.matchAll(PEM_BLOCK)];
      if (blocks.length === 0) throw new TrustSourceError('PEM file without a CERTIFICATE block');
      return blocks.map((m, i) => {
        const b64 = (m[1] ?? '').replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new TrustSourceError(`PEM block ${i + 1} is not base64`);
        return parseCertificate(new Uint8Array(Buffer.from(b64, 'base64')));
      });
    }
    return splitDerCertificates(data).map((der) => parseCertificate(der));
  } catch (e) {
    throw new TrustSourceError(`${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * The files a source names: the file itself, or the regular files of a directory (not recursive,
 * hidden files skipped) that `accept` takes, sorted by name so loading order is stable.
 */
export function listSourceFiles(path: string, what: string, accept: (name: string) => boolean): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TrustSourceError(`${what}: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!st.isDirectory()) return [path];
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (e) {
    throw new TrustSourceError(`${what}: cannot list ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return names
    .filter((n) => !n.startsWith('.') && accept(n))
    .sort()
    .map((n) => join(path, n))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

/** Certificates from a PEM/DER file or a directory of them. */
export function loadCertificates(path: string, what = 'trust anchors'): ParsedCertificate[] {
  const out: ParsedCertificate[] = [];
  for (const f of listSourceFiles(path, what, (n) => CERT_FILE.test(n))) {
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileBounded(f, LIMITS.trustFileBytes, 'trustFileBytes'));
    } catch (e) {
      throw new TrustSourceError(`${what}: cannot read ${f}: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    out.push(...certificatesInBytes(data, `${what}: ${f}`));
  }
  return out;
}
