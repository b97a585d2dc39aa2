/**
 * Certificate chain validation: RFC 5280 path rules that matter for a device chain, plus the
 * SPDM (DSP0274 annex, as libspdm enforces it) leaf rules. Validation reports every problem found
 * rather than stopping at the first, so a tool can show a complete diagnosis; callers decide by
 * `ok`.
 *
 * Trust is a separate question (chainsToRoot): a chain can be well-formed and still end at a root
 * the verifier does not trust.
 */
import { equalBytes } from '../wire/bytes.js';
import { keyMatchesAlgorithm } from '../crypto/signature.js';
import { asymInfo } from '../crypto/algorithms.js';
import { requireHash } from '../crypto/hash.js';
import { digestOf } from './certificate-digest.js';
import { isEmptyName, type ParsedCertificate } from './certificate.js';
import { OID_DMTF_EKU_REQUESTER_AUTH, OID_DMTF_EKU_RESPONDER_AUTH, OID_DMTF_HARDWARE_IDENTITY } from './oids.js';
import { checkSignature, verifyCertSignature } from './signature.js';
import type { CertificateCache } from './cache.js';
import { chainForSlot, type SlotChain } from './slot-chain.js';

export { verifyCertSignature } from './signature.js';

/** Certificate models (SPDM 1.3 CertificateInfo.CertModel). */
export const CertModel = {
  DEVICE_CERT: 1,
  ALIAS_CERT: 2,
  GENERIC_CERT: 3,
} as const;

/** Stable problem codes; a caller may switch on them. */
export type ChainProblemCode =
  | 'EMPTY_CHAIN'
  | 'VERSION'
  | 'EMPTY_NAME'
  | 'NOT_YET_VALID'
  | 'EXPIRED'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'ROOT_SIGNATURE'
  | 'ROOT_HASH'
  | 'CHAIN_LINK'
  | 'CHAIN_SIGNATURE'
  | 'REPEATED_CERTIFICATE'
  | 'CA_REQUIRED'
  | 'KEY_CERT_SIGN'
  | 'PATH_LEN'
  | 'LEAF_IS_CA'
  | 'LEAF_BASIC_CONSTRAINTS_MISSING'
  | 'LEAF_KEY_USAGE_MISSING'
  | 'LEAF_DIGITAL_SIGNATURE'
  | 'LEAF_KEY_ALGORITHM'
  | 'LEAF_EKU'
  | 'HARDWARE_IDENTITY_IN_ALIAS';

export interface ChainProblem {
  readonly code: ChainProblemCode;
  /** Index in the chain (0 = first/root); -1 for the chain as a whole. */
  readonly certIndex: number;
  readonly message: string;
}

export interface ChainReport {
  readonly ok: boolean;
  readonly problems: readonly ChainProblem[];
}

export interface ChainValidationOptions {
  /** The time validity periods are checked against (injected so results are reproducible). */
  readonly now: Date;
  /** Whose chain this is: a Responder's (checked against responder rules) or a Requester's. */
  readonly role: 'responder' | 'requester';
  /** Negotiated SPDM version, e.g. 0x12. Leaf basicConstraints is mandatory from 0x13. */
  readonly version: number;
  /** Negotiated BaseAsymAlgo (ReqBaseAsymAlg for a requester chain) the leaf key must match. */
  readonly asymId: number;
  /** CertModel of the slot (1 DeviceCert, 2 AliasCert, 3 GenericCert); DeviceCert when omitted. */
  readonly certModel?: number;
  /** Reuse parsed certificates and signature checks across chains (see CertificateCache). */
  readonly cache?: CertificateCache;
}

/**
 * Validates a parsed chain ordered root (or first intermediate) first, leaf last.
 * The first certificate's own signature is checked only if it is self-issued (a root); otherwise
 * its issuer is outside the chain and chainsToRoot() decides about it.
 */
export function validateCertChain(certs: readonly ParsedCertificate[], opts: ChainValidationOptions): ChainReport {
  const problems: ChainProblem[] = [];
  const add = (code: ChainProblemCode, certIndex: number, message: string): void => {
    problems.push({ code, certIndex, message });
  };
  const n = certs.length;
  if (n === 0) {
    add('EMPTY_CHAIN', -1, 'the chain holds no certificate');
    return { ok: false, problems };
  }
  const model = opts.certModel ?? CertModel.DEVICE_CERT;
  const generic = model === CertModel.GENERIC_CERT;
  const now = opts.now.getTime();

  certs.forEach((c, i) => {
    const leaf = i === n - 1;
    const who = `${leaf ? 'leaf' : i === 0 ? 'first certificate' : 'intermediate'} "${c.subject}"`;

    if (c.version !== 3) add('VERSION', i, `${who} is X.509 v${c.version}; v3 is required`);
    // GenericCert (1.3) relaxes the leaf's issuer/subject presence.
    if (!(leaf && generic)) {
      if (isEmptyName(c.subjectDer)) add('EMPTY_NAME', i, `${who} has an empty subject`);
      if (isEmptyName(c.issuerDer)) add('EMPTY_NAME', i, `${who} has an empty issuer`);
    }
    if (now < c.notBefore.getTime()) add('NOT_YET_VALID', i, `${who} is not valid before ${c.notBefore.toISOString()}`);
    if (now > c.notAfter.getTime()) add('EXPIRED', i, `${who} expired at ${c.notAfter.toISOString()}`);
    for (const oid of c.unknownCriticalExtensions)
      add('UNKNOWN_CRITICAL_EXTENSION', i, `${who} has critical extension ${oid} that is not understood`);

    if (i === 0 && c.selfIssued) {
      const why = opts.cache ? opts.cache.checkSignature(c, c) : checkSignature(c, c.publicKey);
      if (why !== undefined) add('ROOT_SIGNATURE', i, `self-issued ${who} does not self-verify: ${why}`);
    }
    // RFC 5280 6.1: a certificate appears at most once in a path. A repeat — the same
    // certificate, or the same subject and key again — means the chain goes round in a circle
    // (each link can still verify), which path length limits alone do not catch.
    const earlier = certs
      .slice(0, i)
      .findIndex(
        (e) => equalBytes(e.der, c.der) || (equalBytes(e.subjectDer, c.subjectDer) && equalBytes(e.spki, c.spki)),
      );
    if (earlier >= 0)
      add(
        'REPEATED_CERTIFICATE',
        i,
        `${who} repeats certificate ${earlier}${equalBytes((certs[earlier] as ParsedCertificate).der, c.der) ? '' : ' (same subject and key)'}: the chain loops`,
      );
    if (i > 0) {
      const issuer = certs[i - 1] as ParsedCertificate;
      if (!equalBytes(c.issuerDer, issuer.subjectDer)) {
        // A signature check against an unrelated certificate would say nothing more.
        add('CHAIN_LINK', i, `${who} names issuer "${c.issuer}" but the previous certificate is "${issuer.subject}"`);
      } else {
        const why = opts.cache ? opts.cache.checkSignature(c, issuer) : checkSignature(c, issuer.publicKey);
        if (why !== undefined) add('CHAIN_SIGNATURE', i, `${who} is not signed by "${issuer.subject}": ${why}`);
      }
    }

    if (!leaf) {
      if (!c.basicConstraints.present || !c.basicConstraints.cA)
        add('CA_REQUIRED', i, `${who} signs another certificate but is not a CA (basicConstraints cA)`);
      if (c.keyUsage && !c.keyUsage.keyCertSign) add('KEY_CERT_SIGN', i, `${who} has keyUsage without keyCertSign`);
      const pathLen = c.basicConstraints.pathLen;
      if (pathLen !== undefined) {
        // RFC 5280 6.1.4: non-self-issued intermediates between this CA and the leaf.
        let below = 0;
        for (let j = i + 1; j < n - 1; j++) if (!(certs[j] as ParsedCertificate).selfIssued) below++;
        if (below > pathLen)
          add('PATH_LEN', i, `${who} allows ${pathLen} intermediate CA(s) below it, chain has ${below}`);
      }
      return;
    }

    // Leaf rules (DSP0274 annex / libspdm libspdm_x509_certificate_check).
    if (c.basicConstraints.present && c.basicConstraints.cA)
      add('LEAF_IS_CA', i, `${who} has basicConstraints cA TRUE`);
    if (!c.basicConstraints.present && opts.version >= 0x13)
      add('LEAF_BASIC_CONSTRAINTS_MISSING', i, `${who} lacks basicConstraints, mandatory from SPDM 1.3`);
    if (c.keyUsage === undefined || c.keyUsage.empty) {
      // libspdm treats an all-zero keyUsage like a missing one; GenericCert makes it optional.
      if (!generic) add('LEAF_KEY_USAGE_MISSING', i, `${who} has no keyUsage`);
    } else if (!c.keyUsage.digitalSignature) {
      add('LEAF_DIGITAL_SIGNATURE', i, `${who} keyUsage lacks digitalSignature`);
    }
    if (!keyMatchesAlgorithm(c.publicKey, opts.asymId)) {
      const want = asymInfo(opts.asymId)?.name ?? `0x${opts.asymId.toString(16)}`;
      const d = c.publicKey.asymmetricKeyDetails ?? {};
      const have = `${c.publicKey.asymmetricKeyType ?? '?'}${d.modulusLength ? `-${d.modulusLength}` : ''}${d.namedCurve ? ` ${d.namedCurve}` : ''}`;
      add('LEAF_KEY_ALGORITHM', i, `${who} key is ${have}, negotiated ${want}`);
    }
    const eku = c.extendedKeyUsage;
    if (eku) {
      const rsp = eku.includes(OID_DMTF_EKU_RESPONDER_AUTH);
      const req = eku.includes(OID_DMTF_EKU_REQUESTER_AUTH);
      if (opts.role === 'responder' && req && !rsp)
        add('LEAF_EKU', i, `responder ${who} has requester-auth EKU without responder-auth`);
      if (opts.role === 'requester' && rsp && !req)
        add('LEAF_EKU', i, `requester ${who} has responder-auth EKU without requester-auth`);
    }
    if (model === CertModel.ALIAS_CERT && c.spdmExtensionOids.includes(OID_DMTF_HARDWARE_IDENTITY)) {
      add('HARDWARE_IDENTITY_IN_ALIAS', i, `${who} carries hardware-identity in the AliasCert model`);
    }
  });
  return { ok: problems.length === 0, problems };
}

export interface SpdmChainValidation extends SlotChain {
  readonly report: ChainReport;
}

/**
 * Decodes an SPDM certificate chain, parses each certificate once (chainForSlot) and validates it.
 * RootHash must equal Hash(first certificate) when the first certificate is self-issued (a root);
 * when the root is omitted (1.2+) RootHash names an external root and is matched by chainsToRoot
 * instead.
 *
 * Throws only for input that cannot be decoded at all (DecodeError, SpdmError CERT_INVALID with
 * `details.certIndex`); everything else is a problem in the report.
 */
export function validateSpdmChain(
  chainBytes: Uint8Array,
  opts: ChainValidationOptions & { readonly hashId: number },
): SpdmChainValidation {
  requireHash(opts.hashId);
  const cache = opts.cache;
  if (!cache) return validateSpdmChainOnce(chainBytes, opts);
  // The same chain under the same options reads the same, but for the validity periods, which
  // depend on `now`: a remembered reading holds while every certificate stands where it stood
  // against its period (before, within, after), which the problems list is a function of.
  const options = `${opts.version}|${opts.hashId}|${opts.asymId}|${opts.role}|${opts.certModel ?? CertModel.DEVICE_CERT}`;
  const now = opts.now.getTime();
  const { key, known } = cache.rememberedChain(chainBytes);
  if (known && known.options === options && validityAt(known.validation.certificates, now) === known.validity) {
    // Arrays of its own and the caller's bytes as `raw`, as a first reading would give them.
    const v = known.validation;
    return {
      ...v,
      chain: { ...v.chain, raw: chainBytes },
      certificates: [...v.certificates],
      report: { ok: v.report.ok, problems: [...v.report.problems] },
    };
  }
  const v = validateSpdmChainOnce(chainBytes, opts);
  cache.rememberChain(key, { options, validation: v, validity: validityAt(v.certificates, now) });
  return v;
}

/** Where `now` stands against each certificate's validity period: one letter per certificate. */
function validityAt(certs: readonly ParsedCertificate[], now: number): string {
  let s = '';
  for (const c of certs) s += now < c.notBefore.getTime() ? 'b' : now > c.notAfter.getTime() ? 'a' : 'v';
  return s;
}

function validateSpdmChainOnce(
  chainBytes: Uint8Array,
  opts: ChainValidationOptions & { readonly hashId: number },
): SpdmChainValidation {
  const slot = chainForSlot(chainBytes, {
    version: opts.version,
    hashId: opts.hashId,
    ...(opts.cache ? { cache: opts.cache } : {}),
  });
  const { chain, certificates } = slot;
  const base = validateCertChain(certificates, opts);
  const first = certificates[0] as ParsedCertificate;
  const problems = [...base.problems];
  if (first.selfIssued && !equalBytes(chain.rootHash, digestOf(first, opts.hashId))) {
    problems.unshift({
      code: 'ROOT_HASH',
      certIndex: 0,
      message: 'RootHash is not the hash of the root certificate in the chain',
    });
  }
  return { ...slot, report: { ok: problems.length === 0, problems } };
}

export interface TrustResult {
  readonly trusted: boolean;
  readonly anchor?: ParsedCertificate;
  readonly reason?: string;
}

export interface TrustOptions {
  /**
   * RootHash from the SPDM chain and its hash algorithm. When the chain omits its root (1.2+),
   * RootHash selects the trust anchor; the first certificate must then be issued by that root.
   */
  readonly rootHash?: Uint8Array;
  readonly hashId?: number;
  /**
   * Check the first certificate's signature under a root through this cache (keyed by both
   * certificates' content): a verifier sees the same rootless chains of a fleet again and again.
   */
  readonly cache?: CertificateCache;
}

function validAt(c: ParsedCertificate, now: Date): boolean {
  const t = now.getTime();
  return t >= c.notBefore.getTime() && t <= c.notAfter.getTime();
}

/**
 * Decides whether a (separately validated) chain ends at a trusted root: its first certificate
 * is one of `roots` (same DER), or is issued by one of them (issuer Name DER equals the root's
 * subject DER, the root's key verifies the signature, and the root is valid at `now`).
 */
export function chainsToRoot(
  certs: readonly ParsedCertificate[],
  roots: readonly ParsedCertificate[],
  now: Date,
  opts: TrustOptions = {},
): TrustResult {
  const first = certs[0];
  if (first === undefined) return { trusted: false, reason: 'empty chain' };
  const same = roots.find((r) => equalBytes(r.der, first.der));
  if (same) return { trusted: true, anchor: same };

  let candidates = roots;
  if (opts.rootHash !== undefined && !first.selfIssued) {
    if (opts.hashId === undefined) throw new TypeError('chainsToRoot: rootHash given without hashId');
    const rootHash = opts.rootHash;
    const hashId = opts.hashId;
    candidates = roots.filter((r) => equalBytes(digestOf(r, hashId), rootHash));
    if (candidates.length === 0) return { trusted: false, reason: 'RootHash matches no trusted root' };
  }

  const reasons: string[] = [];
  for (const root of candidates) {
    if (!equalBytes(first.issuerDer, root.subjectDer)) continue;
    const verifies = opts.cache
      ? opts.cache.checkSignature(first, root) === undefined
      : verifyCertSignature(first, root);
    if (!verifies) {
      reasons.push(
        `"${first.subject}" names trusted root "${root.subject}" as issuer but its signature does not verify with that root's key`,
      );
      continue;
    }
    if (!validAt(root, now)) {
      reasons.push(`trusted root "${root.subject}" is not valid at ${now.toISOString()}`);
      continue;
    }
    return { trusted: true, anchor: root };
  }
  const reason =
    reasons.length > 0
      ? reasons.join('; ')
      : first.selfIssued
        ? `root "${first.subject}" is not a trusted root`
        : `issuer "${first.issuer}" of "${first.subject}" is not a trusted root`;
  return { trusted: false, reason };
}
