/**
 * Redfish `SPDMGetSignedMeasurements`: a flow over the caller's nonce (ours when absent) asking
 * for exactly the measurement blocks given, one request each, the signature on the last; its
 * signatures are logged like any other. It queues behind the device's other work.
 */
import { SpdmError } from '../wire/errors.js';
import type { SignedMeasurements } from './api.js';
import { checkIndices, checkNonce, checkOptions, checkSlot } from './arguments.js';
import type { CmaCore } from './core.js';
import type { Device } from './device.js';
import { batch } from './journal.js';
import { assertNotOwned } from './ownership.js';
import type { FlowRunner } from './runner.js';
import type { SignatureBook } from './signature-book.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import { signedMeasurementsOf } from './views.js';

export async function signedMeasurements(
  core: CmaCore,
  runner: FlowRunner,
  signatures: SignatureBook,
  dev: Device,
  options: { readonly nonce?: Uint8Array; readonly slot?: number; readonly indices?: readonly number[] },
): Promise<SignedMeasurements> {
  checkOptions(options);
  checkNonce(options.nonce);
  const slot = options.slot === undefined ? 0 : checkSlot(options.slot);
  const indices = checkIndices(options.indices ?? [255]);
  assertNotOwned(dev);
  const nonce = options.nonce ? options.nonce.slice() : core.random(NONCE_SIZE);
  const inc = dev.incarnation;
  dev.busy++;
  return runner.scheduler.run(dev.bdf, async (attempt) => {
    try {
      assertNotOwned(dev);
      const run = runner.flowWithRetries(dev, inc, attempt, () => nonce, {
        slot,
        // Exactly the blocks asked for, one request each, the signature on the last (Redfish).
        indices,
      });
      dev.current = run;
      const { result } = await run.finally(() => (dev.current = undefined));
      if (!core.current(dev, inc)) throw new SpdmError('DEVICE_NOT_FOUND', `${dev.bdf} was removed`, { bdf: dev.bdf });
      if (!result.evidence)
        throw result.error instanceof Error
          ? result.error
          : new SpdmError('DEVICE_STATE', 'no evidence', { bdf: dev.bdf });
      const b = batch();
      b.devices.push(dev);
      await signatures.append(dev, result.evidence, b);
      await core.commit(b);
      return signedMeasurementsOf(result.evidence, slot);
    } finally {
      dev.busy--;
    }
  });
}
