/**
 * Where a flow's CPU time goes: the V8 sampling profiler (node:inspector) run over a callback,
 * each sample's self time attributed to a bucket by the stack it was taken in — node:crypto
 * (the floor's own work), the src/ directory of the innermost spdmkit frame otherwise (so a
 * Buffer copy or a promise job counts against the code that asked for it), a dependency, the
 * garbage collector.
 */
import { Session } from 'node:inspector/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Bucket {
  readonly name: string;
  /** Share of the sampled time, 0..1. */
  readonly share: number;
}

/** The bucket of a src/ file (path below dist/src/, without the extension). */
function srcBucket(path: string): string {
  const parts = path.split('/');
  const dir = parts.length > 1 ? parts[0]! : '(top level)';
  const file = parts.at(-1) ?? '';
  if (dir === 'spdm') {
    if (parts[1] === 'messages') return 'spdm/messages (codecs)';
    if (/transcript/.test(file)) return 'spdm transcripts';
    return 'spdm (other)';
  }
  if (dir === 'wire') return 'wire (bytes, readers, writers)';
  return dir;
}

function classify(url: string): string | undefined {
  // The profiler's own start/stop calls are not the flow's time.
  if (url === 'node:inspector' || url.startsWith('node:internal/inspector')) return 'idle';
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'node:crypto (primitives)';
  const src = url.indexOf('/dist/src/');
  if (src >= 0) return srcBucket(url.slice(src + '/dist/src/'.length).replace(/\.js$/, ''));
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `dependency ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.includes('/dist/bench/')) return 'bench harness';
  return undefined;
}

export interface Attribution {
  readonly buckets: Bucket[];
  /** Outside node:crypto: the innermost spdmkit function of each sample (file:function), the largest first. */
  readonly functions: Bucket[];
}

export function attribute(profile: CpuProfile): Attribution {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const bucketOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = bucketOf.get(id);
    if (known) return known;
    const leaf = byId.get(id)!;
    let b: string | undefined;
    for (let at: number | undefined = id; at !== undefined && !b; at = parent.get(at))
      b = classify(byId.get(at)!.callFrame.url);
    if (!b) {
      const f = leaf.callFrame.functionName;
      b =
        f === '(garbage collector)'
          ? 'garbage collector'
          : f === '(idle)'
            ? 'idle'
            : f === '(program)'
              ? 'V8/node (program)'
              : 'node internals';
    }
    bucketOf.set(id, b);
    return b;
  };
  const functionOf = (id: number): string | undefined => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const src = f.url.indexOf('/dist/src/');
      if (src >= 0)
        return `${f.url.slice(src + '/dist/src/'.length).replace(/\.js$/, '')}:${f.functionName || '(anonymous)'}`;
    }
    return undefined;
  };
  const time = new Map<string, number>();
  const fnTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const b = resolve(id);
    if (b === 'idle') return;
    time.set(b, (time.get(b) ?? 0) + dt);
    total += dt;
    const fn = b === 'node:crypto (primitives)' ? undefined : functionOf(id);
    if (fn) fnTime.set(fn, (fnTime.get(fn) ?? 0) + dt);
  });
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, t]) => ({ name, share: total > 0 ? t / total : 0 })).sort((a, b) => b.share - a.share);
  return { buckets: sorted(time), functions: sorted(fnTime) };
}

/** Profiles `fn` repeated for `seconds`, at a 100 µs sampling interval. */
export async function profileBuckets(fn: () => Promise<unknown>, seconds: number): Promise<Attribution> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const t0 = performance.now();
    do await fn();
    while (performance.now() - t0 < seconds * 1000);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    return attribute(profile);
  } finally {
    session.disconnect();
  }
}

/** "  42.1 %  node:crypto (primitives)   ≈ 1,234 µs/flow" lines, the largest first. */
export function formatBuckets(buckets: readonly Bucket[], usPerRun: number, top = 10, width = 34): string[] {
  return buckets
    .slice(0, top)
    .map(
      (b) =>
        `    ${(b.share * 100).toFixed(1).padStart(5)} %  ${b.name.padEnd(width)} ≈ ${(b.share * usPerRun).toFixed(0).padStart(6)} µs/flow`,
    );
}
