/**
 * The emulated device's key store (SPDM 1.3 key pairs): which private keys it holds, what each
 * may be used for and which certificate slots it backs. GET_KEY_PAIR_INFO reports it,
 * SET_KEY_PAIR_INFO changes it (usage, slot association, erase, generate), GET_CSR signs with one
 * of its keys and SET_CERTIFICATE associates a slot with the key its new leaf certifies. Changes
 * last for the life of the process, not across a GET_VERSION.
 *
 * What SET_KEY_PAIR_INFO changes is the key pair's configuration, as libspdm's sample device
 * keeps it: Erase clears the usage, the algorithm and the slot associations (KEY_PAIR_INFO then
 * reports 0 for them), while the key material stays until GenerateKeyPair replaces it; a slot keeps
 * the key it was provisioned with until SET_CERTIFICATE provisions it anew. libspdm's requester
 * relies on exactly that: by default it disassociates and erases KeyPairID 1, then asks GET_CSR
 * for KeyPairID 1 and SET_CERTIFICATE for slot 0 with it, and signs a session on slot 0 between.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { equalBytes } from '../wire/bytes.js';
import { readTlv } from '../x509/der.js';
import { generateKeyPair } from '../x509/generate.js';
import { ErrorCode } from '../spdm/messages/error.js';
import {
  KeyPairCapability,
  KeyPairOperation,
  keyPairAsymAlgoOf,
  KeyUsage,
  type KeyPairInfoResponse,
  type SetKeyPairInfoRequest,
} from '../spdm/messages/key-pair-info.js';
import { ErrorReply } from './error-reply.js';
import type { SlotIdentity } from './profile.js';

/** What every key pair here can do: generate, erase, (re)associate, change usage, back several slots. */
const CAPABILITIES =
  KeyPairCapability.GEN_KEY |
  KeyPairCapability.ERASABLE |
  KeyPairCapability.CERT_ASSOC |
  KeyPairCapability.KEY_USAGE |
  KeyPairCapability.SHAREABLE;

/** Usages a key pair may be put to: the four SPDM signs with a responder key. */
const USAGE_CAPABILITIES = KeyUsage.KEY_EX | KeyUsage.CHALLENGE | KeyUsage.MEASUREMENT | KeyUsage.ENDPOINT_INFO;

export interface KeyPairRecord {
  readonly id: number;
  /** The BaseAsymAlgo bit of the key; fixed for the key pair (a generated key is of the same algorithm). */
  readonly asymId: number;
  /** The key material (replaced by GenerateKeyPair). */
  privateKey: KeyObject;
  /** Erased: no algorithm, usage or slot configured until a Change names the algorithm or a Generate. */
  erased: boolean;
  currentKeyUsage: number;
  assocCertSlotMask: number;
}

/**
 * The DER SubjectPublicKeyInfo of a key (public or private), kept per KeyObject: a platform of
 * thousands of emulated devices of one model shares its profile's key objects, and exporting the
 * same key again for every device's key store cost more than the rest of building its emulator.
 * A KeyObject never changes, so neither does its SPKI. Callers only read the bytes.
 */
const spkiOf = new WeakMap<KeyObject, Uint8Array>();
function spki(key: KeyObject): Uint8Array {
  let der = spkiOf.get(key);
  if (!der) {
    const pub = key.type === 'public' ? key : createPublicKey(key);
    der = new Uint8Array(pub.export({ type: 'spki', format: 'der' }));
    spkiOf.set(key, der);
  }
  return der;
}

/** PublicKeyInfo as libspdm reports it: the AlgorithmIdentifier of the key's SubjectPublicKeyInfo. */
function algorithmIdentifier(key: KeyObject): Uint8Array {
  const der = spki(key);
  const fail = (): never => {
    throw new ErrorReply(ErrorCode.Unspecified);
  };
  const outer = readTlv(der, 0, fail);
  return readTlv(der, outer.headerLength, fail).bytes;
}

function onehot0(v: number): boolean {
  return (v & (v - 1)) === 0;
}

export class KeyPairStore {
  private readonly pairs: KeyPairRecord[] = [];

  /** Slots sharing a private key share a KeyPairID (a profile may name it), numbered from 1. */
  constructor(slots: readonly SlotIdentity[], defaultUsage: (slot: SlotIdentity) => number) {
    for (const s of slots) {
      const id = s.keyPairId ?? this.forPublicKey(s.privateKey)?.id ?? this.nextId();
      const kp = this.pairs.find((k) => k.id === id);
      if (kp) kp.assocCertSlotMask |= 1 << s.slot;
      else
        this.pairs.push({
          id,
          asymId: s.asymId,
          privateKey: s.privateKey,
          erased: false,
          currentKeyUsage: defaultUsage(s),
          assocCertSlotMask: 1 << s.slot,
        });
    }
    this.pairs.sort((a, b) => a.id - b.id);
  }

  private nextId(): number {
    return this.pairs.reduce((m, k) => Math.max(m, k.id), 0) + 1;
  }

  get total(): number {
    return this.pairs.length;
  }

  get(id: number): KeyPairRecord | undefined {
    return this.pairs.find((k) => k.id === id);
  }

  /** The key pair whose private key certifies `publicKey` (a new leaf's; or the public half of a private key), if any. */
  forPublicKey(publicKey: KeyObject): KeyPairRecord | undefined {
    const want = spki(publicKey);
    return this.pairs.find((k) => equalBytes(spki(k.privateKey), want));
  }

  /** SET_CERTIFICATE put a chain for `slot` certifying `kp`'s key: the slot moves to it. */
  associate(slot: number, kp: KeyPairRecord): void {
    this.release(slot);
    kp.assocCertSlotMask |= 1 << slot;
    kp.erased = false;
  }

  /** The slot was erased: no key pair backs it any more. */
  release(slot: number): void {
    for (const k of this.pairs) k.assocCertSlotMask &= ~(1 << slot);
  }

  /** KEY_PAIR_INFO's fields for key pair `id`. @throws ErrorReply InvalidRequest for an unknown ID */
  info(id: number): Omit<KeyPairInfoResponse, 'raw' | 'version'> {
    const kp = this.get(id);
    if (!kp) throw new ErrorReply(ErrorCode.InvalidRequest);
    const algo = keyPairAsymAlgoOf(kp.asymId);
    return {
      totalKeyPairs: this.total,
      keyPairId: kp.id,
      capabilities: CAPABILITIES,
      keyUsageCapabilities: USAGE_CAPABILITIES,
      currentKeyUsage: kp.currentKeyUsage,
      asymAlgoCapabilities: algo,
      currentAsymAlgo: kp.erased ? 0 : algo,
      assocCertSlotMask: kp.assocCertSlotMask,
      publicKeyInfo: algorithmIdentifier(kp.privateKey),
    };
  }

  /**
   * SET_KEY_PAIR_INFO, with the checks DSP0274 gives it (and libspdm makes): a usage and an
   * algorithm among the capabilities, one slot per key pair unless shareable, erase and generate
   * only on a key pair no slot uses. @throws ErrorReply InvalidRequest / OperationFailed
   */
  set(req: SetKeyPairInfoRequest): void {
    const kp = this.get(req.keyPairId);
    if (!kp || req.keyPairId === 0) throw new ErrorReply(ErrorCode.InvalidRequest);
    const algo = keyPairAsymAlgoOf(kp.asymId);
    const usage = req.desiredKeyUsage;
    if (usage !== 0 && (usage | USAGE_CAPABILITIES) !== USAGE_CAPABILITIES)
      throw new ErrorReply(ErrorCode.InvalidRequest);
    // No ASYM_ALGO_CAP: a key pair keeps its algorithm, so only 0 (keep) or that algorithm may be asked for.
    if (req.desiredAsymAlgo !== 0 && req.desiredAsymAlgo !== algo) throw new ErrorReply(ErrorCode.InvalidRequest);
    if ((req.desiredPqcAsymAlgo ?? new Uint8Array(0)).some((b) => b !== 0))
      throw new ErrorReply(ErrorCode.InvalidRequest);
    if (!onehot0(req.desiredAsymAlgo)) throw new ErrorReply(ErrorCode.InvalidRequest);
    switch (req.operation) {
      case KeyPairOperation.ERASE:
        if (kp.assocCertSlotMask !== 0) throw new ErrorReply(ErrorCode.OperationFailed);
        kp.erased = true;
        kp.currentKeyUsage = 0;
        return;
      case KeyPairOperation.GENERATE:
        if (kp.assocCertSlotMask !== 0) throw new ErrorReply(ErrorCode.OperationFailed);
        kp.privateKey = generateKeyPair(kp.asymId).privateKey;
        kp.erased = false;
        kp.currentKeyUsage = usage;
        kp.assocCertSlotMask = req.desiredAssocCertSlotMask;
        return;
      default:
        // CHANGE: a usage of 0 keeps the current one; the slot association is always the one asked for.
        if (usage !== 0) kp.currentKeyUsage = usage;
        if (req.desiredAsymAlgo !== 0) kp.erased = false;
        kp.assocCertSlotMask = req.desiredAssocCertSlotMask;
    }
  }
}
