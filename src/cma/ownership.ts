/**
 * Who drives SPDM on a function: us, or the TSM it was handed to (`tsm/connect`). "The TSM SPDM
 * session is mutually exclusive with the CMA SPDM session": once a TSM owns the function nothing
 * new starts on its mailbox, the exchange in flight is let finish for the grace period and then
 * aborted; on `tsm/disconnect` the device must show it is the accepted one again.
 */
import { SpdmError } from '../wire/errors.js';
import type { CmaCore } from './core.js';
import { deviceView, type Device } from './device.js';
import type { AbortReason } from './flow.js';
import { batch, type Batch } from './journal.js';
import type { DeviceView } from './api.js';

/** Read through a call so that a check before an await does not narrow it after. */
export function owned(dev: Device): boolean {
  return dev.owner.kind === 'tsm';
}

/** @throws SpdmError DEVICE_OWNED while a TSM owns the function */
export function assertNotOwned(dev: Device): void {
  if (dev.owner.kind === 'tsm')
    throw new SpdmError('DEVICE_OWNED', `${dev.bdf} is owned by TSM ${dev.owner.tsm}: its DOE mailbox is not ours`, {
      bdf: dev.bdf,
      owner: dev.owner.tsm,
    });
}

export class Ownership {
  constructor(
    private readonly core: CmaCore,
    private readonly graceMs: number,
    private readonly pendSameDevice: (dev: Device, b: Batch, message: string) => void,
  ) {}

  /** Lets the work in flight finish for the grace period, then aborts it and waits for it to stop. */
  private async quiesce(dev: Device, reason: AbortReason): Promise<void> {
    const job = dev.current;
    if (!job) return;
    const settled = job.then(
      () => true,
      () => true,
    );
    const finished = await Promise.race([settled, this.core.clock.sleep(this.graceMs).then(() => false)]);
    if (!finished) {
      await dev.running?.abort(reason);
      await settled;
    }
  }

  /** `tsm/connect` (the TSM name already checked). */
  async connect(dev: Device, tsm: string): Promise<DeviceView> {
    if (dev.owner.kind === 'tsm') {
      if (dev.owner.tsm === tsm) return deviceView(dev);
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} is already connected to TSM ${dev.owner.tsm}`, {
        bdf: dev.bdf,
        owner: dev.owner.tsm,
      });
    }
    // From here on nothing new starts on the mailbox (every job checks the owner first).
    dev.owner = { kind: 'tsm', tsm, since: this.core.now() };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'owner', bdf: dev.bdf, owner: dev.owner });
    await this.core.commit(b);
    await this.quiesce(dev, { code: 'DEVICE_OWNED', message: `${dev.bdf} was handed to TSM ${tsm} mid-flow` });
    return deviceView(dev);
  }

  /** `tsm/disconnect`: the mailbox is ours again; the caller re-authenticates. */
  async disconnect(dev: Device): Promise<void> {
    if (dev.owner.kind !== 'tsm')
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} is not connected to a TSM`, { bdf: dev.bdf });
    dev.owner = { kind: 'cma' };
    dev.needsAuth = false;
    dev.acceptable = false;
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'owner', bdf: dev.bdf, owner: dev.owner });
    // The TSM may have reset or re-keyed it: it is the accepted device only if it shows it again.
    this.pendSameDevice(dev, b, 'back from a TSM: accepted again only when the same-device check passes');
    await this.core.commit(b);
  }
}
