/**
 * GET_CERTIFICATE / CERTIFICATE: the SPDM certificate chain of one slot, read in portions of at
 * most `portionMax` bytes. Every portion must answer the slot asked for, stay within what was
 * requested and agree with the first on the chain's total length; each exchange extends
 * transcript B. {@link getCertificateChain} then holds the chain to the slot's DIGESTS entry and
 * validates it as an SPDM chain, keeping what it found in the slot's state.
 */
import type { KeyObject } from 'node:crypto';
import { digest } from '../crypto/hash.js';
import { concat, equalBytes, toHex } from '../wire/bytes.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS } from '../wire/limits.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { decodeCertificate, encodeGetCertificate } from '../spdm/messages/certificate.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { validateSpdmChain } from '../x509/chain.js';
import type { CertificateCache } from '../x509/cache.js';
import type { ParsedCertificate } from '../x509/certificate.js';
import type { ChainProblemEvidence } from '../evidence/evidence.js';
import type { RequestContext } from './connection.js';

/** What the requester knows of one slot: DIGESTS' entry, then the chain read and what validation found. */
export interface SlotState {
  digest?: Uint8Array;
  chain?: Uint8Array;
  /** Hash(chain) under the connection's hash, computed once when the chain was read (CertChainHash, Ct). */
  chainHash?: Uint8Array;
  certModel: number;
  certificates?: ParsedCertificate[];
  leafKey?: KeyObject;
  problems: ChainProblemEvidence[];
}

/** Chain problems that mean the device sent something structurally broken, not merely untrusted. */
const FATAL_CHAIN_PROBLEMS = new Set([
  'ROOT_HASH',
  'CHAIN_LINK',
  'CHAIN_SIGNATURE',
  'ROOT_SIGNATURE',
  'LEAF_KEY_ALGORITHM',
]);

export interface ChainCheckOptions {
  /** The largest CERTIFICATE portion to ask for. */
  readonly portionMax: number;
  /** Validity and trust are the verifier's: this time only feeds the problems recorded. */
  readonly now: Date;
  readonly cache: CertificateCache;
}

/**
 * Reads `slot`'s chain, checks its hash against DIGESTS and validates it. The slot's state keeps
 * the chain, certificates, leaf key and problems even when a fatal problem then fails the
 * request, so that partial evidence shows what the device sent.
 */
export async function getCertificateChain(
  ctx: RequestContext,
  slot: number,
  st: SlotState,
  opts: ChainCheckOptions,
): Promise<Uint8Array> {
  const c = ctx.connection;
  if (!st.digest) throw new SpdmError('SLOT_INVALID', `slot ${slot} is not provisioned (DIGESTS)`);
  const chain = await getCertificate(ctx, slot, opts.portionMax, st);
  const d = digest(c.hashId, chain);
  if (!equalBytes(d, st.digest)) {
    throw new SpdmError(
      'DIGEST_MISMATCH',
      `slot ${slot}: certificate chain hash ${toHex(d)} does not match DIGESTS ${toHex(st.digest)}`,
      { slot },
    );
  }
  const v = validateSpdmChain(chain, {
    version: c.version,
    hashId: c.hashId,
    asymId: c.asymId,
    role: 'responder',
    now: opts.now,
    cache: opts.cache,
    ...(st.certModel ? { certModel: st.certModel } : {}),
  });
  st.chain = chain;
  st.chainHash = d;
  st.certificates = v.certificates;
  st.leafKey = v.leafKey;
  st.problems = v.report.problems.map((p) => ({ ...p }));
  const fatal = v.report.problems.filter((p) => FATAL_CHAIN_PROBLEMS.has(p.code));
  if (fatal.length > 0) {
    throw new SpdmError(
      'CERT_CHAIN_INVALID',
      `slot ${slot}: ${fatal.map((p) => `${p.code}: ${p.message}`).join('; ')}`,
      {
        slot,
        problems: fatal,
      },
    );
  }
  return chain;
}

/**
 * 1.4 LargeCertChain (u32 Offset/Length/PortionLength/RemainderLength, chains over 64 KiB): used,
 * as libspdm's requester does, whenever the connection is 1.4+ and the device sets LARGE_RESP_CAP.
 */
export function largeCertChain(c: {
  readonly version: number;
  readonly capabilities: { readonly flags: number };
}): boolean {
  return c.version >= 0x14 && (c.capabilities.flags & CapabilityFlag.LARGE_RESP) !== 0;
}

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
  const large = largeCertChain(c);
  const maxChain = large ? LIMITS.largeCertChainBytes : LIMITS.certChainBytes;
  for (let round = 0; ; round++) {
    if (round > maxChain) throw new SpdmError('UNEXPECTED_RESPONSE', 'CERTIFICATE: too many portions');
    const want = Math.min(portionMax, total === undefined ? portionMax : total - offset);
    const req = encodeGetCertificate(c.version, { slot, offset, length: want, large });
    const resp = await ctx.send(req, ResponseCode.CERTIFICATE, 'T1', decodeCertificate);
    // The response takes the request's form (libspdm refuses either mismatch).
    if (resp.large !== large)
      throw new SpdmError(
        'UNEXPECTED_RESPONSE',
        `CERTIFICATE: ${resp.large ? 'LargeCertChain' : 'the 16-bit form'} in answer to a ${large ? 'LargeCertChain' : '16-bit'} GET_CERTIFICATE`,
      );
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
