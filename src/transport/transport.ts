/**
 * The Transport interface: moves one SPDM message to the device and brings its response back.
 * Nothing above this layer knows whether the bytes travel over a DOE mailbox, MCTP, TCP or an
 * in-process call.
 */
export interface ExchangeOptions {
  /** How long the device may take to answer, in milliseconds (from ST1 or CT). */
  readonly timeoutMs?: number;
}

export interface Transport {
  exchange(request: Uint8Array, options?: ExchangeOptions): Promise<Uint8Array>;
  /** Largest SPDM message the binding carries in one exchange. */
  readonly maxMessageSize: number;
  /** Whether the binding can carry secured (DSP0277) messages. */
  readonly securedCapable: boolean;
  close?(): Promise<void>;
}

/** Something that answers SPDM requests: the device emulator, or a proxy for one. */
export interface SpdmHandler {
  handle(request: Uint8Array): Promise<Uint8Array>;
}
