/** Trust anchors from PEM or DER files, or a directory of them. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SpdmError } from '../wire/errors.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { splitDerCertificates } from '../x509/der.js';

function certsInFile(path: string): ParsedCertificate[] {
  const data = readFileSync(path);
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)];
    return blocks.map((m) => parseCertificate(new Uint8Array(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'))));
  }
  return splitDerCertificates(new Uint8Array(data)).map(parseCertificate);
}

export function loadTrustAnchors(path: string): ParsedCertificate[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new SpdmError('DECODE_ERROR', `trust anchors: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const files = st.isDirectory()
    ? readdirSync(path)
        .filter((f) => /\.(pem|crt|cer|der)$/i.test(f) || f.endsWith('.cert'))
        .map((f) => join(path, f))
    : [path];
  const out: ParsedCertificate[] = [];
  for (const f of files) {
    try {
      out.push(...certsInFile(f));
    } catch (e) {
      throw new SpdmError('DECODE_ERROR', `trust anchors: ${f}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (out.length === 0) throw new SpdmError('DECODE_ERROR', `trust anchors: no certificate found in ${path}`);
  return out;
}
