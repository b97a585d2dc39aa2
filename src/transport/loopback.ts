import { SpdmError } from '../wire/errors.js';
import type { ExchangeOptions, SpdmHandler, Transport } from './transport.js';

/**
 * In-process transport: hands each request to a handler (normally the device emulator) and
 * enforces the requester's timeout the way a real mailbox would.
 */
export class LoopbackTransport implements Transport {
  readonly securedCapable = false;
  constructor(
    private readonly handler: SpdmHandler,
    readonly maxMessageSize = 0x10000,
  ) {}

  async exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    if (request.length > this.maxMessageSize) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `request of ${request.length} bytes exceeds the transport maximum ${this.maxMessageSize}`,
      );
    }
    // Copy so neither side can mutate the other's buffers after the exchange.
    const pending = this.handler.handle(request.slice());
    const timeoutMs = options.timeoutMs;
    if (timeoutMs === undefined) return (await pending).slice();
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
