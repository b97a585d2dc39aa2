/**
 * SPDM over PCIe DOE (CMA-SPDM, PCIe r6.x sec 6.31): each SPDM message is one data object of type
 * 1 (secured messages type 2), exchanged through a DoeMailbox.
 */
import { SpdmError } from '../wire/errors.js';
import type { ExchangeOptions, Transport } from '../transport/transport.js';
import { DOE_MAX_PAYLOAD_BYTES, DoeObjectType, PCI_SIG_VENDOR_ID, type DoeProtocol } from '../transport/doe.js';
import { findExtendedCapabilities, PCI_EXT_CAP_ID_DOE, type ConfigSpace } from './config-space.js';
import { DoeMailbox, type DoeMailboxOptions } from './doe-mailbox.js';

export interface DoeTransportOptions {
  /** Protocols the mailbox listed in discovery (informational). */
  readonly protocols?: readonly DoeProtocol[];
  /** Whether secured CMA-SPDM (type 2) is available (default true). */
  readonly securedCapable?: boolean;
  /** Close the config space when the transport is closed (default false). */
  readonly ownsConfigSpace?: boolean;
}

function supports(protocols: readonly DoeProtocol[], type: number): boolean {
  return protocols.some((p) => p.vendorId === PCI_SIG_VENDOR_ID && p.type === type);
}

export class DoeTransport implements Transport {
  /** One data object carries at most 2^18 - 2 payload DWs. */
  readonly maxMessageSize = DOE_MAX_PAYLOAD_BYTES;
  readonly securedCapable: boolean;
  /** Secured CMA-SPDM records: no sequence number on the wire, the SPDM message as ApplicationData. */
  readonly securedBinding = 'doe' as const;
  readonly protocols: readonly DoeProtocol[];
  private closed = false;

  constructor(
    readonly mailbox: DoeMailbox,
    private readonly opts: DoeTransportOptions = {},
  ) {
    this.securedCapable = opts.securedCapable ?? true;
    this.protocols = opts.protocols ?? [];
  }

  /**
   * Sends one SPDM message as a CMA-SPDM data object; returns the response payload as received
   * (the SPDM message followed by up to 3 bytes of DW padding). `timeoutMs` replaces the mailbox's
   * 1-s DOE timeout for this exchange when given.
   */
  exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    return this.send(DoeObjectType.CMA_SPDM, request, options);
  }

  /** Sends one DSP0277 secured-message record as a secured CMA-SPDM data object. */
  async exchangeSecured(record: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    if (!this.securedCapable) throw new SpdmError('UNSUPPORTED', 'this DOE mailbox does not list secured CMA-SPDM');
    return this.send(DoeObjectType.SECURED_CMA_SPDM, record, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.opts.ownsConfigSpace) await this.mailbox.cs.close?.();
  }

  private async send(type: number, message: Uint8Array, options: ExchangeOptions): Promise<Uint8Array> {
    if (this.closed) throw new TypeError('DOE transport is closed');
    if (message.length > this.maxMessageSize) {
      throw new SpdmError(
        'TRANSPORT_ERROR',
        `message of ${message.length} bytes exceeds the DOE maximum ${this.maxMessageSize}`,
        { length: message.length, max: this.maxMessageSize },
      );
    }
    return this.mailbox.exchange(
      PCI_SIG_VENDOR_ID,
      type,
      message,
      options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {},
    );
  }
}

export interface OpenDoeTransportOptions extends DoeMailboxOptions, Pick<DoeTransportOptions, 'ownsConfigSpace'> {
  /** Use the DOE capability at this offset instead of searching for one that lists CMA-SPDM. */
  readonly capOffset?: number;
}

/**
 * Finds a DOE mailbox that supports CMA-SPDM and wraps it in a DoeTransport: walks the extended
 * capabilities, opens each DOE mailbox in turn (which aborts it to sync state, as Linux does),
 * runs DOE discovery and takes the first that lists CMA-SPDM. Throws UNSUPPORTED when the device
 * has no DOE capability or none lists CMA-SPDM (details list what each mailbox offered).
 */
export async function openDoeTransport(cs: ConfigSpace, opts: OpenDoeTransportOptions = {}): Promise<DoeTransport> {
  const offsets =
    opts.capOffset !== undefined ? [opts.capOffset] : await findExtendedCapabilities(cs, PCI_EXT_CAP_ID_DOE);
  if (offsets.length === 0) throw new SpdmError('UNSUPPORTED', 'device has no DOE extended capability');
  const seen: { capOffset: number; protocols: DoeProtocol[] }[] = [];
  for (const offset of offsets) {
    const mailbox = await DoeMailbox.open(cs, offset, opts);
    const protocols = await mailbox.discover();
    seen.push({ capOffset: offset, protocols });
    if (supports(protocols, DoeObjectType.CMA_SPDM)) {
      return new DoeTransport(mailbox, {
        protocols,
        securedCapable: supports(protocols, DoeObjectType.SECURED_CMA_SPDM),
        ...(opts.ownsConfigSpace !== undefined ? { ownsConfigSpace: opts.ownsConfigSpace } : {}),
      });
    }
  }
  throw new SpdmError('UNSUPPORTED', `no DOE mailbox lists CMA-SPDM (0001:01)`, { mailboxes: seen });
}
