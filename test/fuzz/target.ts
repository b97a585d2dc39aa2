/**
 * What a fuzz target is, and what counts as a failure. A target turns a generated input into one
 * call of the code under test; the only acceptable outcomes are a value or a typed error
 * (SpdmError and its subclasses DecodeError and LimitError, from src/wire/). Anything else —
 * RangeError, TypeError, SyntaxError, a promise that never settles, a broken invariant the target
 * checks itself — is a FuzzFailure. The same targets drive the CI property tests (fuzz.test.ts),
 * the time-boxed runner (bench/fuzz.ts) and the regression replays (regressions.test.ts).
 */
import type fc from 'fast-check';
import { DecodeError, SpdmError } from '../../src/wire/errors.js';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/** The code under test did something other than return a value or throw a typed error. */
export class FuzzFailure extends Error {
  constructor(
    readonly kind: 'untyped-error' | 'hang' | 'invariant' | 'accepted-mutation',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FuzzFailure';
  }
}

/** A target once its corpus is loaded: how to make inputs and how to run one. */
export interface Prepared<I> {
  readonly arbitrary: fc.Arbitrary<I>;
  /** Resolves for an acceptable outcome; throws FuzzFailure (or the untyped error itself) otherwise. */
  run(input: I): void | Promise<void>;
  /** Closes what prepare() opened (databases, temp directories). */
  dispose?(): Promise<void>;
}

export interface FuzzTarget<I> {
  readonly name: string;
  /** One line for the runner's table and the test names. */
  readonly what: string;
  /** Property-test runs in CI; sized so that all targets together stay well under a minute. */
  readonly ciRuns: number;
  /** Set when the target's CI run is skipped (name the known issue being fixed elsewhere). */
  readonly skip?: string;
  /** Loads or builds the corpus (emulator identities, captures, exports); called once per process. */
  prepare(): Promise<Prepared<I>>;
  /** How an input is saved under test/regressions/ and read back. */
  toJson(input: I): Json;
  fromJson(json: Json): I;
}

/** A target with its input type erased, so that targets of different inputs share one list. */
export interface AnyTarget {
  readonly name: string;
  readonly what: string;
  readonly ciRuns: number;
  readonly skip?: string;
  prepare(): Promise<Prepared<unknown>>;
  toJson(input: unknown): Json;
  fromJson(json: Json): unknown;
}

export function defineTarget<I>(t: FuzzTarget<I>): AnyTarget {
  let prepared: Promise<Prepared<I>> | undefined;
  return {
    name: t.name,
    what: t.what,
    ciRuns: t.ciRuns,
    ...(t.skip !== undefined ? { skip: t.skip } : {}),
    // Prepared once: the corpus (keys, chains, exports) is the slow part.
    prepare: () => (prepared ??= t.prepare()),
    toJson: (i) => t.toJson(i as I),
    fromJson: (j) => t.fromJson(j),
  };
}

/** Typed: an SpdmError; a DecodeError must also say which message and field it is about. */
export function isTypedError(e: unknown): boolean {
  if (e instanceof DecodeError) return e.code === 'DECODE_ERROR' && e.messageName.length > 0 && e.field.length > 0;
  return e instanceof SpdmError;
}

/**
 * A bug already being fixed elsewhere, tolerated by a target until the fix is merged: `matches`
 * must recognise exactly that failure and nothing broader.
 */
export interface KnownIssue {
  readonly id: string;
  matches(e: unknown): boolean;
}

/** Outcomes a runner counts separately from plain passes. */
export const knownIssueHits = new Map<string, number>();

/** How inputs of a target ended (evidence, or which error code), for the runner's summary. */
export const outcomeCounts = new Map<string, Map<string, number>>();

export function noteOutcome(target: string, label: string): void {
  let m = outcomeCounts.get(target);
  if (!m) outcomeCounts.set(target, (m = new Map<string, number>()));
  m.set(label, (m.get(label) ?? 0) + 1);
}

/** Runs `fn`; a typed error is an acceptable outcome, anything else becomes a FuzzFailure. */
export async function expectTyped<T>(
  fn: () => T | Promise<T>,
  known: readonly KnownIssue[] = [],
): Promise<T | SpdmError> {
  try {
    return await fn();
  } catch (e) {
    return typedOutcome(e, known);
  }
}

/** What a thrown value means: a typed error (or a known issue) is an outcome; anything else a FuzzFailure. */
function typedOutcome(e: unknown, known: readonly KnownIssue[]): SpdmError {
  if (e instanceof FuzzFailure) throw e;
  if (isTypedError(e)) return e as SpdmError;
  const k = known.find((x) => x.matches(e));
  if (k) {
    knownIssueHits.set(k.id, (knownIssueHits.get(k.id) ?? 0) + 1);
    return new SpdmError('PROTOCOL_ERROR', `known issue ${k.id}`);
  }
  throw new FuzzFailure('untyped-error', `untyped ${describeError(e)}`, { cause: e });
}

/** Synchronous form, for decoders (no microtask per input keeps the rates honest). */
export function expectTypedSync<T>(fn: () => T, known: readonly KnownIssue[] = []): T | SpdmError {
  try {
    return fn();
  } catch (e) {
    return typedOutcome(e, known);
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `throw of ${typeof e}: ${String(e)}`;
}

/**
 * Settles `p` or fails as a hang after `ms` of wall time. Code under test waits on fake clocks,
 * so a real-time bound this large is only reached by a promise that never settles.
 */
export async function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FuzzFailure('hang', `${what}: no outcome within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}
