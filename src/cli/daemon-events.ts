/**
 * `spdm events [--after N] [--count N] [--json]`: the daemon's event stream (GET /v1/events), one
 * line per event — id, time, type, function and what changed — or the events as JSON Lines. It
 * runs until the daemon ends the stream (exit UNREACHABLE) or `--count` events were printed
 * (exit OK). A `gap` notice (events the daemon's store no longer has) goes to standard error.
 */
import type { CmaEvent } from '../cma/api.js';
import type { ClientTarget } from '../daemon/client.js';
import { openEventStream } from '../daemon/event-client.js';
import { isSpdmError } from '../wire/errors.js';
import type { ClientIo } from './daemon-client.js';
import { EXIT } from './exit-codes.js';

export interface EventsOptions {
  /** Replay the events with a larger id first (0: from the first). */
  readonly after?: number;
  /** Stop after this many events. */
  readonly count?: number;
  readonly json?: boolean;
}

const stdio: ClientIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

/** What an event says, in a few words (the JSON has the rest). */
export function eventSummary(e: CmaEvent): string {
  switch (e.type) {
    case 'device-added':
      return e.identity
        ? `${e.identity.vendorId.toString(16).padStart(4, '0')}:${e.identity.deviceId.toString(16).padStart(4, '0')}`
        : '';
    case 'device-removed':
      return '';
    case 'reset':
      return e.kind;
    case 'signature':
      return `${e.signature.type}, slot ${e.signature.slot}, log index ${e.signature.logIndex}`;
    case 'authenticated': {
      const a = e.authenticated;
      const verdict = e.verdict
        ? ` ${e.verdict.status}${e.verdict.reasons.length > 0 ? ` (${e.verdict.reasons.map((r) => r.code).join(',')})` : ''}`
        : '';
      return `${a.state}${a.state === 'yes' ? '' : ` ${a.reason.code}`}${verdict}, generation ${e.generation}`;
    }
    case 'acceptance': {
      const a = e.acceptance;
      if (a.state === 'accepted')
        return `accepted by ${a.by}${a.basis ? ` (basis ${a.basis})` : ''}${a.operator ? `, operator ${a.operator}` : ''}`;
      return `${a.state}${a.reason ? ` ${a.reason.code}` : ''}`;
    }
    case 'same-device':
      return e.same ? 'same device' : `changed: ${[...new Set(e.changes.map((c) => c.code))].join(', ')}`;
    case 'owner':
      return e.owner.kind === 'tsm' ? `tsm:${e.owner.tsm}` : 'cma';
  }
}

export function formatEventLine(e: CmaEvent): string {
  const summary = eventSummary(e);
  return `${e.id}  ${e.at}  ${e.type.padEnd(13)}  ${e.bdf}${summary ? `  ${summary}` : ''}\n`;
}

export async function runEvents(target: ClientTarget, o: EventsOptions, io: ClientIo = stdio): Promise<number> {
  let printed = 0;
  let over = false;
  let settle!: (code: number) => void;
  const done = new Promise<number>((r) => (settle = r));
  const finish = (code: number) => {
    if (over) return;
    over = true;
    settle(code);
  };
  let close = () => undefined as void;
  try {
    const stream = await openEventStream(
      target,
      o.after ?? 0,
      (e) => {
        if (o.count !== undefined && printed >= o.count) return;
        io.out(o.json ? `${JSON.stringify(e)}\n` : formatEventLine(e));
        printed++;
        if (o.count !== undefined && printed >= o.count) finish(EXIT.OK);
      },
      (g) => io.err(`spdm: events ${g.from}..${g.to} are no longer held by the daemon\n`),
    );
    close = () => stream.close();
    // Resolves with the stream's end (the daemon stopped, or the connection broke).
    stream
      .waitFor(() => false, 2 ** 31 - 1, 'end of stream')
      .catch((e: unknown) => {
        if (!over) io.err(`spdm: ${e instanceof Error ? e.message : String(e)}\n`);
        finish(EXIT.UNREACHABLE);
      });
    if (o.count === 0) finish(EXIT.OK);
    return await done;
  } catch (e) {
    if (isSpdmError(e, 'TRANSPORT_ERROR')) {
      io.err(`spdm: ${e.message}\n`);
      return EXIT.UNREACHABLE;
    }
    throw e;
  } finally {
    close();
  }
}
