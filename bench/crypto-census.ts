/**
 * What a flow actually asks of node:crypto: every call counted (and hashed bytes summed) while
 * one callback runs, by wrapping node:crypto's exports and its Hash/Hmac/Sign/Verify methods,
 * then putting them back. Beside the hand-counted floor this shows work the stack does that the
 * protocol does not need (a cache key digest, a hash copy, a key object built twice).
 *
 * ESM imports of a builtin are live bindings of its CommonJS exports once
 * module.syncBuiltinESMExports() runs, so src/'s `import { createHash } from 'node:crypto'`
 * sees the wrappers.
 */
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

export interface Census {
  /** Calls per name, e.g. "createHash(sha384)", "Hash.update", "sign(ed25519)". */
  readonly calls: Record<string, number>;
  /** Bytes fed to Hash/Hmac/Sign/Verify update() and to the one-shot hash(), per kind. */
  readonly bytes: Record<string, number>;
}

type AnyFn = (...args: unknown[]) => unknown;
type Proto = Record<string, AnyFn>;

const EXPORTS = [
  'hash',
  'createHash',
  'createHmac',
  'createSign',
  'createVerify',
  'sign',
  'verify',
  'createPublicKey',
  'createPrivateKey',
  'createECDH',
  'diffieHellman',
  'generateKeyPairSync',
  'createCipheriv',
  'createDecipheriv',
  'randomBytes',
  'randomFillSync',
  'timingSafeEqual',
  'hkdfSync',
] as const;

function keyType(k: unknown): string {
  const o = (k && typeof k === 'object' && 'key' in k ? k.key : k) as { asymmetricKeyType?: string } | undefined;
  return o?.asymmetricKeyType ?? '?';
}

function label(name: string, args: unknown[]): string {
  switch (name) {
    case 'hash':
    case 'createHash':
    case 'createHmac':
    case 'createSign':
    case 'createVerify':
    case 'createCipheriv':
    case 'createDecipheriv':
      return `${name}(${String(args[0])})`;
    case 'sign':
    case 'verify':
      return `${name}(${keyType(args[2])})`;
    case 'diffieHellman':
      return `${name}(${keyType((args[0] as { privateKey?: unknown }).privateKey)})`;
    default:
      return name;
  }
}

/** Runs `fn` with node:crypto counted; the originals are back when it returns or throws. */
export async function census(fn: () => Promise<unknown>): Promise<Census> {
  const calls: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  const count = (k: string, n = 1) => (calls[k] = (calls[k] ?? 0) + n);
  const mod = crypto as unknown as Record<string, AnyFn>;
  // Methods live on the prototypes of the objects the factories return (found before the
  // factories are wrapped, so finding them is not counted).
  const protos: [string, Proto, string[]][] = [
    ['Hash', Object.getPrototypeOf(crypto.createHash('sha256')) as Proto, ['update', 'digest', 'copy']],
    ['Hmac', Object.getPrototypeOf(crypto.createHmac('sha256', 'k')) as Proto, ['update', 'digest']],
    ['Sign', Object.getPrototypeOf(crypto.createSign('sha256')) as Proto, ['update', 'sign']],
    ['Verify', Object.getPrototypeOf(crypto.createVerify('sha256')) as Proto, ['update', 'verify']],
    ['X509Certificate', crypto.X509Certificate.prototype as unknown as Proto, ['verify', 'checkIssued']],
  ];
  const saved = new Map<string, AnyFn>();
  for (const name of EXPORTS) {
    const orig = mod[name];
    if (typeof orig !== 'function') continue;
    saved.set(name, orig);
    mod[name] = function (this: unknown, ...args: unknown[]) {
      count(label(name, args));
      if (name === 'hash' && ArrayBuffer.isView(args[1])) bytes['hash'] = (bytes['hash'] ?? 0) + args[1].byteLength;
      return orig.apply(this, args);
    };
  }
  const savedMethods: [Proto, string, AnyFn][] = [];
  for (const [cls, proto, methods] of protos) {
    for (const m of methods) {
      const orig = proto[m];
      if (typeof orig !== 'function') continue;
      savedMethods.push([proto, m, orig]);
      proto[m] = function (this: unknown, ...args: unknown[]) {
        count(`${cls}.${m}`);
        if (m === 'update') {
          const d = args[0];
          const n = typeof d === 'string' ? Buffer.byteLength(d) : ArrayBuffer.isView(d) ? d.byteLength : 0;
          bytes[cls] = (bytes[cls] ?? 0) + n;
        }
        return orig.apply(this, args);
      };
    }
  }
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    for (const [name, orig] of saved) mod[name] = orig;
    for (const [proto, m, orig] of savedMethods) proto[m] = orig;
    syncBuiltinESMExports();
  }
  return { calls, bytes };
}

/** The census of `runs` runs, per run. */
export async function censusPerRun(runs: number, fn: () => Promise<unknown>): Promise<Census> {
  const c = await census(async () => {
    for (let i = 0; i < runs; i++) await fn();
  });
  const per = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round((v / runs) * 100) / 100]));
  return { calls: per(c.calls), bytes: per(c.bytes) };
}

export function formatCensus(c: Census): string[] {
  const entries = Object.entries(c.calls).sort(([a], [b]) => a.localeCompare(b));
  const lines: string[] = [];
  let line = '   ';
  for (const [k, v] of entries) {
    const item = ` ${k} ${v}`;
    if (line.length + item.length > 110) {
      lines.push(line);
      line = '   ';
    }
    line += item;
  }
  if (line.trim()) lines.push(line);
  const b = Object.entries(c.bytes)
    .map(([k, v]) => `${k} ${Math.round(v).toLocaleString('en-US')} B`)
    .join(', ');
  if (b) lines.push(`    bytes fed: ${b}`);
  return lines;
}
