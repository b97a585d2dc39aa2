/**
 * verify(): decides whether evidence shows a device to be trusted under a policy and trust store.
 *
 * Every decision is made from the signed bytes in the evidence, never from the requester's
 * account of them: each signature is re-verified (evidence/reverify) and its transcript decoded
 * (signed.ts); the `verified` and `signed` flags, the certificate summaries and the chain
 * problems the requester recorded are ignored. The checks, in order:
 *
 *   evidence shape → signatures (and that the evidence agrees with what was signed) →
 *   per signing slot: chain structure and SPDM/DMTF certificate rules, validity, deny-list,
 *   trust anchor, PCIe CMA SAN → nonce → age → SPDM version → device policy and reference values.
 *
 * All failures are collected (not just the first) so an operator sees the complete diagnosis.
 * verify() never throws: bad evidence is an `untrusted` verdict with MALFORMED_EVIDENCE.
 */
import { LIMITS } from '../wire/limits.js';
import type { Evidence } from '../evidence/evidence.js';
import { hashInfo } from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { versionString } from '../spdm/codes.js';
import { equalBytes, fromHex, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import { chainsToRoot, validateCertChain, type ChainProblemCode } from '../x509/chain.js';
import { sharedCertificateCache } from '../x509/cache.js';
import { OID_DMTF_EKU_RESPONDER_AUTH } from '../x509/oids.js';
import { chainForSlot } from '../x509/slot-chain.js';
import { checkCmaSan, cmaSanString } from './cma-san.js';
import { parseEvidence } from './evidence-input.js';
import { PUBLIC_KEY_SLOT } from '../evidence/signing-key.js';
import {
  DEFAULT_POLICY,
  effectivePolicy,
  matchDevice,
  publicKeyFingerprint,
  type DevicePolicy,
  type EvidenceRequirements,
  type Policy,
  type RuleName,
  type Rules,
} from './policy.js';
import { checkReferenceValues } from './reference-values.js';
import {
  analyseSignatures,
  analyseSignaturesAsync,
  provesKeyPossession,
  reconcileMeasurements,
  type SignedView,
} from './signed.js';
import type { TrustSource } from './trust-store.js';
import { VerdictBuilder, type ReasonCode, type Verdict } from './verdict.js';

export interface VerifyOptions {
  /** The verifier's clock: evidence age, and certificate validity under `certificateTime: now`. */
  readonly now?: Date;
  /** The requester nonce the caller chose (32 bytes, hex or bytes); every signature must be over it. */
  readonly expectedNonce?: string | Uint8Array;
  /** Allowed clock difference for evidence dated in the future (default 300 s). */
  readonly clockSkewSeconds?: number;
}

/** Which reason, under which rule, a chain problem from x509/chain.ts becomes. */
const PROBLEM_RULE: Readonly<Record<ChainProblemCode, readonly [ReasonCode, RuleName]>> = {
  EMPTY_CHAIN: ['CHAIN_INVALID', 'chain'],
  ROOT_SIGNATURE: ['CHAIN_INVALID', 'chain'],
  ROOT_HASH: ['CHAIN_INVALID', 'chain'],
  CHAIN_LINK: ['CHAIN_INVALID', 'chain'],
  CHAIN_SIGNATURE: ['CHAIN_INVALID', 'chain'],
  REPEATED_CERTIFICATE: ['CHAIN_INVALID', 'chain'],
  CA_REQUIRED: ['CHAIN_INVALID', 'chain'],
  PATH_LEN: ['CHAIN_INVALID', 'chain'],
  NOT_YET_VALID: ['CERT_NOT_YET_VALID', 'validity'],
  EXPIRED: ['CERT_EXPIRED', 'validity'],
  KEY_CERT_SIGN: ['KEY_USAGE', 'keyUsage'],
  LEAF_KEY_USAGE_MISSING: ['KEY_USAGE', 'keyUsage'],
  LEAF_DIGITAL_SIGNATURE: ['KEY_USAGE', 'keyUsage'],
  LEAF_EKU: ['EKU', 'eku'],
  HARDWARE_IDENTITY_IN_ALIAS: ['HARDWARE_IDENTITY', 'hardwareIdentity'],
  VERSION: ['CERT_INVALID', 'spdmCertificate'],
  EMPTY_NAME: ['CERT_INVALID', 'spdmCertificate'],
  UNKNOWN_CRITICAL_EXTENSION: ['CERT_INVALID', 'spdmCertificate'],
  LEAF_IS_CA: ['CERT_INVALID', 'spdmCertificate'],
  LEAF_BASIC_CONSTRAINTS_MISSING: ['CERT_INVALID', 'spdmCertificate'],
  LEAF_KEY_ALGORITHM: ['CERT_INVALID', 'spdmCertificate'],
};

/** Device chains are root, one or two intermediates, leaf; anything far longer is refused unread. */
const MAX_CHAIN_CERTIFICATES = LIMITS.chainCertificates;

interface SlotChain {
  readonly slot: number;
  readonly certModel: number;
  readonly rootHash: Uint8Array;
  readonly certs: readonly ParsedCertificate[];
}

function normalizeNonce(n: string | Uint8Array): string | undefined {
  const hex = typeof n === 'string' ? n.trim().toLowerCase().replace(/^0x/, '') : toHex(n);
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** Decodes and parses the chain of one slot; reports and returns undefined when it cannot. */
function readChain(e: Evidence, slot: number, v: VerdictBuilder): SlotChain | undefined {
  const s = e.slots.find((x) => x.slot === slot);
  if (!s || s.certChain === '') {
    v.fail('CHAIN_UNTRUSTED', `slot ${slot}: the evidence records no certificate chain`, { slot });
    return undefined;
  }
  if (!hashInfo(e.algorithms.baseHash)) {
    v.fail('MALFORMED_EVIDENCE', `unknown hash algorithm 0x${e.algorithms.baseHash.toString(16)}`);
    return undefined;
  }
  try {
    const c = chainForSlot(fromHex(s.certChain), {
      version: e.versionByte,
      hashId: e.algorithms.baseHash,
      cache: sharedCertificateCache,
      maxCertificates: MAX_CHAIN_CERTIFICATES,
    });
    return { slot, certModel: s.certModel, rootHash: c.rootHash, certs: c.certificates };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const certIndex = err instanceof SpdmError ? err.details['certIndex'] : undefined;
    // chainForSlot prefixes the parser's message with the index, which this message already names.
    const parserMessage = err instanceof Error && err.cause instanceof Error ? err.cause.message : message;
    if (typeof certIndex === 'number')
      v.fail('CERT_INVALID', `slot ${slot}: certificate ${certIndex} cannot be parsed: ${parserMessage}`, {
        slot,
        certIndex,
      });
    else if (err instanceof SpdmError && err.code === 'LIMIT_EXCEEDED')
      v.fail('CHAIN_INVALID', `slot ${slot}: ${message}`, { slot });
    else v.fail('CHAIN_INVALID', `slot ${slot}: the SPDM certificate chain cannot be decoded: ${message}`, { slot });
    return undefined;
  }
}

/**
 * Slot 0xFF (PUB_KEY_ID_CAP): no chain, so no anchor, validity or deny-list to check — the key is
 * trusted only when the policy names it. Returns whether the evidence records a key to judge.
 */
function checkPublicKey(e: Evidence, policy: Policy, v: VerdictBuilder): boolean {
  if (!e.publicKey) {
    v.fail('CHAIN_UNTRUSTED', 'slot 0xFF: the evidence records no provisioned public key', { slot: 0xff });
    return false;
  }
  const fingerprint = publicKeyFingerprint(fromHex(e.publicKey));
  if (policy.trustedPublicKeys?.has(fingerprint))
    v.pass(
      'PUBLIC_KEY_TRUSTED',
      `slot 0xFF: the provisioned public key (sha256:${fingerprint}) is one the policy trusts`,
    );
  else
    v.fail(
      'PUBLIC_KEY_UNTRUSTED',
      `slot 0xFF: the provisioned public key (sha256:${fingerprint}) is not among ${policy.source ?? 'the policy'}'s trustedPublicKeys`,
      { slot: 0xff, fingerprint: `sha256:${fingerprint}` },
    );
  return true;
}

function checkChain(
  e: Evidence,
  c: SlotChain,
  rules: Rules,
  trust: TrustSource,
  certTime: Date,
  v: VerdictBuilder,
): void {
  const { slot, certs } = c;
  const leaf = certs.at(-1) as ParsedCertificate;
  const before = v.reasons.length + v.warnings.length;

  // Structure, validity, key usage, EKU and the other DSP0274 rules.
  const report = validateCertChain(certs, {
    now: certTime,
    role: 'responder',
    version: e.versionByte,
    asymId: e.algorithms.baseAsym,
    ...(c.certModel ? { certModel: c.certModel } : {}),
    cache: sharedCertificateCache,
  });
  const problems = [...report.problems];
  const first = certs[0] as ParsedCertificate;
  if (first.selfIssued && !equalBytes(c.rootHash, digest(e.algorithms.baseHash, first.der))) {
    problems.unshift({
      code: 'ROOT_HASH',
      certIndex: 0,
      message: 'RootHash is not the hash of the root certificate in the chain',
    });
  }
  for (const p of problems) {
    const [code, rule] = PROBLEM_RULE[p.code];
    const cert = certs[p.certIndex];
    v.fail(
      code,
      `slot ${slot}: ${p.message}`,
      { slot, certIndex: p.certIndex, problem: p.code, ...(cert ? { subject: cert.subject } : {}) },
      rules[rule],
    );
  }
  if (rules.responderAuthEku !== 'off' && !(leaf.extendedKeyUsage ?? []).includes(OID_DMTF_EKU_RESPONDER_AUTH)) {
    v.fail(
      'EKU',
      `slot ${slot}: leaf "${leaf.subject}" lacks the DMTF responder-auth extended key usage (${OID_DMTF_EKU_RESPONDER_AUTH})`,
      { slot, certIndex: certs.length - 1, subject: leaf.subject },
      rules.responderAuthEku,
    );
  }
  if (v.reasons.length + v.warnings.length === before) {
    v.pass(
      'CERTIFICATE_RULES',
      `slot ${slot}: ${certs.length} certificates satisfy the SPDM/DMTF rules and are valid at ${certTime.toISOString()}`,
    );
  }

  // Trust anchor.
  let anchor: ParsedCertificate | undefined;
  if (rules.chain !== 'off') {
    let t;
    try {
      t = chainsToRoot(certs, trust.anchors, certTime, {
        rootHash: c.rootHash,
        hashId: e.algorithms.baseHash,
        cache: sharedCertificateCache,
      });
    } catch (err) {
      t = { trusted: false, reason: err instanceof Error ? err.message : String(err) };
    }
    if (t.trusted && t.anchor) {
      anchor = t.anchor;
      v.pass(
        'CHAIN_TRUSTED',
        `slot ${slot}: the chain leads to trust anchor "${t.anchor.subject}" (sha256 ${t.anchor.fingerprintSha256})`,
      );
    } else {
      v.fail(
        'CHAIN_UNTRUSTED',
        `slot ${slot}: ${t.reason ?? 'the chain does not lead to a trust anchor'}`,
        { slot, root: first.subject, rootFingerprint: first.fingerprintSha256 },
        rules.chain,
      );
    }
  }

  // Deny-list: every certificate of the chain, and the anchor it leads to.
  if (rules.deny !== 'off') {
    const deny = trust.denyList;
    const candidates: { cert: ParsedCertificate; certIndex: number | 'anchor' }[] = certs.map((cert, certIndex) => ({
      cert,
      certIndex,
    }));
    if (anchor && !certs.some((x) => x.fingerprintSha256 === anchor.fingerprintSha256))
      candidates.push({ cert: anchor, certIndex: 'anchor' });
    let denied = 0;
    for (const { cert, certIndex } of candidates) {
      const m = deny.match(cert);
      if (!m) continue;
      denied++;
      const which =
        certIndex === 'anchor' ? 'trust anchor' : certIndex === certs.length - 1 ? 'leaf' : `certificate ${certIndex}`;
      v.fail(
        'CERT_DENIED',
        `slot ${slot}: ${which} "${cert.subject}" (serial ${cert.serialNumber}) is on the deny-list by ${m.by === 'fingerprint' ? 'fingerprint' : 'issuer and serial number'}${m.source ? ` (${m.source})` : ''}`,
        {
          slot,
          certIndex,
          subject: cert.subject,
          fingerprint: cert.fingerprintSha256,
          by: m.by,
          entry: m.entry,
          ...(m.source ? { source: m.source } : {}),
        },
        rules.deny,
      );
    }
    if (denied === 0) v.pass('NOT_DENIED', `slot ${slot}: no certificate is on the deny-list (${deny.size} entries)`);
  }

  // PCIe CMA: the leaf names the PCI function.
  if (rules.cmaSan !== 'off') {
    if (!e.pci) {
      v.fail(
        'PCI_IDENTITY_MISSING',
        'the evidence carries no PCI identity, so the PCIe CMA subjectAltName rule cannot be checked',
        { slot },
        rules.cmaSan,
      );
    } else {
      const r = checkCmaSan(leaf, e.pci);
      if (r.ok) v.pass('SAN_MATCH', `slot ${slot}: the leaf names the device "${r.expected}"`);
      else v.fail(r.code, `slot ${slot}: ${r.message}`, { slot, expected: r.expected, found: r.found }, rules.cmaSan);
    }
  }
}

function checkSignatures(e: Evidence, views: readonly SignedView[], v: VerdictBuilder): void {
  if (views.length === 0) {
    v.fail(
      'SIGNATURE_MISSING',
      'the evidence holds no signature: the device never proved it holds the key of its certificate',
    );
    return;
  }
  if (!views.some(provesKeyPossession) && views.every((s) => s.valid)) {
    v.fail(
      'SIGNATURE_MISSING',
      `no signature of the evidence (${views.map((s) => s.kind).join(', ')}) is over a requester nonce: the device never proved it holds the key of its certificate`,
    );
  }
  let bad = 0;
  for (const s of views) {
    if (s.valid) continue;
    bad++;
    v.fail('SIGNATURE_INVALID', `signature ${s.signatureIndex} (${s.kind}, slot ${s.slot}): ${s.problems.join('; ')}`, {
      signatureIndex: s.signatureIndex,
      kind: s.kind,
      slot: s.slot,
    });
  }
  // The evidence's own account of the connection must be what the device signed.
  const inconsistent: string[] = [];
  for (const s of views.filter((x) => x.valid)) {
    if (s.version !== e.versionByte)
      inconsistent.push(
        `the evidence says SPDM ${versionString(e.versionByte)} but signature ${s.signatureIndex} was made under ${versionString(s.version)}`,
      );
    if (s.asymAlgo !== e.algorithms.baseAsym)
      inconsistent.push(
        `the evidence says BaseAsymAlgo 0x${e.algorithms.baseAsym.toString(16)} but signature ${s.signatureIndex} uses 0x${s.asymAlgo.toString(16)}`,
      );
    if (s.hashAlgo !== e.algorithms.baseHash)
      inconsistent.push(
        `the evidence says BaseHashAlgo 0x${e.algorithms.baseHash.toString(16)} but signature ${s.signatureIndex} uses 0x${s.hashAlgo.toString(16)}`,
      );
    if (s.negotiated && s.negotiated.measurementSpec !== e.algorithms.measurementSpec) {
      inconsistent.push(
        `the evidence says MeasurementSpecification 0x${e.algorithms.measurementSpec.toString(16)} but the device negotiated 0x${s.negotiated.measurementSpec.toString(16)}`,
      );
    }
    if (s.negotiated && s.negotiated.measurementHash !== e.algorithms.measurementHash) {
      inconsistent.push(
        `the evidence says MeasurementHashAlgo 0x${e.algorithms.measurementHash.toString(16)} but the device negotiated 0x${s.negotiated.measurementHash.toString(16)}`,
      );
    }
  }
  // Every signature of one connection begins with the same A: one over another VCA was made on another connection.
  const first = views.find((x) => x.valid && x.vca !== undefined);
  for (const s of views) {
    if (!first || !s.valid || s.vca === undefined || s.vca === first.vca) continue;
    inconsistent.push(
      `signature ${s.signatureIndex} (${s.kind}) was made over other VCA messages than signature ${first.signatureIndex} (${first.kind}), so on another connection`,
    );
  }
  for (const msg of [...new Set(inconsistent)]) v.fail('SIGNATURE_INVALID', `${msg}: not what the device signed`);
  if (bad === 0 && inconsistent.length === 0) {
    v.pass(
      'SIGNATURES_VALID',
      `${views.length} signature${views.length === 1 ? '' : 's'} (${views.map((s) => s.kind).join(', ')}) verify with the leaf key and match the evidence`,
    );
  }
}

/**
 * A CHALLENGE_AUTH that signed a summary of all measurements (type 0xFF) must summarise the
 * measurement blocks the device signed in MEASUREMENTS: two signed accounts of the device's state
 * that disagree mean it lied in one of them (or changed mid-flow). Checked only where the
 * signed blocks are the complete set in digest form; a TCB-only summary cannot be recomputed.
 */
function checkSummaryHash(views: readonly SignedView[], v: VerdictBuilder): void {
  const full = views.find(
    (s) => s.valid && s.kind === 'MEASUREMENTS' && s.summarisable === true && s.blocks.length > 0,
  );
  if (!full) return;
  for (const s of views) {
    // CHALLENGE_AUTH and KEY_EXCHANGE_RSP carry a summary hash when asked for one.
    if (!s.valid || s.measurementSummaryHashType !== 0xff || s.measurementSummaryHash === undefined) continue;
    const expected = toHex(digest(s.hashAlgo, ...full.blocks.map((b) => fromHex(b.block))));
    if (expected === s.measurementSummaryHash) {
      v.pass(
        'MEASUREMENT_SUMMARY_MATCH',
        `the measurement summary hash signed in ${s.kind} is the hash of the ${full.blocks.length} signed measurement blocks`,
      );
    } else {
      v.fail(
        'MEASUREMENT_MISMATCH',
        `the measurement summary hash signed in ${s.kind} (${s.measurementSummaryHash}) is not the hash of the ${full.blocks.length} measurement blocks signed in MEASUREMENTS (${expected}): the device signed two different accounts of its state`,
        {
          signatureIndex: s.signatureIndex,
          expected,
          actual: s.measurementSummaryHash,
        },
      );
    }
  }
}

/** A device that says its measurements changed while it was reporting them has given no consistent set. */
function checkContentChanged(views: readonly SignedView[], v: VerdictBuilder): void {
  for (const s of views) {
    if (!s.valid || s.kind !== 'MEASUREMENTS' || s.contentChanged !== true) continue;
    v.fail(
      'MEASUREMENT_MISMATCH',
      `signature ${s.signatureIndex} (MEASUREMENTS) reports ContentChanged: the device's measurements changed during the signed sequence, so its blocks are not one consistent state`,
      { signatureIndex: s.signatureIndex },
    );
  }
}

function checkNonce(views: readonly SignedView[], expected: string | Uint8Array, v: VerdictBuilder): void {
  const want = normalizeNonce(expected);
  if (want === undefined) {
    v.fail('NONCE_MISMATCH', 'the expected nonce is not 32 bytes of hex');
    return;
  }
  const valid = views.filter((s) => s.valid);
  if (valid.length === 0) {
    v.fail('NONCE_MISMATCH', `no valid signature was made over the expected nonce ${want}`, { expected: want });
    return;
  }
  let ok = true;
  for (const s of valid) {
    if (s.requesterNonce !== want) {
      ok = false;
      v.fail(
        'NONCE_MISMATCH',
        `signature ${s.signatureIndex} (${s.kind}) was made over requester nonce ${s.requesterNonce ?? '(none)'}, not the expected ${want}: the evidence is not fresh`,
        {
          signatureIndex: s.signatureIndex,
          expected: want,
          actual: s.requesterNonce,
        },
      );
    }
  }
  if (ok) v.pass('NONCE_MATCH', `every signature is over the expected nonce ${want}`);
}

function checkAge(
  collectedAt: Date,
  now: Date,
  req: EvidenceRequirements,
  skewSeconds: number,
  v: VerdictBuilder,
): void {
  const ageMs = now.getTime() - collectedAt.getTime();
  if (ageMs < -skewSeconds * 1000) {
    v.fail(
      'STALE_EVIDENCE',
      `the evidence is dated ${collectedAt.toISOString()}, ${Math.round(-ageMs / 1000)} s in the future of the verifier clock`,
      { collectedAt: collectedAt.toISOString(), now: now.toISOString() },
    );
    return;
  }
  if (req.maxAgeSeconds === undefined) return;
  if (ageMs > req.maxAgeSeconds * 1000) {
    v.fail(
      'STALE_EVIDENCE',
      `the evidence was collected ${Math.round(ageMs / 1000)} s ago (${collectedAt.toISOString()}), the policy allows ${req.maxAgeSeconds} s`,
      {
        collectedAt: collectedAt.toISOString(),
        ageSeconds: Math.round(ageMs / 1000),
        maxAgeSeconds: req.maxAgeSeconds,
      },
    );
  } else {
    v.pass('EVIDENCE_FRESH', `collected ${Math.max(0, Math.round(ageMs / 1000))} s ago, within ${req.maxAgeSeconds} s`);
  }
}

function identityOf(e: Evidence, leaf: ParsedCertificate | undefined): string {
  const parts: string[] = [];
  if (e.pci) parts.push(`PCI ${cmaSanString(e.pci)}`);
  if (leaf) parts.push(`leaf "${leaf.subject}"`);
  if (e.device) parts.push(`device "${e.device}"`);
  return parts.join(', ') || 'unidentified device';
}

function verifyParsed(
  e: Evidence,
  policy: Policy,
  trust: TrustSource,
  o: VerifyOptions,
  now: Date,
  v: VerdictBuilder,
  views: readonly SignedView[],
): DevicePolicy | undefined {
  const collectedAt = new Date(e.collectedAt);

  // The slots whose keys signed something; without signatures, every slot with a chain (for diagnosis).
  const signing = [...new Set(views.map((s) => s.slot))];
  const primarySlot =
    views.find((s) => s.kind === 'CHALLENGE_AUTH')?.slot ?? signing[0] ?? e.slots.find((s) => s.certChain !== '')?.slot;
  const slots = signing.length > 0 ? signing : primarySlot !== undefined ? [primarySlot] : [];
  if (slots.length === 0) v.fail('CHAIN_UNTRUSTED', 'the evidence records no certificate chain');
  const chains = slots
    .filter((s) => s !== PUBLIC_KEY_SLOT)
    .map((s) => readChain(e, s, v))
    .filter((c): c is SlotChain => c !== undefined);
  const keyRecorded = slots.includes(PUBLIC_KEY_SLOT) && checkPublicKey(e, policy, v);
  const primary = chains.find((c) => c.slot === primarySlot) ?? chains[0];
  const leaf = primary?.certs.at(-1);

  const device = matchDevice(policy, e, leaf);
  const { rules, evidence: req } = effectivePolicy(policy, device);
  const certTime = req.certificateTime === 'now' ? now : collectedAt;

  for (const c of chains) checkChain(e, c, rules, trust, certTime, v);
  checkSignatures(e, views, v);
  if (o.expectedNonce !== undefined) checkNonce(views, o.expectedNonce, v);
  checkAge(collectedAt, now, req, o.clockSkewSeconds ?? 300, v);

  const signedVersion = views.find((s) => s.valid)?.version ?? e.versionByte;
  if (req.minSpdmVersion !== undefined) {
    if (signedVersion < req.minSpdmVersion) {
      v.fail(
        'VERSION_TOO_OLD',
        `the device negotiated SPDM ${versionString(signedVersion)}, the policy requires at least ${versionString(req.minSpdmVersion)}`,
        {
          version: versionString(signedVersion),
          minimum: versionString(req.minSpdmVersion),
        },
      );
    } else {
      v.pass(
        'VERSION_OK',
        `SPDM ${versionString(signedVersion)} meets the minimum ${versionString(req.minSpdmVersion)}`,
      );
    }
  }

  // Measurements: the signed blocks, with the evidence's list checked against them.
  const trustedSlots = new Set(chains.map((c) => c.slot));
  if (keyRecorded) trustedSlots.add(PUBLIC_KEY_SLOT);
  const rec = reconcileMeasurements(e, views, trustedSlots);
  checkSummaryHash(
    views.filter((s) => trustedSlots.has(s.slot)),
    v,
  );
  checkContentChanged(
    views.filter((s) => trustedSlots.has(s.slot)),
    v,
  );
  for (const f of rec.forged)
    v.fail('SIGNATURE_INVALID', `${f.message}: the evidence was altered after signing`, { index: f.index });
  for (const m of rec.malformed) v.fail('MALFORMED_EVIDENCE', m.message, { index: m.index });

  if (!device) {
    if (req.requireDevicePolicy)
      v.fail(
        'NO_POLICY_FOR_DEVICE',
        `no device entry of ${policy.source ?? 'the policy'} matches ${identityOf(e, leaf)}`,
      );
    else if (policy.devices.length > 0)
      v.pass('NO_DEVICE_POLICY', `no device entry matches ${identityOf(e, leaf)}; reference values not checked`);
    return undefined;
  }
  v.pass('DEVICE_POLICY', `device entry "${device.name}" applies to ${identityOf(e, leaf)}`);
  checkReferenceValues(device, rec.measurements, req, v);
  return device;
}

/**
 * Verifies `evidence` (an Evidence value, the `spdm authenticate --json` wrapper, or anything
 * parsed from an untrusted file) under `policy` (DEFAULT_POLICY when undefined) against `trust`.
 * Never throws.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * import { TrustStore, formatVerdict, toHex, verify } from 'spdmkit';
 *
 * const trust = new TrustStore({ anchors: 'roots/' }); // the vendor roots you accept
 * const nonce = randomBytes(32); // chosen by the verifier, so the evidence is fresh
 * const evidence = await requester.authenticate({ nonce });
 * const verdict = verify(evidence, undefined, trust, { expectedNonce: toHex(nonce) });
 * if (verdict.status !== 'trusted') console.error(formatVerdict(verdict));
 * ```
 */
export function verify(
  evidence: unknown,
  policy: Policy | undefined,
  trust: TrustSource,
  options: VerifyOptions = {},
): Verdict {
  const now = options.now ?? new Date();
  const v = new VerdictBuilder();
  const parsed = parseEvidence(evidence);
  if (!parsed.evidence) return malformed(parsed.problems, v, now);
  const e = parsed.evidence;
  return judged(
    e,
    () => verifyParsed(e, policy ?? DEFAULT_POLICY, trust, options, now, v, analyseSignatures(e)),
    v,
    now,
  );
}

/**
 * verify() with the signature primitives run in libuv's threadpool rather than on the caller's
 * thread: the same checks and the same verdict, for a daemon judging many devices' evidence
 * while its event loop serves its API. The evidence is parsed into the verifier's own copy
 * before anything is awaited, so what was re-verified is what is judged. Never rejects.
 *
 * @example
 * ```ts
 * import { TrustStore, toHex } from 'spdmkit';
 * import { verifyAsync } from 'spdmkit/verifier';
 *
 * // Many devices at once: their signature checks share libuv's threads, not the event loop.
 * const verdicts = await Promise.all(
 *   collected.map(({ evidence, nonce }) => verifyAsync(evidence, policy, trust, { expectedNonce: toHex(nonce) })),
 * );
 * ```
 */
export async function verifyAsync(
  evidence: unknown,
  policy: Policy | undefined,
  trust: TrustSource,
  options: VerifyOptions = {},
): Promise<Verdict> {
  const now = options.now ?? new Date();
  const v = new VerdictBuilder();
  const parsed = parseEvidence(evidence);
  if (!parsed.evidence) return malformed(parsed.problems, v, now);
  const e = parsed.evidence;
  let views: SignedView[];
  try {
    views = await analyseSignaturesAsync(e);
  } catch (err) {
    return judged(
      e,
      () => {
        throw err;
      },
      v,
      now,
    );
  }
  return judged(e, () => verifyParsed(e, policy ?? DEFAULT_POLICY, trust, options, now, v, views), v, now);
}

function malformed(problems: readonly string[], v: VerdictBuilder, now: Date): Verdict {
  for (const p of problems.slice(0, 25)) v.fail('MALFORMED_EVIDENCE', p);
  if (problems.length > 25) v.fail('MALFORMED_EVIDENCE', `… and ${problems.length - 25} more problems`);
  return v.finish(now);
}

function judged(e: Evidence, run: () => DevicePolicy | undefined, v: VerdictBuilder, now: Date): Verdict {
  let device: DevicePolicy | undefined;
  try {
    device = run();
  } catch (err) {
    // A defect, or input no check above anticipated: never trusted, never thrown.
    v.fail(
      'MALFORMED_EVIDENCE',
      `the evidence could not be verified: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return v.finish(now, device?.name);
}
