/**
 * The responder's slot 0xFF: the provisioned public key of PUB_KEY_ID_CAP, seen as a slot without
 * certificates so that CHALLENGE, GET_MEASUREMENTS and KEY_EXCHANGE sign with it like with any
 * slot's leaf key. What stands in for the chain in CertChainHash and Ct is the DER
 * SubjectPublicKeyInfo (libspdm hashes the provisioned key buffer, which is that DER).
 */
import { createPublicKey } from 'node:crypto';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import type { DeviceProfile, SlotIdentity } from './profile.js';

/** SlotID of the provisioned public key in CHALLENGE, KEY_EXCHANGE and (as 0xF) GET_MEASUREMENTS. */
export const PROVISIONED_KEY_SLOT = 0xff;

/** The DER SubjectPublicKeyInfo of a key (public or private). */
export function publicKeyDer(key: import('node:crypto').KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** Slot 0xFF of a profile, when it has PUB_KEY_ID_CAP and a provisioned key of `asymId`; undefined otherwise. */
export function provisionedKeySlot(
  profile: DeviceProfile,
  asymId: number,
): { readonly slot: SlotIdentity; readonly publicKey: Uint8Array } | undefined {
  const k = profile.provisionedKey;
  if (!k || (profile.capabilities.flags & CapabilityFlag.PUB_KEY_ID) === 0 || k.asymId !== asymId) return undefined;
  return {
    slot: { slot: PROVISIONED_KEY_SLOT, certificates: [], privateKey: k.privateKey, asymId: k.asymId },
    publicKey: publicKeyDer(k.privateKey),
  };
}
