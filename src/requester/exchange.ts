/**
 * One request/response round trip with the error handling DSP0274 prescribes: Busy is retried a
 * bounded number of times, ResponseNotReady is waited out (RDT = 2^RDTExponent µs, never longer
 * than RDT x RDTM or our own cap) and collected with RESPOND_IF_READY, every other ERROR becomes a
 * typed SpdmError. Only the original request and the final response enter transcripts.
 */
import { SpdmError } from '../wire/errors.js';
import { peekHeader } from '../spdm/header.js';
import { codeName, ResponseCode } from '../spdm/codes.js';
import { decodeError, encodeRespondIfReady, ErrorCode, errorCodeName } from '../spdm/messages/error.js';
import type { Transport } from '../transport/transport.js';
import type { Clock } from '../transport/clock.js';

export interface ExchangePolicy {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly busyRetries: number;
  readonly notReadyRetries: number;
  readonly maxNotReadyWaitMs: number;
}

export interface ExchangeRequest {
  readonly request: Uint8Array;
  readonly expect: number;
  /** Version byte the response must carry (undefined before negotiation). */
  readonly version: number | undefined;
  readonly timeoutMs: number;
}

async function roundTrip(p: ExchangePolicy, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  try {
    return await p.transport.exchange(request, { timeoutMs });
  } catch (e) {
    if (e instanceof SpdmError) throw e;
    throw new SpdmError('TRANSPORT_ERROR', `transport failed: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
  }
}

export async function exchange(p: ExchangePolicy, x: ExchangeRequest): Promise<Uint8Array> {
  const reqCode = x.request[1] ?? 0;
  const reqName = codeName(reqCode);
  let busy = 0;
  let notReady = 0;
  let request = x.request;
  for (;;) {
    const response = await roundTrip(p, request, x.timeoutMs);
    const h = peekHeader(response);
    if (h.code === ResponseCode.ERROR) {
      const err = decodeError(response);
      if (err.errorCode === ErrorCode.Busy) {
        if (++busy > p.busyRetries) throw new SpdmError('BUSY', `${reqName}: device still busy after ${p.busyRetries} retries`, { request: reqName });
        await p.clock.sleep(Math.min(10 * busy, 100));
        request = x.request;
        continue;
      }
      if (err.errorCode === ErrorCode.ResponseNotReady && err.notReady) {
        const nr = err.notReady;
        if (nr.requestCode !== reqCode) {
          throw new SpdmError('UNEXPECTED_RESPONSE', `${reqName}: ResponseNotReady names request 0x${nr.requestCode.toString(16)}`, { request: reqName });
        }
        if (++notReady > p.notReadyRetries) {
          throw new SpdmError('NOT_READY', `${reqName}: device not ready after ${p.notReadyRetries} waits`, { request: reqName });
        }
        const rdtMs = 2 ** nr.rdtExponent / 1000;
        if (rdtMs > p.maxNotReadyWaitMs) {
          throw new SpdmError('NOT_READY', `${reqName}: device asks for ${rdtMs} ms, more than the ${p.maxNotReadyWaitMs} ms allowed`, { request: reqName });
        }
        await p.clock.sleep(rdtMs);
        request = encodeRespondIfReady(x.version ?? h.version, reqCode, nr.token);
        continue;
      }
      throw new SpdmError('DEVICE_ERROR', `${reqName}: device answered ERROR ${errorCodeName(err.errorCode)} (data 0x${err.errorData.toString(16)})`, {
        request: reqName,
        errorCode: err.errorCode,
        errorName: errorCodeName(err.errorCode),
        errorData: err.errorData,
      });
    }
    if (x.version !== undefined && h.version !== x.version) {
      throw new SpdmError('VERSION_MISMATCH', `${reqName}: response carries version 0x${h.version.toString(16)}, negotiated 0x${x.version.toString(16)}`, { request: reqName });
    }
    if (h.code !== x.expect) {
      throw new SpdmError('UNEXPECTED_RESPONSE', `${reqName}: expected ${codeName(x.expect)}, got ${codeName(h.code)}`, { request: reqName });
    }
    return response;
  }
}
