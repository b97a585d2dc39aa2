/**
 * The shape of a hostile case: a name, what breaks, what a correct requester (or verifier) must
 * answer, and how to build the device that breaks it. The case table (cases.ts) is the single
 * source the CLI lists and serves and the adversarial suite iterates.
 */
import type { SpdmErrorCode } from '../../wire/errors.js';
import type { ReasonCode } from '../../verifier/verdict.js';
import type { RequesterOptions } from '../../requester/options.js';
import type { AuthenticateOptions } from '../../requester/requester.js';
import type { DeviceProfile } from '../profile.js';
import type { FaultyResponder } from './wrapper.js';
import type { SocketFault } from './socket.js';
import type { DoeFault } from './doe.js';

export type HostileCategory =
  | 'length'
  | 'truncation'
  | 'trailing'
  | 'codes-versions'
  | 'capabilities-algorithms'
  | 'timing'
  | 'nonce-transcript'
  | 'signature'
  | 'chain'
  | 'measurements'
  | 'transport'
  | 'doe';

/** The requester must fail with this SpdmError code (and, where one code covers several cases, this message fragment / these details). */
export interface ErrorExpectation {
  readonly error: SpdmErrorCode;
  readonly detail?: RegExp;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The requester produces evidence; the verifier must not trust it, giving this reason (and chain problem). */
export interface VerdictExpectation {
  readonly verdict: ReasonCode;
  readonly problem?: string;
}

export type Expectation = ErrorExpectation | VerdictExpectation;

/**
 * Requester timing options the cases use to keep waits short. `maxResponseWaitMs`,
 * `maxNotReadyWaitMs`, `requestDeadlineMs` and `flowDeadlineMs` are the requester's own options
 * (RequesterOptions), declared here as well so a case table compiles against either side of that change.
 */
export type HostileRequesterOptions = RequesterOptions & {
  readonly maxResponseWaitMs?: number;
  readonly maxNotReadyWaitMs?: number;
  readonly requestDeadlineMs?: number;
  readonly flowDeadlineMs?: number;
};

export type HostileAuthenticateOptions = AuthenticateOptions & { readonly requireChallenge?: boolean };

/** A device built for one run of a case. */
export interface HostileDevice {
  readonly profile: DeviceProfile;
  /** The fault wrapper in front of the clean responder. */
  readonly handler: FaultyResponder;
  /** False when the wrapper lets everything through (the device's profile itself is the fault). */
  readonly faulted: boolean;
  /** The roots a verifier trusts for this device (the honest vendor root). */
  readonly trustAnchors: readonly Uint8Array[];
}

interface CaseCommon {
  /** kebab-case, unique. */
  readonly name: string;
  readonly category: HostileCategory;
  /** One line: what the device does. */
  readonly description: string;
  readonly expect: Expectation;
  readonly requester?: HostileRequesterOptions;
  readonly authenticate?: HostileAuthenticateOptions;
  /** Also run over the real socket: `spdm emulate --hostile NAME` + `spdm authenticate`. */
  readonly overSocket?: boolean;
}

/** A fault of the SPDM responder, reached in-process over the loopback transport. */
export interface HandlerCase extends CaseCommon {
  readonly via: 'handler';
  /**
   * The case is a family: variant 0, 1, 2... are run until one in which the fault no longer
   * fires (e.g. a cut at every byte offset of a response, until the offset passes its end).
   */
  readonly sweep?: boolean;
  device(variant: number): HostileDevice;
}

/** A fault of the spdm-emu socket transport (an honest device behind a hostile server). */
export interface SocketCase extends CaseCommon {
  readonly via: 'socket';
  readonly socket: SocketFault;
  device(): HostileDevice;
}

/** A fault of the DOE mailbox (an honest device behind a hostile mailbox). */
export interface DoeCase extends CaseCommon {
  readonly via: 'doe';
  readonly doe: DoeFault;
  /** DoeMailboxError.failure the driver must report (when its error, not the requester's own deadline, ends the run). */
  readonly failure?: string;
  device(): HostileDevice;
}

export type HostileCase = HandlerCase | SocketCase | DoeCase;

export function isErrorExpectation(e: Expectation): e is ErrorExpectation {
  return 'error' in e;
}

/** One line for `spdm emulate --hostile list` and test names: what a correct peer answers. */
export function expectationText(e: Expectation): string {
  if (isErrorExpectation(e))
    return `${e.error}${e.detail ? ` /${e.detail.source}/` : ''}${e.details ? ` ${JSON.stringify(e.details)}` : ''}`;
  return `verdict ${e.verdict}${e.problem ? ` (${e.problem})` : ''}`;
}
