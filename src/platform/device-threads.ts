/**
 * Device threads for the simulated platform: the functions' emulators run in worker threads, and
 * each function's DOE mailbox (still in the platform's thread, registers, timing and all) hands
 * every CMA-SPDM payload to its emulator there and waits for the answer. On a real machine the
 * devices compute their answers (and sign them) themselves: with device threads, a simulated
 * platform of thousands leaves the daemon's event loop to the daemon, as real hardware would.
 *
 * A device model (profile and misbehaviour) is sent to a thread once, the first time a function
 * of that model asks it something; the thread builds the function's emulator on its first
 * request and drops it when the function is reset or unplugged (a fresh emulator follows).
 */
import { Worker } from 'node:worker_threads';
import type { Misbehavior } from '../responder/faults/misbehavior.js';
import type { DeviceProfile } from '../responder/profile.js';
import type { SpdmHandler } from '../transport/transport.js';
import { SpdmError } from '../wire/errors.js';

/** Messages to a device thread. @internal */
export type ToDeviceThread =
  | {
      readonly t: 'model';
      readonly model: number;
      readonly profile: DeviceProfile;
      readonly misbehavior: Misbehavior | undefined;
    }
  | {
      readonly t: 'handle';
      readonly req: number;
      readonly device: number;
      readonly model: number;
      readonly payload: Uint8Array;
    }
  | { readonly t: 'drop'; readonly device: number };

type FromDeviceThread =
  { readonly req: number; readonly answer: Uint8Array } | { readonly req: number; readonly error: string };

interface Thread {
  readonly worker: Worker;
  readonly models: Set<number>;
  /** Why the thread is gone (it failed or exited): its devices fail at once rather than time out. */
  dead?: Error;
}

/** The most device threads a platform may ask for. */
export const MAX_DEVICE_THREADS = 64;

export class DeviceThreads {
  private readonly threads: Thread[] = [];
  private readonly modelIds = new WeakMap<DeviceProfile, Map<Misbehavior | undefined, number>>();
  private readonly waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }>();
  private nextModel = 1;
  private nextDevice = 1;
  private nextReq = 1;
  private closed = false;

  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_DEVICE_THREADS)
      throw new TypeError(`deviceThreads must be an integer in 1..${MAX_DEVICE_THREADS}, got ${count}`);
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./device-worker.js', import.meta.url));
      const thread: Thread = { worker, models: new Set() };
      worker.on('message', (m: FromDeviceThread) => this.settle(m));
      const gone = (e: Error) => {
        thread.dead ??= e;
        this.failAll(e);
      };
      worker.on('error', gone);
      worker.on('exit', (code) => gone(new SpdmError('TRANSPORT_ERROR', `a device thread exited (${code})`)));
      this.threads.push(thread);
    }
  }

  /** The handler of one emulator in a device thread, and a way to let the thread forget it. */
  handler(profile: DeviceProfile, misbehavior: Misbehavior | undefined): SpdmHandler & { drop(): void } {
    const device = this.nextDevice++;
    const model = this.modelOf(profile, misbehavior);
    const thread = this.threads[device % this.threads.length] as Thread;
    return {
      handle: (payload: Uint8Array) => {
        if (this.closed) return Promise.reject(new SpdmError('TRANSPORT_ERROR', 'the simulated platform is closed'));
        if (thread.dead) return Promise.reject(thread.dead);
        if (!thread.models.has(model)) {
          thread.models.add(model);
          this.post(thread, { t: 'model', model, profile, misbehavior });
        }
        const req = this.nextReq++;
        return new Promise<Uint8Array>((resolve, reject) => {
          this.waiting.set(req, { resolve, reject });
          this.post(thread, { t: 'handle', req, device, model, payload });
        });
      },
      drop: () => {
        if (!this.closed && !thread.dead) this.post(thread, { t: 'drop', device });
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new SpdmError('TRANSPORT_ERROR', 'the simulated platform is closed'));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private post(t: Thread, m: ToDeviceThread): void {
    t.worker.postMessage(m);
  }

  private modelOf(profile: DeviceProfile, misbehavior: Misbehavior | undefined): number {
    let byFault = this.modelIds.get(profile);
    if (!byFault) {
      byFault = new Map();
      this.modelIds.set(profile, byFault);
    }
    let id = byFault.get(misbehavior);
    if (id === undefined) {
      id = this.nextModel++;
      byFault.set(misbehavior, id);
    }
    return id;
  }

  private settle(m: FromDeviceThread): void {
    const w = this.waiting.get(m.req);
    if (!w) return;
    this.waiting.delete(m.req);
    if ('answer' in m) w.resolve(m.answer);
    else w.reject(new SpdmError('TRANSPORT_ERROR', `device thread: ${m.error}`));
  }

  private failAll(e: unknown): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(e);
  }
}
