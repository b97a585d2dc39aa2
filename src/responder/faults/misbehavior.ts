/**
 * The declarative fault knobs the requester and verifier tests use (bad signature, stale nonce,
 * truncation, ResponseNotReady, Busy, hang...): a `Misbehavior` is turned into one Fault for the
 * wrapper, so the clean Responder never learns it is lying. Signed responses whose bytes a knob
 * changes are re-signed over the changed bytes through the transcript mirror, as a device that
 * lies consistently would; knobs that break the signature itself do so after that.
 */
import type { KeyObject } from 'node:crypto';
import { popcount } from '../../wire/bytes.js';
import { RequestCode as RQ, ResponseCode as RS } from '../../spdm/codes.js';
import { decodeChallenge, NONCE_SIZE } from '../../spdm/messages/challenge.js';
import { decodeGetMeasurements } from '../../spdm/messages/measurements.js';
import {
  decodeRespondIfReady,
  encodeError,
  encodeResponseNotReady,
  ErrorCode,
  type RespondIfReadyRequest,
} from '../../spdm/messages/error.js';
import { Responder, type ResponderOptions } from '../responder.js';
import type { DeviceProfile } from '../profile.js';
import { FaultyResponder, type Fault, type FaultContext, type FaultReply } from './wrapper.js';
import { editChallengeAuth, editMeasurements, flip, setU32, setU8, unsignedPart } from './edit.js';

/** Ways the emulated device can break the protocol, for tests of the requester. */
export interface Misbehavior {
  /** Corrupt the signature of CHALLENGE_AUTH / MEASUREMENTS. */
  readonly badSignature?: boolean;
  /** Reuse the first responder nonce in every later CHALLENGE_AUTH / MEASUREMENTS. */
  readonly staleNonce?: boolean;
  /** Echo a different RequesterContext (1.3). */
  readonly wrongRequesterContext?: boolean;
  /** Cut this many bytes off every response to this request code. */
  readonly truncate?: { readonly code: number; readonly bytes: number };
  /** Answer this request code with ResponseNotReady first, `times` times, then with the real response. */
  readonly notReady?: {
    readonly code: number;
    readonly times: number;
    readonly rdtExponent: number;
    readonly rdtm: number;
  };
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

/** ALGORITHMS BaseAsymSel offset. */
const ALG_BASE_ASYM = 12;
/** DIGESTS: the first digest follows the 4-byte header. */
const DIGESTS_FIRST = 4;

const isSigned = (x: FaultContext): boolean =>
  x.code === RQ.CHALLENGE || (x.code === RQ.GET_MEASUREMENTS && ((x.original[2] ?? 0) & 0x01) !== 0);

/**
 * The one Fault that does everything `m` asks for. `slotKey` gives the private key of a slot, for
 * re-signing answers to requests that name a slot other than 0 (the wrapper's own key is slot 0's).
 */
export function misbehaviorFault(m: Misbehavior, slotKey?: (slot: number) => KeyObject | undefined): Fault {
  let busySeen = 0;
  let notReadySeen = 0;
  let nextToken = 1;
  let parkedToken: number | undefined;
  let firstNonce: Uint8Array | undefined;

  /** `msg` with the fields the knobs change edited, without its signature; undefined when no knob edits `x`'s answer. */
  const editFields = (msg: Uint8Array, x: FaultContext): Uint8Array | undefined => {
    const nonce = (f: { nonce: Uint8Array }) => {
      if (!m.staleNonce || f.nonce.length !== NONCE_SIZE) return;
      if (firstNonce) f.nonce = firstNonce.slice();
      else firstNonce = f.nonce.slice();
    };
    const context = (f: { requesterContext?: Uint8Array }) => {
      if (m.wrongRequesterContext && f.requesterContext) f.requesterContext = flip(f.requesterContext, 0, 0xff);
    };
    if (x.code === RQ.CHALLENGE && (m.staleNonce || m.wrongRequesterContext || m.badCertChainHash)) {
      return editChallengeAuth(msg, x.original, x.mirror.negotiated, (f) => {
        nonce(f);
        context(f);
        if (m.badCertChainHash) f.certChainHash = flip(f.certChainHash, 0, 0xff);
      });
    }
    if (x.code === RQ.GET_MEASUREMENTS && (m.staleNonce || m.wrongRequesterContext)) {
      return editMeasurements(msg, x.original, x.mirror.negotiated, (f) => {
        nonce(f);
        context(f);
      });
    }
    return undefined;
  };

  /** The key a re-signature of the answer to `x` is made with. */
  const keyFor = (x: FaultContext): { key: KeyObject } | undefined => {
    if (m.signingKey) return { key: m.signingKey };
    const slot =
      x.code === RQ.CHALLENGE ? decodeChallenge(x.original).slot : (decodeGetMeasurements(x.original).slot ?? 0);
    const key = slotKey?.(slot);
    return key ? { key } : undefined;
  };
  const kindOf = (x: FaultContext) => (x.code === RQ.CHALLENGE ? 'CHALLENGE_AUTH' : 'MEASUREMENTS');

  /** The honest success response `h` to `x`, as the misbehaving device sends it. */
  const transform = (h: Uint8Array, x: FaultContext): Uint8Array => {
    let out = h;
    if (m.selectAsym !== undefined && x.code === RQ.NEGOTIATE_ALGORITHMS)
      out = setU32(out, ALG_BASE_ASYM, m.selectAsym);
    if (m.badDigest && x.code === RQ.GET_DIGESTS) {
      const size = x.mirror.negotiated.hashSize;
      for (let i = 0; i < popcount(out[3] ?? 0); i++) out = flip(out, DIGESTS_FIRST + i * size, 0xff);
    }
    const edited = editFields(out, x);
    const signed = isSigned(x);
    if (edited) out = signed ? x.resign(kindOf(x), edited, keyFor(x)) : edited;
    else if (signed && (m.signingKey || m.badDigest)) {
      // A foreign key signs the honest bytes; after a bad digest the device signs the DIGESTS it sent.
      out = x.resign(kindOf(x), unsignedPart(out, x.mirror.negotiated), keyFor(x));
    }
    if (m.badSignature && signed) {
      const size = x.mirror.negotiated.signatureSize;
      out = flip(out, out.length - size + (size >> 1), 0x01);
    }
    return out;
  };

  const { busy, notReady, truncate, delay } = m;
  /** The reply to `x` before any delay. */
  const reply = async (x: FaultContext, sent: number): Promise<Uint8Array> => {
    const version = x.mirror.isNegotiated ? x.mirror.negotiated.version : 0x10;
    if (busy && busy.code === sent && ++busySeen <= busy.times) return encodeError(version, ErrorCode.Busy);
    if (notReady && sent === RQ.RESPOND_IF_READY && parkedToken !== undefined) {
      // Only the request and token we handed out collect the parked response.
      let req: RespondIfReadyRequest;
      try {
        req = decodeRespondIfReady(x.request);
      } catch {
        return encodeError(version, ErrorCode.InvalidRequest);
      }
      if (req.requestCode !== x.code || req.token !== parkedToken)
        return encodeError(version, ErrorCode.UnexpectedRequest);
      parkedToken = undefined;
    } else if (notReady && notReady.code === sent && ++notReadySeen <= notReady.times) {
      // The wrapper parks the request; the clean responder answers it once, when it is collected.
      parkedToken = nextToken++ & 0xff;
      return encodeResponseNotReady(version, {
        rdtExponent: notReady.rdtExponent,
        requestCode: sent,
        token: parkedToken,
        rdtm: notReady.rdtm,
      });
    }
    let out = await x.honest();
    if (out[1] !== RS.ERROR) out = transform(out, x);
    if (m.wrongVersion !== undefined && sent !== RQ.GET_VERSION && out[1] !== RS.ERROR)
      out = setU8(out, 0, m.wrongVersion);
    if (truncate && truncate.code === sent) out = out.subarray(0, Math.max(0, out.length - truncate.bytes));
    return out;
  };

  return async (x): Promise<FaultReply> => {
    const sent = x.request[1] ?? -1;
    if (m.hang?.code === sent) return { withhold: true };
    const out = await reply(x, sent);
    return delay && delay.code === sent ? { delayMs: delay.ms, response: out } : out;
  };
}

/** The clean Responder for `profile` behind the wrapper, misbehaving as `m` says. */
export function misbehaving(profile: DeviceProfile, m: Misbehavior, options: ResponderOptions = {}): FaultyResponder {
  const slot = profile.slots[0];
  if (!slot) throw new TypeError(`profile ${profile.name} has no slot`);
  const keyOf = (n: number) => profile.slots.find((s) => s.slot === n)?.privateKey;
  return new FaultyResponder(new Responder(profile, options), slot.privateKey, misbehaviorFault(m, keyOf));
}
