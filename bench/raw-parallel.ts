/**
 * Raw crypto.verify in several threads at once: what the host actually gives a parallel verifier
 * in this run. "Raw × cores" assumes every core is free; on a shared machine (other processes,
 * a hypervisor) two threads may get far less than two cores, and a log verification with two
 * workers is then held to a baseline no code could reach. This measures the same signatures in
 * `threads` worker threads started together, so the two can be told apart.
 *
 * Loaded as a worker (by rawRateInThreads) it runs the loop; imported, it does nothing else.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { verifyRaw, type RawSignature } from './raw-signatures.js';

interface Job {
  readonly rawParallel: true;
  readonly sigs: readonly RawSignature[];
  readonly seconds: number;
}

interface Result {
  readonly verified: number;
  readonly ms: number;
}

/** Signatures per second summed over `threads` threads verifying together for `seconds` (after a short warm-up). */
export async function rawRateInThreads(
  sigs: readonly RawSignature[],
  threads: number,
  seconds: number,
): Promise<{ perSecond: number; perThread: number[] }> {
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL(import.meta.url), { workerData: { rawParallel: true, sigs, seconds } satisfies Job }),
  );
  try {
    // Each waits for 'go' after its warm-up, so that all measure the same interval.
    await Promise.all(workers.map((w) => once(w)));
    const results = (await Promise.all(
      workers.map((w) => {
        const r = once(w);
        w.postMessage('go');
        return r;
      }),
    )) as Result[];
    const perThread = results.map((r) => r.verified / (r.ms / 1000));
    return { perSecond: perThread.reduce((a, b) => a + b, 0), perThread };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The next message of `w`, or its error; a deadline so that a stuck worker cannot hang the bench. */
function once(w: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('raw verify worker did not answer within 60 s')), 60_000);
    w.once('message', (m) => {
      clearTimeout(t);
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

function loop(sigs: readonly RawSignature[], ms: number): Result {
  let verified = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms)
    for (const r of sigs) {
      if (!verifyRaw(r)) throw new Error('raw verify failed');
      verified++;
    }
  return { verified, ms: performance.now() - t0 };
}

const job = workerData as Job | undefined;
if (!isMainThread && parentPort && job?.rawParallel) {
  const port = parentPort;
  loop(job.sigs, 200);
  port.once('message', () => port.postMessage(loop(job.sigs, job.seconds * 1000)));
  port.postMessage('ready');
}
