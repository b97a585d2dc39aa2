/**
 * The SPDM requester: runs VCA, retrieves digests and certificate chains, challenges and reads
 * signed measurements. It checks protocol integrity (lengths, echoed values, digests, transcript
 * signatures against the leaf key of the chain the device sent) and produces Evidence; it does
 * not decide whether the device is trusted — that is the verifier's job.
 */
import type { KeyObject } from 'node:crypto';
import {
  asymInfo,
  hashInfo,
  isAsymSupported,
  isHashSupported,
  measurementHashToBaseHash,
} from '../crypto/algorithms.js';
import { digest } from '../crypto/hash.js';
import { spdmVerify } from '../crypto/signature.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { equalBytes, toHex } from '../wire/bytes.js';
import { DEFAULT_VERSIONS, RequestCode, ResponseCode, SUPPORTED_VERSIONS, versionString } from '../spdm/codes.js';
import { checkResponderCapabilities, checkSelectedAlgorithms } from '../spdm/capability-rules.js';
import { ConnectionTranscript, type SignedTranscript } from '../spdm/connection-transcript.js';
import { decodeVersion, encodeGetVersion, versionByte } from '../spdm/messages/version.js';
import {
  CapabilityFlag,
  decodeCapabilities,
  encodeGetCapabilities,
  MEAS_CAP_MASK,
} from '../spdm/messages/capabilities.js';
import {
  decodeAlgorithms,
  encodeNegotiateAlgorithms,
  MeasurementSpec,
  OtherParams,
} from '../spdm/messages/algorithms.js';
import type { SlotDigest } from '../spdm/messages/digests.js';
import {
  decodeChallengeAuth,
  encodeChallenge,
  MeasurementSummaryHashType,
  NONCE_SIZE,
  REQUESTER_CONTEXT_SIZE,
} from '../spdm/messages/challenge.js';
import {
  decodeGetMeasurements,
  decodeMeasurements,
  encodeGetMeasurements,
  MeasurementAttribute,
  type MeasurementsResponse,
} from '../spdm/messages/measurements.js';
import { measurementTypeName, type MeasurementBlock } from '../spdm/messages/measurement-block.js';
import { validateSpdmChain } from '../x509/chain.js';
import { sharedCertificateCache } from '../x509/cache.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { Transport } from '../transport/transport.js';
import type { Evidence, MeasurementEvidence, SignatureEvidence } from '../evidence/evidence.js';
import { buildEvidence } from '../evidence/build.js';
import { exchange, type Decoder, type ExchangePolicy } from './exchange.js';
import type { Connection, RequestContext } from './connection.js';
import { getCertificate } from './get-certificate.js';
import { getDigests } from './get-digests.js';
import { DEFAULT_BASE_ASYM, DEFAULT_BASE_HASH, ST1_MS, type RequesterOptions } from './options.js';

export type { Connection } from './connection.js';

/** Chain problems that mean the device sent something structurally broken, not merely untrusted. */
const FATAL_CHAIN_PROBLEMS = new Set([
  'ROOT_HASH',
  'CHAIN_LINK',
  'CHAIN_SIGNATURE',
  'ROOT_SIGNATURE',
  'LEAF_KEY_ALGORITHM',
]);

interface SlotState {
  digest?: Uint8Array;
  chain?: Uint8Array;
  certModel: number;
  certificates?: ParsedCertificate[];
  leafKey?: KeyObject;
  problems: { code: string; certIndex: number; message: string }[];
}

export interface MeasurementRequestOptions {
  /** 'all' asks for every block in one signed request; 'one-by-one' walks the indices. */
  readonly mode?: 'all' | 'one-by-one';
  readonly slot?: number;
  readonly rawBitStream?: boolean;
}

export interface AuthenticateOptions extends MeasurementRequestOptions {
  /**
   * The requester nonce for every signed request of this run, e.g. one chosen by a remote
   * verifier so that it can tell the evidence is fresh. Random when omitted.
   */
  readonly nonce?: Uint8Array;
  readonly slot?: number;
  /** Skip GET_MEASUREMENTS even when the device supports signed measurements. */
  readonly skipMeasurements?: boolean;
  readonly measurementSummaryHashType?: number;
  /**
   * Refuse a device that does not offer CHALLENGE (PCIe CMA requires it) instead of accepting a
   * signed MEASUREMENTS as the only proof of key possession.
   */
  readonly requireChallenge?: boolean;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${n}`);
  return n;
}

function positiveMs(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0 || n > LIMITS.maxTimerMs)
    throw new TypeError(`${name} must be a positive number of milliseconds up to ${LIMITS.maxTimerMs}, got ${n}`);
  return n;
}

/**
 * An SPDM requester over one {@link Transport}: negotiates (connect), then gathers evidence —
 * digests, certificate chains, CHALLENGE and signed measurements — checking every reply as it
 * goes. {@link Requester.authenticate} runs the whole flow and returns the {@link Evidence};
 * whether the device is trusted is the verifier's call ({@link verify}), not this class's.
 *
 * @example
 * ```ts
 * import { LoopbackTransport, Requester, Responder, buildProfile } from 'spdmkit';
 *
 * // An emulated device (ECDSA P-384, SHA-384, SPDM 1.2 and 1.3) answering in-process.
 * const device = buildProfile({ name: 'nvme0', versions: [0x12, 0x13], asymId: 0x0080, hashId: 0x02 });
 * const requester = new Requester(new LoopbackTransport(new Responder(device.profile)));
 * const evidence = await requester.authenticate();
 * console.log(evidence.version, evidence.signatures.map((s) => s.kind));
 * ```
 */
export class Requester {
  private readonly opts: RequesterOptions;
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly policy: ExchangePolicy;
  private conn: Connection | undefined;
  /** A, B, C and message_m of this connection: the transcript rules live there. */
  private readonly transcript = new ConnectionTranscript();
  private readonly slots = new Map<number, SlotState>();
  private readonly signatures: SignatureEvidence[] = [];
  private readonly measurements = new Map<number, MeasurementEvidence>();
  private readonly seenNonces = new Set<string>();
  private digests: readonly SlotDigest[] = [];

  constructor(
    private readonly transport: Transport,
    options: RequesterOptions = {},
  ) {
    this.opts = options;
    this.random = options.random ?? systemRandom;
    this.clock = options.clock ?? systemClock;
    this.policy = {
      transport,
      clock: this.clock,
      busyRetries: nonNegative(options.busyRetries ?? LIMITS.busyRetries, 'busyRetries'),
      notReadyRetries: nonNegative(options.notReadyRetries ?? LIMITS.notReadyRetries, 'notReadyRetries'),
      maxNotReadyWaitMs: nonNegative(options.maxNotReadyWaitMs ?? LIMITS.maxNotReadyWaitMs, 'maxNotReadyWaitMs'),
      maxResponseWaitMs: positiveMs(options.maxResponseWaitMs ?? LIMITS.maxResponseWaitMs, 'maxResponseWaitMs'),
      requestDeadlineMs: positiveMs(options.requestDeadlineMs ?? LIMITS.requestDeadlineMs, 'requestDeadlineMs'),
      flowDeadline: () => this.flowDeadline,
    };
    this.flowDeadlineMs = positiveMs(options.flowDeadlineMs ?? LIMITS.flowDeadlineMs, 'flowDeadlineMs');
  }

  get connection(): Connection {
    if (!this.conn) throw new TypeError('not connected: call connect() first');
    return this.conn;
  }

  private readonly flowDeadlineMs: number;
  /** Set while authenticate() runs: every request of the flow must finish before it. */
  private flowDeadline: number | undefined;

  private get rtt(): number {
    return this.opts.rttMs ?? 1000;
  }

  private t1(): number {
    return this.rtt + ST1_MS;
  }

  /** T2 = RTT + CT, CT = 2^CTExponent µs from the responder's CAPABILITIES. */
  private t2(): number {
    const ct = this.conn ? 2 ** this.conn.capabilities.ctExponent / 1000 : 0;
    return this.rtt + Math.max(ST1_MS, Math.ceil(ct));
  }

  /**
   * One exchange, its response decoded by `decode`; `timing` is the response time DSP0274 allows:
   * T1 (no cryptography) or T2 (CT, the device's claim).
   */
  private async send<T extends { readonly raw: Uint8Array }>(
    request: Uint8Array,
    expect: number,
    timing: 'T1' | 'T2',
    decode: Decoder<T>,
  ): Promise<T> {
    const version = this.conn?.version ?? this.pendingVersion;
    if (timing === 'T1') return exchange(this.policy, { request, expect, version, timeoutMs: this.t1() }, decode);
    const reason = this.conn ? { timeoutReason: `CTExponent ${this.conn.capabilities.ctExponent}` } : {};
    return exchange(this.policy, { request, expect, version, timeoutMs: this.t2(), ...reason }, decode);
  }

  /** What a request module needs of this requester: the connection, its transcripts, a round trip. */
  private requestContext(): RequestContext {
    return {
      connection: this.connection,
      transcript: this.transcript,
      send: (request, expect, timing, decode) => this.send(request, expect, timing, decode),
    };
  }

  private pendingVersion: number | undefined;

  /** Version, capabilities and algorithms negotiation. */
  async connect(): Promise<Connection> {
    this.conn = undefined;
    this.pendingVersion = undefined;
    this.transcript.reset();
    this.slots.clear();
    this.signatures.length = 0;
    this.measurements.clear();
    this.digests = [];

    // GET_VERSION / VERSION (always version 0x10 on the wire).
    const gv = encodeGetVersion();
    const vr = await exchange(
      this.policy,
      { request: gv, expect: ResponseCode.VERSION, version: 0x10, timeoutMs: this.t1() },
      decodeVersion,
    );
    const allowed = (this.opts.versions ?? DEFAULT_VERSIONS).filter(
      (v) => SUPPORTED_VERSIONS.includes(v) && v >= (this.opts.minVersion ?? 0x10),
    );
    const offered = new Set(vr.entries.map(versionByte));
    const common = allowed.filter((v) => offered.has(v)).sort((x, y) => y - x);
    const version = common[0];
    if (version === undefined) {
      throw new SpdmError(
        'NO_COMMON_VERSION',
        `no common SPDM version: device offers ${[...offered].map(versionString).join(', ') || 'none'}, we allow ${allowed.map(versionString).join(', ')}`,
      );
    }
    this.transcript.appendVca(gv, vr.raw);
    this.transcript.setVersion(version);
    this.pendingVersion = version;

    // GET_CAPABILITIES / CAPABILITIES.
    const flags = this.opts.capabilityFlags ?? CapabilityFlag.CERT | CapabilityFlag.CHAL;
    const dts = this.opts.dataTransferSize ?? Math.min(this.transport.maxMessageSize, 0x1200);
    const gc = encodeGetCapabilities({
      version,
      ctExponent: this.opts.ctExponent ?? 0,
      flags: version >= 0x11 ? flags : 0,
      dataTransferSize: dts,
      maxSpdmMsgSize: Math.max(dts, this.opts.maxSpdmMsgSize ?? dts),
    });
    const caps = await this.send(gc, ResponseCode.CAPABILITIES, 'T1', decodeCapabilities);
    checkResponderCapabilities(caps, version);
    this.transcript.appendVca(gc, caps.raw);

    // NEGOTIATE_ALGORITHMS / ALGORITHMS.
    const asymPref = (this.opts.baseAsym ?? DEFAULT_BASE_ASYM).filter(
      (a) => isAsymSupported(a) && (version >= 0x12 || a <= 0x1ff),
    );
    const hashPref = (this.opts.baseHash ?? DEFAULT_BASE_HASH).filter(
      (h) => isHashSupported(h) && (version >= 0x12 || h <= 0x3f),
    );
    const baseAsym = asymPref.reduce((m, a) => m | a, 0);
    const baseHash = hashPref.reduce((m, h) => m | h, 0);
    const multiKeyConn = version >= 0x13 && (caps.flags & CapabilityFlag.MULTI_KEY_ONLY) !== 0;
    const otherParams =
      (version >= 0x12 ? OtherParams.OPAQUE_FMT_1 : 0) | (multiKeyConn ? OtherParams.MULTI_KEY_CONN : 0);
    const na = encodeNegotiateAlgorithms(version, {
      measurementSpec: MeasurementSpec.DMTF,
      otherParams,
      baseAsym,
      baseHash,
      melSpec: 0,
      extAsym: [],
      extHash: [],
      algStructs: [],
    });
    const alg = await this.send(na, ResponseCode.ALGORITHMS, 'T1', decodeAlgorithms);
    checkSelectedAlgorithms(alg, caps, { baseAsym, baseHash, otherParams });
    this.transcript.appendVca(na, alg.raw);
    this.transcript.setHash(alg.baseHash);
    const h = hashInfo(alg.baseHash);
    const s = asymInfo(alg.baseAsym);
    this.conn = {
      version,
      capabilities: caps,
      algorithms: alg,
      hashId: alg.baseHash,
      asymId: alg.baseAsym,
      hashSize: h?.size ?? 0,
      signatureSize: s?.sigSize ?? 0,
      multiKeyConn,
    };
    return this.conn;
  }

  /** GET_DIGESTS: the digest of the chain in every provisioned slot. */
  async getDigests(): Promise<readonly SlotDigest[]> {
    const digests = await getDigests(this.requestContext());
    this.digests = digests;
    for (const d of digests) {
      const st = this.slotState(d.slot);
      st.digest = d.digest;
    }
    return digests;
  }

  private slotState(slot: number): SlotState {
    let st = this.slots.get(slot);
    if (!st) {
      st = { certModel: 0, problems: [] };
      this.slots.set(slot, st);
    }
    return st;
  }

  /** GET_CERTIFICATE in portions until the whole SPDM chain of `slot` is read, then checks it. */
  async getCertificateChain(slot: number): Promise<Uint8Array> {
    const c = this.connection;
    if (slot < 0 || slot > 7) throw new SpdmError('SLOT_INVALID', `slot ${slot} out of range 0-7`);
    const st = this.slotState(slot);
    if (!st.digest) throw new SpdmError('SLOT_INVALID', `slot ${slot} is not provisioned (DIGESTS)`);
    const ourLimit =
      c.version >= 0x12
        ? Math.min(
            this.opts.dataTransferSize ?? Math.min(this.transport.maxMessageSize, 0x1200),
            this.transport.maxMessageSize,
          )
        : this.transport.maxMessageSize;
    const portionMax = Math.min(0xffff, ourLimit - 8);
    const chain = await getCertificate(this.requestContext(), slot, portionMax, st);
    const d = digest(c.hashId, chain);
    if (!equalBytes(d, st.digest)) {
      throw new SpdmError(
        'DIGEST_MISMATCH',
        `slot ${slot}: certificate chain hash ${toHex(d)} does not match DIGESTS ${toHex(st.digest)}`,
        { slot },
      );
    }
    const v = validateSpdmChain(chain, {
      version: c.version,
      hashId: c.hashId,
      asymId: c.asymId,
      role: 'responder',
      now: new Date(this.clock.now()),
      cache: this.opts.certificateCache ?? sharedCertificateCache,
      ...(st.certModel ? { certModel: st.certModel } : {}),
    });
    st.chain = chain;
    st.certificates = v.certificates;
    st.leafKey = v.leafKey;
    st.problems = v.report.problems.map((p) => ({ ...p }));
    const fatal = v.report.problems.filter((p) => FATAL_CHAIN_PROBLEMS.has(p.code));
    if (fatal.length > 0) {
      throw new SpdmError(
        'CERT_CHAIN_INVALID',
        `slot ${slot}: ${fatal.map((p) => `${p.code}: ${p.message}`).join('; ')}`,
        { slot, problems: fatal },
      );
    }
    return chain;
  }

  private leafKey(slot: number): KeyObject {
    const key = this.slots.get(slot)?.leafKey;
    if (!key) throw new TypeError(`no certificate chain for slot ${slot}: retrieve it before asking for signatures`);
    return key;
  }

  private callerNonce: Uint8Array | undefined;

  private freshNonce(): Uint8Array {
    return this.callerNonce ? this.callerNonce.slice() : this.random(NONCE_SIZE);
  }

  private checkResponderNonce(nonce: Uint8Array, ours: Uint8Array, what: string): void {
    const hex = toHex(nonce);
    if (nonce.every((b) => b === 0))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder nonce is all zeros`, { request: what, got: hex });
    if (equalBytes(nonce, ours))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder echoed our nonce as its own`, {
        request: what,
        expected: toHex(ours),
        got: hex,
      });
    if (this.seenNonces.has(hex))
      throw new SpdmError('NONCE_MISMATCH', `${what}: responder nonce ${hex} was already used in this connection`, {
        request: what,
        got: hex,
      });
    this.seenNonces.add(hex);
  }

  private requesterContext(): Uint8Array | undefined {
    return this.connection.version >= 0x13 ? this.random(REQUESTER_CONTEXT_SIZE) : undefined;
  }

  /** CHALLENGE: proves the device holds the private key of the slot's leaf certificate. */
  async challenge(
    slot = 0,
    measurementSummaryHashType: number = MeasurementSummaryHashType.NONE,
  ): Promise<SignatureEvidence> {
    const c = this.connection;
    if ((c.capabilities.flags & CapabilityFlag.CHAL) === 0)
      throw new SpdmError('UNSUPPORTED', 'device does not support CHALLENGE (CHAL_CAP)');
    const st = this.slots.get(slot);
    if (!st?.chain) throw new TypeError(`no certificate chain for slot ${slot}`);
    this.transcript.request(RequestCode.CHALLENGE);
    const nonce = this.freshNonce();
    const ctx = this.requesterContext();
    const req = encodeChallenge(c.version, {
      slot,
      measurementSummaryHashType,
      nonce,
      ...(ctx ? { requesterContext: ctx } : {}),
    });
    const measRequested = measurementSummaryHashType !== 0;
    const resp = await this.send(req, ResponseCode.CHALLENGE_AUTH, 'T2', (b) =>
      decodeChallengeAuth(b, {
        hashSize: c.hashSize,
        signatureSize: c.signatureSize,
        measurementSummaryHashRequested: measRequested,
      }),
    );
    if (resp.slot !== slot)
      throw new SpdmError('UNEXPECTED_RESPONSE', `CHALLENGE_AUTH: slot ${resp.slot}, challenged slot ${slot}`);
    if (!(resp.slotMask & (1 << slot)))
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CHALLENGE_AUTH: SlotMask 0x${resp.slotMask.toString(16)} lacks slot ${slot}`,
      );
    const chainHash = digest(c.hashId, st.chain);
    if (!equalBytes(chainHash, resp.certChainHash))
      throw new SpdmError('DIGEST_MISMATCH', `CHALLENGE_AUTH: CertChainHash does not match slot ${slot}'s chain`, {
        slot,
      });
    this.checkResponderNonce(resp.nonce, nonce, 'CHALLENGE_AUTH');
    if (ctx && (!resp.requesterContext || !equalBytes(ctx, resp.requesterContext)))
      throw new SpdmError('CONTEXT_MISMATCH', 'CHALLENGE_AUTH: RequesterContext not echoed');
    this.checkOpaque(resp.opaqueData, 'CHALLENGE_AUTH');
    const m1 = this.transcript.m1(req, resp.unsigned);
    this.transcript.endChallenge();
    const ev = this.verifySignature(slot, m1, resp.signature, {
      requesterNonce: nonce,
      responderNonce: resp.nonce,
      ...(ctx ? { requesterContext: ctx } : {}),
      ...(resp.measurementSummaryHash ? { measurementSummaryHash: resp.measurementSummaryHash } : {}),
    });
    return ev;
  }

  private checkOpaque(opaque: Uint8Array, what: string): void {
    const c = this.connection;
    if (c.version >= 0x12 && (c.algorithms.otherParams & 0x0f) === 0 && opaque.length !== 0) {
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `${what}: opaque data present although no opaque format was negotiated`,
      );
    }
  }

  private verifySignature(
    slot: number,
    signed: SignedTranscript,
    signature: Uint8Array,
    extra: {
      requesterNonce: Uint8Array;
      responderNonce: Uint8Array;
      requesterContext?: Uint8Array;
      measurementSummaryHash?: Uint8Array;
    },
  ): SignatureEvidence {
    const c = this.connection;
    const { kind, transcript, context } = signed;
    const key = this.leafKey(slot);
    const transcriptHash = transcript.digest();
    const ok = spdmVerify(
      key,
      c.asymId,
      { version: c.version, hashId: c.hashId, context, transcript: transcript.messages, transcriptHash },
      signature,
    );
    if (!ok) {
      throw new SpdmError('SIGNATURE_INVALID', `${kind}: signature does not verify with slot ${slot}'s leaf key`, {
        slot,
        transcriptHash: toHex(transcriptHash),
        version: versionString(c.version),
        context,
      });
    }
    const ev: SignatureEvidence = {
      kind,
      slot,
      version: c.version,
      asymAlgo: c.asymId,
      hashAlgo: c.hashId,
      context,
      requesterNonce: toHex(extra.requesterNonce),
      responderNonce: toHex(extra.responderNonce),
      ...(extra.requesterContext ? { requesterContext: toHex(extra.requesterContext) } : {}),
      transcript: toHex(transcript.bytes()),
      transcriptHash: toHex(transcriptHash),
      signature: toHex(signature),
      ...(extra.measurementSummaryHash ? { measurementSummaryHash: toHex(extra.measurementSummaryHash) } : {}),
      verified: true,
    };
    this.signatures.push(ev);
    return ev;
  }

  private async measurementRequest(operation: number, signed: boolean, slot: number, raw: boolean) {
    const c = this.connection;
    const nonce = signed ? this.freshNonce() : undefined;
    const ctx = this.requesterContext();
    let attributes = signed ? MeasurementAttribute.SIGNATURE_REQUESTED : 0;
    if (raw && c.version >= 0x12) attributes |= MeasurementAttribute.RAW_BIT_STREAM_REQUESTED;
    const req = encodeGetMeasurements(c.version, {
      attributes,
      operation,
      ...(nonce ? { nonce } : {}),
      slot,
      ...(ctx ? { requesterContext: ctx } : {}),
    });
    let resp: MeasurementsResponse;
    try {
      resp = await this.send(req, ResponseCode.MEASUREMENTS, signed ? 'T2' : 'T1', (b) =>
        decodeMeasurements(b, { signatureRequested: signed, signatureSize: c.signatureSize }),
      );
    } catch (e) {
      // An ERROR ends the measurement sequence on both sides (and we give up on it after any other failure): message_m starts again.
      this.transcript.endMeasurementRun();
      throw e;
    }
    // The SlotID of a signed response says whose key signed it; it must be the slot we asked for.
    if (signed && c.version >= 0x11 && resp.slot !== slot)
      throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: signed for slot ${resp.slot}, asked for slot ${slot}`, {
        slot,
      });
    if (ctx && (!resp.requesterContext || !equalBytes(ctx, resp.requesterContext)))
      throw new SpdmError('CONTEXT_MISMATCH', 'MEASUREMENTS: RequesterContext not echoed');
    this.checkOpaque(resp.opaqueData, 'MEASUREMENTS');
    if (operation === 0 && resp.numberOfBlocks !== 0)
      throw new SpdmError('UNEXPECTED_RESPONSE', 'MEASUREMENTS: blocks returned for a count query');
    if (operation > 0 && operation < 0xff) {
      if (resp.numberOfBlocks !== 1 || resp.blocks[0]?.index !== operation)
        throw new SpdmError(
          'UNEXPECTED_RESPONSE',
          `MEASUREMENTS: asked for index ${operation}, got ${resp.blocks.map((b) => b.index).join(',') || 'none'}`,
        );
    }
    this.checkBlocks(resp.blocks);
    return { req: decodeGetMeasurements(req), resp, nonce, ctx };
  }

  private checkBlocks(blocks: readonly MeasurementBlock[]): void {
    const c = this.connection;
    const seen = new Set<number>();
    const mh = measurementHashToBaseHash(c.algorithms.measurementHash);
    const digestSize = mh !== undefined ? (hashInfo(mh)?.size ?? 0) : 0;
    for (const b of blocks) {
      if (b.index === 0 || b.index === 0xff)
        throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: block index ${b.index} is reserved`);
      if (seen.has(b.index))
        throw new SpdmError('UNEXPECTED_RESPONSE', `MEASUREMENTS: block index ${b.index} repeated`);
      seen.add(b.index);
      if ((b.spec & c.algorithms.measurementSpec) === 0)
        throw new SpdmError(
          'UNEXPECTED_RESPONSE',
          `MEASUREMENTS: block ${b.index} uses measurement specification 0x${b.spec.toString(16)}`,
        );
      if (b.dmtf && !b.dmtf.raw && b.dmtf.value.length !== digestSize) {
        throw new SpdmError(
          'UNEXPECTED_RESPONSE',
          `MEASUREMENTS: block ${b.index} digest is ${b.dmtf.value.length} bytes, the measurement hash gives ${digestSize}`,
        );
      }
    }
  }

  private record(blocks: readonly MeasurementBlock[], signed: boolean): void {
    for (const b of blocks) {
      this.measurements.set(b.index, {
        index: b.index,
        spec: b.spec,
        ...(b.dmtf ? { type: b.dmtf.type, typeName: measurementTypeName(b.dmtf.type), raw: b.dmtf.raw } : {}),
        value: toHex(b.dmtf?.value ?? b.measurement),
        block: toHex(b.bytes),
        signed,
      });
    }
  }

  /**
   * GET_MEASUREMENTS: all blocks in one signed request, or index by index with the signature
   * requested on the last one (every response since the sequence began is then covered by it).
   */
  async getMeasurements(options: MeasurementRequestOptions = {}): Promise<readonly MeasurementEvidence[]> {
    const c = this.connection;
    const measCap = c.capabilities.flags & MEAS_CAP_MASK;
    if (measCap === 0) throw new SpdmError('UNSUPPORTED', 'device does not support measurements (MEAS_CAP)');
    const signed = measCap === CapabilityFlag.MEAS_SIG;
    const slot = options.slot ?? 0;
    if (signed && !this.slots.get(slot)?.chain) throw new TypeError(`no certificate chain for slot ${slot}`);
    const raw = options.rawBitStream === true;
    // Each call is a measurement sequence of its own.
    this.transcript.endMeasurementRun();
    const sequence: { blocks: readonly MeasurementBlock[] }[] = [];
    const finishSigned = (r: Awaited<ReturnType<Requester['measurementRequest']>>) => {
      const l = this.transcript.l1l2(r.req.raw, r.resp.unsigned);
      this.transcript.endMeasurementRun();
      this.verifySignature(slot, l, r.resp.signature as Uint8Array, {
        requesterNonce: r.nonce as Uint8Array,
        responderNonce: r.resp.nonce,
        ...(r.ctx ? { requesterContext: r.ctx } : {}),
      });
      this.checkResponderNonce(r.resp.nonce, r.nonce as Uint8Array, 'MEASUREMENTS');
    };
    if ((options.mode ?? 'all') === 'all') {
      const r = await this.measurementRequest(0xff, signed, slot, raw);
      if (signed) finishSigned(r);
      this.record(r.resp.blocks, signed);
      return [...this.measurements.values()];
    }
    const count = await this.measurementRequest(0, false, slot, raw);
    this.transcript.messageM.append(count.req.raw, count.resp.raw);
    const total = count.resp.totalIndices;
    let found = 0;
    let covered: MeasurementBlock[] = [];
    for (let index = 1; index <= 0xfe && found < total; index++) {
      const last = found === total - 1;
      let r: Awaited<ReturnType<Requester['measurementRequest']>>;
      try {
        r = await this.measurementRequest(index, signed && last, slot, raw);
      } catch (e) {
        if (e instanceof SpdmError && e.code === 'DEVICE_ERROR' && e.details['errorCode'] === 0x01) {
          // No block at this index: the responder answered InvalidRequest and both sides restarted message_m.
          this.record(covered, false);
          covered = [];
          continue;
        }
        throw e;
      }
      found++;
      covered.push(...r.resp.blocks);
      sequence.push({ blocks: r.resp.blocks });
      if (signed && last) {
        // ContentChanged 01b: the measurements changed while we walked the indices, so the blocks
        // read before this one are not the ones the signature vouches for now.
        if (r.resp.contentChanged === 1) {
          throw new SpdmError(
            'UNEXPECTED_RESPONSE',
            'MEASUREMENTS: the device reports ContentChanged: its measurements changed during the one-by-one sequence, the earlier blocks are stale',
          );
        }
        finishSigned(r);
        this.record(covered, true);
        covered = [];
      } else {
        this.transcript.messageM.append(r.req.raw, r.resp.raw);
      }
    }
    this.record(covered, false);
    if (found < total)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `MEASUREMENTS: device reports ${total} indices but only ${found} answered`,
      );
    return [...this.measurements.values()];
  }

  /** The whole flow: connect, digests, chain, challenge, signed measurements → Evidence. */
  async authenticate(options: AuthenticateOptions = {}): Promise<Evidence> {
    if (options.nonce && options.nonce.length !== NONCE_SIZE) throw new TypeError(`nonce must be ${NONCE_SIZE} bytes`);
    this.callerNonce = options.nonce;
    this.flowDeadline = this.clock.now() + this.flowDeadlineMs;
    try {
      return await this.authenticateFlow(options);
    } finally {
      this.callerNonce = undefined;
      this.flowDeadline = undefined;
    }
  }

  private async authenticateFlow(options: AuthenticateOptions): Promise<Evidence> {
    const c = await this.connect();
    const slot = options.slot ?? 0;
    const flags = c.capabilities.flags;
    if (flags & CapabilityFlag.CERT) {
      const digests = await this.getDigests();
      if (!digests.some((d) => d.slot === slot)) throw new SpdmError('SLOT_INVALID', `slot ${slot} is not provisioned`);
      await this.getCertificateChain(slot);
    }
    if (options.requireChallenge && !(flags & CapabilityFlag.CHAL)) {
      throw new SpdmError(
        'SIGNATURE_MISSING',
        'device does not offer CHALLENGE (CHAL_CAP clear), which PCIe CMA requires: no proof that it holds its key',
        { slot },
      );
    }
    if (flags & CapabilityFlag.CHAL) {
      await this.challenge(
        slot,
        options.measurementSummaryHashType ?? ((flags & MEAS_CAP_MASK) !== 0 ? MeasurementSummaryHashType.ALL : 0),
      );
    }
    if (!options.skipMeasurements && (flags & MEAS_CAP_MASK) !== 0) {
      await this.getMeasurements({
        slot,
        mode: options.mode ?? 'all',
        ...(options.rawBitStream ? { rawBitStream: true } : {}),
      });
    }
    // A certificate chain is public: only a signature over our fresh nonce shows the device holds
    // the leaf's private key. Without one there is nothing to authenticate, whatever else it sent.
    if (!this.signatures.some((s) => s.verified && s.slot === slot)) {
      const why = [
        flags & CapabilityFlag.CHAL ? undefined : 'CHAL_CAP is clear',
        (flags & MEAS_CAP_MASK) === CapabilityFlag.MEAS_SIG
          ? options.skipMeasurements
            ? 'signed measurements were skipped'
            : undefined
          : 'measurements are not signed',
      ].filter((w): w is string => w !== undefined);
      throw new SpdmError(
        'SIGNATURE_MISSING',
        `no proof of key possession: the device gave no signature over a fresh requester nonce (${why.join(', ')})`,
        { slot },
      );
    }
    return this.evidence();
  }

  /** Everything gathered so far, as serialisable Evidence. */
  evidence(): Evidence {
    return buildEvidence({
      connection: this.connection,
      slots: this.slots,
      signatures: this.signatures,
      measurements: this.measurements.values(),
      collectedAtMs: this.clock.now(),
      ...(this.opts.deviceName ? { device: this.opts.deviceName } : {}),
      ...(this.opts.pci ? { pci: this.opts.pci } : {}),
    });
  }

  /** Digests from the last GET_DIGESTS. */
  get slotDigests(): readonly SlotDigest[] {
    return this.digests;
  }
}
