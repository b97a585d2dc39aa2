/**
 * SET_CERTIFICATE / SET_CERTIFICATE_RSP (1.2+): provisions a slot with a certificate chain, or
 * (1.3) erases it. The chain goes as an SPDM certificate chain under the negotiated hash; on a
 * multi-key connection the request names the key pair the leaf certifies and its certificate
 * model. The response must name the slot.
 *
 * A chain over 64 KiB (SPDM 1.4, whose chain header has a u32 Length): SET_CERTIFICATE has no
 * length field of its own, the chain is the rest of the message, so there is no large form; the
 * message goes in CHUNK_SEND pieces (requester/chunking.ts) and must fit the device's
 * MaxSPDMmsgSize. The device must set LARGE_RESP_CAP (libspdm's responder refuses such a chain
 * with InvalidRequest otherwise), and we send no more than LIMITS.largeCertChainBytes, the most
 * we would read back.
 */
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeSetCertificateRsp, encodeSetCertificate } from '../spdm/messages/set-certificate.js';
import { encodeSpdmCertChain, SPDM_MAX_CERT_CHAIN_SIZE_V13 } from '../x509/spdm-chain.js';
import { LIMITS, LimitError } from '../wire/limits.js';
import type { Connection, RequestContext } from './connection.js';

export interface SetCertificateOptions {
  readonly slot: number;
  /** DER certificates, root (or first intermediate) first, leaf last; not with `erase`. */
  readonly certificates?: readonly Uint8Array[];
  /** 1.3: erase the slot instead. */
  readonly erase?: boolean;
  /** 1.3 multi-key connection: the key pair the leaf certifies (required there). */
  readonly keyPairId?: number;
  /** 1.3 multi-key connection: CertModel 1-3 (required there unless erasing). */
  readonly certModel?: number;
}

export async function setCertificate(ctx: RequestContext, o: SetCertificateOptions): Promise<void> {
  const c = ctx.connection;
  if (!Number.isInteger(o.slot) || o.slot < 0 || o.slot > 7) throw new TypeError(`slot ${o.slot} out of range 0-7`);
  if (c.version < 0x12) throw new SpdmError('UNSUPPORTED', 'SET_CERTIFICATE needs SPDM 1.2 or later');
  if ((c.capabilities.flags & CapabilityFlag.SET_CERT) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not support SET_CERTIFICATE (SET_CERT_CAP)');
  const erase = o.erase === true;
  if (erase && c.version < 0x13) throw new SpdmError('UNSUPPORTED', 'erasing a slot needs SPDM 1.3 or later');
  if (erase === (o.certificates !== undefined)) throw new TypeError('give either certificates or erase');
  const keyPairId = o.keyPairId ?? 0;
  const certModel = o.certModel ?? 0;
  if (c.multiKeyConn) {
    if (keyPairId < 1 || keyPairId > 0xff) throw new TypeError('a multi-key connection needs keyPairId 1-255');
    if (!erase && (certModel < 1 || certModel > 3)) throw new TypeError('a multi-key connection needs certModel 1-3');
  } else if (keyPairId !== 0 || certModel !== 0) {
    throw new TypeError('keyPairId and certModel are for 1.3 multi-key connections only');
  }
  const certChain = o.certificates ? encodeSpdmCertChain(c.version, c.hashId, o.certificates) : new Uint8Array(0);
  if (certChain.length > SPDM_MAX_CERT_CHAIN_SIZE_V13) checkLargeChain(c, certChain.length);
  ctx.transcript.request(RequestCode.SET_CERTIFICATE, ctx.measurementRun);
  const req = encodeSetCertificate(c.version, { slot: o.slot, certModel, erase, keyPairId, certChain });
  const resp = await ctx.send(req, ResponseCode.SET_CERTIFICATE_RSP, 'T2', decodeSetCertificateRsp);
  if (resp.slot !== o.slot)
    throw new SpdmError('UNEXPECTED_RESPONSE', `SET_CERTIFICATE_RSP: slot ${resp.slot}, provisioned slot ${o.slot}`);
}

/** A chain over 64 KiB: SPDM 1.4, the device's LARGE_RESP_CAP, at most LIMITS.largeCertChainBytes. */
function checkLargeChain(c: Connection, length: number): void {
  if (length > LIMITS.largeCertChainBytes)
    throw new LimitError(
      'largeCertChainBytes',
      length,
      LIMITS.largeCertChainBytes,
      'SET_CERTIFICATE',
      `SET_CERTIFICATE: a certificate chain of ${length} bytes exceeds the ${LIMITS.largeCertChainBytes}-byte limit`,
    );
  if ((c.capabilities.flags & CapabilityFlag.LARGE_RESP) === 0)
    throw new SpdmError(
      'UNSUPPORTED',
      `SET_CERTIFICATE: a chain of ${length} bytes (over 64 KiB) needs the device's LARGE_RESP_CAP`,
    );
}
