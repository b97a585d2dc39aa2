/**
 * The device's public key given to the requester out of band (PUB_KEY_ID_CAP, SlotID 0xFF): the
 * device has no certificate chain, so this key is what its signatures verify with, and its DER
 * SubjectPublicKeyInfo is what CHALLENGE_AUTH's CertChainHash and the session's Ct hash (libspdm
 * hashes the provisioned key buffer, which is that DER).
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { keyMatchesAlgorithm } from '../crypto/signature.js';
import { asymInfo } from '../crypto/algorithms.js';
import { SpdmError } from '../wire/errors.js';

/** SlotID of the provisioned public key in CHALLENGE, KEY_EXCHANGE and (as 0xF) GET_MEASUREMENTS. */
export const PUBLIC_KEY_SLOT = 0xff;

export interface DevicePublicKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo: the bytes hashed for CertChainHash / Ct, and recorded in the evidence. */
  readonly der: Uint8Array;
}

/**
 * A public key from RequesterOptions.devicePublicKey: DER SubjectPublicKeyInfo bytes or a KeyObject
 * (a private key is refused, so that a caller's secret never ends up in the evidence).
 * @throws TypeError when it is neither, or does not parse as a public key
 */
export function devicePublicKey(input: Uint8Array | KeyObject): DevicePublicKey {
  let key: KeyObject;
  if (input instanceof KeyObject) {
    if (input.type !== 'public') throw new TypeError(`devicePublicKey must be a public key, got a ${input.type} key`);
    key = input;
  } else if (input instanceof Uint8Array) {
    try {
      key = createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    } catch (e) {
      throw new TypeError(
        `devicePublicKey is not a DER SubjectPublicKeyInfo: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  } else {
    throw new TypeError('devicePublicKey must be DER SubjectPublicKeyInfo bytes or a KeyObject');
  }
  return { key, der: new Uint8Array(key.export({ type: 'spki', format: 'der' })) };
}

/**
 * The provisioned key for the negotiated BaseAsymAlgo: a key of another algorithm could never
 * verify the device's signatures, so the run stops before anything signed is asked for.
 */
export function checkDevicePublicKey(k: DevicePublicKey, asymId: number): DevicePublicKey {
  if (!keyMatchesAlgorithm(k.key, asymId))
    throw new SpdmError(
      'UNSUPPORTED_ALGORITHM',
      `the provisioned device public key (${k.key.asymmetricKeyType ?? 'unknown'}) cannot verify ${asymInfo(asymId)?.name ?? `BaseAsymAlgo 0x${asymId.toString(16)}`} signatures, which ALGORITHMS selected`,
      { slot: PUBLIC_KEY_SLOT },
    );
  return k;
}
