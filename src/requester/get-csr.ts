/**
 * GET_CSR / CSR (1.2+): the device makes a PKCS#10 certification request over one of its keys.
 * The CSR must be well-formed DER and signed with the key it names (a CSR that does not verify
 * proves nothing about the key a CA would certify). On a 1.3 multi-key connection the request
 * names a KeyPairID and a certificate model; otherwise both are 0.
 */
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeCsr, encodeGetCsr } from '../spdm/messages/csr.js';
import { checkCsrSignature, parseCsr, type ParsedCsr } from '../x509/csr.js';
import type { RequestContext } from './connection.js';

export interface CsrRequestOptions {
  /** 1.3 multi-key connection: the key pair to certify (required there, 0 otherwise). */
  readonly keyPairId?: number;
  /** 1.3 multi-key connection: CertModel 1 DeviceCert, 2 AliasCert, 3 GenericCert (required there). */
  readonly certModel?: number;
  /** A DER CertificationRequestInfo whose subject and attributes the device is to use. */
  readonly requesterInfo?: Uint8Array;
  readonly opaqueData?: Uint8Array;
}

export interface CsrResult {
  /** The CSR as the device sent it (DER). */
  readonly der: Uint8Array;
  readonly csr: ParsedCsr;
}

export async function getCsr(ctx: RequestContext, o: CsrRequestOptions): Promise<CsrResult> {
  const c = ctx.connection;
  if (c.version < 0x12) throw new SpdmError('UNSUPPORTED', 'GET_CSR needs SPDM 1.2 or later');
  if ((c.capabilities.flags & CapabilityFlag.CSR) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not support GET_CSR (CSR_CAP)');
  const keyPairId = o.keyPairId ?? 0;
  const certModel = o.certModel ?? 0;
  if (c.multiKeyConn) {
    if (keyPairId < 1 || keyPairId > 0xff) throw new TypeError('a multi-key connection needs keyPairId 1-255');
    if (certModel < 1 || certModel > 3) throw new TypeError('a multi-key connection needs certModel 1-3');
  } else if (keyPairId !== 0 || certModel !== 0) {
    throw new TypeError('keyPairId and certModel are for 1.3 multi-key connections only');
  }
  ctx.transcript.request(RequestCode.GET_CSR, ctx.measurementRun);
  const req = encodeGetCsr(c.version, {
    keyPairId,
    requestAttributes: certModel,
    ...(o.requesterInfo ? { requesterInfo: o.requesterInfo } : {}),
    ...(o.opaqueData ? { opaqueData: o.opaqueData } : {}),
  });
  const resp = await ctx.send(req, ResponseCode.CSR, 'T2', decodeCsr);
  if (resp.csr.length === 0) throw new SpdmError('UNEXPECTED_RESPONSE', 'CSR: CSRLength is 0');
  const csr = parseCsr(resp.csr);
  const problem = checkCsrSignature(csr);
  if (problem !== undefined)
    throw new SpdmError('SIGNATURE_INVALID', `CSR: not signed with the key it certifies (${problem})`);
  return { der: resp.csr, csr };
}
