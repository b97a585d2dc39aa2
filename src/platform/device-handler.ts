/**
 * What answers a simulated function's CMA-SPDM objects: the device emulator for its profile,
 * wrapped in the fault layer when the platform file says it misbehaves. One rule for the
 * emulators built in the platform's own thread and for those in device threads.
 */
import type { RandomSource } from '../crypto/random.js';
import type { Misbehavior } from '../responder/faults/misbehavior.js';
import { misbehaving } from '../responder/faults/misbehavior.js';
import type { DeviceProfile } from '../responder/profile.js';
import { Responder } from '../responder/responder.js';
import type { SpdmHandler } from '../transport/transport.js';

export function deviceHandler(
  profile: DeviceProfile,
  misbehavior: Misbehavior | undefined,
  random?: RandomSource,
): SpdmHandler {
  const ropts = random ? { random } : {};
  return misbehavior ? misbehaving(profile, misbehavior, ropts) : new Responder(profile, ropts);
}
