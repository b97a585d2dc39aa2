/**
 * What the platform tells the service: functions that appear (enumeration, hot-plug), go away
 * (hot-unplug) or lose their state (FLR, secondary bus reset, resume, a reported reset). Each
 * one is committed and told first; an accepted device then waits for the same-device check, and
 * the flow in flight (which describes the device before the event) is aborted.
 */
import type { PlatformEvent, PlatformFunction, ResetKind } from '../platform/platform.js';
import type { CmaCore } from './core.js';
import type { Decisions } from './decisions.js';
import { newDevice, type Device } from './device.js';
import { batch } from './journal.js';
import type { FlowRunner } from './runner.js';

export class Presence {
  constructor(
    private readonly core: CmaCore,
    private readonly decisions: Decisions,
    private readonly runner: FlowRunner,
  ) {}

  onPlatformEvent(e: PlatformEvent): void {
    const core = this.core;
    if (core.closed) return;
    const done = (p: Promise<unknown>) => core.background(p);
    if (e.type === 'added') {
      done(
        (async () => {
          const fn = (await core.opts.platform.functions()).find((f) => f.bdf === e.bdf);
          if (fn) await this.plugged(fn);
        })(),
      );
    } else if (e.type === 'removed') done(this.unplugged(e.bdf));
    else if (e.type === 'reset') {
      const dev = core.known.get(e.bdf);
      if (dev?.present) done(this.reset(dev, e.kind));
    }
  }

  async plugged(fn: PlatformFunction): Promise<void> {
    const dev = this.core.known.get(fn.bdf) ?? newDevice(fn.bdf);
    if (dev.present) return;
    this.core.known.set(fn.bdf, dev);
    dev.fn = fn;
    dev.present = true;
    dev.incarnation++;
    dev.acceptable = false;
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'device-added', bdf: dev.bdf, ...(dev.identity ? { identity: dev.identity } : {}) });
    this.decisions.pendSameDevice(
      dev,
      b,
      'the function (re)appeared: accepted again only when the same-device check passes',
    );
    await this.core.commit(b);
    if (dev.owner.kind === 'tsm') dev.needsAuth = true;
    else this.core.background(this.runner.authenticateQueued(dev));
  }

  private async unplugged(bdf: string): Promise<void> {
    const dev = this.core.known.get(bdf);
    if (!dev?.present) return;
    dev.present = false;
    dev.incarnation++;
    dev.fn = undefined;
    dev.authenticated = { state: 'unknown', reason: { code: 'DEVICE_NOT_FOUND', message: 'the function was removed' } };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'device-removed', bdf });
    await this.core.commit(b);
    await dev.running?.abort({ code: 'DEVICE_NOT_FOUND', message: `${bdf} was removed during authentication` });
  }

  async reset(dev: Device, kind: ResetKind): Promise<void> {
    dev.resetSeq++;
    // The evidence in hand describes the device before the reset: nothing to accept on.
    dev.acceptable = false;
    dev.authenticated = {
      state: 'unknown',
      reason: { code: 'RESET', message: `the function was reset (${kind}): re-authentication pending` },
    };
    const b = batch();
    b.devices.push(dev);
    b.events.push({ type: 'reset', bdf: dev.bdf, kind });
    this.decisions.pendSameDevice(dev, b, `reset (${kind}): accepted again only when the same-device check passes`);
    await this.core.commit(b);
    // Whatever the flow in flight learns now is about the device before the reset.
    await dev.running?.abort({ code: 'DEVICE_STATE', message: `${dev.bdf} was reset during authentication` });
    if (dev.owner.kind === 'tsm') {
      dev.needsAuth = true;
      return;
    }
    await this.runner.authenticateQueued(dev);
  }
}
