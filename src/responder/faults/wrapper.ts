/**
 * The fault wrapper: an SpdmHandler in front of the clean Responder that rewrites, truncates,
 * delays, withholds or re-signs what the responder says. The protocol handlers stay honest; every
 * lie a hostile device tells is written here, as a `Fault` — a function from one exchange to the
 * reply the requester gets. The wrapper holds the slot's private key and a TranscriptMirror, so a
 * fault can produce a signature that is valid over edited bytes (to reach the check behind the
 * signature), or one made with the wrong key or over the wrong transcript.
 */
import type { KeyObject } from 'node:crypto';
import type { SpdmHandler } from '../../transport/transport.js';
import { equalBytes } from '../../wire/bytes.js';
import { timerMs } from '../../wire/limits.js';
import { TranscriptMirror, type SignedKind, type SignOptions } from './mirror.js';

/** A reply that is not simply bytes. */
export type FaultReply =
  | Uint8Array
  /** Never answer (the requester's timeout must end the wait). */
  | { readonly withhold: true }
  /** Answer with `response` after `delayMs`. */
  | { readonly delayMs: number; readonly response: Uint8Array };

export interface FaultContext {
  /** The request as received (may be RESPOND_IF_READY). */
  readonly request: Uint8Array;
  /** The request this exchange answers (the parked one for RESPOND_IF_READY). */
  readonly original: Uint8Array;
  /** Request code of `original`. */
  readonly code: number;
  /** 1 for the first time a request with this code is answered, 2 for the second... */
  readonly count: number;
  readonly mirror: TranscriptMirror;
  /** The slot 0 private key of the profile. */
  readonly key: KeyObject;
  /** The clean responder's answer to `original` (asked once, then remembered). */
  honest(): Promise<Uint8Array>;
  /** Sends another request to the clean responder (e.g. to obtain a genuine answer to a different question). */
  ask(request: Uint8Array): Promise<Uint8Array>;
  /** `unsigned` followed by a signature over it as the requester will check it, with departures `o`. */
  resign(kind: SignedKind, unsigned: Uint8Array, o?: SignOptions): Uint8Array;
}

/** undefined: let the honest answer through. */
export type Fault = (x: FaultContext) => FaultReply | undefined | Promise<FaultReply | undefined>;

export class FaultyResponder implements SpdmHandler {
  readonly mirror = new TranscriptMirror();
  private readonly counts = new Map<number, number>();
  /** Replies the fault changed (withheld, delayed, or bytes other than the honest ones). */
  fired = 0;
  /** Requests received, per request code as sent (RESPOND_IF_READY as itself: the clean responder never sees it). */
  readonly stats = new Map<number, number>();

  constructor(
    private readonly inner: SpdmHandler,
    private readonly key: KeyObject,
    private readonly fault: Fault,
  ) {}

  async handle(request: Uint8Array): Promise<Uint8Array> {
    const original = this.mirror.original(request);
    this.stats.set(request[1] ?? -1, (this.stats.get(request[1] ?? -1) ?? 0) + 1);
    const code = original[1] ?? -1;
    const count = (this.counts.get(code) ?? 0) + 1;
    this.counts.set(code, count);
    let honest: Uint8Array | undefined;
    const ctx: FaultContext = {
      request,
      original,
      code,
      count,
      mirror: this.mirror,
      key: this.key,
      honest: async () => (honest ??= await this.inner.handle(original.slice())),
      ask: (other) => this.inner.handle(other.slice()),
      resign: (kind, unsigned, o) => {
        const sig = this.mirror.sign(kind, original, unsigned, this.key, o);
        const out = new Uint8Array(unsigned.length + sig.length);
        out.set(unsigned);
        out.set(sig, unsigned.length);
        return out;
      },
    };
    const reply = (await this.fault(ctx)) ?? (await ctx.honest());
    if (reply instanceof Uint8Array) {
      if (!honest || !equalBytes(reply, honest)) this.fired++;
      this.mirror.observe(request, reply);
      return reply;
    }
    this.fired++;
    if ('withhold' in reply) return new Promise<Uint8Array>(() => undefined);
    await new Promise((r) => setTimeout(r, timerMs(reply.delayMs)));
    this.mirror.observe(request, reply.response);
    return reply.response;
  }
}
