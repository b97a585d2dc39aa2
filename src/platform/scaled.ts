/**
 * Platform documents of many functions, for scale runs and their tests: some device entries of a
 * template platform document (the shipped default one, say) repeated at generated addresses. The
 * copies share their template's certificate chain and key files, so a document of 10,000
 * functions is cheap to make and to load, while every function is still a device of its own with
 * its own emulator, mailbox and SPDM state.
 */

/** A platform document as JSON values (what platform files hold). */
export interface PlatformDocument {
  readonly version: 1;
  readonly functions: readonly Record<string, unknown>[];
  readonly spares?: readonly Record<string, unknown>[];
}

/** The most functions scaledPlatform can address: 255 buses of 32 devices × 8 functions. */
export const MAX_SCALED_FUNCTIONS = 255 * 256;

/**
 * The `i`-th generated address, in BDF order: domain 0000, buses from 01 up, 256 functions (32
 * devices of 8 functions) per bus.
 */
export function scaledBdf(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_SCALED_FUNCTIONS)
    throw new RangeError(`function index must be an integer in 0..${MAX_SCALED_FUNCTIONS - 1}, got ${i}`);
  const hex = (v: number, w: number) => v.toString(16).padStart(w, '0');
  return `0000:${hex(1 + (i >> 8), 2)}:${hex((i >> 3) & 31, 2)}.${i & 7}`;
}

export interface ScaledPlatformOptions {
  /** How many functions. */
  readonly count: number;
  /** Which of the template's functions are copied (default all), in the template's order, round robin. */
  readonly pick?: (fn: Record<string, unknown>) => boolean;
  /** Overrides every copy's DOE response delay (ms per object; the driver polls meanwhile). */
  readonly responseDelayMs?: number;
}

/**
 * `count` functions at scaledBdf(0..count-1), the `i`-th a copy of the `i mod k`-th picked
 * template function; the template's spares are kept. Paths in the copies stay relative, so the
 * document is written next to (or given the baseDir of) the template.
 */
export function scaledPlatform(template: PlatformDocument, o: ScaledPlatformOptions): PlatformDocument {
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_SCALED_FUNCTIONS)
    throw new RangeError(`count must be an integer in 1..${MAX_SCALED_FUNCTIONS}, got ${o.count}`);
  const models = template.functions.filter(o.pick ?? (() => true));
  if (models.length === 0) throw new TypeError('the template has no function to copy');
  const functions: Record<string, unknown>[] = [];
  for (let i = 0; i < o.count; i++) {
    const m = models[i % models.length] as Record<string, unknown>;
    const doe = m['doe'];
    functions.push({
      ...m,
      bdf: scaledBdf(i),
      ...(o.responseDelayMs !== undefined && doe && typeof doe === 'object'
        ? { doe: { ...(doe as Record<string, unknown>), responseDelayMs: o.responseDelayMs } }
        : {}),
    });
  }
  return { version: 1, functions, ...(template.spares ? { spares: template.spares } : {}) };
}
