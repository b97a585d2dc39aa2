/**
 * Evidence from a recorded exchange, for tests. The requester refuses some hostile devices before
 * it produces evidence, so the verifier's own checks against them would go untested. This module
 * records what such a device sent and assembles the Evidence a requester that checks only the
 * wire format would have produced: the signed transcripts rebuilt from the messages, the
 * signatures and measurement blocks exactly as the device sent them.
 *
 * It is deliberately not a second requester: it checks nothing, fills only what verify() reads
 * (the certificate summaries, chain problems and names are left empty), and refuses exchanges it
 * has no rule for (ERROR responses, other request codes) instead of guessing.
 */
import type { SpdmHandler } from '../../src/transport/transport.js';
import {
  EVIDENCE_FORMAT,
  type Evidence,
  type MeasurementEvidence,
  type PciIdentity,
  type SignatureEvidence,
  type SignedMessageKind,
  type SlotEvidence,
} from '../../src/evidence/evidence.js';
import { asymInfo, hashInfo } from '../../src/crypto/algorithms.js';
import { digest } from '../../src/crypto/hash.js';
import { signingContextOf } from '../../src/evidence/signed-kinds.js';
import { codeName, RequestCode as RQ, ResponseCode as RS, versionString } from '../../src/spdm/codes.js';
import { decodeVersion } from '../../src/spdm/messages/version.js';
import { decodeCapabilities, flagNames } from '../../src/spdm/messages/capabilities.js';
import {
  decodeAlgorithms,
  decodeNegotiateAlgorithms,
  OtherParams,
  type AlgorithmsResponse,
} from '../../src/spdm/messages/algorithms.js';
import { decodeDigests } from '../../src/spdm/messages/digests.js';
import { decodeCertificate } from '../../src/spdm/messages/certificate.js';
import { decodeChallenge, decodeChallengeAuth } from '../../src/spdm/messages/challenge.js';
import { decodeGetMeasurements, decodeMeasurements } from '../../src/spdm/messages/measurements.js';
import type { MeasurementBlock } from '../../src/spdm/messages/measurement-block.js';
import { concat, toHex } from '../../src/wire/bytes.js';

export interface Exchange {
  readonly request: Uint8Array;
  readonly response: Uint8Array;
}

/** An SpdmHandler in front of `inner` that keeps a copy of every request and the response it got. */
export class RecordingHandler implements SpdmHandler {
  readonly exchanges: Exchange[] = [];

  constructor(private readonly inner: SpdmHandler) {}

  async handle(request: Uint8Array): Promise<Uint8Array> {
    const response = await this.inner.handle(request.slice());
    this.exchanges.push({ request: request.slice(), response: response.slice() });
    return response;
  }
}

export interface RecordedEvidenceOptions {
  readonly device?: string;
  readonly pci?: PciIdentity;
}

/** The Evidence an unchecking requester would have built from `exchanges` (in the order they happened). */
export function evidenceFromExchanges(exchanges: readonly Exchange[], o: RecordedEvidenceOptions = {}): Evidence {
  // Transcripts as DSP0274 defines them: A (VCA), B (digests and certificates), message_m.
  let a: Uint8Array[] = [];
  let b: Uint8Array[] = [];
  let m: Uint8Array[] = [];
  let caps: ReturnType<typeof decodeCapabilities> | undefined;
  let alg: AlgorithmsResponse | undefined;
  let multiKeyConn = false;
  const digests = new Map<number, Uint8Array>();
  const chains = new Map<number, { parts: Uint8Array[]; certModel: number }>();
  const signatures: SignatureEvidence[] = [];
  const measurements = new Map<number, MeasurementEvidence>();
  let pending: MeasurementBlock[] = [];

  const negotiated = () => {
    if (!alg) throw new Error('recorded exchange: no ALGORITHMS before this message');
    const hashSize = hashInfo(alg.baseHash)?.size;
    const signatureSize = asymInfo(alg.baseAsym)?.sigSize;
    if (hashSize === undefined || signatureSize === undefined)
      throw new Error('recorded exchange: unknown negotiated algorithms');
    return { version: alg.version, asym: alg.baseAsym, hash: alg.baseHash, hashSize, signatureSize };
  };
  const sign = (
    kind: SignedMessageKind,
    slot: number,
    transcript: readonly Uint8Array[],
    signature: Uint8Array,
    f: {
      requesterNonce: Uint8Array;
      responderNonce: Uint8Array;
      requesterContext?: Uint8Array | undefined;
      measurementSummaryHash?: Uint8Array | undefined;
    },
  ): SignatureEvidence => {
    const n = negotiated();
    const bytes = concat(transcript);
    return {
      kind,
      slot,
      version: n.version,
      asymAlgo: n.asym,
      hashAlgo: n.hash,
      context: signingContextOf(kind, n.version),
      requesterNonce: toHex(f.requesterNonce),
      responderNonce: toHex(f.responderNonce),
      ...(f.requesterContext ? { requesterContext: toHex(f.requesterContext) } : {}),
      transcript: toHex(bytes),
      transcriptHash: toHex(digest(n.hash, bytes)),
      signature: toHex(signature),
      ...(f.measurementSummaryHash ? { measurementSummaryHash: toHex(f.measurementSummaryHash) } : {}),
      verified: true,
    };
  };
  const record = (blocks: readonly MeasurementBlock[], signed: boolean) => {
    for (const x of blocks) {
      measurements.set(x.index, {
        index: x.index,
        spec: x.spec,
        ...(x.dmtf ? { type: x.dmtf.type, raw: x.dmtf.raw } : {}),
        value: toHex(x.dmtf?.value ?? x.measurement),
        block: toHex(x.bytes),
        signed,
      });
    }
  };

  for (const { request: req, response: rsp } of exchanges) {
    if (rsp[1] === RS.ERROR)
      throw new Error(
        `recorded exchange: ERROR in answer to ${codeName(req[1] ?? -1)} (this builder has no rule for it)`,
      );
    switch (req[1]) {
      case RQ.GET_VERSION:
        a = [req, decodeVersion(rsp).raw];
        b = [];
        m = [];
        break;
      case RQ.GET_CAPABILITIES:
        caps = decodeCapabilities(rsp);
        a.push(req, caps.raw);
        break;
      case RQ.NEGOTIATE_ALGORITHMS: {
        const q = decodeNegotiateAlgorithms(req);
        multiKeyConn = q.version >= 0x13 && (q.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
        alg = decodeAlgorithms(rsp);
        a.push(req, alg.raw);
        break;
      }
      case RQ.GET_DIGESTS: {
        const r = decodeDigests(rsp, { hashSize: negotiated().hashSize, multiKeyConn });
        b = [req, r.raw];
        m = [];
        for (const d of r.digests) digests.set(d.slot, d.digest);
        break;
      }
      case RQ.GET_CERTIFICATE: {
        const r = decodeCertificate(rsp);
        b.push(req, r.raw);
        m = [];
        const c = chains.get(r.slot) ?? { parts: [], certModel: 0 };
        c.parts.push(r.portion);
        c.certModel = r.certModel;
        chains.set(r.slot, c);
        break;
      }
      case RQ.CHALLENGE: {
        const n = negotiated();
        const q = decodeChallenge(req);
        const r = decodeChallengeAuth(rsp, {
          hashSize: n.hashSize,
          signatureSize: n.signatureSize,
          measurementSummaryHashRequested: q.measurementSummaryHashType !== 0,
        });
        // M1 = A || B || CHALLENGE || CHALLENGE_AUTH without its signature.
        signatures.push(
          sign('CHALLENGE_AUTH', q.slot, [...a, ...b, req, r.unsigned], r.signature, {
            requesterNonce: q.nonce,
            responderNonce: r.nonce,
            requesterContext: q.requesterContext,
            measurementSummaryHash: r.measurementSummaryHash,
          }),
        );
        b = [];
        m = [];
        break;
      }
      case RQ.GET_MEASUREMENTS: {
        const n = negotiated();
        const q = decodeGetMeasurements(req);
        const r = decodeMeasurements(rsp, { signatureRequested: q.signatureRequested, signatureSize: n.signatureSize });
        if (!q.signatureRequested || !q.nonce || !r.signature) {
          m.push(req, r.raw);
          pending.push(...r.blocks);
          break;
        }
        // L = (VCA from 1.2) || every unsigned exchange of the sequence || this request || this response without its signature.
        const slot = q.slot ?? 0;
        signatures.push(
          sign('MEASUREMENTS', slot, [...(n.version >= 0x12 ? a : []), ...m, req, r.unsigned], r.signature, {
            requesterNonce: q.nonce,
            responderNonce: r.nonce,
            requesterContext: q.requesterContext,
          }),
        );
        record([...pending, ...r.blocks], true);
        pending = [];
        m = [];
        break;
      }
      default:
        throw new Error(`recorded exchange: this builder has no rule for ${codeName(req[1] ?? -1)}`);
    }
  }
  record(pending, false);

  if (!caps || !alg) throw new Error('recorded exchange: the connection was never negotiated');
  const slots: SlotEvidence[] = [...digests.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([slot, d]) => {
      const c = chains.get(slot);
      return {
        slot,
        digest: toHex(d),
        certChain: c ? toHex(concat(c.parts)) : '',
        certModel: c?.certModel ?? 0,
        certificates: [],
        chainProblems: [],
      };
    });
  return {
    format: EVIDENCE_FORMAT,
    collectedAt: new Date().toISOString(),
    ...(o.device !== undefined ? { device: o.device } : {}),
    ...(o.pci ? { pci: o.pci } : {}),
    version: versionString(alg.version),
    versionByte: alg.version,
    capabilities: {
      flags: caps.flags >>> 0,
      flagNames: flagNames(caps.flags),
      ctExponent: caps.ctExponent,
      dataTransferSize: caps.dataTransferSize,
      maxSpdmMsgSize: caps.maxSpdmMsgSize,
    },
    algorithms: {
      baseAsym: alg.baseAsym,
      baseAsymName: asymInfo(alg.baseAsym)?.name ?? 'none',
      baseHash: alg.baseHash,
      baseHashName: hashInfo(alg.baseHash)?.name ?? 'none',
      measurementHash: alg.measurementHash,
      // Informational only; the verifier reads the number.
      measurementHashName: '',
      measurementSpec: alg.measurementSpec,
      otherParams: alg.otherParams,
    },
    slots,
    signatures,
    measurements: [...measurements.values()].sort((x, y) => x.index - y.index),
  };
}
