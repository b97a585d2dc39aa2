/**
 * The CMA layer's contract: what the daemon (HTTP API, event stream, CLI) may ask of the device
 * lifecycle, and the shapes it gets back. The field names follow the kernel's CMA-SPDM sysfs and
 * netlink ABI (`authenticated`, `certificates/slotN`, `signatures/N_*`, `tsm/connect`) so that
 * people who know those find the obvious mapping; ../daemon maps them to HTTP and Redfish.
 *
 * Every method is safe to call with hostile arguments from an API client: an unknown BDF is a
 * `DEVICE_NOT_FOUND` SpdmError, an owned device `DEVICE_OWNED`, a request the state forbids
 * `DEVICE_STATE`; a malformed argument (bad BDF syntax, slot out of range) is a `TypeError`.
 */
import type { Evidence, PciIdentity } from '../evidence/evidence.js';
import type { Change } from '../verifier/acceptance.js';
import type { Verdict } from '../verifier/verdict.js';
import type { Policy } from '../verifier/policy.js';
import type { ResetKind } from '../platform/platform.js';
import type { SignedTreeHeadJson } from '../log/sth.js';

/** A reason a tool can switch on and a human can read. */
export interface StateReason {
  readonly code: string;
  readonly message: string;
}

/**
 * The kernel's `authenticated` attribute, told apart the way user space needs: `yes` only when
 * the verifier found the device trusted from signatures over our fresh nonces; `no` when it
 * answered and failed (untrusted verdict, bad signature, protocol fault); `unknown` when it could
 * not be determined (not yet run, no DOE mailbox, no CMA-SPDM protocol on it, owned by a TSM,
 * unplugged mid-flow, transport failure) — the kernel's ENOTTY, deliberately not "unsupported".
 */
export type Authenticated =
  | { readonly state: 'yes'; readonly at: string; readonly slot: number }
  | { readonly state: 'no'; readonly at: string; readonly reason: StateReason }
  | { readonly state: 'unknown'; readonly reason: StateReason };

/**
 * User space's decision. `accepted` always rests on an acceptance record: taken from a trusted
 * verdict (`verdict`), re-established by the same-device check after a reset (`same-device`),
 * by policy (`auto`), or forced by an operator over an untrusted verdict (`operator`, with who and
 * why, recorded as such). A `same-device` acceptance names its `basis`: an operator's override
 * stays an override across resets and restarts, it never turns into a verifier's trust. `rejected` stays until an operator accepts again.
 */
export type Acceptance =
  | { readonly state: 'unaccepted'; readonly reason?: StateReason }
  | {
      readonly state: 'accepted';
      readonly at: string;
      readonly by: 'verdict' | 'auto' | 'same-device' | 'operator';
      /**
       * With `same-device`: what the acceptance record the check compared against was made from.
       * `operator` means the device was never trusted by the verifier: an operator overrode an
       * untrusted verdict (`operator` names them), and the check only shows it is still that device.
       */
      readonly basis?: 'verdict' | 'auto' | 'operator';
      readonly operator?: string;
      readonly note?: string;
    }
  | { readonly state: 'rejected'; readonly at: string; readonly reason: StateReason; readonly operator?: string };

/** Who drives SPDM on the function: us, or a TSM / guest it was handed to (`tsm/connect`). */
export type Owner = { readonly kind: 'cma' } | { readonly kind: 'tsm'; readonly tsm: string; readonly since: string };

/** What the function's config space announced. */
export type DoeSupport = 'cma' | 'no-doe' | 'no-cma' | 'unknown';

/** One certificate slot, like `certificates/slotN`: the chain as the device sent it at the last authentication. */
export interface SlotView {
  readonly slot: number;
  /** The SPDM certificate chain (header, root hash, DER certificates), hex. */
  readonly chain: string;
  /** Each DER certificate, root first, base64. */
  readonly certificates: readonly string[];
  readonly leafSubject?: string;
}

/**
 * Driver binding held back while the device is refused (createCma `holdDrivers`; on Linux
 * `driver_override` and unbind, on the simulated platform state only).
 */
export interface DriverBinding {
  readonly held: boolean;
  /** When the hold was last applied or released. */
  readonly at: string;
  /** The driver that was bound and was unbound when the hold began. */
  readonly unbound?: string;
  /** The platform could not apply the latest change (the state shown is the one before it). */
  readonly error?: StateReason;
}

export interface DeviceView {
  readonly bdf: string;
  /** Config-space identity; absent until the function has been read. */
  readonly identity?: PciIdentity;
  readonly doe: DoeSupport;
  readonly authenticated: Authenticated;
  /** The verifier's verdict on the latest evidence. */
  readonly verdict?: Verdict;
  readonly acceptance: Acceptance;
  /** The last same-device check (after a reset, resume or re-authentication of an accepted device). */
  readonly sameDevice?: { readonly at: string; readonly same: boolean; readonly changes: readonly Change[] };
  readonly owner: Owner;
  /** An authentication is running (or queued) for this function. */
  readonly busy: boolean;
  /** Bumped by every completed authentication: a client tells fresh state from stale with it. */
  readonly generation: number;
  readonly slots: readonly SlotView[];
  /** Driver binding, when the service holds drivers back (absent while nothing was done). */
  readonly driver?: DriverBinding;
  /** Signature-log indices of this device's signatures, oldest first (the newest `signaturesPerDevice`, a createCma option). */
  readonly signatureEntries: readonly number[];
}

/**
 * One received signature, with the fields of the kernel's `signatures/N_*` files and netlink `sig`
 * event: the transcript without its signature, the signature, the hash algorithm, the combined
 * SPDM prefix (empty before 1.2), the nonces and their offsets in the transcript.
 */
export interface DeviceSignature {
  /** Index in the signature log (the Merkle log's leaf index). */
  readonly logIndex: number;
  readonly bdf: string;
  /** e.g. `responder-challenge_auth signing`, `responder-measurements signing`. */
  readonly type: string;
  /** Response code of the signed message (CHALLENGE_AUTH 0x03, MEASUREMENTS 0x60, …). */
  readonly rspCode: number;
  readonly slot: number;
  /** OpenSSL-style name, e.g. `sha384`. */
  readonly hashAlgorithm: string;
  readonly transcript: string;
  readonly signature: string;
  readonly combinedSpdmPrefix: string;
  readonly requesterNonce: string;
  readonly responderNonce: string;
  readonly reqNonceOffset: number;
  readonly rspNonceOffset: number;
  /** Offset of the signature in transcript‖signature (the netlink transcript ends with it). */
  readonly sigOffset: number;
  /**
   * Slot 0xFF (PUB_KEY_ID_CAP): the device's provisioned public key, DER SubjectPublicKeyInfo in
   * hex, which the signature verifies with (there is no `certificates/slotN` chain for it).
   */
  readonly publicKey?: string;
  readonly at: string;
}

export type CmaEventBody =
  | { readonly type: 'device-added'; readonly bdf: string; readonly identity?: PciIdentity }
  | { readonly type: 'device-removed'; readonly bdf: string }
  | { readonly type: 'reset'; readonly bdf: string; readonly kind: ResetKind }
  | { readonly type: 'signature'; readonly bdf: string; readonly signature: DeviceSignature }
  | {
      readonly type: 'authenticated';
      readonly bdf: string;
      readonly authenticated: Authenticated;
      readonly verdict?: { readonly status: Verdict['status']; readonly reasons: readonly StateReason[] };
      readonly generation: number;
    }
  | { readonly type: 'acceptance'; readonly bdf: string; readonly acceptance: Acceptance }
  | { readonly type: 'same-device'; readonly bdf: string; readonly same: boolean; readonly changes: readonly Change[] }
  | { readonly type: 'owner'; readonly bdf: string; readonly owner: Owner };

/** An event as stored and streamed: ids rise by one from 1 and survive a restart. */
export type CmaEvent = CmaEventBody & { readonly id: number; readonly at: string };

/** The Redfish `SPDMGetSignedMeasurements` action's answer (ComponentIntegrity schema names). */
export interface SignedMeasurements {
  /** Base64 of VCA ‖ GET_MEASUREMENTS ‖ MEASUREMENTS (signature included), as Redfish defines it. */
  readonly SignedMeasurements: string;
  /** PEM chain of the slot used. */
  readonly Certificate: string;
  readonly Version: string;
  readonly HashingAlgorithm: string;
  readonly SigningAlgorithm: string;
}

/** One decision about a device, as kept in the store's history (who, what, why). */
export interface CmaDecision {
  readonly bdf: string;
  readonly at: string;
  /** accept (trusted verdict or autoAccept), override (operator over an untrusted verdict), reject, drop (the same-device check failed). */
  readonly action: 'accept' | 'override' | 'reject' | 'drop';
  readonly operator?: string;
  readonly reason?: string;
  /** accept/override: the verdict's status and reason codes; drop: the same-device changes. */
  readonly detail?: unknown;
}

/** The device lifecycle as a service: implemented by cma/, consumed by daemon/ and the CLI. */
export interface CmaService {
  devices(): readonly DeviceView[];
  /** @throws SpdmError DEVICE_NOT_FOUND */
  device(bdf: string): DeviceView;
  /** The latest evidence (undefined before the first completed authentication). */
  evidence(bdf: string): Evidence | undefined;
  /**
   * The newest `signaturesPerDevice` signatures of the function, oldest first, read from the store
   * (asynchronous since they stopped being kept in memory).
   */
  signatures(bdf: string): Promise<readonly DeviceSignature[]>;

  /**
   * Accept the device: from a trusted verdict, or with `override` over an untrusted one (recorded
   * with the operator and reason). DEVICE_STATE when there is no evidence to accept.
   */
  accept(
    bdf: string,
    options?: { readonly override?: { readonly operator: string; readonly reason: string } },
  ): Promise<DeviceView>;
  reject(bdf: string, options?: { readonly operator?: string; readonly reason?: string }): Promise<DeviceView>;
  /** The decision history of a function (present or not), oldest first. @throws TypeError for a malformed BDF */
  decisions(bdf: string): Promise<readonly CmaDecision[]>;
  /** The kernel's `echo re > authenticated`: run the flow again now (DEVICE_OWNED while owned). */
  reauthenticate(bdf: string, options?: { readonly slot?: number }): Promise<DeviceView>;
  /** "This function was reset": re-authenticate, then re-accept only through the same-device check. */
  notifyReset(bdf: string, kind?: ResetKind): Promise<DeviceView>;
  /** `tsm/connect`: finish or abort the in-flight exchange, then stop using the mailbox. */
  connectTsm(bdf: string, tsm: string): Promise<DeviceView>;
  /** `tsm/disconnect`: take the mailbox back and re-authenticate. */
  disconnectTsm(bdf: string): Promise<DeviceView>;
  /** Redfish `SPDMGetSignedMeasurements`: `nonce` 32 bytes (random when absent), indices default [255]. */
  signedMeasurements(
    bdf: string,
    options?: { readonly nonce?: Uint8Array; readonly slot?: number; readonly indices?: readonly number[] },
  ): Promise<SignedMeasurements>;

  /**
   * Events with id > `afterId`, oldest first: a page of at most `limit` (default 1000, never more
   * than 10000); ask again from the last id for the next. Every stored event is served, however
   * old: the newest `recentEvents` (createCma option) from memory, older ones from the store. A
   * page whose first id is past `afterId + 1` means those events are gone from the store too.
   * (Asynchronous since the store pages were added; it used to answer from memory only.)
   */
  eventsSince(afterId: number, limit?: number): Promise<readonly CmaEvent[]>;
  /** Called for every new event, in id order; returns the unsubscribe function. */
  subscribe(listener: (event: CmaEvent) => void): () => void;

  /** The signature log's public key (PEM SPKI, Ed25519): what a client checks tree-head signatures with. */
  logPublicKeyPem(): string;
  /** The signature log's signed tree head, in the JSON shape `spdm log` prints. */
  treeHead(): Promise<SignedTreeHeadJson>;
  inclusionProof(
    index: number,
    treeSize?: number,
  ): Promise<{ readonly leafHash: string; readonly proof: readonly string[] }>;
  consistencyProof(from: number, to?: number): Promise<{ readonly proof: readonly string[] }>;

  /**
   * SIGHUP: the verifier policy for every verification from now on (undefined: the default
   * policy). Verdicts already reached stay until the device's next authentication.
   */
  setPolicy(policy: Policy | undefined): void;

  /** Every authentication in flight or queued has settled (the demo and tests wait on it). */
  idle(): Promise<void>;
  /** Stop taking work, let in-flight exchanges finish (bounded), persist, close stores. */
  close(): Promise<void>;
}
