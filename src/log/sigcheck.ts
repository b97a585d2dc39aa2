/**
 * Re-verification of one logged SPDM signature from stored bytes alone, as in evidence/reverify.ts:
 * the leaf public key comes from the recorded certificate chain, the signed data from the recorded
 * transcript (or its hash, recomputed by the caller from the transcript). Used in-process and by
 * the verification worker threads; leaf keys are parsed once per chain.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { hashInfo } from '../crypto/algorithms.js';
import { spdmVerify } from '../crypto/signature.js';
import { SpdmError } from '../wire/errors.js';
import { chainForSlot } from '../x509/slot-chain.js';
import { ed25519Verify, publicKeyFromSpki } from './log-key.js';

export interface SpdmSignatureTask {
  readonly t: 'spdm';
  /** Hex SHA-256 of the chain, as registered with addChain. */
  readonly chain: string;
  /** The entry is slot 0xFF's: what `chain` names is the device's DER SubjectPublicKeyInfo, not an SPDM chain. */
  readonly publicKey?: boolean;
  readonly version: number;
  readonly hashAlgo: number;
  readonly asymAlgo: number;
  readonly context: string;
  readonly transcriptHash: Uint8Array;
  /** Needed for SPDM 1.0/1.1, where the primitive signs the transcript itself. */
  readonly transcript?: Uint8Array;
  readonly signature: Uint8Array;
}

export interface TreeHeadSignatureTask {
  readonly t: 'sth';
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export type SignatureTask = SpdmSignatureTask | TreeHeadSignatureTask;

export interface SignatureResult {
  readonly ok: boolean;
  readonly reason?: string;
}

function describe(e: unknown): string {
  return e instanceof SpdmError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

export class SignatureChecker {
  private readonly chains = new Map<string, Uint8Array>();
  private readonly keys = new Map<string, KeyObject | string>();
  private logKey: KeyObject | undefined;

  setLogKey(spki: Uint8Array): void {
    this.logKey = publicKeyFromSpki(spki).key;
  }

  addChain(digestHex: string, chain: Uint8Array): void {
    if (!this.chains.has(digestHex)) this.chains.set(digestHex, chain);
  }

  hasChain(digestHex: string): boolean {
    return this.chains.has(digestHex);
  }

  /** The chain registered under a digest (the bytes CertChainHash / Ct must be the hash of). */
  chain(digestHex: string): Uint8Array | undefined {
    return this.chains.get(digestHex);
  }

  /** The leaf key of a chain as read for this version and hash, or why it cannot be had. */
  leafKey(digestHex: string, version: number, hashAlgo: number, publicKey = false): KeyObject | string {
    const id = `${digestHex}/${version}/${hashAlgo}/${publicKey ? 'spki' : 'chain'}`;
    let k = this.keys.get(id);
    if (k === undefined) {
      k = publicKey ? this.loadPublicKey(digestHex) : this.loadLeafKey(digestHex, version, hashAlgo);
      this.keys.set(id, k);
    }
    return k;
  }

  private loadPublicKey(digestHex: string): KeyObject | string {
    const der = this.chains.get(digestHex);
    if (!der) return `public key ${digestHex} is not in the log`;
    try {
      return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    } catch (e) {
      return `public key ${digestHex} is not a DER SubjectPublicKeyInfo: ${describe(e)}`;
    }
  }

  private loadLeafKey(digestHex: string, version: number, hashAlgo: number): KeyObject | string {
    const chain = this.chains.get(digestHex);
    if (!chain) return `certificate chain ${digestHex} is not in the log`;
    if (!hashInfo(hashAlgo)) return `unknown hash algorithm 0x${hashAlgo.toString(16)}`;
    try {
      return chainForSlot(chain, { version, hashId: hashAlgo }).leafKey;
    } catch (e) {
      return `certificate chain ${digestHex} cannot be read: ${describe(e)}`;
    }
  }

  check(task: SignatureTask): SignatureResult {
    if (task.t === 'sth') {
      if (!this.logKey) return { ok: false, reason: 'no log key' };
      return ed25519Verify(this.logKey, task.message, task.signature)
        ? { ok: true }
        : { ok: false, reason: 'tree head signature does not verify with the log key' };
    }
    const key = this.leafKey(task.chain, task.version, task.hashAlgo, task.publicKey === true);
    if (typeof key === 'string') return { ok: false, reason: key };
    try {
      const ok = spdmVerify(
        key,
        task.asymAlgo,
        {
          version: task.version,
          hashId: task.hashAlgo,
          context: task.context,
          transcriptHash: task.transcriptHash,
          ...(task.transcript ? { transcript: [task.transcript] } : {}),
        },
        task.signature,
      );
      return ok
        ? { ok: true }
        : {
            ok: false,
            reason: task.publicKey
              ? 'signature does not verify with the recorded public key'
              : 'signature does not verify with the leaf key of the recorded chain',
          };
    } catch (e) {
      return { ok: false, reason: describe(e) };
    }
  }
}
