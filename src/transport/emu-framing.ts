/**
 * What a NORMAL payload of the spdm-emu socket protocol holds for each transport type: the raw
 * SPDM message (NONE), MCTP message type + message (MCTP), a whole DOE data object (PCI_DOE), or
 * the DSP0287 binding header + message (TCP).
 */
import { DecodeError } from '../wire/errors.js';
import { decodeMctpMessage, encodeMctpMessage, MctpMessageType } from './mctp.js';
import { decodeTcpBinding, encodeTcpBinding, TcpMessageType } from './tcp-binding.js';
import { decodeDoeObject, encodeDoeObject, DoeObjectType, PCI_SIG_VENDOR_ID } from './doe.js';
import type { EmuTransportName } from './emu-frame.js';

export type Unwrapped =
  | { readonly kind: 'spdm'; readonly message: Uint8Array }
  | { readonly kind: 'secured'; readonly record: Uint8Array }
  | { readonly kind: 'doe-discovery'; readonly payload: Uint8Array };

export function wrapSpdm(transport: EmuTransportName, message: Uint8Array): Uint8Array {
  switch (transport) {
    case 'none':
      return message;
    case 'mctp':
      return encodeMctpMessage(MctpMessageType.SPDM, message);
    case 'doe':
      return encodeDoeObject({ vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.CMA_SPDM, payload: message });
    case 'tcp':
      return encodeTcpBinding(TcpMessageType.SPDM, message);
  }
}

/** A DSP0277 record as a NORMAL payload: MCTP type 6, DOE type 2, DSP0287 type 6 (NONE carries no secured messages). */
export function wrapSecured(transport: Exclude<EmuTransportName, 'none'>, record: Uint8Array): Uint8Array {
  switch (transport) {
    case 'mctp':
      return encodeMctpMessage(MctpMessageType.SECURED_SPDM, record);
    case 'doe':
      return encodeDoeObject({ vendorId: PCI_SIG_VENDOR_ID, type: DoeObjectType.SECURED_CMA_SPDM, payload: record });
    case 'tcp':
      return encodeTcpBinding(TcpMessageType.SECURED_SPDM, record);
  }
}

export function unwrapPayload(transport: EmuTransportName, payload: Uint8Array): Unwrapped {
  switch (transport) {
    case 'none':
      return { kind: 'spdm', message: payload };
    case 'mctp': {
      const m = decodeMctpMessage(payload);
      if (m.type === MctpMessageType.SPDM) return { kind: 'spdm', message: m.body };
      if (m.type === MctpMessageType.SECURED_SPDM) return { kind: 'secured', record: m.body };
      throw new DecodeError('MCTP message', 'MessageType', 0, `type 0x${m.type.toString(16)} is not SPDM`);
    }
    case 'doe': {
      const o = decodeDoeObject(payload);
      if (o.vendorId !== PCI_SIG_VENDOR_ID)
        throw new DecodeError('DOE object', 'VendorID', 0, `vendor 0x${o.vendorId.toString(16)} is not PCI-SIG`);
      if (o.type === DoeObjectType.CMA_SPDM) return { kind: 'spdm', message: o.payload };
      if (o.type === DoeObjectType.SECURED_CMA_SPDM) return { kind: 'secured', record: o.payload };
      if (o.type === DoeObjectType.DISCOVERY) return { kind: 'doe-discovery', payload: o.payload };
      throw new DecodeError('DOE object', 'DataObjectType', 2, `type ${o.type} is not a CMA protocol`);
    }
    case 'tcp': {
      const m = decodeTcpBinding(payload);
      if (m.type === TcpMessageType.SPDM) return { kind: 'spdm', message: m.body };
      if (m.type === TcpMessageType.SECURED_SPDM) return { kind: 'secured', record: m.body };
      throw new DecodeError(
        'SPDM-over-TCP message',
        'MessageType',
        3,
        `type 0x${m.type.toString(16)} is not an SPDM message`,
      );
    }
  }
}
