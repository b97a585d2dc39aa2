/**
 * VENDOR_DEFINED_REQUEST inside a session, routed by StandardID and VendorID: PCI-SIG's IDE_KM
 * and TDISP and CXL's IDE_KM and TSP go to the emulated device's state machines (one set per
 * Responder, i.e. per device: keys and interface states outlive the session that set them up, as
 * a device's would); any other vendor's request is echoed (responder/app-data.ts).
 *
 * A PCI-SIG/CXL protocol the device does not implement gets SPDM ERROR UnsupportedRequest; an
 * IDE_KM request with no IDE_KM answer (IdeKmRefusal) or a message too short to name what it is
 * gets InvalidRequest. TDISP and TSP answer their own ERROR messages for everything else.
 */
import type { RandomSource } from '../../crypto/random.js';
import { ErrorCode } from '../../spdm/messages/error.js';
import { RequestCode } from '../../spdm/codes.js';
import { decodeVendorDefinedRequest, encodeVendorDefinedResponse } from '../../spdm/messages/vendor-defined.js';
import {
  CxlProtocolId,
  PciProtocolId,
  VENDOR_ID_CXL,
  VENDOR_ID_PCISIG,
  decodeVendorProtocol,
  encodeVendorProtocolPayload,
} from '../../spdm/vendor/pci-protocol.js';
import { ErrorReply } from '../error-reply.js';
import { answerVendorDefined } from '../app-data.js';
import { IdeKmDevice, IdeKmRefusal } from './ide-km-device.js';
import { TdispDevice } from './tdisp-device.js';
import { TspDevice } from './tsp-device.js';

export class VendorProtocols {
  readonly pciIdeKm: IdeKmDevice;
  readonly tdisp: TdispDevice;
  readonly cxlIdeKm: IdeKmDevice;
  readonly tsp = new TspDevice();

  constructor(random: RandomSource) {
    // The TDI is bound to PCIe IDE: LOCK needs its stream secure, a stop of that stream breaks it.
    this.pciIdeKm = new IdeKmDevice('pci', { random, onStreamInsecure: (s) => this.tdisp.streamInsecure(s) });
    this.tdisp = new TdispDevice({ random, isStreamSecure: (s) => this.pciIdeKm.isStreamSecure(s) });
    this.cxlIdeKm = new IdeKmDevice('cxl', { random });
  }

  /** VENDOR_DEFINED_REQUEST → VENDOR_DEFINED_RESPONSE (ErrorReply for an SPDM ERROR, DecodeError when malformed). */
  answer(request: Uint8Array, version: number): Uint8Array {
    const req = decodeVendorDefinedRequest(request);
    const m = decodeVendorProtocol(req.standardId, req.vendorId, req.payload);
    if (!m) return answerVendorDefined(request, version);
    const body = this.route(m.vendorId, m.protocolId, m.body);
    return encodeVendorDefinedResponse(version, {
      large: req.large,
      standardId: req.standardId,
      vendorId: req.vendorId,
      payload: encodeVendorProtocolPayload(m.protocolId, body),
    });
  }

  private route(vendorId: number, protocolId: number, body: Uint8Array): Uint8Array {
    try {
      if (vendorId === VENDOR_ID_PCISIG && protocolId === PciProtocolId.IDE_KM) return this.pciIdeKm.answer(body);
      if (vendorId === VENDOR_ID_PCISIG && protocolId === PciProtocolId.TDISP) return this.tdisp.answer(body);
      if (vendorId === VENDOR_ID_CXL && protocolId === CxlProtocolId.IDE_KM) return this.cxlIdeKm.answer(body);
      if (vendorId === VENDOR_ID_CXL && protocolId === CxlProtocolId.TSP) return this.tsp.answer(body);
    } catch (e) {
      if (e instanceof IdeKmRefusal) throw new ErrorReply(ErrorCode.InvalidRequest);
      throw e;
    }
    throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.VENDOR_DEFINED_REQUEST);
  }
}
