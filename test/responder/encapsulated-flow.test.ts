/**
 * The emulator's encapsulated-request engine on its own, with a task that asks HEARTBEATs for
 * ever (the engine never looks inside a request): RequestIDs, AckRequestID, the end with and
 * without ReqSlotNumber, an ERROR or another version from the requester, a RequestID that is not
 * the outstanding one, restart vs once, the implicit RequestID 0, and the bound on one flow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { encodeError, ErrorCode } from '../../src/spdm/messages/error.js';
import { RequestCode } from '../../src/spdm/codes.js';
import {
  decodeEncapsulatedRequest,
  decodeEncapsulatedResponseAck,
  EncapPayloadType,
  encodeDeliverEncapsulatedResponse,
  encodeGetEncapsulatedRequest,
} from '../../src/spdm/messages/encapsulated.js';
import { encodeHeartbeat, encodeHeartbeatAck } from '../../src/spdm/messages/heartbeat.js';
import {
  answerWithoutFlow,
  EncapRefusal,
  EncapsulatedFlow,
  MAX_REQUESTS_PER_FLOW,
  type EncapContext,
  type EncapsulatedTask,
  type TaskStep,
} from '../../src/responder/encapsulated-flow.js';
import { ErrorReply } from '../../src/responder/error-reply.js';

const V = 0x13;
const C: EncapContext = { version: V, responderFlags: F.ENCAP, requesterFlags: F.ENCAP };

/** Asks `rounds` HEARTBEATs per flow (Infinity: for ever), then ends naming `slot`. */
class Asker implements EncapsulatedTask {
  asked = 0;
  abandoned = 0;
  readonly refusals: string[] = [];
  constructor(
    readonly restart: 'restart' | 'once',
    private readonly rounds: number,
    private readonly slot = 0,
  ) {}
  start(): Uint8Array | undefined {
    if (this.restart === 'once' && this.asked > 0) return undefined;
    this.asked = 1;
    return encodeHeartbeat(V);
  }
  answer(_request: Uint8Array, response: Uint8Array): TaskStep {
    if (response[1] !== 0x68) throw new EncapRefusal('not a HEARTBEAT_ACK');
    if (this.asked >= this.rounds) return { end: { reqSlot: this.slot } };
    this.asked++;
    return { next: encodeHeartbeat(V) };
  }
  abandon(): void {
    this.abandoned++;
  }
  refused(why: string): void {
    this.refusals.push(why);
  }
}

const get = (): Uint8Array => encodeGetEncapsulatedRequest(V);
const deliver = (id: number, payload = encodeHeartbeatAck(V)): Uint8Array =>
  encodeDeliverEncapsulatedResponse(V, { requestId: id, payload });

function errorOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ErrorReply, String(e));
    return e.errorCode;
  }
  assert.fail('no ERROR');
}

test('RequestIDs run 1, 2, 3; each ACK names the response it acknowledges; the end is PayloadType 0 or 2 (ReqSlotNumber)', () => {
  for (const slot of [0, 3]) {
    const flow = new EncapsulatedFlow(new Asker('restart', 3, slot));
    const first = decodeEncapsulatedRequest(flow.onGet(get(), C));
    assert.equal(first.requestId, 1);
    assert.equal(first.payload[1], RequestCode.HEARTBEAT);
    const a1 = decodeEncapsulatedResponseAck(flow.onDeliver(deliver(1), C).response);
    assert.deepEqual([a1.requestId, a1.payloadType, a1.ackRequestId], [2, EncapPayloadType.PRESENT, 1]);
    const a2 = decodeEncapsulatedResponseAck(flow.onDeliver(deliver(2), C).response);
    assert.deepEqual([a2.requestId, a2.ackRequestId], [3, 2]);
    const end = flow.onDeliver(deliver(3), C);
    assert.equal(end.ended, true);
    const a3 = decodeEncapsulatedResponseAck(end.response);
    assert.equal(a3.requestId, 0);
    assert.equal(a3.ackRequestId, 3);
    if (slot === 0) assert.equal(a3.payloadType, EncapPayloadType.ABSENT);
    else assert.deepEqual([a3.payloadType, a3.reqSlotNumber], [EncapPayloadType.REQ_SLOT_NUMBER, 3]);
    // Nothing is outstanding after the end; a restartable engine's next flow goes on counting.
    assert.equal(
      errorOf(() => flow.onDeliver(deliver(3), C)),
      ErrorCode.UnexpectedRequest,
    );
    assert.equal(decodeEncapsulatedRequest(flow.onGet(get(), C)).requestId, 4);
  }
});

test('a wrong RequestID, an ERROR, another version or a refused answer end the flow with InvalidRequest', () => {
  const cases: { payload?: Uint8Array; id?: number; refusal?: string }[] = [
    { id: 7 },
    { payload: encodeError(V, ErrorCode.UnsupportedRequest, RequestCode.HEARTBEAT), refusal: 'ERROR 0x7' },
    { payload: encodeHeartbeatAck(0x12), refusal: 'version' },
    { payload: encodeHeartbeat(V) },
  ];
  for (const c of cases) {
    const task = new Asker('restart', 5);
    const flow = new EncapsulatedFlow(task);
    flow.onGet(get(), C);
    assert.equal(
      errorOf(() => flow.onDeliver(deliver(c.id ?? 1, c.payload), C)),
      ErrorCode.InvalidRequest,
    );
    assert.deepEqual(task.refusals, c.refusal ? [c.refusal] : []);
    assert.ok(task.abandoned >= 2, 'the task was told its flow ended');
    assert.equal(
      errorOf(() => flow.onDeliver(deliver(1), C)),
      ErrorCode.UnexpectedRequest,
    );
  }
});

test('restart: a new GET_ENCAPSULATED_REQUEST abandons the outstanding request; once: it is NoPendingRequests and the flow goes on', () => {
  const r = new EncapsulatedFlow(new Asker('restart', 5));
  r.onGet(get(), C);
  assert.equal(decodeEncapsulatedRequest(r.onGet(get(), C)).requestId, 2);
  assert.equal(
    errorOf(() => r.onDeliver(deliver(1), C)),
    ErrorCode.InvalidRequest,
  );

  const o = new EncapsulatedFlow(new Asker('once', 2));
  o.onGet(get(), C);
  assert.equal(
    errorOf(() => o.onGet(get(), C)),
    ErrorCode.NoPendingRequests,
  );
  assert.equal(decodeEncapsulatedResponseAck(o.onDeliver(deliver(1), C).response).requestId, 2);
  assert.equal(o.onDeliver(deliver(2), C).ended, true);
  assert.equal(
    errorOf(() => o.onGet(get(), C)),
    ErrorCode.NoPendingRequests,
  );
  assert.equal(
    errorOf(() => o.onGet(get(), { ...C, version: 0x12 })),
    ErrorCode.UnexpectedRequest,
  );
});

test('an implicit first request is RequestID 0; a GET_ENCAPSULATED_REQUEST meanwhile is NoPendingRequests', () => {
  const flow = new EncapsulatedFlow(new Asker('once', 2), encodeHeartbeat(V));
  assert.equal(
    errorOf(() => flow.onGet(get(), C)),
    ErrorCode.NoPendingRequests,
  );
  assert.equal(
    errorOf(() => flow.onDeliver(deliver(1), C)),
    ErrorCode.InvalidRequest,
  );
  const again = new EncapsulatedFlow(new Asker('once', 2), encodeHeartbeat(V));
  const ack = decodeEncapsulatedResponseAck(again.onDeliver(deliver(0), C).response);
  assert.deepEqual([ack.requestId, ack.ackRequestId], [1, 0]);
});

test(`one flow carries at most ${MAX_REQUESTS_PER_FLOW} requests: the next is refused, no RequestID comes twice`, () => {
  const task = new Asker('restart', Infinity);
  const flow = new EncapsulatedFlow(task);
  const seen = new Set<number>();
  let id = decodeEncapsulatedRequest(flow.onGet(get(), C)).requestId;
  seen.add(id);
  for (let n = 1; n < MAX_REQUESTS_PER_FLOW; n++) {
    id = decodeEncapsulatedResponseAck(flow.onDeliver(deliver(id), C).response).requestId;
    assert.ok(!seen.has(id), `RequestID ${id} again`);
    seen.add(id);
  }
  assert.equal(seen.size, MAX_REQUESTS_PER_FLOW);
  assert.equal(
    errorOf(() => flow.onDeliver(deliver(id), C)),
    ErrorCode.InvalidRequest,
  );
  // A new flow is allowed its own bound.
  assert.ok(flow.onGet(get(), C).length > 4);
});

test('ENCAP_CAP: GET_ENCAPSULATED_REQUEST needs it on both sides; without any flow, only ours is asked for', () => {
  const flow = new EncapsulatedFlow(new Asker('restart', 1));
  assert.equal(
    errorOf(() => flow.onGet(get(), { ...C, requesterFlags: 0 })),
    ErrorCode.UnsupportedRequest,
  );
  assert.equal(
    errorOf(() => flow.onDeliver(deliver(1), { ...C, responderFlags: 0 })),
    ErrorCode.UnsupportedRequest,
  );
  assert.equal(
    errorOf(() => answerWithoutFlow(get(), { version: V, responderFlags: F.ENCAP })),
    ErrorCode.NoPendingRequests,
  );
  assert.equal(
    errorOf(() => answerWithoutFlow(deliver(1), { version: V, responderFlags: F.ENCAP })),
    ErrorCode.UnexpectedRequest,
  );
  assert.equal(
    errorOf(() => answerWithoutFlow(get(), { version: V, responderFlags: 0 })),
    ErrorCode.UnsupportedRequest,
  );
});
