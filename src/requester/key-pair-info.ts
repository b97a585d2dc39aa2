/**
 * GET_KEY_PAIR_INFO / KEY_PAIR_INFO and SET_KEY_PAIR_INFO / SET_KEY_PAIR_INFO_ACK (1.3): what key
 * pairs the device holds and how each is configured, and changing that. A KEY_PAIR_INFO must
 * answer the KeyPairID asked for and describe a consistent key pair: a current usage and algorithm
 * within its capabilities, one algorithm at a time, one slot unless the key pair is shareable.
 */
import { SpdmError } from '../wire/errors.js';
import { RequestCode, ResponseCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import {
  decodeKeyPairInfo,
  decodeSetKeyPairInfoAck,
  encodeGetKeyPairInfo,
  encodeSetKeyPairInfo,
  KeyPairCapability,
  KeyPairOperation,
  type KeyPairInfoResponse,
} from '../spdm/messages/key-pair-info.js';
import type { RequestContext } from './connection.js';

export type KeyPairInfo = Omit<KeyPairInfoResponse, 'raw' | 'version'>;

export interface SetKeyPairInfoOptions {
  readonly keyPairId: number;
  /** 'change' (default), 'erase' or 'generate'. */
  readonly operation?: 'change' | 'erase' | 'generate';
  readonly desiredKeyUsage?: number;
  /** A KeyPairAsymAlgo bit, 0 to keep the current one. */
  readonly desiredAsymAlgo?: number;
  readonly desiredAssocCertSlotMask?: number;
}

function onehot0(v: number): boolean {
  return (v & (v - 1)) === 0;
}

function bad(why: string): never {
  throw new SpdmError('UNEXPECTED_RESPONSE', `KEY_PAIR_INFO: ${why}`);
}

function requireVersion13(ctx: RequestContext, what: string, flag: number, cap: string): void {
  const c = ctx.connection;
  if (c.version < 0x13) throw new SpdmError('UNSUPPORTED', `${what} needs SPDM 1.3 or later`);
  if ((c.capabilities.flags & flag) === 0)
    throw new SpdmError('UNSUPPORTED', `device does not support ${what} (${cap})`);
}

function checkKeyPairId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 0xff) throw new TypeError(`keyPairId ${id} out of range 1-255`);
}

export async function getKeyPairInfo(ctx: RequestContext, keyPairId: number): Promise<KeyPairInfo> {
  checkKeyPairId(keyPairId);
  requireVersion13(ctx, 'GET_KEY_PAIR_INFO', CapabilityFlag.GET_KEY_PAIR_INFO, 'GET_KEY_PAIR_INFO_CAP');
  const c = ctx.connection;
  ctx.transcript.request(RequestCode.GET_KEY_PAIR_INFO, ctx.measurementRun);
  const r = await ctx.send(
    encodeGetKeyPairInfo(c.version, { keyPairId }),
    ResponseCode.KEY_PAIR_INFO,
    'T1',
    decodeKeyPairInfo,
  );
  if (r.keyPairId !== keyPairId) bad(`KeyPairID ${r.keyPairId}, asked for ${keyPairId}`);
  if (r.totalKeyPairs < keyPairId) bad(`TotalKeyPairs ${r.totalKeyPairs} below the KeyPairID ${keyPairId} it answers`);
  if (r.keyUsageCapabilities === 0) bad('KeyUsageCapabilities is 0');
  if ((r.currentKeyUsage | r.keyUsageCapabilities) !== r.keyUsageCapabilities)
    bad(`CurrentKeyUsage 0x${r.currentKeyUsage.toString(16)} outside KeyUsageCapabilities`);
  if (r.asymAlgoCapabilities === 0) bad('AsymAlgoCapabilities is 0');
  if (!onehot0(r.currentAsymAlgo)) bad(`CurrentAsymAlgo 0x${r.currentAsymAlgo.toString(16)} names several algorithms`);
  if ((r.currentAsymAlgo | r.asymAlgoCapabilities) !== r.asymAlgoCapabilities)
    bad(`CurrentAsymAlgo 0x${r.currentAsymAlgo.toString(16)} outside AsymAlgoCapabilities`);
  if (!onehot0(r.assocCertSlotMask) && (r.capabilities & KeyPairCapability.SHAREABLE) === 0)
    bad(
      `AssocCertSlotMask 0x${r.assocCertSlotMask.toString(16)} names several slots of a key pair that is not shareable`,
    );
  const { raw: _raw, version: _version, ...info } = r;
  return info;
}

/** Every key pair: KeyPairID 1 tells how many there are, then 2..TotalKeyPairs. */
export async function listKeyPairs(ctx: RequestContext): Promise<KeyPairInfo[]> {
  const first = await getKeyPairInfo(ctx, 1);
  const out = [first];
  for (let id = 2; id <= first.totalKeyPairs; id++) {
    const kp = await getKeyPairInfo(ctx, id);
    if (kp.totalKeyPairs !== first.totalKeyPairs)
      bad(`TotalKeyPairs changed from ${first.totalKeyPairs} to ${kp.totalKeyPairs} between requests`);
    out.push(kp);
  }
  return out;
}

const OPERATIONS = {
  change: KeyPairOperation.CHANGE,
  erase: KeyPairOperation.ERASE,
  generate: KeyPairOperation.GENERATE,
};

export async function setKeyPairInfo(ctx: RequestContext, o: SetKeyPairInfoOptions): Promise<void> {
  checkKeyPairId(o.keyPairId);
  requireVersion13(ctx, 'SET_KEY_PAIR_INFO', CapabilityFlag.SET_KEY_PAIR_INFO, 'SET_KEY_PAIR_INFO_CAP');
  const operation = OPERATIONS[o.operation ?? 'change'];
  const usage = o.desiredKeyUsage ?? 0;
  const algo = o.desiredAsymAlgo ?? 0;
  const mask = o.desiredAssocCertSlotMask ?? 0;
  if (operation === KeyPairOperation.ERASE && (usage !== 0 || algo !== 0 || mask !== 0))
    throw new TypeError('erase takes no usage, algorithm or slot mask');
  if (!onehot0(algo)) throw new TypeError('desiredAsymAlgo names one algorithm at most');
  const c = ctx.connection;
  ctx.transcript.request(RequestCode.SET_KEY_PAIR_INFO, ctx.measurementRun);
  const req = encodeSetKeyPairInfo(c.version, {
    operation,
    keyPairId: o.keyPairId,
    desiredKeyUsage: usage,
    desiredAsymAlgo: algo,
    desiredAssocCertSlotMask: mask,
  });
  await ctx.send(req, ResponseCode.SET_KEY_PAIR_INFO_ACK, 'T2', decodeSetKeyPairInfoAck);
}
