/**
 * Worker thread of log verification. Opens its own connection to the log and checks the ranges of
 * entries it is given (verify-range.ts) and batches of tree head signatures; verify.ts combines.
 * Only meaningful inside a Worker: loaded any other way it does nothing.
 */
import { parentPort } from 'node:worker_threads';
import { isSpdmError } from '../wire/errors.js';
import { TranscriptOpenings } from '../spdm/signed-transcript.js';
import { SignatureChecker } from './sigcheck.js';
import { openStoreForTarget } from './store/open.js';
import { checkRange, type RangeResult } from './verify-range.js';
import type { LogStore } from './store/store.js';

export type WorkerRequest =
  | {
      readonly type: 'init';
      readonly target: string;
      readonly logSpki?: Uint8Array;
      readonly alteredChains: readonly string[];
      readonly pageSize: number;
    }
  | { readonly type: 'range'; readonly id: number; readonly from: number; readonly to: number }
  | {
      readonly type: 'sths';
      readonly id: number;
      readonly heads: readonly { message: Uint8Array; signature: Uint8Array }[];
    }
  | { readonly type: 'close' };

export type WorkerReply =
  | { readonly type: 'range'; readonly id: number; readonly result: RangeResult }
  | { readonly type: 'sths'; readonly id: number; readonly ok: readonly boolean[] }
  | { readonly type: 'progress'; readonly rows: number }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly message: string;
      /** An SpdmError's code and details, so that the caller gets the same typed error. */
      readonly code?: string;
      readonly details?: Record<string, unknown>;
    }
  | { readonly type: 'closed' };

const port = parentPort;
if (port) {
  const checker = new SignatureChecker();
  const chainsKnown = new Map<string, boolean>();
  const openings = new TranscriptOpenings();
  let store: Promise<LogStore> | undefined;
  let altered = new Set<string>();
  let pageSize = 1000;
  let queue: Promise<void> = Promise.resolve();
  const reply = (m: WorkerReply) => port.postMessage(m);

  port.on('message', (m: WorkerRequest) => {
    queue = queue.then(async () => {
      try {
        switch (m.type) {
          case 'init':
            // Verification only reads: a read-only connection cannot write the log by mistake,
            // and opens one the main connection could open read-only (sqlite-readonly.ts).
            store = openStoreForTarget(m.target, { readOnly: true });
            if (m.logSpki) checker.setLogKey(m.logSpki);
            altered = new Set(m.alteredChains);
            pageSize = m.pageSize;
            break;
          case 'range': {
            if (!store) throw new Error('not initialised');
            const result = await checkRange(await store, m.from, m.to, {
              checker,
              chainsKnown,
              openings,
              alteredChains: altered,
              pageSize,
              onRows: (rows) => reply({ type: 'progress', rows }),
            });
            reply({ type: 'range', id: m.id, result });
            break;
          }
          case 'sths':
            reply({
              type: 'sths',
              id: m.id,
              ok: m.heads.map((h) => checker.check({ t: 'sth', message: h.message, signature: h.signature }).ok),
            });
            break;
          case 'close':
            if (store) await (await store).close();
            reply({ type: 'closed' });
            break;
        }
      } catch (e) {
        reply({
          type: 'error',
          id: 'id' in m ? m.id : -1,
          message: e instanceof Error ? e.message : String(e),
          ...(isSpdmError(e) ? { code: e.code, details: { ...e.details } } : {}),
        });
      }
    });
  });
}
