/**
 * VCA: GET_VERSION / VERSION, GET_CAPABILITIES / CAPABILITIES, NEGOTIATE_ALGORITHMS / ALGORITHMS.
 * Picks the highest version both sides allow, offers our capabilities and algorithm preferences,
 * and holds the responder to what DSP0274 lets it answer (spdm/capability-rules.ts). Each pair
 * goes into transcript A; the result is the {@link Connection} every later request runs on.
 */
import { allAsyms, asymInfo, hashInfo, isAsymSupported, isHashSupported } from '../crypto/algorithms.js';
import { isAeadSupported } from '../crypto/aead.js';
import { isDheSupported } from '../crypto/dhe.js';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { DEFAULT_VERSIONS, ResponseCode, SUPPORTED_VERSIONS, versionString } from '../spdm/codes.js';
import { checkResponderCapabilities, checkSelectedAlgorithms } from '../spdm/capability-rules.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import { decodeVersion, encodeGetVersion, versionByte } from '../spdm/messages/version.js';
import {
  CapabilityFlag,
  decodeCapabilities,
  encodeGetCapabilities,
  type CapabilitiesResponse,
} from '../spdm/messages/capabilities.js';
import {
  algStructMask,
  algStructValue,
  AlgType,
  decodeAlgorithms,
  encodeNegotiateAlgorithms,
  KeySchedule,
  MeasurementSpec,
  OtherParams,
  type AlgStruct,
  type AlgorithmsResponse,
} from '../spdm/messages/algorithms.js';
import type { Connection } from './connection.js';
import type { Decoder } from './exchange.js';
import { DEFAULT_AEAD, DEFAULT_BASE_ASYM, DEFAULT_BASE_HASH, DEFAULT_DHE, type RequesterOptions } from './options.js';

/** What negotiation needs before a connection exists: transcript A and T1 round trips at a given version. */
export interface NegotiationContext {
  readonly transcript: ConnectionTranscript;
  /** The transport's largest message: our DataTransferSize defaults to it (at most 0x1200). */
  readonly maxMessageSize: number;
  /** One round trip whose response must carry `version` (GET_VERSION's is always 0x10). */
  send<T extends { readonly raw: Uint8Array }>(
    request: Uint8Array,
    expect: number,
    version: number,
    decode: Decoder<T>,
  ): Promise<T>;
  /**
   * The device's CAPABILITIES are in: from here on a message larger than a transfer goes in
   * chunks (NEGOTIATE_ALGORITHMS and ALGORITHMS can outgrow a 42-byte DataTransferSize).
   */
  capabilitiesKnown?(peer: { readonly version: number; readonly capabilities: CapabilitiesResponse }): void;
}

/** Our DataTransferSize: the option, else the transport's limit up to 0x1200. */
/** MELSpecification bit 0: the DMTF measurement extension log format. */
const MEL_SPECIFICATION_DMTF = 0x01;

export function dataTransferSize(opts: RequesterOptions, maxMessageSize: number): number {
  return opts.dataTransferSize ?? Math.min(maxMessageSize, 0x1200);
}

/** The highest version both we (within `opts`) and the device's VERSION allow. */
function chooseVersion(opts: RequesterOptions, offeredEntries: readonly number[]): number {
  const allowed = (opts.versions ?? DEFAULT_VERSIONS).filter(
    (v) => SUPPORTED_VERSIONS.includes(v) && v >= (opts.minVersion ?? 0x10),
  );
  const offered = new Set(offeredEntries);
  const version = allowed.filter((v) => offered.has(v)).sort((x, y) => y - x)[0];
  if (version === undefined) {
    throw new SpdmError(
      'NO_COMMON_VERSION',
      `no common SPDM version: device offers ${[...offered].map(versionString).join(', ') || 'none'}, we allow ${allowed.map(versionString).join(', ')}`,
    );
  }
  return version;
}

/**
 * The AlgStructs `opts.session` offers under `version`: the bits this version defines and
 * node:crypto can run, in AlgType order; none without `opts.session` or before 1.1.
 */
export function sessionAlgStructs(opts: RequesterOptions, version: number): AlgStruct[] {
  const s = opts.session;
  if (!s || version < 0x11) return [];
  const struct = (type: number, bits: readonly number[], usable: (bit: number) => boolean): AlgStruct[] => {
    const supported = bits.filter(usable).reduce((m, b) => m | b, 0) & algStructMask(type, version);
    return supported === 0 ? [] : [{ type, supported, external: [] }];
  };
  return [
    ...struct(AlgType.DHE, s.dhe ?? DEFAULT_DHE, isDheSupported),
    ...struct(AlgType.AEAD, s.aead ?? DEFAULT_AEAD, isAeadSupported),
    ...struct(AlgType.REQ_BASE_ASYM, s.reqBaseAsym ?? opts.identity?.slots.map((x) => x.asymId) ?? [], isAsymSupported),
    ...(s.keySchedule === false ? [] : struct(AlgType.KEY_SCHEDULE, [KeySchedule.SPDM], () => true)),
  ];
}

/**
 * An ERROR answer to NEGOTIATE_ALGORITHMS that offered requester signature algorithms (mutual
 * authentication), with the offer named: libspdm's responder, for one, answers InvalidRequest when it
 * shares none of them (its default accepts RSA only), which says nothing of the cause by itself.
 */
function withRequesterAsymHint(e: unknown, algStructs: readonly AlgStruct[]): unknown {
  const req = algStructs.find((s) => s.type === AlgType.REQ_BASE_ASYM);
  if (!req || !isSpdmError(e, 'DEVICE_ERROR')) return e;
  const names = allAsyms()
    .filter((a) => (req.supported & a.id) !== 0)
    .map((a) => a.name)
    .join(', ');
  return new SpdmError(
    'DEVICE_ERROR',
    `${e.message}; we offered ReqBaseAsymAlg ${names} for mutual authentication, which the device may not accept`,
    e.details,
    { cause: e },
  );
}

export async function negotiate(ctx: NegotiationContext, opts: RequesterOptions): Promise<Connection> {
  const { transcript } = ctx;
  const gv = encodeGetVersion();
  const vr = await ctx.send(gv, ResponseCode.VERSION, 0x10, decodeVersion);
  const version = chooseVersion(opts, vr.entries.map(versionByte));
  transcript.appendVca(gv, vr.raw);
  transcript.setVersion(version);

  const flags = opts.capabilityFlags ?? CapabilityFlag.CERT | CapabilityFlag.CHAL;
  const dts = dataTransferSize(opts, ctx.maxMessageSize);
  const gc = encodeGetCapabilities({
    version,
    ctExponent: opts.ctExponent ?? 0,
    flags: version >= 0x11 ? flags : 0,
    dataTransferSize: dts,
    maxSpdmMsgSize: Math.max(dts, opts.maxSpdmMsgSize ?? dts),
  });
  const caps = await ctx.send(gc, ResponseCode.CAPABILITIES, version, decodeCapabilities);
  checkResponderCapabilities(caps, version);
  transcript.appendVca(gc, caps.raw);
  ctx.capabilitiesKnown?.({ version, capabilities: caps });

  // 1.0/1.1 define fewer algorithm bits: offer only those the negotiated version knows.
  const asymPref = (opts.baseAsym ?? DEFAULT_BASE_ASYM).filter(
    (a) => isAsymSupported(a) && (version >= 0x12 || a <= 0x1ff),
  );
  const hashPref = (opts.baseHash ?? DEFAULT_BASE_HASH).filter(
    (h) => isHashSupported(h) && (version >= 0x12 || h <= 0x3f),
  );
  const baseAsym = asymPref.reduce((m, a) => m | a, 0);
  const baseHash = hashPref.reduce((m, h) => m | h, 0);
  const multiKeyConn = version >= 0x13 && (caps.flags & CapabilityFlag.MULTI_KEY_ONLY) !== 0;
  const otherParams =
    (version >= 0x12 ? OtherParams.OPAQUE_FMT_1 : 0) | (multiKeyConn ? OtherParams.MULTI_KEY_CONN : 0);
  const algStructs = sessionAlgStructs(opts, version);
  const melOffered = version >= 0x13 && (caps.flags & CapabilityFlag.MEL) !== 0 ? MEL_SPECIFICATION_DMTF : 0;
  const na = encodeNegotiateAlgorithms(version, {
    measurementSpec: MeasurementSpec.DMTF,
    otherParams,
    baseAsym,
    baseHash,
    // The DMTF measurement extension log format, asked for of a 1.3 device that keeps a log (MEL_CAP).
    melSpec: melOffered,
    extAsym: [],
    extHash: [],
    algStructs,
  });
  let alg: AlgorithmsResponse;
  try {
    alg = await ctx.send(na, ResponseCode.ALGORITHMS, version, decodeAlgorithms);
  } catch (e) {
    throw withRequesterAsymHint(e, algStructs);
  }
  checkSelectedAlgorithms(alg, caps, {
    baseAsym,
    baseHash,
    otherParams,
    algStructs,
    requesterFlags: version >= 0x11 ? flags : 0,
  });
  // MELSpecificationSel: the format we asked for, or none (libspdm: DMTF exactly when asked of a MEL_CAP device).
  if (alg.melSpec !== 0 && alg.melSpec !== melOffered)
    throw new SpdmError(
      'ALGORITHM_MISMATCH',
      `ALGORITHMS: MELSpecificationSel 0x${alg.melSpec.toString(16)} was not offered (0x${melOffered.toString(16)})`,
    );
  transcript.appendVca(na, alg.raw);
  transcript.setHash(alg.baseHash);
  transcript.setMultiKeyConn(multiKeyConn);
  return {
    version,
    capabilities: caps,
    algorithms: alg,
    hashId: alg.baseHash,
    asymId: alg.baseAsym,
    hashSize: hashInfo(alg.baseHash)?.size ?? 0,
    signatureSize: asymInfo(alg.baseAsym)?.sigSize ?? 0,
    multiKeyConn,
    dheId: algStructValue(alg.algStructs, AlgType.DHE),
    aeadId: algStructValue(alg.algStructs, AlgType.AEAD),
    keyScheduleId: algStructValue(alg.algStructs, AlgType.KEY_SCHEDULE),
    reqAsymId: algStructValue(alg.algStructs, AlgType.REQ_BASE_ASYM),
  };
}
