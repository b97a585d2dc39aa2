/**
 * GET_DIGESTS / DIGESTS: the digest of the certificate chain in every provisioned slot. The
 * exchange starts transcript B (it follows VCA in M1/M2).
 */
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeDigests, encodeGetDigests, type SlotDigest } from '../spdm/messages/digests.js';
import type { RequestContext } from './connection.js';

export async function getDigests(ctx: RequestContext): Promise<readonly SlotDigest[]> {
  const c = ctx.connection;
  if ((c.capabilities.flags & CapabilityFlag.CERT) === 0)
    throw new SpdmError('UNSUPPORTED', 'device does not support certificates (CERT_CAP)');
  ctx.transcript.request(RequestCode.GET_DIGESTS);
  const req = encodeGetDigests(c.version);
  const multiKeyConn = c.multiKeyConn;
  const resp = await ctx.send(req, ResponseCode.DIGESTS, 'T1', (b) =>
    decodeDigests(b, { hashSize: c.hashSize, multiKeyConn }),
  );
  ctx.transcript.startB(req, resp.raw);
  return resp.digests;
}
