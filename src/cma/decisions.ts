/**
 * User space's decisions and the records they rest on. The rules, all here:
 *
 * - `accepted` always rests on an acceptance record, made once: from a trusted verdict (accept),
 *   by autoAccept, or by an operator's override over an untrusted verdict (recorded as such).
 * - After a restart, a reset, a hot-plug or a TSM hand-back an accepted device is unaccepted
 *   (SAME_DEVICE_PENDING) until sameDevice(record, fresh evidence over our fresh nonce) passes; it
 *   is then accepted `by: same-device`, naming the record's basis. The trust store is never
 *   consulted on that path, and autoAccept never applies to a device that has a record.
 * - A device that fails the check loses its record (a `drop` decision) and stays unaccepted,
 *   autoAccept included, until an operator decides. A rejected device stays rejected until an
 *   operator accepts it.
 */
import type { Evidence } from '../evidence/evidence.js';
import { acceptanceRecord, sameDevice } from '../verifier/acceptance.js';
import { SpdmError } from '../wire/errors.js';
import type { Acceptance, StateReason } from './api.js';
import { checkOptions, checkText } from './arguments.js';
import type { Device } from './device.js';
import { batch, type Batch } from './journal.js';
import { reasonOf } from './outcome.js';
import { assertNotOwned } from './ownership.js';
import type { StoredAcceptance } from './store/store.js';

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Decisions {
  private readonly records = new Map<string, StoredAcceptance>();

  constructor(
    private readonly autoAccept: boolean,
    private readonly now: () => string,
  ) {}

  restore(acceptances: readonly StoredAcceptance[]): void {
    for (const a of acceptances) this.records.set(a.bdf, a);
  }

  /** The batch that accepts `dev` (options unchecked yet); throws before touching anything. */
  accept(dev: Device, options: { readonly override?: { readonly operator: string; readonly reason: string } }): Batch {
    checkOptions(options);
    const override = options.override;
    if (override !== undefined && (typeof override !== 'object' || override === null))
      throw new TypeError('override must be { operator, reason }');
    const operator = override ? checkText(override.operator, 'override.operator', true) : undefined;
    const reason = override ? checkText(override.reason, 'override.reason', true) : undefined;
    assertNotOwned(dev);
    const evidence = dev.evidence?.evidence();
    if (!evidence || !dev.acceptable || !dev.verdict)
      throw new SpdmError('DEVICE_STATE', `${dev.bdf} has no evidence from its latest authentication to accept`, {
        bdf: dev.bdf,
      });
    const trusted = dev.verdict.status === 'trusted';
    if (!trusted && !override)
      throw new SpdmError(
        'DEVICE_STATE',
        `${dev.bdf} is not trusted by the verifier (${dev.verdict.reasons.map((r) => r.code).join(', ')}): accept it only with an override naming the operator and the reason`,
        { bdf: dev.bdf },
      );
    const at = this.now();
    const record = this.recordOf(evidence, at);
    const by = trusted ? 'verdict' : 'operator';
    const stored: StoredAcceptance = {
      bdf: dev.bdf,
      record,
      by,
      at,
      ...(operator ? { operator } : {}),
      ...(reason ? { note: reason } : {}),
    };
    this.records.set(dev.bdf, stored);
    dev.changed = undefined;
    dev.acceptance = {
      state: 'accepted',
      at,
      by,
      ...(operator ? { operator } : {}),
      ...(reason ? { note: reason } : {}),
    };
    const b = batch();
    b.devices.push(dev);
    b.acceptances.push(stored);
    b.decisions.push({
      bdf: dev.bdf,
      at,
      action: trusted ? 'accept' : 'override',
      ...(operator ? { operator } : {}),
      ...(reason ? { reason } : {}),
      detail: { verdict: dev.verdict.status, reasons: dev.verdict.reasons.map((r) => r.code) },
    });
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
    return b;
  }

  /** The batch that rejects `dev` (options unchecked yet). */
  reject(dev: Device, options: { readonly operator?: string; readonly reason?: string }): Batch {
    checkOptions(options);
    const operator = checkText(options.operator, 'operator', false);
    const reason = checkText(options.reason, 'reason', false);
    const at = this.now();
    dev.acceptance = {
      state: 'rejected',
      at,
      reason: { code: 'REJECTED', message: reason ?? 'rejected by the operator' },
      ...(operator ? { operator } : {}),
    };
    const b = batch();
    b.devices.push(dev);
    if (this.records.delete(dev.bdf)) b.acceptances.push({ bdf: dev.bdf, remove: true });
    b.decisions.push({
      bdf: dev.bdf,
      at,
      action: 'reject',
      ...(operator ? { operator } : {}),
      ...(reason ? { reason } : {}),
    });
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
    return b;
  }

  /** An accepted device whose identity must be shown again: unaccepted, its record kept for the check. */
  pendSameDevice(dev: Device, b: Batch, message: string): void {
    if (dev.acceptance.state !== 'accepted') return;
    dev.acceptance = { state: 'unaccepted', reason: { code: 'SAME_DEVICE_PENDING', message } };
    b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: dev.acceptance });
  }

  /** What user space concludes from a flow: the same-device check, autoAccept, or nothing. */
  decide(dev: Device, evidence: Evidence | undefined, nonce: Uint8Array, b: Batch, at: string): void {
    const before = dev.acceptance;
    if (before.state === 'rejected') return; // stays until an operator accepts
    const rec = this.records.get(dev.bdf);
    let next: Acceptance = before;
    if (rec) {
      if (evidence) {
        const check = sameDevice(rec.record, evidence, { expectedNonce: nonce });
        dev.sameDevice = { at, same: check.same, changes: check.changes };
        b.events.push({ type: 'same-device', bdf: dev.bdf, same: check.same, changes: check.changes });
        if (check.same) {
          next =
            before.state === 'accepted'
              ? before
              : {
                  state: 'accepted',
                  at,
                  by: 'same-device',
                  ...(rec.by !== 'same-device' ? { basis: rec.by } : {}),
                  ...(rec.operator ? { operator: rec.operator } : {}),
                  note:
                    rec.by === 'operator'
                      ? `same device as accepted by operator ${rec.operator ?? ''} over an untrusted verdict at ${rec.at}${rec.note ? ` (${rec.note})` : ''}`
                      : `same device as accepted by ${rec.by} at ${rec.at}`,
                };
        } else {
          const codes = [...new Set(check.changes.map((c) => c.code))];
          dev.changed = {
            code: 'DEVICE_CHANGED',
            message: `not the device that was accepted: ${codes.join(', ')}${check.changes[0] ? ` (${check.changes[0].message})` : ''}`,
          };
          next = { state: 'unaccepted', reason: dev.changed };
          this.records.delete(dev.bdf);
          b.acceptances.push({ bdf: dev.bdf, remove: true });
          b.decisions.push({
            bdf: dev.bdf,
            at,
            action: 'drop',
            reason: dev.changed.message,
            detail: check.changes,
          });
        }
      } else if (before.state === 'accepted') {
        const why = dev.authenticated.state === 'yes' ? 'no evidence' : dev.authenticated.reason.message;
        next = {
          state: 'unaccepted',
          reason: { code: 'SAME_DEVICE_PENDING', message: `the same-device check could not run: ${why}` },
        };
      }
    } else if (evidence && dev.verdict?.status === 'trusted' && this.autoAccept && !dev.changed) {
      const record = this.recordOf(evidence, at);
      const stored: StoredAcceptance = { bdf: dev.bdf, record, by: 'auto', at };
      this.records.set(dev.bdf, stored);
      b.acceptances.push(stored);
      b.decisions.push({ bdf: dev.bdf, at, action: 'accept', operator: 'auto', reason: 'trusted verdict, autoAccept' });
      next = { state: 'accepted', at, by: 'auto' };
    } else if (before.state === 'unaccepted') {
      const reason: StateReason = dev.changed
        ? dev.changed
        : !evidence
          ? { code: 'NOT_AUTHENTICATED', message: 'no evidence from the latest authentication' }
          : dev.verdict?.status === 'trusted'
            ? { code: 'AWAITING_DECISION', message: 'trusted by the verifier; waiting for accept' }
            : {
                code: 'UNTRUSTED',
                message: `the verifier did not trust the device: ${dev.verdict?.reasons.map((x) => x.code).join(', ') ?? ''}`,
              };
      next = { state: 'unaccepted', reason };
    }
    if (!same(next, before)) {
      dev.acceptance = next;
      b.events.push({ type: 'acceptance', bdf: dev.bdf, acceptance: next });
    }
  }

  private recordOf(evidence: Evidence, at: string) {
    try {
      return acceptanceRecord(evidence, { now: new Date(at) });
    } catch (e) {
      throw new SpdmError('DEVICE_STATE', `the evidence cannot be recorded for acceptance: ${reasonOf(e).message}`, {
        bdf: evidence.pci?.bdf ?? '',
      });
    }
  }
}
