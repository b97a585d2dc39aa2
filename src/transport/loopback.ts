import { SpdmError } from '../wire/errors.js';
import { slabCopy } from '../wire/slab.js';
import type { SecuredTransport } from '../session/record.js';
import type { ExchangeOptions, SpdmHandler, Transport } from './transport.js';

/**
 * In-process transport: hands each request to a handler (normally the device emulator) and
 * enforces the requester's timeout the way a real mailbox would.
 */
export interface LoopbackOptions {
  /**
   * Which binding's record layout secured messages use (default 'doe'); the handler must agree
   * (a Responder's `securedBinding`). Only meaningful when the handler has a secured path.
   */
  readonly securedBinding?: SecuredTransport;
}

const NOT_ANSWERED: unique symbol = Symbol('not answered yet');
const NOT_YET: Promise<typeof NOT_ANSWERED> = Promise.resolve(NOT_ANSWERED);

export class LoopbackTransport implements Transport {
  /** True when the handler answers secured messages (the device emulator does). */
  readonly securedCapable: boolean;
  readonly securedBinding: SecuredTransport | undefined;
  constructor(
    private readonly handler: SpdmHandler,
    readonly maxMessageSize = 0x10000,
    options: LoopbackOptions = {},
  ) {
    this.securedCapable = typeof handler.handleSecured === 'function';
    this.securedBinding = this.securedCapable ? (options.securedBinding ?? 'doe') : undefined;
    this.exchangeNow = handler.handleNow ? (request) => this.answerNow(request) : undefined;
  }

  /** Present when the handler answers within the call (handleNow): Transport.exchangeNow. */
  readonly exchangeNow: ((request: Uint8Array, options?: ExchangeOptions) => Uint8Array) | undefined;

  /**
   * A handler that answers within the call: no deadline can pass while it works (a timer cannot
   * fire before it returns), so there is nothing to race. Copied both ways, as run() copies. The
   * response's copy is cut from a slab (wire/slab.ts): it goes to the requester, which reads it
   * through views and keeps it no longer than its flow. The request's stays a copy of its own: the
   * device keeps requests in its transcript for as long as the connection lasts (and requests
   * are mostly small enough for V8's heap, where a copy is cheap anyway).
   */
  private answerNow(request: Uint8Array): Uint8Array {
    const h = this.handler;
    if (!h.handleNow) throw new TypeError('answerNow: the handler has no handleNow');
    this.checkSize(request);
    return slabCopy(h.handleNow(request.slice()));
  }

  exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    const h = this.handler;
    if (!h.handleNow) return this.run(request, options, (r) => h.handle(r));
    // Failures still arrive as a rejected promise, as from run().
    try {
      return Promise.resolve(this.answerNow(request));
    } catch (e) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own failure, passed on as run() would
      return Promise.reject(e);
    }
  }

  private checkSize(request: Uint8Array): void {
    if (request.length > this.maxMessageSize) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `request of ${request.length} bytes exceeds the transport maximum ${this.maxMessageSize}`,
      );
    }
  }

  /** The handler's secured path: one record in, its answer out (copied both ways, same timeout rule). */
  exchangeSecured(record: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    const h = this.handler;
    if (!h.handleSecured) throw new SpdmError('UNSUPPORTED', 'this loopback handler has no secured path');
    if (h.handleSecuredNow) {
      // As exchange() with handleNow: answered within the call, so there is no deadline to race.
      try {
        this.checkSize(record);
        return Promise.resolve(h.handleSecuredNow(record.slice()).slice());
      } catch (e) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the handler's own failure, passed on as run() would
        return Promise.reject(e);
      }
    }
    return this.run(record, options, (r) => {
      if (!h.handleSecured) throw new SpdmError('UNSUPPORTED', 'this loopback handler has no secured path');
      return h.handleSecured(r);
    });
  }

  private async run(
    request: Uint8Array,
    options: ExchangeOptions,
    handle: (r: Uint8Array) => Promise<Uint8Array>,
  ): Promise<Uint8Array> {
    this.checkSize(request);
    // Copy so neither side can mutate the other's buffers after the exchange.
    const pending = handle(request.slice());
    const timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined) return (await pending).slice();
    // The emulator answers within the call (its handler is async but never waits): then no
    // deadline can have passed, and a timer per message would be pure cost. Promise.race settles
    // with the first of its inputs already settled, in order, so `pending` wins whenever it has
    // an answer (or a failure) by now; only a handler still working gets the timer.
    const first = await Promise.race([pending, NOT_YET]);
    if (first !== NOT_ANSWERED) return first.slice();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SpdmError('TIMEOUT', `no response within ${timeoutMs} ms`, { timeoutMs })),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([pending, timeout])).slice();
    } finally {
      clearTimeout(timer);
    }
  }
}
