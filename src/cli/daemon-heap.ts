/**
 * How far the daemon lets its JavaScript heap grow past what is live. V8 on a machine with
 * plenty of memory lets a busy process's heap reach up to four times what survived the last full
 * collection before collecting again; for a daemon that watches thousands of devices and
 * allocates all the time, that slack was most of its resident memory (10,000 simulated devices:
 * about 120 MiB live, a 500 MiB heap). Half again what is live keeps it near its working set; the
 * extra full collections did not show in the daemon's CPU time (bench/scale.bench.ts).
 *
 * An operator who sets the growth (or a heap ceiling) on node's command line keeps theirs.
 */
import { setFlagsFromString } from 'node:v8';

/** The heap may grow to (1 + this / 100) × what is live after a full collection. */
export const DAEMON_HEAP_GROWING_PERCENT = 50;

const OPERATOR_FLAGS = /--(heap-growing-percent|heap_growing_percent|max-old-space-size|max_old_space_size)\b/;

/** Applies the daemon's heap growth unless the node command line (or NODE_OPTIONS) chose one. */
export function limitDaemonHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (execArgv.some((a) => OPERATOR_FLAGS.test(a)) || OPERATOR_FLAGS.test(nodeOptions ?? '')) return false;
  // Read by V8 whenever it sets the next collection's threshold, so it applies from here on.
  setFlagsFromString(`--heap-growing-percent=${DAEMON_HEAP_GROWING_PERCENT}`);
  return true;
}
