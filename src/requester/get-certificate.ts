/**
 * GET_CERTIFICATE / CERTIFICATE: the SPDM certificate chain of one slot, read in portions of at
 * most `portionMax` bytes. Every portion must answer the slot asked for, stay within what was
 * requested and agree with the first on the chain's total length; each exchange extends
 * transcript B. Checking the chain against DIGESTS and validating it is the caller's part.
 */
import { concat } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { decodeCertificate, encodeGetCertificate } from '../spdm/messages/certificate.js';
import type { RequestContext } from './connection.js';

/**
 * The chain's bytes as sent. `st.certModel` follows each portion's CertModel as it arrives, so a
 * transfer that fails midway leaves the last one reported.
 */
export async function getCertificate(
  ctx: RequestContext,
  slot: number,
  portionMax: number,
  st: { certModel: number },
): Promise<Uint8Array> {
  const c = ctx.connection;
  ctx.transcript.request(RequestCode.GET_CERTIFICATE);
  const parts: Uint8Array[] = [];
  let offset = 0;
  let total: number | undefined;
  const maxChain = LIMITS.certChainBytes;
  for (let round = 0; ; round++) {
    if (round > maxChain) throw new SpdmError('UNEXPECTED_RESPONSE', 'CERTIFICATE: too many portions');
    const want = Math.min(portionMax, total === undefined ? portionMax : total - offset);
    const req = encodeGetCertificate(c.version, { slot, offset, length: want });
    const resp = await ctx.send(req, ResponseCode.CERTIFICATE, 'T1', decodeCertificate);
    if (resp.slot !== slot)
      throw new SpdmError('UNEXPECTED_RESPONSE', `CERTIFICATE: answers slot ${resp.slot}, asked ${slot}`);
    if (resp.portion.length > want)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CERTIFICATE: PortionLength ${resp.portion.length} exceeds the ${want} requested`,
      );
    const claimed = offset + resp.portion.length + resp.remainderLength;
    if (total === undefined) {
      if (claimed > maxChain)
        throw new SpdmError('CERT_CHAIN_INVALID', `CERTIFICATE: chain of ${claimed} bytes exceeds ${maxChain}`);
      total = claimed;
    } else if (claimed !== total) {
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CERTIFICATE: chain length changed from ${total} to ${claimed} mid-transfer`,
      );
    }
    if (resp.portion.length === 0 && resp.remainderLength !== 0)
      throw new SpdmError('UNEXPECTED_RESPONSE', 'CERTIFICATE: empty portion with data remaining');
    ctx.transcript.appendB(req, resp.raw);
    parts.push(resp.portion);
    offset += resp.portion.length;
    st.certModel = resp.certModel;
    if (resp.remainderLength === 0) break;
  }
  return concat(parts);
}
