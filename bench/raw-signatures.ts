/**
 * An evidence's device signatures as node:crypto verifies them, everything SPDM-specific (the
 * leaf key out of the chain, the 1.2+ signing prefix, the key's padding and encoding) worked out
 * beforehand: the baseline of the benches that measure a verifier against the raw checks.
 */
import { constants, verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { asymInfo, hashInfo } from '../src/crypto/algorithms.js';
import { primitiveInput } from '../src/crypto/signature.js';
import type { Evidence } from '../src/evidence/evidence.js';
import { concat, fromHex } from '../src/wire/bytes.js';
import { chainForSlot } from '../src/x509/slot-chain.js';

/** One signature, ready for one-shot crypto.verify. */
export interface RawSignature {
  readonly hash: string | null;
  readonly data: Buffer;
  readonly key: VerifyKeyObjectInput;
  readonly signature: Buffer;
}

/** The signatures of `e`, each checked once here so a baseline never times a failing verify. */
export function rawSignatures(e: Evidence): RawSignature[] {
  return e.signatures.map((s) => {
    const slot = e.slots.find((x) => x.slot === s.slot);
    const a = asymInfo(s.asymAlgo);
    const h = hashInfo(s.hashAlgo);
    if (!slot || !a || !h) throw new Error(`evidence ${e.device ?? '?'}: no slot or algorithm for its signature`);
    const leaf: KeyObject = chainForSlot(fromHex(slot.certChain), { version: s.version, hashId: s.hashAlgo }).leafKey;
    const data = Buffer.from(
      concat(
        primitiveInput({
          version: s.version,
          hashId: s.hashAlgo,
          context: s.context,
          transcriptHash: fromHex(s.transcriptHash),
          transcript: [fromHex(s.transcript)],
        }),
      ),
    );
    const key: VerifyKeyObjectInput =
      a.kind === 'rsapss'
        ? { key: leaf, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.size }
        : a.kind === 'rsassa'
          ? { key: leaf, padding: constants.RSA_PKCS1_PADDING }
          : a.kind === 'ecdsa'
            ? { key: leaf, dsaEncoding: 'ieee-p1363' }
            : { key: leaf };
    const r: RawSignature = {
      hash: a.kind === 'ed25519' || a.kind === 'ed448' ? null : h.node,
      data,
      key,
      signature: Buffer.from(fromHex(s.signature)),
    };
    if (!cryptoVerify(r.hash, r.data, r.key, r.signature)) throw new Error('a raw signature does not verify');
    return r;
  });
}

/** crypto.verify of one raw signature. */
export function verifyRaw(r: RawSignature): boolean {
  return cryptoVerify(r.hash, r.data, r.key, r.signature);
}
