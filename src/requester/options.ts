import type { RandomSource } from '../crypto/random.js';
import type { Clock } from '../transport/clock.js';
import type { CertificateCache } from '../x509/cache.js';
import type { PciIdentity } from '../evidence/evidence.js';
import type { RequesterIdentity } from './identity.js';
import type { KeyObject } from 'node:crypto';

export interface RequesterOptions {
  /** Versions the requester may negotiate (header bytes), default 1.0–1.3; 0x14 must be asked for. */
  readonly versions?: readonly number[];
  /** Never negotiate below this version (e.g. 0x12 to insist on signing contexts). */
  readonly minVersion?: number;
  /** Requester capability flags (1.1+); default CERT_CAP | CHAL_CAP. */
  readonly capabilityFlags?: number;
  readonly ctExponent?: number;
  /** Largest single message we accept (1.2+ DataTransferSize). */
  readonly dataTransferSize?: number;
  readonly maxSpdmMsgSize?: number;
  /** BaseAsymAlgo bits we accept, most preferred first. */
  readonly baseAsym?: readonly number[];
  /** BaseHashAlgo bits we accept, most preferred first. */
  readonly baseHash?: readonly number[];
  /**
   * Session algorithms to offer in NEGOTIATE_ALGORITHMS (1.1+), opt-in: without it no AlgStruct is
   * sent and the request is what it always was. The responder selects from them only where both
   * sides' capabilities call for it (KEY_EX_CAP, PSK_CAP, ENCRYPT_CAP/MAC_CAP, MUT_AUTH_CAP in
   * `capabilityFlags`); the selection lands in the Connection.
   */
  readonly session?: SessionAlgorithmOptions;
  /**
   * Our own certificate chains and keys, for mutual authentication: with MUT_AUTH_CAP (and
   * ENCAP_CAP for the encapsulated flow) in `capabilityFlags`, the device may read them and ask
   * for a signed FINISH, or (1.1 basic mutual authentication) a CHALLENGE_AUTH of ours. Their
   * algorithms are offered as ReqBaseAsymAlg unless `session.reqBaseAsym` says otherwise.
   */
  readonly identity?: RequesterIdentity;
  /**
   * Our EPInfo (a DeviceClassIdentifier) for the device's encapsulated GET_ENDPOINT_INFO (1.3),
   * given with EP_INFO_CAP in `capabilityFlags` (with signature: signed with `identity`); default
   * requester/encap-endpoint-info.ts DEFAULT_REQUESTER_ENDPOINT_INFO.
   */
  readonly endpointInfo?: Uint8Array;
  /**
   * The device's public key, known out of band (DER SubjectPublicKeyInfo or a public KeyObject),
   * for a device with PUB_KEY_ID_CAP and no certificate chain: authenticate() then names SlotID
   * 0xFF in CHALLENGE, GET_MEASUREMENTS and KEY_EXCHANGE, sends no GET_DIGESTS or
   * GET_CERTIFICATE, verifies the signatures with this key, and records it in the evidence.
   */
  readonly devicePublicKey?: Uint8Array | KeyObject;
  readonly random?: RandomSource;
  readonly clock?: Clock;
  /** Transport round-trip allowance added to ST1 and CT (ms). DOE lets a device take a full second. */
  readonly rttMs?: number;
  /** How many Busy answers to retry before giving up (default LIMITS.busyRetries, 3). */
  readonly busyRetries?: number;
  /** How many ResponseNotReady rounds to wait through before NOT_READY (default LIMITS.notReadyRetries, 8). */
  readonly notReadyRetries?: number;
  /**
   * Upper bound on one ResponseNotReady wait (ms, default LIMITS.maxNotReadyWaitMs, 2 s): a longer
   * RDT the device asks for is clamped to it, and RESPOND_IF_READY is sent then.
   */
  readonly maxNotReadyWaitMs?: number;
  /**
   * Upper bound on the wait for one response (ms, default LIMITS.maxResponseWaitMs, 10 s), whatever
   * the device's CTExponent claims; past it the request fails with TIMEOUT naming both.
   */
  readonly maxResponseWaitMs?: number;
  /** Everything one request may take, Busy retries and ResponseNotReady rounds included (ms, default 30 s). */
  readonly requestDeadlineMs?: number;
  /** Everything one authenticate() may take (ms, default 120 s). */
  readonly flowDeadlineMs?: number;
  /** Parsed-certificate cache; requesters share one by default. */
  readonly certificateCache?: CertificateCache;
  /**
   * Where the signatures of CHALLENGE_AUTH and MEASUREMENTS are checked: `'inline'` (default) on
   * the calling thread; `'threadpool'` in libuv's threadpool, the same checks and the same refusal.
   * The threadpool pays only where many flows run at once and the event loop is the bottleneck
   * (the CMA daemon uses it: its main thread then spends ~1 ms less per device); for one flow at
   * a time its hand-offs cost more CPU than the check itself (`npm run bench:auth`: P-256 about 3×).
   */
  readonly signatureChecks?: 'inline' | 'threadpool';
  /** Label recorded in the evidence. */
  readonly deviceName?: string;
  /** PCI identity recorded in the evidence (read from config space by the caller). */
  readonly pci?: PciIdentity;
}

export interface SessionAlgorithmOptions {
  /** DHENamedGroup bits we accept (crypto/dhe.ts DheGroup), default DEFAULT_DHE; [] offers no DHE struct. */
  readonly dhe?: readonly number[];
  /** AEADCipherSuite bits we accept (crypto/aead.ts AeadAlgo), default DEFAULT_AEAD; [] offers none. */
  readonly aead?: readonly number[];
  /** ReqBaseAsymAlg bits we can sign with (mutual authentication); default the algorithms of `identity`, else none. */
  readonly reqBaseAsym?: readonly number[];
  /** Offer the SPDM key schedule (KeySchedule AlgStruct); default true. */
  readonly keySchedule?: boolean;
  /**
   * DSP0277 (secured messages) versions to offer in KEY_EXCHANGE / PSK_EXCHANGE, as u16 (0x1100 =
   * 1.1); default every one we speak, 1.2 preferred by the device's choice.
   */
  readonly securedVersions?: readonly number[];
  /**
   * The transport binding's sequence-number byte order in the AEAD nonce, for sessions whose
   * secured-message version is 1.0 or 1.1 (DSP0277 1.2 fixed little-endian, so a 1.2 session is
   * 'le' whatever this says, as in libspdm): 'le' (default, libspdm's default) or 'be'.
   */
  readonly sequenceNumberOrder?: 'le' | 'be';
  /**
   * The last sequence number a key may use in either direction (the AEAD limit; default 2^64 − 1;
   * StartSessionOptions.sequenceLimit overrides it for one session). Before a record would need
   * more, the session updates its keys (KEY_UPDATE UpdateAllKeys, when both sides set
   * KEY_UPD_CAP) or ends it (END_SESSION): no key is used past its limit (DSP0277).
   */
  readonly sequenceLimit?: bigint;
}

/** secp384r1, secp256r1, secp521r1, ffdhe3072, ffdhe4096, ffdhe2048 (what node:crypto runs; SM2 is not offered). */
export const DEFAULT_DHE: readonly number[] = [0x10, 0x08, 0x20, 0x02, 0x04, 0x01];
/** AES-256-GCM, ChaCha20-Poly1305, AES-128-GCM (SM4-GCM is not available in node:crypto). */
export const DEFAULT_AEAD: readonly number[] = [0x02, 0x04, 0x01];

export const DEFAULT_BASE_ASYM: readonly number[] = [
  0x0080, 0x0010, 0x0100, 0x0400, 0x0008, 0x0040, 0x0002, 0x0004, 0x0020, 0x0001,
];
export const DEFAULT_BASE_HASH: readonly number[] = [0x02, 0x04, 0x01, 0x10, 0x20, 0x08];
/** ST1: the time a responder has for a response that needs no cryptography. */
export const ST1_MS = 100;
