/**
 * What an emulated device is: versions, capabilities, algorithms, one certificate chain and key
 * per slot, measurement blocks. How a device misbehaves is not part of it: that is a fault around
 * the responder (responder/faults/).
 */
import type { KeyObject } from 'node:crypto';
import type { MutualAuthPolicy } from './mutual-auth.js';

export interface SlotIdentity {
  readonly slot: number;
  /** DER certificates, root (or first intermediate) first, leaf last. */
  readonly certificates: readonly Uint8Array[];
  /**
   * The root certificate (DER) when `certificates` leaves it out, as SPDM 1.2+ allows: it is not
   * sent, but the chain's RootHash is its hash (RootHash always names the root), so a requester
   * holding that root as its trust anchor can match it.
   */
  readonly externalRoot?: Uint8Array;
  readonly privateKey: KeyObject;
  /** The key's BaseAsymAlgo bit. */
  readonly asymId: number;
  /** 1.3 CertModel: 1 DeviceCert, 2 AliasCert, 3 GenericCert. */
  readonly certModel?: number;
  /** 1.3 multi-key connection: the slot's KeyPairID (default slot + 1) and KeyUsageMask. */
  readonly keyPairId?: number;
  readonly keyUsage?: number;
}

/**
 * PUB_KEY_ID_CAP (1.1+): a signing key whose public half the requester was given out of band, used
 * as SlotID 0xFF in CHALLENGE, GET_MEASUREMENTS and KEY_EXCHANGE. There is no certificate: where a
 * chain's hash would go (CertChainHash, Ct) goes the hash of the DER SubjectPublicKeyInfo (libspdm).
 */
export interface ProvisionedPublicKey {
  readonly privateKey: KeyObject;
  /** The key's BaseAsymAlgo bit. */
  readonly asymId: number;
}

export interface MeasurementSource {
  readonly index: number;
  /** DMTF measurement value type (DmtfMeasurementType). */
  readonly type: number;
  /** The measured content (firmware image, configuration...): sent raw, or hashed with the negotiated measurement hash. */
  readonly value: Uint8Array;
  /** Always send the raw value (e.g. version strings, SVNs, device mode). */
  readonly alwaysRaw?: boolean;
  /** `value` is already the digest (e.g. a known-good firmware digest): sent as is, never re-hashed. */
  readonly digest?: boolean;
  /** Part of the trusted computing base (MeasurementSummaryHashType 0x01). */
  readonly tcb?: boolean;
}

export interface DeviceProfile {
  readonly name: string;
  /** SPDM versions offered in VERSION, as header bytes (0x10..0x13). */
  readonly versions: readonly number[];
  readonly capabilities: {
    readonly flags: number;
    readonly ctExponent: number;
    readonly dataTransferSize: number;
    readonly maxSpdmMsgSize: number;
  };
  readonly algorithms: {
    /** BaseHashAlgo bits in order of preference. */
    readonly baseHash: readonly number[];
    /** MeasurementHashAlgo bit the device measures with. */
    readonly measurementHash: number;
    /**
     * Session algorithms, each in order of preference: selected in ALGORITHMS only where this
     * device's capabilities and the requester's call for them (KEY_EX_CAP / PSK_CAP,
     * ENCRYPT_CAP / MAC_CAP, MUT_AUTH_CAP). DHENamedGroup bits, default DEFAULT_PROFILE_DHE.
     */
    readonly dhe?: readonly number[];
    /** AEADCipherSuite bits, default DEFAULT_PROFILE_AEAD. */
    readonly aead?: readonly number[];
    /** ReqBaseAsymAlg bits it verifies a mutually authenticating requester with, default DEFAULT_PROFILE_REQ_ASYM. */
    readonly reqBaseAsym?: readonly number[];
  };
  readonly slots: readonly SlotIdentity[];
  /** The provisioned public key (slot 0xFF), answered for when `capabilities.flags` has PUB_KEY_ID_CAP. */
  readonly provisionedKey?: ProvisionedPublicKey;
  readonly measurements: readonly MeasurementSource[];
  /** What it asks of a requester that offers MUT_AUTH_CAP (MUT_AUTH_CAP, ENCAP_CAP in `capabilities.flags`); nothing by default. */
  readonly mutualAuth?: MutualAuthPolicy;
  /** 1.3 ENDPOINT_INFO (EP_INFO_CAP): the EPInfo of SubCode 1, a DeviceClassIdentifier; default DEFAULT_ENDPOINT_INFO. */
  readonly endpointInfo?: Uint8Array;
  /** 1.3 MEL_CAP: the DMTF measurement extension log served; default a small valid one (defaultMeasurementExtensionLog). */
  readonly measurementExtensionLog?: Uint8Array;
  /**
   * SET_CERTIFICATE: slots other than 0 are provisioned only inside a secure session, as libspdm's
   * device does, unless the device is in a trusted environment (a factory), where the clear will do.
   */
  readonly provisioning?: { readonly trustedEnvironment?: boolean };
  /** Secure sessions (KEY_EX_CAP, ENCRYPT_CAP/MAC_CAP, HBEAT_CAP, KEY_UPD_CAP in `capabilities.flags` turn them on). */
  readonly session?: {
    /**
     * HeartbeatPeriod in KEY_EXCHANGE_RSP, seconds (0: none), when both sides set HBEAT_CAP; a
     * session silent for more than twice it is torn down (responder/session-watchdog.ts).
     */
    readonly heartbeatPeriod?: number;
    /**
     * Pre-shared keys for PSK_EXCHANGE (PSK_CAP in `capabilities.flags`), each under the PSKHint
     * that names it; the entry with an empty hint answers requests that send none.
     */
    readonly psk?: readonly PskEntry[];
    /** DSP0277 versions this device selects from (u16, 0x1100 = 1.1); default every one the library speaks. */
    readonly securedVersions?: readonly number[];
    /**
     * The binding's sequence-number byte order in the AEAD nonce for 1.0/1.1 sessions ('le'
     * default; 'be' as libspdm's option); a 1.2 session is little-endian whatever this says.
     */
    readonly sequenceNumberOrder?: 'le' | 'be';
    /**
     * The last sequence number a key may use (the AEAD limit; ResponderOptions.sequenceLimit
     * overrides it). A record past it ends the session: the device does not answer in it again.
     */
    readonly sequenceLimit?: bigint;
  };
  /**
   * Events (EVENT_CAP in `capabilities.flags`, SPDM 1.3+): DMTF events raised towards a session
   * as soon as it subscribes, each only when the session subscribed to its type; the requester
   * collects them with the encapsulated flow. Responder.emitEvent raises others at any time.
   */
  readonly events?: { readonly onSubscribe?: readonly ProfileEvent[] };
}

export interface ProfileEvent {
  /** DMTF EventTypeID 1..4 (EventLost, MeasurementChanged, MeasurementPreUpdate, CertificateChanged). */
  readonly type: number;
  /** EventDetail, the type's fixed size (8, 32, 32, 1 bytes). */
  readonly detail: Uint8Array;
}

export interface PskEntry {
  /** 0..16 bytes, compared byte for byte (libspdm's sample hint is "TestPskHint" with its NUL). */
  readonly hint: Uint8Array;
  readonly key: Uint8Array;
}

/** secp384r1, secp256r1, secp521r1, ffdhe3072, ffdhe4096, ffdhe2048. */
export const DEFAULT_PROFILE_DHE: readonly number[] = [0x10, 0x08, 0x20, 0x02, 0x04, 0x01];
/** AES-256-GCM, ChaCha20-Poly1305, AES-128-GCM. */
export const DEFAULT_PROFILE_AEAD: readonly number[] = [0x02, 0x04, 0x01];
/** ECDSA P-384, P-256, P-521, RSASSA-PSS 3072/2048/4096, RSASSA 3072/2048/4096, Ed25519. */
export const DEFAULT_PROFILE_REQ_ASYM: readonly number[] = [
  0x0080, 0x0010, 0x0100, 0x0008, 0x0002, 0x0040, 0x0004, 0x0001, 0x0020, 0x0400,
];
