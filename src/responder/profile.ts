/**
 * What an emulated device is: versions, capabilities, algorithms, one certificate chain and key
 * per slot, measurement blocks — and, for tests, how it should misbehave.
 */
import type { KeyObject } from 'node:crypto';

export interface SlotIdentity {
  readonly slot: number;
  /** DER certificates, root (or first intermediate) first, leaf last. */
  readonly certificates: readonly Uint8Array[];
  readonly privateKey: KeyObject;
  /** The key's BaseAsymAlgo bit. */
  readonly asymId: number;
  /** 1.3 CertModel: 1 DeviceCert, 2 AliasCert, 3 GenericCert. */
  readonly certModel?: number;
  /** 1.3 multi-key connection: the slot's KeyPairID (default slot + 1) and KeyUsageMask. */
  readonly keyPairId?: number;
  readonly keyUsage?: number;
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

/** Ways the emulator can break the protocol, for tests of the requester. */
export interface Misbehavior {
  /** Corrupt the signature of CHALLENGE_AUTH / MEASUREMENTS. */
  readonly badSignature?: boolean;
  /** Reuse the previous responder nonce instead of a fresh one. */
  readonly staleNonce?: boolean;
  /** Echo a different RequesterContext (1.3). */
  readonly wrongRequesterContext?: boolean;
  /** Cut this many bytes off every response to this request code. */
  readonly truncate?: { readonly code: number; readonly bytes: number };
  /** Answer this request code with ResponseNotReady first, `times` times, then with the real response. */
  readonly notReady?: { readonly code: number; readonly times: number; readonly rdtExponent: number; readonly rdtm: number };
  /** Answer this request code with Busy `times` times. */
  readonly busy?: { readonly code: number; readonly times: number };
  /** Never answer this request code. */
  readonly hang?: { readonly code: number };
  /** Delay every response to this request code by `ms`. */
  readonly delay?: { readonly code: number; readonly ms: number };
  /** Put this version byte in the header of every response after VERSION. */
  readonly wrongVersion?: number;
  /** Report a slot digest that does not match the chain. */
  readonly badDigest?: boolean;
  /** Select this BaseAsymAlgo regardless of the offer. */
  readonly selectAsym?: number;
  /** Sign with this key instead of the slot's (e.g. a counterfeit key behind a genuine chain). */
  readonly signingKey?: KeyObject;
  /** Return a CHALLENGE_AUTH CertChainHash that does not match the chain. */
  readonly badCertChainHash?: boolean;
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
  };
  readonly slots: readonly SlotIdentity[];
  readonly measurements: readonly MeasurementSource[];
  readonly misbehave?: Misbehavior;
}
