/**
 * A durable-write thread that misbehaves, for durable-thread.test.ts: it opens nothing, says it is
 * ready, and then, per the `file` of its job (the test's mode), never answers (`stall`), ends
 * itself at the first call (`exit`), or answers each call after 100 ms of real time (`slow`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DurableJob, DurableRequest } from '../../src/cma/durable-thread.js';

// The test runner also loads every file under test/ as a test file: there it does nothing.
const port = parentPort;
if (port) {
  const mode = (workerData as Extract<DurableJob, { kind: 'cma-store' }>).file;
  port.on('message', (m: DurableRequest) => {
    if (mode === 'exit') process.exit(3);
    if (mode === 'slow') setTimeout(() => port.postMessage({ id: m.id, value: m.arg }), 100);
    // 'stall': the call is never answered.
  });
  port.postMessage({ ready: true });
}
