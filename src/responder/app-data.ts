/**
 * What the emulator answers inside an established session besides SPDM requests.
 *
 * Application messages of another protocol (DSP0277: the binding's own message type inside the
 * record, MCTP and TCP only): PLDM over MCTP (message type 0x01), where the emulator is a
 * terminus that answers PLDM Control and Discovery GetTID (DSP0240; libspdm's requester sends
 * it for `--exe_session APP` over MCTP, and spdm-emu's responder answers TID 1). Other PLDM
 * commands and types get a PLDM completion code saying so; other message types are not spoken.
 *
 * VENDOR_DEFINED_REQUEST (the way PCIe DOE carries other protocols in a session): PCI-SIG's and
 * CXL's protocols (IDE_KM, TDISP, TSP) are answered by responder/vendor/; any other vendor's
 * request gets VENDOR_DEFINED_RESPONSE with the same StandardID, VendorID and payload, so that a
 * requester can prove the round trip.
 */
import { Reader } from '../wire/reader.js';
import type { SecuredTransport } from '../session/record.js';
import { decodeVendorDefinedRequest, encodeVendorDefinedResponse } from '../spdm/messages/vendor-defined.js';

export const MCTP_MESSAGE_TYPE_PLDM = 0x01;

const PLDM_REQUEST = 0x80;
const PLDM_DATAGRAM = 0x40;
const PLDM_INSTANCE_ID = 0x1f;
const PLDM_HEADER_VERSION_MASK = 0xc0;
const PLDM_TYPE_MASK = 0x3f;
const PLDM_TYPE_CONTROL_DISCOVERY = 0x00;
const PLDM_GET_TID = 0x02;
/** DSP0240 completion codes. */
const PLDM_SUCCESS = 0x00;
const PLDM_ERROR_INVALID_LENGTH = 0x03;
const PLDM_ERROR_UNSUPPORTED_PLDM_CMD = 0x05;
const PLDM_ERROR_INVALID_PLDM_TYPE = 0x20;

/** The emulator's PLDM terminus ID (spdm-emu's responder answers 1 too). */
export const EMULATOR_PLDM_TID = 1;

export interface ApplicationMessage {
  readonly messageType: number;
  readonly payload: Uint8Array;
}

/**
 * The answer to one non-SPDM application message, or undefined when the emulator speaks no such
 * protocol or the message is no request it can answer (a PLDM response, a datagram, a header too
 * short to echo).
 */
export function answerApplicationMessage(
  binding: SecuredTransport,
  m: ApplicationMessage,
): ApplicationMessage | undefined {
  // The message type numbers are the binding's own: 0x01 is PLDM over MCTP only.
  if (binding !== 'mctp' || m.messageType !== MCTP_MESSAGE_TYPE_PLDM) return undefined;
  const r = new Reader(m.payload, 'PLDM request');
  if (r.remaining < 3) return undefined;
  const instance = r.u8('InstanceID');
  const type = r.u8('PLDMType');
  const command = r.u8('PLDMCommandCode');
  // Only requests that want an answer get one (DSP0240: Rq set, D clear).
  if ((instance & PLDM_REQUEST) === 0 || (instance & PLDM_DATAGRAM) !== 0) return undefined;
  const reply = (completion: number, body: number[] = []): ApplicationMessage => ({
    messageType: MCTP_MESSAGE_TYPE_PLDM,
    payload: Uint8Array.of(instance & PLDM_INSTANCE_ID, type, command, completion, ...body),
  });
  if ((type & PLDM_HEADER_VERSION_MASK) !== 0 || (type & PLDM_TYPE_MASK) !== PLDM_TYPE_CONTROL_DISCOVERY)
    return reply(PLDM_ERROR_INVALID_PLDM_TYPE);
  if (command !== PLDM_GET_TID) return reply(PLDM_ERROR_UNSUPPORTED_PLDM_CMD);
  if (r.remaining !== 0) return reply(PLDM_ERROR_INVALID_LENGTH);
  return reply(PLDM_SUCCESS, [EMULATOR_PLDM_TID]);
}

/** VENDOR_DEFINED_REQUEST → VENDOR_DEFINED_RESPONSE with the same IDs and payload (a malformed request is a DecodeError). */
export function answerVendorDefined(request: Uint8Array, version: number): Uint8Array {
  const req = decodeVendorDefinedRequest(request);
  return encodeVendorDefinedResponse(version, {
    large: req.large,
    standardId: req.standardId,
    vendorId: req.vendorId,
    payload: req.payload,
  });
}
