/**
 * The encapsulated request flow, requester side (DSP0274 "GET_ENCAPSULATED_REQUEST"): the device
 * asks us questions inside our own requests. We fetch its request with GET_ENCAPSULATED_REQUEST
 * (or, for KEY_EXCHANGE_RSP's MutAuthRequested "with GET_DIGESTS", answer an implicit GET_DIGESTS
 * with RequestID 0), answer it with DELIVER_ENCAPSULATED_RESPONSE, and the ENCAPSULATED_RESPONSE_ACK
 * carries the next request, the end, or the slot the device wants us to sign with.
 *
 * We answer from our own identity: GET_DIGESTS, GET_CERTIFICATE and — for 1.1 basic mutual
 * authentication — CHALLENGE, signing [A ‖] Mut_B ‖ Mut_C with the requester key. Anything else is
 * answered with an encapsulated ERROR, as libspdm's requester does. The device drives the loop, so
 * it is bounded: a device that never stops asking gets LIMIT_EXCEEDED, not a hang.
 */
import { SpdmError } from '../wire/errors.js';
import { LimitError } from '../wire/limits.js';
import { codeName, RequestCode, ResponseCode } from '../spdm/codes.js';
import { peekHeader } from '../spdm/header.js';
import { decodeGetDigests, encodeDigests } from '../spdm/messages/digests.js';
import { decodeGetCertificate, encodeCertificate } from '../spdm/messages/certificate.js';
import { decodeChallenge, encodeChallengeAuth, NONCE_SIZE } from '../spdm/messages/challenge.js';
import { encodeError, ErrorCode } from '../spdm/messages/error.js';
import {
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  EncapPayloadType,
  encodeDeliverEncapsulatedResponse,
  encodeGetEncapsulatedRequest,
} from '../spdm/messages/encapsulated.js';
import type { ConnectionTranscript } from '../spdm/connection-transcript.js';
import type { Decoder } from './exchange.js';
import type { IdentityView } from './identity.js';

/** Most encapsulated requests one flow may carry (a chain of 64 KiB read 1 KiB at a time fits). */
export const MAX_ENCAPSULATED_REQUESTS = 96;

/** Most of our chain one CERTIFICATE carries, whatever Length the device asks for. */
const MAX_PORTION = 1024;

export type EncapsulatedSend = <T extends { readonly raw: Uint8Array }>(
  request: Uint8Array,
  expect: number,
  decode: Decoder<T>,
) => Promise<T>;

export interface EncapsulatedFlowOptions {
  /** 'get-request' starts with GET_ENCAPSULATED_REQUEST; 'digests' with DIGESTS to an implicit GET_DIGESTS (RequestID 0). */
  readonly start: 'get-request' | 'digests';
  /** 'basic': after CHALLENGE_AUTH (out of session, CHALLENGE allowed); 'session': KEY_EXCHANGE mutual authentication. */
  readonly purpose: 'basic' | 'session';
  readonly version: number;
  readonly identity: IdentityView;
  readonly transcript: ConnectionTranscript;
  readonly random: (n: number) => Uint8Array;
}

export interface EncapsulatedFlowResult {
  /** ENCAPSULATED_RESPONSE_ACK PayloadType 2: the slot the device wants the FINISH signed with. */
  readonly reqSlot?: number;
  /** The requests the device made, by name, in order. */
  readonly asked: readonly string[];
  /** True once we answered an encapsulated CHALLENGE with a signed CHALLENGE_AUTH. */
  readonly challenged: boolean;
  /** The slot that CHALLENGE named. */
  readonly challengedSlot?: number;
}

/** The state of one flow: Mut_B as the device read our identity, what it asked. */
class Answerer {
  readonly mutB: Uint8Array[] = [];
  readonly asked: string[] = [];
  challenged = false;
  challengedSlot: number | undefined;

  constructor(private readonly o: EncapsulatedFlowOptions) {}

  result(): EncapsulatedFlowResult {
    return {
      asked: this.asked,
      challenged: this.challenged,
      ...(this.challengedSlot !== undefined ? { challengedSlot: this.challengedSlot } : {}),
    };
  }

  private error(code: number, data = 0): Uint8Array {
    return encodeError(this.o.version, code, data);
  }

  answer(request: Uint8Array): Uint8Array {
    let code: number;
    let version: number;
    try {
      ({ code, version } = peekHeader(request));
    } catch {
      return this.error(ErrorCode.InvalidRequest);
    }
    this.asked.push(codeName(code));
    if (version !== this.o.version) return this.error(ErrorCode.VersionMismatch);
    try {
      switch (code) {
        case RequestCode.GET_DIGESTS:
          return this.digests(request);
        case RequestCode.GET_CERTIFICATE:
          return this.certificate(request);
        case RequestCode.CHALLENGE:
          if (this.o.purpose !== 'basic') return this.error(ErrorCode.UnexpectedRequest);
          return this.challengeAuth(request);
        case RequestCode.KEY_UPDATE:
          // Outside an established session, as libspdm's requester answers: SessionRequired from
          // 1.2 (1.1 has no such code), InvalidRequest in a session's handshake.
          if (this.o.purpose === 'session') return this.error(ErrorCode.InvalidRequest);
          return this.error(this.o.version >= 0x12 ? ErrorCode.SessionRequired : ErrorCode.Unspecified);
        default:
          return this.error(ErrorCode.UnsupportedRequest, code);
      }
    } catch (e) {
      // A malformed request from the device is answered, as a responder would, not thrown at our caller.
      if (e instanceof SpdmError) return this.error(ErrorCode.InvalidRequest);
      throw e;
    }
  }

  digests(request: Uint8Array): Uint8Array {
    const req = decodeGetDigests(request);
    const id = this.o.identity;
    const response = encodeDigests(this.o.version, {
      digests: id.slots().map((s) => ({ slot: s.slot, digest: id.chainHash(s.slot) as Uint8Array })),
    });
    this.mutB.push(req.raw, response);
    return response;
  }

  certificate(request: Uint8Array): Uint8Array {
    const req = decodeGetCertificate(request);
    const chain = this.o.identity.chain(req.slot);
    if (!chain || req.offset > chain.length || req.slotSizeRequested) return this.error(ErrorCode.InvalidRequest);
    const size = Math.min(req.length, MAX_PORTION, chain.length - req.offset);
    const response = encodeCertificate(this.o.version, {
      slot: req.slot,
      portion: chain.subarray(req.offset, req.offset + size),
      remainderLength: chain.length - req.offset - size,
    });
    this.mutB.push(req.raw, response);
    return response;
  }

  challengeAuth(request: Uint8Array): Uint8Array {
    const req = decodeChallenge(request);
    const id = this.o.identity;
    const hash = req.slot === 0xff ? undefined : id.chainHash(req.slot);
    // We hold no measurements: a summary hash cannot be asked of a requester.
    if (!hash || req.measurementSummaryHashType !== 0) return this.error(ErrorCode.InvalidRequest);
    const fields = {
      slot: req.slot,
      slotMask: id.slots().reduce((m, s) => m | (1 << s.slot), 0),
      certChainHash: hash,
      nonce: this.o.random(NONCE_SIZE),
      ...(req.requesterContext ? { requesterContext: req.requesterContext } : {}),
    };
    const { unsigned } = encodeChallengeAuth(this.o.version, fields, new Uint8Array(0));
    const signed = this.o.transcript.mutualM1(this.mutB, req.raw, unsigned);
    const signature = id.sign(req.slot, signed);
    this.challenged = true;
    this.challengedSlot = req.slot;
    return encodeChallengeAuth(this.o.version, fields, signature).message;
  }
}

export async function encapsulatedFlow(
  send: EncapsulatedSend,
  o: EncapsulatedFlowOptions,
): Promise<EncapsulatedFlowResult> {
  const a = new Answerer(o);
  let requestId: number;
  let nested: Uint8Array;
  if (o.start === 'digests') {
    requestId = 0;
    nested = a.digests(new Uint8Array([o.version, RequestCode.GET_DIGESTS, 0, 0]));
  } else {
    const er = await send(encodeGetEncapsulatedRequest(o.version), ResponseCode.ENCAPSULATED_REQUEST, (b) =>
      decodeEncapsulatedRequest(b),
    );
    if (er.payload.length === 0) return { asked: a.asked, challenged: false };
    requestId = er.requestId;
    nested = a.answer(er.payload);
  }
  for (let n = 0; n < MAX_ENCAPSULATED_REQUESTS; n++) {
    const ack = await send(
      encodeDeliverEncapsulatedResponse(o.version, { requestId, payload: nested }),
      ResponseCode.ENCAPSULATED_RESPONSE_ACK,
      (b) => decodeEncapsulatedResponseAck(b),
    );
    if (o.version >= 0x12 && ack.ackRequestId !== requestId)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `ENCAPSULATED_RESPONSE_ACK: AckRequestID ${ack.ackRequestId}, delivered RequestID ${requestId}`,
      );
    switch (ack.payloadType) {
      case EncapPayloadType.ABSENT:
        return a.result();
      case EncapPayloadType.REQ_SLOT_NUMBER: {
        const slot = ack.reqSlotNumber ?? -1;
        if (!o.identity.has(slot))
          throw new SpdmError(
            'UNEXPECTED_RESPONSE',
            `ENCAPSULATED_RESPONSE_ACK: ReqSlotNumber ${slot} names no slot of ours with the negotiated key`,
          );
        return { ...a.result(), reqSlot: slot };
      }
      case EncapPayloadType.PRESENT:
        if (ack.payload.length === 0)
          throw new SpdmError('UNEXPECTED_RESPONSE', 'ENCAPSULATED_RESPONSE_ACK: PayloadType 1 with no request');
        requestId = ack.requestId;
        nested = a.answer(ack.payload);
        break;
      default:
        throw new SpdmError('UNEXPECTED_RESPONSE', `ENCAPSULATED_RESPONSE_ACK: PayloadType ${ack.payloadType}`);
    }
  }
  throw new LimitError(
    'encapsulatedRequests',
    MAX_ENCAPSULATED_REQUESTS + 1,
    MAX_ENCAPSULATED_REQUESTS,
    'encapsulated request flow',
    `the device asked more than ${MAX_ENCAPSULATED_REQUESTS} encapsulated requests`,
  );
}
