/**
 * Evidence: everything a requester learned from a device, in a form that is serialisable as is
 * (byte strings are lowercase hex) and that carries, for every signature, the exact bytes needed
 * to verify it again later — here, offline, or on a remote attestation service.
 */

export const EVIDENCE_FORMAT = 'spdmkit-evidence/1';

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
}

export interface ChainProblemEvidence {
  readonly code: string;
  readonly certIndex: number;
  readonly message: string;
}

export interface SlotEvidence {
  readonly slot: number;
  /** Digest from DIGESTS (= hash of the SPDM chain). */
  readonly digest: string;
  /** The SPDM certificate chain as retrieved: Length, Reserved, RootHash, DER certificates. */
  readonly certChain: string;
  readonly certModel: number;
  readonly certificates: readonly CertificateSummary[];
  /** Structural checks the requester ran; trust is decided later by a verifier. */
  readonly chainProblems: readonly ChainProblemEvidence[];
}

/**
 * The signed response a signature record holds: CHALLENGE_AUTH and MEASUREMENTS over the
 * connection's transcripts, KEY_EXCHANGE_RSP over a session's, ENDPOINT_INFO (1.3) over IL1/IL2
 * (evidence/signed-kinds.ts has what each one is).
 */
export type SignedMessageKind = 'CHALLENGE_AUTH' | 'MEASUREMENTS' | 'KEY_EXCHANGE_RSP' | 'ENDPOINT_INFO';

export interface SignatureEvidence {
  readonly kind: SignedMessageKind;
  /**
   * The secure session (u32 SessionID, 0x-hex) the signed response belongs to: the session a
   * KEY_EXCHANGE_RSP set up, or the one a MEASUREMENTS or ENDPOINT_INFO travelled in. Absent
   * outside sessions.
   */
  readonly sessionId?: string;
  readonly slot: number;
  /** SPDM version byte (0x10..0x13) the signature was made under. */
  readonly version: number;
  readonly asymAlgo: number;
  readonly hashAlgo: number;
  /** 1.2+ signing context string ('' for 1.0/1.1). */
  readonly context: string;
  readonly requesterNonce: string;
  readonly responderNonce: string;
  readonly requesterContext?: string;
  /**
   * The signed transcript without the signature: M1 (CHALLENGE_AUTH), L1/L2 (MEASUREMENTS),
   * A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to its Signature (KEY_EXCHANGE_RSP), or
   * IL1/IL2 = A ‖ GET_ENDPOINT_INFO ‖ ENDPOINT_INFO up to its Signature (ENDPOINT_INFO).
   */
  readonly transcript: string;
  /** Hash(transcript) with the negotiated hash. */
  readonly transcriptHash: string;
  readonly signature: string;
  readonly measurementSummaryHash?: string;
  /**
   * ENDPOINT_INFO only (and required there): the EPInfo the device signed, hex — the requester's
   * account of it, which the analysis holds to the EPInfo inside the signed ENDPOINT_INFO.
   */
  readonly epInfo?: string;
  /** Whether the requester verified the signature when it was received. */
  readonly verified: boolean;
}

/**
 * The KEY_EXCHANGE_RSP signature of a secure session: `transcript` is A ‖ [D] ‖ Ct ‖ KEY_EXCHANGE
 * ‖ KEY_EXCHANGE_RSP up to its Signature (Ct = the slot chain's hash), the "nonces" are the
 * RandomData of KEY_EXCHANGE and KEY_EXCHANGE_RSP. One of Evidence.signatures.
 */
export interface SessionSignatureEvidence extends SignatureEvidence {
  readonly kind: 'KEY_EXCHANGE_RSP';
  readonly sessionId: string;
}

/**
 * A signed ENDPOINT_INFO (1.3) in the same form: `transcript` is IL1/IL2 = A ‖ GET_ENDPOINT_INFO ‖
 * ENDPOINT_INFO without its Signature, the nonces are the Nonce fields of the request and the
 * response. Re-verifiable offline with the slot's leaf key like the others.
 */
export interface EndpointInfoSignatureEvidence extends SignatureEvidence {
  readonly kind: 'ENDPOINT_INFO';
  /** The EPInfo that was signed, hex. */
  readonly epInfo: string;
}

export interface MeasurementEvidence {
  readonly index: number;
  readonly spec: number;
  readonly type?: number;
  readonly typeName?: string;
  readonly raw?: boolean;
  readonly value: string;
  /** The whole measurement block as sent. */
  readonly block: string;
  /** Whether the response carrying this block is covered by a verified signature. */
  readonly signed: boolean;
}

/** The members of a PciIdentity, in the order every reader and writer of one lists them. */
export const PCI_IDENTITY_MEMBERS = [
  'bdf',
  'vendorId',
  'deviceId',
  'classCode',
  'revisionId',
  'subsystemVendorId',
  'subsystemId',
  'serialNumber',
] as const satisfies readonly (keyof PciIdentity)[];

/** The PCI identity of the device as read from its config space (drives the PCIe CMA SAN rule). */
export interface PciIdentity {
  /** Bus/device/function, e.g. 0000:03:00.0, when the device was reached over its DOE mailbox. */
  readonly bdf?: string;
  readonly vendorId: number;
  readonly deviceId: number;
  /** Base class, subclass and programming interface, 24 bits. */
  readonly classCode: number;
  readonly revisionId: number;
  /** Type 0 headers only. */
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  /** Device Serial Number extended capability, as 16 hex digits. */
  readonly serialNumber?: string;
}

export interface Evidence {
  readonly format: typeof EVIDENCE_FORMAT;
  readonly collectedAt: string;
  readonly device?: string;
  readonly pci?: PciIdentity;
  readonly version: string;
  readonly versionByte: number;
  readonly capabilities: {
    readonly flags: number;
    readonly flagNames: readonly string[];
    readonly ctExponent: number;
    readonly dataTransferSize: number;
    readonly maxSpdmMsgSize: number;
  };
  readonly algorithms: {
    readonly baseAsym: number;
    readonly baseAsymName: string;
    readonly baseHash: number;
    readonly baseHashName: string;
    readonly measurementHash: number;
    readonly measurementHashName: string;
    readonly measurementSpec: number;
    readonly otherParams: number;
  };
  readonly slots: readonly SlotEvidence[];
  /**
   * The device's provisioned public key (PUB_KEY_ID_CAP), DER SubjectPublicKeyInfo in hex: what the
   * slot 0xFF signatures verify with, its hash their CertChainHash / Ct. The requester was given
   * it out of band; whether it is the device's is the verifier's question (policy trustedPublicKeys).
   */
  readonly publicKey?: string;
  readonly signatures: readonly SignatureEvidence[];
  readonly measurements: readonly MeasurementEvidence[];
}
