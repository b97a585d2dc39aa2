/**
 * `spdm emulate --sample-keys DIR`: the emulator takes its identity the way libspdm's
 * spdm_responder_emu does, from a directory in libspdm's sample-key layout, so that it can stand in
 * for that emulator in spdm-emu and QEMU set-ups unchanged:
 *
 * | libspdm file | what the emulator does with it |
 * |---|---|
 * | `DIR/<alg>/bundle_responder.certchain.der` + `end_responder.key` | slot 0 chain and key for that BaseAsymAlgo (`ecp256`, `ecp384`, `ecp521`, `rsa2048`/`3072`/`4096` as RSASSA and RSAPSS, `ed25519`) |
 * | `DIR/<alg>/ca.cert.der` | a trust anchor for the requester's chain in mutual authentication |
 * | (built in) libspdm's sample PSK `TestPskData\0`, with no hint or the hint `TestPskHint\0` | PSK_EXCHANGE |
 *
 * The chain served is the one of the algorithm ALGORITHMS selects, as libspdm picks its
 * `bundle_responder.certchain.der` by the negotiated algorithm. Mutual authentication is asked for
 * as spdm_responder_emu does by default: KEY_EXCHANGE_RSP with the encapsulated flow
 * (`--mut_auth W_ENCAP`) and basic mutual authentication after CHALLENGE_AUTH (`--basic_mut_auth BASIC`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BaseAsymAlgo } from '../crypto/algorithms.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { LIMITS } from '../wire/limits.js';
import { SpdmError } from '../wire/errors.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { loadIdentityFiles } from './profile-file.js';
import type { DeviceProfile, SlotIdentity } from './profile.js';

/** libspdm's sample-key directories and the BaseAsymAlgo bits each serves. */
export const SAMPLE_KEY_DIRECTORIES: readonly (readonly [string, readonly number[]])[] = [
  ['ecp384', [BaseAsymAlgo.ECDSA_P384]],
  ['ecp256', [BaseAsymAlgo.ECDSA_P256]],
  ['ecp521', [BaseAsymAlgo.ECDSA_P521]],
  ['rsa3072', [BaseAsymAlgo.RSAPSS_3072, BaseAsymAlgo.RSASSA_3072]],
  ['rsa2048', [BaseAsymAlgo.RSAPSS_2048, BaseAsymAlgo.RSASSA_2048]],
  ['rsa4096', [BaseAsymAlgo.RSAPSS_4096, BaseAsymAlgo.RSASSA_4096]],
  ['ed25519', [BaseAsymAlgo.EDDSA_ED25519]],
];

/** The capabilities a session-capable emulator adds to a profile for libspdm's requester defaults. */
export const SAMPLE_KEYS_EXTRA_FLAGS =
  CapabilityFlag.ENCRYPT |
  CapabilityFlag.MAC |
  CapabilityFlag.KEY_EX |
  CapabilityFlag.HBEAT |
  CapabilityFlag.MUT_AUTH |
  CapabilityFlag.ENCAP |
  CapabilityFlag.HANDSHAKE_IN_THE_CLEAR |
  CapabilityFlag.KEY_UPD |
  CapabilityFlag.PSK_WITH_CONTEXT;

/** libspdm's sample PSK (LIBSPDM_TEST_PSK_DATA_STRING with its NUL) and hint, which spdm_responder_emu answers to. */
const SAMPLE_PSK = new TextEncoder().encode('TestPskData\0');
const SAMPLE_PSK_HINT = new TextEncoder().encode('TestPskHint\0');

/** `base` with its slots, requester trust anchors and mutual-authentication policy taken from `dir`. */
export function profileFromSampleKeys(dir: string, base: DeviceProfile): DeviceProfile {
  const slots: SlotIdentity[] = [];
  const trust: Uint8Array[] = [];
  for (const [name, asymIds] of SAMPLE_KEY_DIRECTORIES) {
    const chain = join(dir, name, 'bundle_responder.certchain.der');
    const key = join(dir, name, 'end_responder.key');
    if (!existsSync(chain) || !existsSync(key)) continue;
    const id = loadIdentityFiles(chain, key);
    for (const asymId of asymIds)
      if (id.asymIds.includes(asymId))
        slots.push({ slot: 0, certificates: id.certificates, privateKey: id.privateKey, asymId, certModel: 1 });
    const ca = join(dir, name, 'ca.cert.der');
    if (existsSync(ca)) trust.push(new Uint8Array(readFileBounded(ca, LIMITS.keyFileBytes, 'keyFileBytes')));
  }
  if (slots.length === 0)
    throw new SpdmError(
      'DECODE_ERROR',
      `--sample-keys ${dir}: no <alg>/bundle_responder.certchain.der with end_responder.key (libspdm's sample-key layout) in it`,
    );
  return {
    ...base,
    capabilities: { ...base.capabilities, flags: (base.capabilities.flags | SAMPLE_KEYS_EXTRA_FLAGS) >>> 0 },
    slots,
    mutualAuth: { session: 'encap', basic: true, trust, ...base.mutualAuth },
    session: {
      heartbeatPeriod: 240,
      psk: [
        { hint: new Uint8Array(0), key: SAMPLE_PSK },
        { hint: SAMPLE_PSK_HINT, key: SAMPLE_PSK },
      ],
      ...base.session,
    },
  };
}
