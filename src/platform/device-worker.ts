/**
 * A device thread of the simulated platform (device-threads.ts): the emulators of some of its
 * functions, each built on its first request from the model the platform sent once, answering
 * one SPDM message per request. The emulators' work (their signatures above all) is the devices'
 * own, which real hardware does off the host's CPU: here it is off the daemon's event loop.
 */
import { parentPort } from 'node:worker_threads';
import type { Misbehavior } from '../responder/faults/misbehavior.js';
import type { DeviceProfile } from '../responder/profile.js';
import type { SpdmHandler } from '../transport/transport.js';
import { deviceHandler } from './device-handler.js';
import type { ToDeviceThread } from './device-threads.js';

const port = parentPort;
if (!port) throw new Error('device-worker.js runs as a worker thread of the simulated platform');

const models = new Map<number, { profile: DeviceProfile; misbehavior: Misbehavior | undefined }>();
const devices = new Map<number, SpdmHandler>();

port.on('message', (m: ToDeviceThread) => {
  if (m.t === 'model') {
    models.set(m.model, { profile: m.profile, misbehavior: m.misbehavior });
    return;
  }
  if (m.t === 'drop') {
    devices.delete(m.device);
    return;
  }
  void (async () => {
    try {
      let h = devices.get(m.device);
      if (!h) {
        const model = models.get(m.model);
        if (!model) throw new Error(`device thread: no model ${m.model}`);
        h = deviceHandler(model.profile, model.misbehavior);
        devices.set(m.device, h);
      }
      const answer = await h.handle(m.payload);
      port.postMessage({ req: m.req, answer });
    } catch (e) {
      port.postMessage({ req: m.req, error: e instanceof Error ? e.message : String(e) });
    }
  })();
});
