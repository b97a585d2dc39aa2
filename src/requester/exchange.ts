/**
 * One request/response round trip with the error handling DSP0274 prescribes: Busy is retried a
 * bounded number of times, ResponseNotReady is waited out (RDT = 2^RDTExponent µs) and collected
 * with RESPOND_IF_READY, every other ERROR becomes a typed SpdmError. Only the original request
 * and the final response enter transcripts.
 *
 * A device's timing claims are untrusted input: CT and RDT are exponents a device picks, so each
 * wait is clamped (maxResponseWaitMs, maxNotReadyWaitMs) and the request as a whole, and the flow
 * it belongs to, have deadlines. Errors say what the device asked for and which limit applied.
 */
import { SpdmError } from '../wire/errors.js';
import { timerMs } from '../wire/limits.js';
import { peekHeader } from '../spdm/header.js';
import { withoutPadding } from '../spdm/trailing.js';
import { codeName, ResponseCode } from '../spdm/codes.js';
import { decodeError, encodeRespondIfReady, ErrorCode, errorCodeName } from '../spdm/messages/error.js';
import type { Transport } from '../transport/transport.js';
import type { Clock } from '../transport/clock.js';
import { getInChunks, largeResponseHandle, sendInChunks, type ChunkLimits } from './chunking.js';

export interface ExchangePolicy {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly busyRetries: number;
  readonly notReadyRetries: number;
  /** Ceiling on one ResponseNotReady wait; longer asks are clamped to it. */
  readonly maxNotReadyWaitMs: number;
  /** Ceiling on the wait for one response, whatever the protocol timeout (T1/T2) works out to. */
  readonly maxResponseWaitMs: number;
  /** Everything one request may take, retries and ResponseNotReady rounds included. */
  readonly requestDeadlineMs: number;
  /** Absolute time (clock.now() scale) by which the current flow must be over, if one is running. */
  readonly flowDeadline?: () => number | undefined;
  /** Both sides' chunking limits once negotiated with CHUNK_CAP on both (1.2+); undefined: no chunking. */
  readonly chunking?: () => ChunkLimits | undefined;
}

export interface ExchangeRequest {
  readonly request: Uint8Array;
  readonly expect: number;
  /** Version byte the response must carry (undefined before negotiation). */
  readonly version: number | undefined;
  /** The protocol's allowance for this response (T1 or T2), in ms; may be absurd when CT is. */
  readonly timeoutMs: number;
  /** How the allowance came about, for error messages (e.g. "CTExponent 31"). */
  readonly timeoutReason?: string;
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms * 1000) / 1000} ms`;
}

/** The wait for one response, and what bounded it. */
interface Wait {
  readonly ms: number;
  readonly limitedBy: 'protocol' | 'maxResponseWaitMs' | 'request' | 'flow';
  readonly limitMs: number;
}

class Deadlines {
  private readonly requestEnd: number;
  constructor(
    private readonly p: ExchangePolicy,
    private readonly reqName: string,
  ) {
    this.requestEnd = p.clock.now() + p.requestDeadlineMs;
  }

  /** The sooner of the request and flow deadlines, as remaining ms and which one it is. */
  remaining(): { ms: number; which: 'request' | 'flow'; limitMs: number } {
    const now = this.p.clock.now();
    const flowEnd = this.p.flowDeadline?.();
    if (flowEnd !== undefined && flowEnd < this.requestEnd)
      return { ms: flowEnd - now, which: 'flow', limitMs: flowEnd - now };
    return { ms: this.requestEnd - now, which: 'request', limitMs: this.p.requestDeadlineMs };
  }

  expired(which: 'request' | 'flow', why: string): SpdmError {
    const what =
      which === 'request'
        ? `request deadline of ${fmtMs(this.p.requestDeadlineMs)} (requestDeadlineMs)`
        : 'flow deadline (flowDeadlineMs)';
    return new SpdmError('TIMEOUT', `${this.reqName}: ${why}; the ${what} is reached`, {
      request: this.reqName,
      deadline: which,
    });
  }

  /** Bound the protocol's allowance by maxResponseWaitMs and by what is left of the deadlines. */
  responseWait(protocolMs: number): Wait {
    let w: Wait = { ms: protocolMs, limitedBy: 'protocol', limitMs: protocolMs };
    if (!(w.ms <= this.p.maxResponseWaitMs))
      w = { ms: this.p.maxResponseWaitMs, limitedBy: 'maxResponseWaitMs', limitMs: this.p.maxResponseWaitMs };
    const left = this.remaining();
    if (left.ms < w.ms) w = { ms: left.ms, limitedBy: left.which, limitMs: left.limitMs };
    if (w.ms <= 0) throw this.expired(left.which, 'no time left to wait for a response');
    return w;
  }
}

/**
 * The error a failed round trip is reported as: the transport's TIMEOUT with what bounded the
 * wait, its other SpdmErrors as they are, anything else TRANSPORT_ERROR.
 */
function roundTripError(e: unknown, x: ExchangeRequest, wait: Wait, reqName: string): SpdmError {
  if (e instanceof SpdmError && e.code === 'TIMEOUT') {
    const asked = x.timeoutReason
      ? `the device's ${x.timeoutReason} allows ${fmtMs(x.timeoutMs)}`
      : `the protocol allows ${fmtMs(x.timeoutMs)}`;
    const limit =
      wait.limitedBy === 'protocol'
        ? ''
        : wait.limitedBy === 'maxResponseWaitMs'
          ? `; waits are capped at ${fmtMs(wait.limitMs)} (maxResponseWaitMs)`
          : `; cut short by the ${wait.limitedBy} deadline`;
    return new SpdmError(
      'TIMEOUT',
      `${reqName}: no response within ${fmtMs(wait.ms)} (${asked}${limit})`,
      {
        request: reqName,
        waitedMs: wait.ms,
        askedMs: x.timeoutMs,
        limitMs: wait.limitMs,
        limitedBy: wait.limitedBy,
        ...(wait.limitedBy === 'request' || wait.limitedBy === 'flow' ? { deadline: wait.limitedBy } : {}),
      },
      { cause: e },
    );
  }
  if (e instanceof SpdmError) return e as SpdmError;
  return new SpdmError(
    'TRANSPORT_ERROR',
    `transport failed: ${e instanceof Error ? e.message : String(e)}`,
    {},
    { cause: e },
  );
}

/** Sleep `ms`, unless that would overrun a deadline: then fail now rather than wait in vain. */
async function pause(p: ExchangePolicy, d: Deadlines, ms: number, why: string): Promise<void> {
  const left = d.remaining();
  if (ms >= left.ms) throw d.expired(left.which, `${why} (${fmtMs(ms)}, only ${fmtMs(Math.max(0, left.ms))} left)`);
  await p.clock.sleep(ms);
}

/** Reads the expected response out of its bytes; `raw` is the prefix of them the message covers. */
export type Decoder<T extends { readonly raw: Uint8Array }> = (bytes: Uint8Array) => T;

/** One round trip on a channel already chosen (the clear one, or a session's), the response decoded by `decode`. */
export type RoundTrip = <T extends { readonly raw: Uint8Array }>(
  request: Uint8Array,
  expect: number,
  decode: Decoder<T>,
) => Promise<T>;

/**
 * {@link exchangeBytes}, then the response decoded; bytes after the message may only be
 * transport padding (named by the expected response code in the error).
 */
export function exchange<T extends { readonly raw: Uint8Array }>(
  p: ExchangePolicy,
  x: ExchangeRequest,
  decode: Decoder<T>,
): Promise<T> {
  const reqName = codeName(x.request[1] ?? 0);
  const now = p.transport.exchangeNow;
  // A peer that answers within the call, and a message that goes whole: the round trip and its
  // checks run here, and the caller's await is the only promise hop (two async layers per
  // message were a measurable share of a P-256 authentication). Anything that must wait — Busy,
  // ResponseNotReady — goes on in retried(), from the answer already in hand.
  if (now && !p.chunking?.()) {
    try {
      const answer = answeredNow(p, x, reqName, now);
      if (answer instanceof Uint8Array) return Promise.resolve(decoded(answer, x, reqName, decode));
      return answer.then((bytes) => decoded(bytes, x, reqName, decode));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the same failure the async path rejects with
      return Promise.reject(e);
    }
  }
  return exchangeAsync(p, x, decode, reqName);
}

async function exchangeAsync<T extends { readonly raw: Uint8Array }>(
  p: ExchangePolicy,
  x: ExchangeRequest,
  decode: Decoder<T>,
  reqName: string,
): Promise<T> {
  return decoded(await exchangeBytes(p, x, reqName), x, reqName, decode);
}

/** The expected response (expected()) decoded; bytes after the message may only be transport padding. */
function decoded<T extends { readonly raw: Uint8Array }>(
  response: Uint8Array,
  x: ExchangeRequest,
  reqName: string,
  decode: Decoder<T>,
): T {
  const bytes = expected(response, x, reqName);
  return withoutPadding(bytes, decode(bytes), codeName(x.expect));
}

/**
 * The first answer from a transport's exchangeNow, under the same deadlines and error mapping as
 * retried(); an ERROR (Busy and ResponseNotReady among them) is handed to retried() as its first
 * answer, which waits and asks again as it always does.
 */
function answeredNow(
  p: ExchangePolicy,
  x: ExchangeRequest,
  reqName: string,
  now: (request: Uint8Array, options?: { timeoutMs?: number }) => Uint8Array,
): Uint8Array | Promise<Uint8Array> {
  const d = new Deadlines(p, reqName);
  const wait = d.responseWait(x.timeoutMs);
  let response: Uint8Array;
  try {
    response = now(x.request, { timeoutMs: timerMs(wait.ms) });
  } catch (e) {
    throw roundTripError(e, x, wait, reqName);
  }
  if (peekHeader(response).code === ResponseCode.ERROR) return retried(p, x, d, x.request, x.request[1] ?? 0, response);
  return response;
}

/** The ERROR a device answered `reqName` with, as the SpdmError callers switch on. */
function deviceError(response: Uint8Array, reqName: string): SpdmError {
  const err = decodeError(response);
  return new SpdmError(
    'DEVICE_ERROR',
    `${reqName}: device answered ERROR ${errorCodeName(err.errorCode)} (data 0x${err.errorData.toString(16)})`,
    {
      request: reqName,
      errorCode: err.errorCode,
      errorName: errorCodeName(err.errorCode),
      errorData: err.errorData,
    },
  );
}

/**
 * The round trip alone: the response's bytes, an ERROR included (expected() then reads them). A
 * large request goes out in CHUNK_SEND pieces and a large response is collected with CHUNK_GET
 * (requester/chunking.ts); either way what comes back is the whole response, as if it had
 * travelled in one piece. Not itself async: each await on the path of every message costs, and
 * without chunking this is retried()'s promise as it is.
 */
function exchangeBytes(p: ExchangePolicy, x: ExchangeRequest, reqName: string): Promise<Uint8Array> {
  const d = new Deadlines(p, reqName);
  const limits = p.chunking?.();
  if (!limits) return retried(p, x, d, x.request, x.request[1] ?? 0);
  return chunkedBytes(p, x, d, limits, reqName);
}

async function chunkedBytes(
  p: ExchangePolicy,
  x: ExchangeRequest,
  d: Deadlines,
  limits: ChunkLimits,
  reqName: string,
): Promise<Uint8Array> {
  const rt = (request: Uint8Array) => retried(p, x, d, request, request[1] ?? 0);
  let response =
    x.request.length > limits.peerDataTransferSize
      ? await sendInChunks(limits, x.request, rt, deviceError, reqName)
      : await rt(x.request);
  const handle = largeResponseHandle(response);
  if (handle !== undefined) response = await getInChunks(limits, handle, rt, deviceError, reqName);
  return response;
}

/** `response` once it is the one expected: not an ERROR, the negotiated version, the expected code. */
function expected(response: Uint8Array, x: ExchangeRequest, reqName: string): Uint8Array {
  const h = peekHeader(response);
  if (h.code === ResponseCode.ERROR) throw deviceError(response, reqName);
  if (x.version !== undefined && h.version !== x.version) {
    throw new SpdmError(
      'VERSION_MISMATCH',
      `${reqName}: response carries version 0x${h.version.toString(16)}, negotiated 0x${x.version.toString(16)}`,
      { request: reqName },
    );
  }
  if (h.code !== x.expect) {
    throw new SpdmError('UNEXPECTED_RESPONSE', `${reqName}: expected ${codeName(x.expect)}, got ${codeName(h.code)}`, {
      request: reqName,
    });
  }
  return response;
}

/**
 * One request (a whole message or one chunk message) until it is answered with something other
 * than Busy or ResponseNotReady; that answer is returned as bytes, an ERROR included.
 */
async function retried(
  p: ExchangePolicy,
  x: ExchangeRequest,
  d: Deadlines,
  original: Uint8Array,
  reqCode: number,
  /** The answer to `original` when it came already (answeredNow): the loop starts from it. */
  first?: Uint8Array,
): Promise<Uint8Array> {
  const reqName = codeName(reqCode);
  let busy = 0;
  let notReady = 0;
  let request = original;
  let answered = first;
  for (;;) {
    let response: Uint8Array;
    if (answered !== undefined) {
      response = answered;
      answered = undefined;
    } else {
      const wait = d.responseWait(x.timeoutMs);
      try {
        response = await p.transport.exchange(request, { timeoutMs: timerMs(wait.ms) });
      } catch (e) {
        throw roundTripError(e, x, wait, reqName);
      }
    }
    const h = peekHeader(response);
    if (h.code === ResponseCode.ERROR) {
      const err = decodeError(response);
      if (err.errorCode === ErrorCode.Busy) {
        if (++busy > p.busyRetries)
          throw new SpdmError('BUSY', `${reqName}: device still busy after ${p.busyRetries} retries (busyRetries)`, {
            request: reqName,
            retries: p.busyRetries,
          });
        await pause(p, d, Math.min(10 * busy, 100), 'device busy, retry wait');
        request = original;
        continue;
      }
      if (err.errorCode === ErrorCode.ResponseNotReady && err.notReady) {
        const nr = err.notReady;
        if (nr.requestCode !== reqCode) {
          throw new SpdmError(
            'UNEXPECTED_RESPONSE',
            `${reqName}: ResponseNotReady names request 0x${nr.requestCode.toString(16)}`,
            { request: reqName },
          );
        }
        if (++notReady > p.notReadyRetries) {
          throw new SpdmError(
            'NOT_READY',
            `${reqName}: device still not ready after ${p.notReadyRetries} waits (notReadyRetries)`,
            { request: reqName, retries: p.notReadyRetries },
          );
        }
        // RDT = 2^RDTExponent µs; an exponent of 40 would be 12 days. Clamp, then ask again.
        const askedMs = 2 ** nr.rdtExponent / 1000;
        const waitMs = Math.min(askedMs, p.maxNotReadyWaitMs);
        const clamp = waitMs < askedMs ? `, clamped to ${fmtMs(waitMs)} (maxNotReadyWaitMs)` : '';
        await pause(p, d, waitMs, `device asks to wait ${fmtMs(askedMs)} (RDTExponent ${nr.rdtExponent})${clamp}`);
        request = encodeRespondIfReady(x.version ?? h.version, reqCode, nr.token);
        continue;
      }
    }
    return response;
  }
}
