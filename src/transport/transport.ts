import type { SecuredTransport } from '../session/record.js';

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
  /**
   * exchange(), for a transport whose peer answers within the call (the in-process loopback to
   * the device emulator): the response itself, or the failure exchange() would reject with,
   * thrown. The requester then takes a message's round trip without a promise per layer. Absent
   * (undefined) wherever an answer may take time.
   */
  readonly exchangeNow?: ((request: Uint8Array, options?: ExchangeOptions) => Uint8Array) | undefined;
  /** Largest SPDM message the binding carries in one exchange. */
  readonly maxMessageSize: number;
  /** Whether the binding can carry secured (DSP0277) messages. */
  readonly securedCapable: boolean;
  /**
   * The record layout of this binding's secured messages (shared/spec/secured.md §3), when it
   * carries them: 'doe' (DOE data object type 2; no sequence number on the wire, no random data,
   * ApplicationData = the SPDM message), 'mctp' (MCTP message type 6; 2-byte sequence number, up
   * to 32 random bytes, ApplicationData = MCTP type 0x05 ‖ SPDM message), 'tcp' (DSP0287 message
   * type 0x06; no sequence number, ApplicationData = the 4-byte binding header ‖ SPDM message).
   */
  readonly securedBinding?: SecuredTransport;
  /**
   * Sends one DSP0277 record the binding's secured way and returns what came back in the same
   * secured channel: a record, or the peer's ERROR in the clear when it could not open ours
   * (libspdm answers DecryptError that way and drops the session). Present on secured-capable
   * transports; clear exchanges are untouched by it.
   */
  exchangeSecured?(record: Uint8Array, options?: ExchangeOptions): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** Something that answers SPDM requests: the device emulator, or a proxy for one. */
export interface SpdmHandler {
  handle(request: Uint8Array): Promise<Uint8Array>;
  /**
   * handle(), for a handler that never waits to answer (the device emulator): the answer within
   * the call. The in-process loopback calls it directly, without the promise hops and the
   * deadline race a handler that may wait needs. A handler that can delay or withhold an answer
   * (responder/faults) must not have it.
   */
  handleNow?(request: Uint8Array): Uint8Array;
  /** The secured channel (a device with sessions): one DSP0277 record in, one record (or a clear ERROR) out. */
  handleSecured?(record: Uint8Array): Promise<Uint8Array>;
  /** handleSecured(), within the call, under handleNow()'s rule (never for a handler that may wait). */
  handleSecuredNow?(record: Uint8Array): Uint8Array;
  /**
   * A device-initiated KEY_UPDATE towards the requester in the session named (every established
   * one when absent), carried by its next encapsulated flow (spdm-emu's OOB_ENCAP_KEY_UPDATE).
   */
  requestKeyUpdate?(sessionId?: number): boolean;
  /**
   * A GET_ENDPOINT_INFO towards the requester, carried by its next encapsulated flow in the clear
   * or in a session (spdm-emu's OOB_ENCAP_ENDPOINT_INFO); false when the device does not ask it.
   */
  requestEndpointInfo?(): boolean;
}
