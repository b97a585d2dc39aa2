/**
 * How a finished flow becomes the device's state: its identity and DOE support, the verifier's
 * verdict on the evidence, and the kernel-like `authenticated` — `yes` only on a trusted verdict,
 * `no` when the device answered and failed, `unknown` when it could not be determined.
 */
import type { Evidence } from '../evidence/evidence.js';
import type { Verdict } from '../verifier/verdict.js';
import { toHex } from '../wire/bytes.js';
import type { CmaEventBody, StateReason } from './api.js';
import type { Device } from './device.js';
import type { FlowResult } from './flow.js';
import { failureState, reasonOf } from './outcome.js';
import { KeptEvidence } from './kept-evidence.js';
import { slotViews } from './views.js';

export interface Settled {
  /** The flow's evidence, unless it could not be logged (then there is none to act on). */
  readonly evidence: Evidence | undefined;
  readonly error: unknown;
  /** The evidence was withheld because the signature log refused it: not the device's fault. */
  readonly logFailed: boolean;
}

/** Updates `dev` from the flow's result and returns the `authenticated` event announcing it. */
export function applyResult(
  dev: Device,
  r: FlowResult,
  s: Settled,
  nonce: Uint8Array,
  verdict: Verdict | undefined,
  at: string,
): CmaEventBody {
  const { evidence, error, logFailed } = s;
  if (r.identity) dev.identity = r.identity;
  dev.doe = r.doe;
  dev.generation++;
  if (evidence) {
    if (!verdict) throw new TypeError("applyResult: evidence without the verifier's verdict on it");
    dev.verdict = verdict;
    dev.evidence = new KeptEvidence(evidence);
    dev.evidenceNonce = toHex(nonce);
    dev.acceptable = true;
    dev.slots = slotViews(evidence);
    const slot = evidence.signatures.at(-1)?.slot ?? dev.slot;
    const first = verdict.reasons[0];
    dev.authenticated =
      verdict.status === 'trusted'
        ? { state: 'yes', at, slot }
        : {
            state: 'no',
            at,
            reason: first ? { code: first.code, message: first.message } : { code: 'UNTRUSTED', message: 'untrusted' },
          };
  } else {
    dev.verdict = undefined;
    dev.acceptable = false;
    const reason: StateReason =
      r.doe === 'no-doe'
        ? { code: 'NO_DOE', message: 'the function has no DOE mailbox' }
        : r.doe === 'no-cma'
          ? { code: 'NO_CMA', message: 'no DOE mailbox of the function lists CMA-SPDM' }
          : reasonOf(error);
    dev.authenticated =
      r.doe === 'cma' && !logFailed && failureState(error) === 'no'
        ? { state: 'no', at, reason }
        : { state: 'unknown', reason };
  }
  return {
    type: 'authenticated',
    bdf: dev.bdf,
    authenticated: dev.authenticated,
    ...(dev.verdict
      ? {
          verdict: {
            status: dev.verdict.status,
            reasons: dev.verdict.reasons.map((x) => ({ code: x.code, message: x.message })),
          },
        }
      : {}),
    generation: dev.generation,
  };
}
