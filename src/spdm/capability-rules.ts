/**
 * What DSP0274 allows in the negotiation: capability combinations a requester may not ask for,
 * and what a responder's CAPABILITIES and ALGORITHMS may not say. Pure rules over decoded
 * messages, applied by the responder (to requests) and the requester (to responses).
 */
import { SpdmError } from '../wire/errors.js';
import { isSingleBit } from '../wire/bytes.js';
import { isHashSupported, MeasurementHashAlgo, measurementHashToBaseHash } from '../crypto/algorithms.js';
import {
  CapabilityFlag as F,
  MEAS_CAP_MASK,
  responderFlagMask,
  type CapabilitiesResponse,
} from './messages/capabilities.js';
import {
  AlgType,
  algStructMask,
  algStructName,
  MeasurementSpec,
  OtherParams,
  type AlgorithmsResponse,
  type AlgStruct,
} from './messages/algorithms.js';

const has = (flags: number, bit: number): boolean => ((flags >>> 0) & bit) !== 0;

/**
 * Capability combinations DSP0274 forbids in a GET_CAPABILITIES request (the rules libspdm's
 * responder enforces). Returns the first violated rule as a sentence, or undefined when the
 * flags are consistent.
 */
export function requesterFlagProblem(flags: number, version: number): string | undefined {
  if (version < 0x11) return undefined;
  const psk = ((flags >>> 0) >> 10) & 3;
  const keyEx = has(flags, F.KEY_EX);
  const secure = has(flags, F.ENCRYPT) || has(flags, F.MAC);
  const cert = has(flags, F.CERT);
  const pubKey = has(flags, F.PUB_KEY_ID);
  const chal = has(flags, F.CHAL);
  const mutAuth = has(flags, F.MUT_AUTH);
  const epInfo = ((flags >>> 0) >> 22) & 3;
  const multiKey = ((flags >>> 0) >> 26) & 3;
  if (psk >= 2) return 'PSK_CAP has a value reserved for requesters';
  if (keyEx || psk !== 0) {
    if (!secure) return 'KEY_EX_CAP or PSK_CAP without ENCRYPT_CAP or MAC_CAP';
  } else {
    if (secure) return 'ENCRYPT_CAP or MAC_CAP without a way to establish a session';
    if (has(flags, F.HANDSHAKE_IN_THE_CLEAR) || has(flags, F.HBEAT) || has(flags, F.KEY_UPD))
      return 'session capabilities without KEY_EX_CAP or PSK_CAP';
    if (version >= 0x13 && has(flags, F.EVENT)) return 'EVENT_CAP without a way to establish a session';
  }
  if (!keyEx && psk === 1 && has(flags, F.HANDSHAKE_IN_THE_CLEAR)) return 'HANDSHAKE_IN_THE_CLEAR_CAP with PSK only';
  if (cert || pubKey) {
    if (cert && pubKey) return 'CERT_CAP and PUB_KEY_ID_CAP are mutually exclusive';
    if (!chal && !keyEx && !(version >= 0x13 && epInfo === 2))
      return 'a certificate or public key but no capability that uses it';
  } else {
    if (chal || mutAuth) return 'CHAL_CAP or MUT_AUTH_CAP without CERT_CAP or PUB_KEY_ID_CAP';
    if (version >= 0x13 && epInfo === 2) return 'signed EP_INFO_CAP without CERT_CAP or PUB_KEY_ID_CAP';
  }
  if (mutAuth && !keyEx && !chal) return 'MUT_AUTH_CAP without CHAL_CAP or KEY_EX_CAP';
  if (version === 0x11 && mutAuth && !has(flags, F.ENCAP)) return 'MUT_AUTH_CAP without ENCAP_CAP (1.1)';
  if (version >= 0x13) {
    if (epInfo === 3) return 'EP_INFO_CAP has the reserved value 11b';
    if (multiKey === 3) return 'MULTI_KEY_CAP has the reserved value 11b';
    if (multiKey !== 0 && (pubKey || !cert)) return 'MULTI_KEY_CAP without CERT_CAP';
  }
  return undefined;
}

/**
 * A responder's CAPABILITIES, for the version negotiated: no reserved bits or values, and a
 * signing capability only with a key to verify it. Throws CAPABILITY_MISMATCH naming the rule.
 */
export function checkResponderCapabilities(c: CapabilitiesResponse, version: number): void {
  const bad = (msg: string): never => {
    throw new SpdmError('CAPABILITY_MISMATCH', `CAPABILITIES: ${msg}`);
  };
  if ((c.flags & ~responderFlagMask(version)) >>> 0 !== 0)
    bad(`reserved flag bits set (0x${(c.flags >>> 0).toString(16)})`);
  if ((c.flags & MEAS_CAP_MASK) === MEAS_CAP_MASK) bad('MEAS_CAP has the reserved value 11b');
  if (version >= 0x11 && c.flags & F.CERT && c.flags & F.PUB_KEY_ID)
    bad('CERT_CAP and PUB_KEY_ID_CAP are mutually exclusive');
  // A signature needs a key to check it with: a chain (CERT_CAP) or a provisioned key (PUB_KEY_ID_CAP).
  const signs = (c.flags & F.CHAL) !== 0 || (c.flags & MEAS_CAP_MASK) === F.MEAS_SIG;
  if (signs && !(c.flags & (F.CERT | (version >= 0x11 ? F.PUB_KEY_ID : 0))))
    bad(
      'CHAL_CAP or signed measurements without CERT_CAP or PUB_KEY_ID_CAP: there is no key to verify a signature with',
    );
  if (version >= 0x12 && c.dataTransferSize < 42)
    bad(`DataTransferSize ${c.dataTransferSize} is below the 42-byte minimum`);
  if (version >= 0x12 && c.maxSpdmMsgSize < c.dataTransferSize) bad('MaxSPDMmsgSize is smaller than DataTransferSize');
}

/** What the requester offered in NEGOTIATE_ALGORITHMS, as the bit masks it sent. */
export interface AlgorithmOffer {
  readonly baseAsym: number;
  readonly baseHash: number;
  readonly otherParams: number;
  /** The AlgStructs sent (none when omitted). */
  readonly algStructs?: readonly AlgStruct[];
  /** Our GET_CAPABILITIES flags: with the responder's they decide which AlgStructs must be selected. */
  readonly requesterFlags?: number;
}

/** PSK_CAP is a two-bit field: any value but 00 means PSK sessions. */
const pskCap = (flags: number): boolean => ((flags >>> 0) & (F.PSK_NO_CONTEXT | F.PSK_WITH_CONTEXT)) !== 0;

/**
 * The session AlgStructs the two sides' capabilities call for (libspdm's rule, on both sides):
 * DHE when both have KEY_EX_CAP; AEADCipherSuite when both have ENCRYPT_CAP or MAC_CAP;
 * ReqBaseAsymAlg when both have MUT_AUTH_CAP; KeySchedule when both have KEY_EX_CAP or both
 * PSK_CAP. A responder selects one algorithm in each of these (if offered) and 0 in every other.
 */
export function neededAlgStructs(requesterFlags: number, responderFlags: number): ReadonlySet<number> {
  const both = (bit: number) => has(requesterFlags, bit) && has(responderFlags, bit);
  const out = new Set<number>();
  const keyEx = both(F.KEY_EX);
  const psk = pskCap(requesterFlags) && pskCap(responderFlags);
  if (keyEx) out.add(AlgType.DHE);
  if (both(F.ENCRYPT) || both(F.MAC)) out.add(AlgType.AEAD);
  if (both(F.MUT_AUTH)) out.add(AlgType.REQ_BASE_ASYM);
  if (keyEx || psk) out.add(AlgType.KEY_SCHEDULE);
  return out;
}

/**
 * A responder's answer to the AlgStructs of NEGOTIATE_ALGORITHMS: one entry per struct the
 * request carried (in its order), holding the first of `preferences[type]` (most preferred first)
 * that the request offers and the version defines, when the capabilities call for that struct
 * (`needed`, see neededAlgStructs); 0 otherwise.
 */
export function selectAlgStructs(
  offered: readonly AlgStruct[],
  preferences: Readonly<Partial<Record<number, readonly number[]>>>,
  needed: ReadonlySet<number>,
  version: number,
): AlgStruct[] {
  return offered.map((s) => {
    const mask = s.supported & algStructMask(s.type, version);
    const pick = needed.has(s.type) ? (preferences[s.type] ?? []).find((bit) => (mask & bit) !== 0) : undefined;
    return { type: s.type, supported: pick ?? 0, external: [] };
  });
}

/**
 * A responder's ALGORITHMS against what was offered and what its CAPABILITIES need: one algorithm
 * of each kind that was offered, measurement algorithms exactly when it measures, nothing
 * selected that was not asked for. Throws ALGORITHM_MISMATCH naming the rule.
 */
export function checkSelectedAlgorithms(
  a: AlgorithmsResponse,
  caps: CapabilitiesResponse,
  offer: AlgorithmOffer,
): void {
  const bad = (msg: string): never => {
    throw new SpdmError('ALGORITHM_MISMATCH', `ALGORITHMS: ${msg}`);
  };
  const needsAsym = (caps.flags & (F.CHAL | F.MEAS_SIG | F.KEY_EX)) !== 0;
  if (a.baseAsym !== 0 || needsAsym) {
    if (!isSingleBit(a.baseAsym)) bad(`BaseAsymSel 0x${a.baseAsym.toString(16)} is not exactly one algorithm`);
    if ((a.baseAsym & offer.baseAsym) === 0) bad(`BaseAsymSel 0x${a.baseAsym.toString(16)} was not offered`);
  }
  if (!isSingleBit(a.baseHash)) bad(`BaseHashSel 0x${a.baseHash.toString(16)} is not exactly one algorithm`);
  if ((a.baseHash & offer.baseHash) === 0) bad(`BaseHashSel 0x${a.baseHash.toString(16)} was not offered`);
  const measCap = (caps.flags & MEAS_CAP_MASK) !== 0;
  if (measCap) {
    if (a.measurementSpec !== MeasurementSpec.DMTF)
      bad(`MeasurementSpecificationSel 0x${a.measurementSpec.toString(16)} is not DMTF`);
    if (!isSingleBit(a.measurementHash) || a.measurementHash > MeasurementHashAlgo.SM3_256)
      bad(`MeasurementHashAlgo 0x${a.measurementHash.toString(16)} is not exactly one algorithm`);
    const mh = measurementHashToBaseHash(a.measurementHash);
    if (mh !== undefined && !isHashSupported(mh))
      bad(`MeasurementHashAlgo 0x${a.measurementHash.toString(16)} cannot be computed here`);
  } else if (a.measurementHash !== 0 || a.measurementSpec !== 0) {
    bad('measurement algorithms selected by a responder without MEAS_CAP');
  }
  const fmt = a.otherParams & 0x0f;
  if (fmt !== 0 && (!isSingleBit(fmt) || (fmt & offer.otherParams) === 0))
    bad(`opaque data format 0x${fmt.toString(16)} was not offered`);
  checkSelectedAlgStructs(a, offer, caps.flags, bad);
}

/**
 * Each AlgStruct of ALGORITHMS: at most one algorithm, one of those offered in the struct of that
 * type, none in a struct not offered, no external algorithm (we offer none); and one selected in
 * every struct offered that both sides' capabilities call for. A 1.2+ session exchanges its
 * opaque data (the secured message versions) in OpaqueDataFmt1, so that format must be selected
 * when a key schedule is (libspdm's requester insists on it too).
 */
function checkSelectedAlgStructs(
  a: AlgorithmsResponse,
  offer: AlgorithmOffer,
  responderFlags: number,
  bad: (msg: string) => never,
): void {
  const selected = a.algStructs;
  const offered = new Map((offer.algStructs ?? []).map((s) => [s.type, s]));
  for (const s of selected) {
    const name = `${algStructName(s.type)} (AlgStruct type ${s.type})`;
    const o = offered.get(s.type);
    if (s.external.length > 0) bad(`${name} selects an external algorithm, none was offered`);
    if (s.supported === 0) continue;
    const hex = `0x${s.supported.toString(16)}`;
    if (!o) bad(`${algStructName(s.type)}: AlgStruct type ${s.type} selected (${hex}) although none was offered`);
    if (!isSingleBit(s.supported)) bad(`${name} ${hex} is not exactly one algorithm`);
    if ((s.supported & o.supported) === 0) bad(`${name} ${hex} was not offered`);
  }
  const needed = neededAlgStructs(offer.requesterFlags ?? 0, responderFlags);
  for (const o of offered.values()) {
    if (!needed.has(o.type) || o.supported === 0) continue;
    const name = `${algStructName(o.type)} (AlgStruct type ${o.type})`;
    const s = selected.find((x) => x.type === o.type);
    if (!s) bad(`${name} is missing`);
    if (s.supported === 0) bad(`${name}: nothing selected although both sides' capabilities need it`);
    if (o.type === AlgType.KEY_SCHEDULE && a.version >= 0x12 && (a.otherParams & 0x0f) !== OtherParams.OPAQUE_FMT_1)
      bad(`${name} selected without OpaqueDataFmt1, which the session's opaque data needs`);
  }
}
