/**
 * A TSM's side of the PCI-SIG and CXL protocols carried in VENDOR_DEFINED_REQUEST inside a
 * session (spdm/vendor/): one exchange per protocol that checks the response comes back under the
 * same StandardID, VendorID and ProtocolID, and typed helpers for the first question of each
 * (IDE_KM QUERY, TDISP GET_VERSION). A TDISP_ERROR or TSP ERROR answer is returned by the
 * exchanges (the caller may expect one) and thrown as DEVICE_ERROR by the typed helpers.
 */
import { SpdmError } from '../wire/errors.js';
import { equalBytes } from '../wire/bytes.js';
import {
  CxlProtocolId,
  PciProtocolId,
  STANDARD_ID_PCISIG,
  VENDOR_ID_CXL,
  VENDOR_ID_PCISIG,
  decodeVendorProtocol,
  encodeVendorProtocolPayload,
  vendorIdField,
} from '../spdm/vendor/pci-protocol.js';
import { IdeKmObject, decodeIdeKm, encodeIdeKm, type IdeKmFlavor, type IdeKmMessage } from '../spdm/vendor/ide-km.js';
import {
  TDISP_VERSION_10,
  TdispRequest,
  TdispResponse,
  decodeTdispResponse,
  encodeTdispRequest,
  type TdispRequestMessage,
  type TdispResponseMessage,
} from '../spdm/vendor/pci-tdisp.js';
import {
  decodeTspResponse,
  encodeTspRequest,
  type TspRequestMessage,
  type TspResponseMessage,
} from '../spdm/vendor/cxl-tsp.js';
import type { Session } from './session.js';

/** One protocol message out and its answer's body back, under the same IDs (UNEXPECTED_RESPONSE otherwise). */
export async function vendorProtocolExchange(
  session: Session,
  vendorId: number,
  protocolId: number,
  body: Uint8Array,
): Promise<Uint8Array> {
  const ids = vendorIdField(vendorId);
  const r = await session.vendorDefined({
    standardId: STANDARD_ID_PCISIG,
    vendorId: ids,
    payload: encodeVendorProtocolPayload(protocolId, body),
  });
  const m = decodeVendorProtocol(r.standardId, r.vendorId, r.payload);
  if (r.standardId !== STANDARD_ID_PCISIG || !equalBytes(r.vendorId, ids) || !m || m.protocolId !== protocolId)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'VENDOR_DEFINED_RESPONSE under other IDs than the request');
  return m.body;
}

/** An IDE_KM request (PCIe or CXL form) and the decoded answer. */
export async function ideKmExchange(session: Session, flavor: IdeKmFlavor, m: IdeKmMessage): Promise<IdeKmMessage> {
  const vendor = flavor === 'pci' ? VENDOR_ID_PCISIG : VENDOR_ID_CXL;
  const protocol = flavor === 'pci' ? PciProtocolId.IDE_KM : CxlProtocolId.IDE_KM;
  return decodeIdeKm(await vendorProtocolExchange(session, vendor, protocol, encodeIdeKm(m, flavor)), flavor);
}

export async function tdispExchange(session: Session, m: TdispRequestMessage): Promise<TdispResponseMessage> {
  const body = await vendorProtocolExchange(session, VENDOR_ID_PCISIG, PciProtocolId.TDISP, encodeTdispRequest(m));
  const r = decodeTdispResponse(body);
  if (r.functionId !== m.functionId)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'TDISP response for another interface than the request');
  return r;
}

export async function tspExchange(
  session: Session,
  version: number,
  m: TspRequestMessage,
): Promise<{ readonly version: number } & TspResponseMessage> {
  return decodeTspResponse(
    await vendorProtocolExchange(session, VENDOR_ID_CXL, CxlProtocolId.TSP, encodeTspRequest(version, m)),
  );
}

/** IDE_KM QUERY → QUERY_RESP for a port (its IDE capability registers, the port count). */
export async function ideKmQuery(
  session: Session,
  flavor: IdeKmFlavor,
  portIndex: number,
): Promise<Extract<IdeKmMessage, { object: typeof IdeKmObject.QUERY_RESP }>> {
  const r = await ideKmExchange(session, flavor, { object: IdeKmObject.QUERY, portIndex });
  if (r.object !== IdeKmObject.QUERY_RESP || r.portIndex !== portIndex)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'IDE_KM QUERY not answered by a QUERY_RESP for its port');
  return r;
}

/** TDISP GET_VERSION → the TDISP versions the interface's DSM speaks. */
export async function tdispGetVersion(session: Session, functionId: number): Promise<readonly number[]> {
  const r = await tdispExchange(session, {
    version: TDISP_VERSION_10,
    messageType: TdispRequest.GET_VERSION,
    functionId,
  });
  if (r.messageType === TdispResponse.TDISP_ERROR)
    throw new SpdmError('DEVICE_ERROR', `TDISP_ERROR 0x${r.errorCode.toString(16)} to GET_VERSION`, {
      request: 'TDISP GET_VERSION',
      errorCode: r.errorCode,
      errorData: r.errorData,
    });
  if (r.messageType !== TdispResponse.VERSION)
    throw new SpdmError('UNEXPECTED_RESPONSE', 'TDISP GET_VERSION not answered by VERSION');
  return r.versions;
}
