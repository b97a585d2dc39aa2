/**
 * Evidence assembled from what a requester gathered: the negotiated connection, the slots it
 * read, the signatures it verified and the measurement blocks it recorded. Plain data in, so
 * that the document's shape is decided here and not by whichever requester collected it.
 */
import { asymInfo, describeBits, hashInfo, MeasurementHashAlgo } from '../crypto/algorithms.js';
import { toHex } from '../wire/bytes.js';
import { versionString } from '../spdm/codes.js';
import { flagNames, type CapabilitiesResponse } from '../spdm/messages/capabilities.js';
import type { AlgorithmsResponse } from '../spdm/messages/algorithms.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import {
  EVIDENCE_FORMAT,
  type CertificateSummary,
  type ChainProblemEvidence,
  type Evidence,
  type MeasurementEvidence,
  type PciIdentity,
  type SignatureEvidence,
  type SlotEvidence,
} from './evidence.js';

/** The outcome of VCA as the requester holds it. */
export interface NegotiatedConnection {
  readonly version: number;
  readonly capabilities: CapabilitiesResponse;
  readonly algorithms: AlgorithmsResponse;
  readonly hashId: number;
  readonly asymId: number;
}

/** One slot as read: a slot without a digest (never seen in DIGESTS) is left out. */
export interface SlotRecord {
  readonly digest?: Uint8Array;
  readonly chain?: Uint8Array;
  readonly certModel: number;
  readonly certificates?: readonly ParsedCertificate[];
  readonly problems: readonly ChainProblemEvidence[];
}

export interface EvidenceInput {
  readonly connection: NegotiatedConnection;
  readonly slots: ReadonlyMap<number, SlotRecord>;
  readonly signatures: readonly SignatureEvidence[];
  readonly measurements: Iterable<MeasurementEvidence>;
  /** When the evidence was collected, in ms since the epoch (the caller's clock). */
  readonly collectedAtMs: number;
  readonly device?: string;
  readonly pci?: PciIdentity;
  /** The provisioned public key (slot 0xFF), DER SubjectPublicKeyInfo. */
  readonly publicKey?: Uint8Array;
}

/**
 * Summaries by parsed certificate. The certificate cache hands the same ParsedCertificate to every
 * flow that meets its DER, and its validity dates' ISO text was a sizeable share of building a
 * warm flow's evidence (Date#toISOString, two per certificate); a WeakMap keeps them exactly as
 * long as the certificate itself.
 */
const summaries = new WeakMap<ParsedCertificate, CertificateSummary>();

/** A certificate as evidence: a fresh object each time (documents do not share), its text made once. */
function certificateSummary(p: ParsedCertificate): CertificateSummary {
  let s = summaries.get(p);
  if (!s) {
    s = {
      subject: p.subject,
      issuer: p.issuer,
      serialNumber: p.serialNumber,
      notBefore: p.notBefore.toISOString(),
      notAfter: p.notAfter.toISOString(),
      fingerprintSha256: p.fingerprintSha256,
    };
    summaries.set(p, s);
  }
  return { ...s };
}

function slotEvidence(slots: ReadonlyMap<number, SlotRecord>): SlotEvidence[] {
  const out: SlotEvidence[] = [];
  for (const [slot, st] of [...slots.entries()].sort((x, y) => x[0] - y[0])) {
    if (!st.digest) continue;
    out.push({
      slot,
      digest: toHex(st.digest),
      certChain: st.chain ? toHex(st.chain) : '',
      certModel: st.certModel,
      certificates: (st.certificates ?? []).map(certificateSummary),
      chainProblems: st.problems,
    });
  }
  return out;
}

/** The Evidence document; slots in slot order, measurements in index order, signatures as given. */
export function buildEvidence(input: EvidenceInput): Evidence {
  const c = input.connection;
  const mh = c.algorithms.measurementHash;
  return {
    format: EVIDENCE_FORMAT,
    collectedAt: new Date(input.collectedAtMs).toISOString(),
    ...(input.device ? { device: input.device } : {}),
    ...(input.pci ? { pci: input.pci } : {}),
    version: versionString(c.version),
    versionByte: c.version,
    capabilities: {
      flags: c.capabilities.flags >>> 0,
      flagNames: flagNames(c.capabilities.flags),
      ctExponent: c.capabilities.ctExponent,
      dataTransferSize: c.capabilities.dataTransferSize,
      maxSpdmMsgSize: c.capabilities.maxSpdmMsgSize,
    },
    algorithms: {
      baseAsym: c.asymId,
      baseAsymName: asymInfo(c.asymId)?.name ?? 'none',
      baseHash: c.hashId,
      baseHashName: hashInfo(c.hashId)?.name ?? 'none',
      measurementHash: mh,
      measurementHashName:
        mh === MeasurementHashAlgo.RAW_BIT_STREAM
          ? 'raw bit stream'
          : (describeBits(mh, (id) => hashInfo(id >>> 1))[0] ?? 'none'),
      measurementSpec: c.algorithms.measurementSpec,
      otherParams: c.algorithms.otherParams,
    },
    slots: slotEvidence(input.slots),
    ...(input.publicKey ? { publicKey: toHex(input.publicKey) } : {}),
    signatures: [...input.signatures],
    measurements: [...input.measurements].sort((x, y) => x.index - y.index),
  };
}
