/**
 * The signature log as the API shows it: the signed tree head in the JSON shape `spdm log`
 * prints, and inclusion/consistency proofs as hex; the arguments are checked here (TypeError).
 */
import type { SignatureLog } from '../log/log.js';
import { sthToJson, type SignedTreeHeadJson } from '../log/sth.js';
import { toHex } from '../wire/bytes.js';

export async function treeHeadOf(log: SignatureLog): Promise<SignedTreeHeadJson> {
  return sthToJson(await log.signedTreeHead(), log.logKey.logId);
}

export async function inclusionProofOf(
  log: SignatureLog,
  index: number,
  treeSize?: number,
): Promise<{ leafHash: string; proof: string[] }> {
  if (!Number.isSafeInteger(index) || index < 0) throw new TypeError(`index must be a whole number`);
  if (treeSize !== undefined && (!Number.isSafeInteger(treeSize) || treeSize < 1))
    throw new TypeError('treeSize must be a positive whole number');
  const p = await log.inclusionProof(index, treeSize);
  return { leafHash: toHex(p.leafHash), proof: p.path.map(toHex) };
}

export async function consistencyProofOf(log: SignatureLog, from: number, to?: number): Promise<{ proof: string[] }> {
  if (!Number.isSafeInteger(from) || from < 0) throw new TypeError('from must be a whole number');
  if (to !== undefined && (!Number.isSafeInteger(to) || to < 0)) throw new TypeError('to must be a whole number');
  const p = await log.consistencyProof(from, to);
  return { proof: p.path.map(toHex) };
}
