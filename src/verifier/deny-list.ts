/**
 * The deny-list (the kernel's `.blacklist` keyring, for device certificates): certificates that
 * must never be accepted, wherever they sit in a chain, named by SHA-256 fingerprint of the DER or
 * by issuer and serial number.
 *
 * Sources, one file or a directory of them:
 * - `*.json`: `{ "fingerprints": ["<sha256 hex>", ...], "issuerSerial": [{ "issuer": "CN=...,O=...", "serial": "<hex>" }] }`
 * - `*.pem` / `*.crt` / `*.cer` / `*.der`: certificates, each denied by fingerprint and by issuer+serial;
 * - anything else: text, one entry per line, `#` starts a comment:
 *     sha256:<64 hex digits>            (colons between bytes allowed; the `sha256:` prefix optional)
 *     serial:<hex> issuer:<name>        (name as printed by the verifier: most specific RDN first, "CN=x,O=y")
 */
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { basename } from 'node:path';
import type { ParsedCertificate } from '../x509/certificate.js';
import { certificatesInBytes, listSourceFiles, TrustSourceError } from './cert-files.js';

export interface IssuerSerial {
  readonly issuer: string;
  readonly serial: string;
}

export interface DenyMatch {
  readonly by: 'fingerprint' | 'issuer-serial';
  readonly entry: string;
  /** Where the entry came from (file name), when loaded from a file. */
  readonly source?: string;
}

/** Canonical form of a certificate serial: lowercase hex without separators or leading zeros. */
export function normalizeSerial(s: string): string {
  const h = s.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toLowerCase();
  const t = h.replace(/^0+/, '');
  return t === '' ? '0' : t;
}

/** Canonical form of a distinguished name string for comparison: no space around separators, case-folded. */
export function normalizeName(s: string): string {
  return s
    .trim()
    .replace(/\s*([,+=])\s*/g, '$1')
    .toLowerCase();
}

function normalizeFingerprint(s: string): string | undefined {
  const h = s
    .trim()
    .replace(/^sha-?256:/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(h) ? h : undefined;
}

export class DenyList {
  private readonly fingerprints = new Map<string, string | undefined>();
  private readonly issuerSerials = new Map<string, { entry: IssuerSerial; source?: string }>();

  static empty(): DenyList {
    return new DenyList();
  }

  get size(): number {
    return this.fingerprints.size + this.issuerSerials.size;
  }

  addFingerprint(fingerprint: string, source?: string): this {
    const f = normalizeFingerprint(fingerprint);
    if (!f)
      throw new TrustSourceError(
        `deny-list${source ? ` ${source}` : ''}: "${fingerprint}" is not a SHA-256 fingerprint (64 hex digits)`,
      );
    this.fingerprints.set(f, source);
    return this;
  }

  addIssuerSerial(entry: IssuerSerial, source?: string): this {
    if (entry.issuer.trim() === '' || !/^(0x)?[0-9a-fA-F:\s]+$/.test(entry.serial.trim())) {
      throw new TrustSourceError(
        `deny-list${source ? ` ${source}` : ''}: issuer "${entry.issuer}" / serial "${entry.serial}" is not a valid entry`,
      );
    }
    const key = `${normalizeName(entry.issuer)}|${normalizeSerial(entry.serial)}`;
    this.issuerSerials.set(key, {
      entry: { issuer: entry.issuer, serial: normalizeSerial(entry.serial) },
      ...(source ? { source } : {}),
    });
    return this;
  }

  /** Denies `cert` by fingerprint and by issuer+serial. */
  addCertificate(cert: ParsedCertificate, source?: string): this {
    this.addFingerprint(cert.fingerprintSha256, source);
    return this.addIssuerSerial({ issuer: cert.issuer, serial: cert.serialNumber }, source);
  }

  /** Why `cert` is denied, or undefined. */
  match(cert: ParsedCertificate): DenyMatch | undefined {
    const fp = cert.fingerprintSha256.toLowerCase();
    if (this.fingerprints.has(fp)) {
      const source = this.fingerprints.get(fp);
      return { by: 'fingerprint', entry: `sha256:${fp}`, ...(source ? { source } : {}) };
    }
    const hit = this.issuerSerials.get(`${normalizeName(cert.issuer)}|${normalizeSerial(cert.serialNumber)}`);
    if (hit)
      return {
        by: 'issuer-serial',
        entry: `serial:${hit.entry.serial} issuer:${hit.entry.issuer}`,
        ...(hit.source ? { source: hit.source } : {}),
      };
    return undefined;
  }

  /** Entries as plain data (for display and tests). */
  entries(): { fingerprints: string[]; issuerSerial: IssuerSerial[] } {
    return {
      fingerprints: [...this.fingerprints.keys()],
      issuerSerial: [...this.issuerSerials.values()].map((v) => v.entry),
    };
  }

  /** Parses a deny-list file's contents. `name` picks the format by extension and labels errors. */
  addFileContents(name: string, data: Uint8Array): this {
    const lower = name.toLowerCase();
    if (/\.(pem|crt|cer|der|cert)$/.test(lower)) {
      for (const c of certificatesInBytes(data, name)) this.addCertificate(c, basename(name));
      return this;
    }
    const text = Buffer.from(data).toString('utf8');
    if (lower.endsWith('.json')) return this.addJson(name, text);
    return this.addText(name, text);
  }

  private addJson(name: string, text: string): this {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new TrustSourceError(`deny-list ${name}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      throw new TrustSourceError(`deny-list ${name}: must be an object with "fingerprints" and/or "issuerSerial"`);
    const o = doc as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'fingerprints' && k !== 'issuerSerial' && k !== '$comment')
        throw new TrustSourceError(`deny-list ${name}: unknown key "${k}"`);
    }
    const fps = o['fingerprints'] ?? [];
    if (!Array.isArray(fps)) throw new TrustSourceError(`deny-list ${name}: /fingerprints must be an array`);
    fps.forEach((f, i) => {
      if (typeof f !== 'string') throw new TrustSourceError(`deny-list ${name}: /fingerprints/${i} must be a string`);
      this.addFingerprint(f, basename(name));
    });
    const iss = o['issuerSerial'] ?? [];
    if (!Array.isArray(iss)) throw new TrustSourceError(`deny-list ${name}: /issuerSerial must be an array`);
    iss.forEach((e, i) => {
      const r = e as Record<string, unknown> | null;
      if (typeof r !== 'object' || r === null || typeof r['issuer'] !== 'string' || typeof r['serial'] !== 'string') {
        throw new TrustSourceError(
          `deny-list ${name}: /issuerSerial/${i} must be { "issuer": string, "serial": hex string }`,
        );
      }
      this.addIssuerSerial({ issuer: r['issuer'], serial: r['serial'] }, basename(name));
    });
    return this;
  }

  private addText(name: string, text: string): this {
    text.split(/\r?\n/).forEach((line, i) => {
      const l = line.replace(/#.*$/, '').trim();
      if (l === '') return;
      const where = `${basename(name)}:${i + 1}`;
      const a = /^serial:\s*(\S+)\s+issuer:\s*(.+)$/i.exec(l);
      const b = a ? undefined : /^issuer:\s*(.+?)\s+serial:\s*(\S+)$/i.exec(l);
      const serial = a?.[1] ?? b?.[2];
      const issuer = a?.[2] ?? b?.[1];
      if (serial !== undefined && issuer !== undefined) {
        this.addIssuerSerial({ serial, issuer }, where);
        return;
      }
      if (!normalizeFingerprint(l))
        throw new TrustSourceError(
          `deny-list ${where}: "${l}" is neither "sha256:<64 hex>" nor "serial:<hex> issuer:<name>"`,
        );
      this.addFingerprint(l, where);
    });
    return this;
  }
}

/** Loads a deny-list from a file or a directory of files. */
export function loadDenyList(paths: string | readonly string[]): DenyList {
  const list = new DenyList();
  for (const p of typeof paths === 'string' ? [paths] : paths) {
    for (const f of listSourceFiles(p, 'deny-list', () => true)) {
      let data: Uint8Array;
      try {
        // Certificates in a deny-list are bounded like trust anchors; lists of entries may be longer.
        const certificateFile = /\.(pem|crt|cer|der|cert)$/i.test(f);
        data = new Uint8Array(
          certificateFile
            ? readFileBounded(f, LIMITS.trustFileBytes, 'trustFileBytes')
            : readFileBounded(f, LIMITS.denyListFileBytes, 'denyListFileBytes'),
        );
      } catch (e) {
        throw new TrustSourceError(`deny-list: cannot read ${f}: ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
        });
      }
      list.addFileContents(f, data);
    }
  }
  return list;
}
