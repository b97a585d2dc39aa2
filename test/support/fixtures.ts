import { buildProfile, type BuiltProfile } from '../../src/responder/profiles.js';
import type { DeviceProfile } from '../../src/responder/profile.js';
import { Responder } from '../../src/responder/responder.js';
import { misbehaving, type Misbehavior } from '../../src/responder/faults/misbehavior.js';
import type { FaultyResponder } from '../../src/responder/faults/wrapper.js';
import { Requester } from '../../src/requester/requester.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import type { RequesterOptions } from '../../src/requester/options.js';

export interface Suite {
  readonly name: string;
  readonly asymId: number;
  readonly hashId: number;
}

export const SUITES: readonly Suite[] = [
  { name: 'ECDSA-P256/SHA-256', asymId: 0x0010, hashId: 0x01 },
  { name: 'ECDSA-P384/SHA-384', asymId: 0x0080, hashId: 0x02 },
  { name: 'RSAPSS-3072/SHA-384', asymId: 0x0008, hashId: 0x02 },
  { name: 'Ed25519/SHA-512', asymId: 0x0400, hashId: 0x04 },
];

const cache = new Map<string, BuiltProfile>();

/** One generated device identity per suite, shared by every test in the process (key generation is the slow part). */
export function device(suite: Suite): BuiltProfile {
  let b = cache.get(suite.name);
  if (!b) {
    b = buildProfile({
      name: `test-${suite.name}`,
      versions: [0x10, 0x11, 0x12, 0x13],
      asymId: suite.asymId,
      hashId: suite.hashId,
    });
    cache.set(suite.name, b);
  }
  return b;
}

export function variant(base: DeviceProfile, changes: { versions?: readonly number[]; flags?: number }): DeviceProfile {
  return {
    ...base,
    ...(changes.versions ? { versions: changes.versions } : {}),
    ...(changes.flags !== undefined ? { capabilities: { ...base.capabilities, flags: changes.flags } } : {}),
  };
}

export function pair(
  profile: DeviceProfile,
  options: RequesterOptions = {},
): { responder: Responder; requester: Requester } {
  const responder = new Responder(profile);
  const requester = new Requester(new LoopbackTransport(responder), options);
  return { responder, requester };
}

/** As pair(), with the clean responder behind the fault wrapper, misbehaving as `misbehave` says. */
export function misbehavingPair(
  profile: DeviceProfile,
  misbehave: Misbehavior,
  options: RequesterOptions = {},
): { responder: FaultyResponder; requester: Requester } {
  const responder = misbehaving(profile, misbehave);
  const requester = new Requester(new LoopbackTransport(responder), options);
  return { responder, requester };
}
