/**
 * One PCI function as the CMA layer tracks it: what it last showed (identity, DOE support,
 * certificates), what the verifier and user space made of it, who owns its mailbox, and the
 * bookkeeping of work in flight. `storedState`/`restoreDevice` are the JSON the store keeps; a
 * restored device is never accepted (only the same-device check can make it so again) and its
 * authentication is pending until the first flow of this run.
 */
import type { PciIdentity } from '../evidence/evidence.js';
import type { Change } from '../verifier/acceptance.js';
import type { Verdict } from '../verifier/verdict.js';
import type { PlatformFunction } from '../platform/platform.js';
import type {
  Acceptance,
  Authenticated,
  DeviceView,
  DoeSupport,
  DriverBinding,
  Owner,
  SlotView,
  StateReason,
} from './api.js';
import type { FlowHandle } from './flow.js';
import type { KeptEvidence } from './kept-evidence.js';
import type { StoredDevice } from './store/store.js';
import { KeptSlot } from './kept-slot.js';

export interface Device {
  readonly bdf: string;
  fn: PlatformFunction | undefined;
  /** In the platform now (devices() lists only these). */
  present: boolean;
  /** Bumped by removal and re-plugging: work started for an older incarnation no longer applies. */
  incarnation: number;
  identity?: PciIdentity;
  doe: DoeSupport;
  authenticated: Authenticated;
  verdict?: Verdict;
  acceptance: Acceptance;
  /** Set when a same-device check failed: autoAccept holds back until an operator decides. */
  changed?: StateReason;
  sameDevice?: { readonly at: string; readonly same: boolean; readonly changes: readonly Change[] };
  owner: Owner;
  /** Driver binding as the service last set it (holdDrivers). */
  driver?: DriverBinding;
  generation: number;
  slots: SlotView[];
  signatureEntries: number[];
  /** The slot flows authenticate (set by reauthenticate). */
  slot: number;
  /** A reset or a TSM hand-back happened while the mailbox was not ours: authenticate when it is. */
  needsAuth: boolean;
  /** The latest complete evidence (kept compact: kept-evidence.ts) and the nonce it was asked with. */
  evidence?: KeptEvidence;
  evidenceNonce?: string;
  /** The latest flow produced `evidence` (a failed flow after it makes it unfit for accept). */
  acceptable: boolean;
  /** Jobs queued or running for this function. */
  busy: number;
  /** Bumped by every reset: a flow that started before it is stale. */
  resetSeq: number;
  running?: FlowHandle;
  /** The job running now, to wait for. */
  current?: Promise<unknown>;
  /** An authentication queued and not yet started, which a new request joins. */
  queued?: Promise<void>;
}

export const PENDING: StateReason = { code: 'PENDING', message: 'not authenticated yet' };

export function newDevice(bdf: string): Device {
  return {
    bdf,
    fn: undefined,
    present: false,
    incarnation: 0,
    doe: 'unknown',
    authenticated: { state: 'unknown', reason: PENDING },
    acceptance: { state: 'unaccepted', reason: { code: 'NOT_AUTHENTICATED', message: 'no evidence yet' } },
    owner: { kind: 'cma' },
    generation: 0,
    slots: [],
    signatureEntries: [],
    slot: 0,
    needsAuth: false,
    acceptable: false,
    busy: 0,
    resetSeq: 0,
  };
}

export function deviceView(d: Device): DeviceView {
  return {
    bdf: d.bdf,
    ...(d.identity ? { identity: d.identity } : {}),
    doe: d.doe,
    authenticated: d.authenticated,
    ...(d.verdict ? { verdict: d.verdict } : {}),
    acceptance: d.acceptance,
    ...(d.sameDevice ? { sameDevice: d.sameDevice } : {}),
    owner: d.owner,
    ...(d.driver ? { driver: d.driver } : {}),
    busy: d.busy > 0,
    generation: d.generation,
    slots: d.slots,
    signatureEntries: [...d.signatureEntries],
  };
}

/**
 * A slot as the store keeps it: the chain, and where its DER certificates start in it (after the
 * header and root hash), instead of the certificates again in base64. The chain is the larger
 * half of a device's state and the store writes that state on every change of the device;
 * writing the same certificates twice made each write half as large again.
 */
function storedSlot(s: SlotView): Record<string, unknown> {
  const chain = s.chain;
  return {
    slot: s.slot,
    chain,
    certificatesAt:
      s instanceof KeptSlot && s.certificatesAt >= 0
        ? s.certificatesAt
        : chain.length / 2 - s.certificates.reduce((n, c) => n + Buffer.from(c, 'base64').length, 0),
    ...(s.leafSubject !== undefined ? { leafSubject: s.leafSubject } : {}),
  };
}

/** A stored slot back as the view: its certificates cut from its chain (none when it does not split). */
function restoredSlot(v: Record<string, unknown>): SlotView | undefined {
  if (typeof v['slot'] !== 'number' || typeof v['chain'] !== 'string') return undefined;
  const at = v['certificatesAt'];
  return new KeptSlot({
    slot: v['slot'],
    chain: v['chain'],
    certificatesAt: typeof at === 'number' && Number.isSafeInteger(at) && at >= 0 ? at : -1,
    ...(typeof v['leafSubject'] === 'string' ? { leafSubject: v['leafSubject'] } : {}),
    // Written before slots were kept compact: the certificates are there as they were served.
    ...(Array.isArray(v['certificates'])
      ? { certificates: (v['certificates'] as unknown[]).filter((c): c is string => typeof c === 'string') }
      : {}),
  });
}

export function storedState(d: Device): StoredDevice {
  return {
    bdf: d.bdf,
    ...(d.identity ? { identity: d.identity } : {}),
    doe: d.doe,
    authenticated: d.authenticated,
    ...(d.verdict ? { verdict: d.verdict } : {}),
    acceptance: d.acceptance,
    ...(d.changed ? { changed: d.changed } : {}),
    ...(d.sameDevice ? { sameDevice: d.sameDevice } : {}),
    owner: d.owner,
    ...(d.driver ? { driver: d.driver } : {}),
    generation: d.generation,
    slots: d.slots.map(storedSlot),
    signatureEntries: d.signatureEntries,
    slot: d.slot,
    needsAuth: d.needsAuth,
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function reasonOr(v: unknown): StateReason | undefined {
  return isObj(v) && typeof v['code'] === 'string' && typeof v['message'] === 'string'
    ? { code: v['code'], message: v['message'] }
    : undefined;
}

/** A device as the store remembers it; whatever does not read back takes its default. */
export function restoreDevice(s: StoredDevice): Device {
  const d = newDevice(s.bdf);
  if (isObj(s['identity']) && typeof s['identity']['vendorId'] === 'number')
    d.identity = s['identity'] as unknown as PciIdentity;
  if (['cma', 'no-doe', 'no-cma', 'unknown'].includes(s['doe'] as string)) d.doe = s['doe'] as DoeSupport;
  if (isObj(s['verdict']) && (s['verdict']['status'] === 'trusted' || s['verdict']['status'] === 'untrusted'))
    d.verdict = s['verdict'] as unknown as Verdict;
  const acc = s['acceptance'];
  if (isObj(acc) && acc['state'] === 'rejected') {
    d.acceptance = acc as unknown as Acceptance;
  } else if (isObj(acc) && acc['state'] === 'accepted') {
    d.acceptance = {
      state: 'unaccepted',
      reason: {
        code: 'SAME_DEVICE_PENDING',
        message: 'accepted before the service restarted: accepted again only when the same-device check passes',
      },
    };
  }
  const changed = reasonOr(s['changed']);
  if (changed) {
    d.changed = changed;
    if (d.acceptance.state === 'unaccepted') d.acceptance = { state: 'unaccepted', reason: changed };
  }
  if (isObj(s['sameDevice']) && typeof s['sameDevice']['same'] === 'boolean')
    d.sameDevice = s['sameDevice'] as unknown as Device['sameDevice'];
  const owner = s['owner'];
  if (isObj(owner) && owner['kind'] === 'tsm' && typeof owner['tsm'] === 'string')
    d.owner = { kind: 'tsm', tsm: owner['tsm'], since: String(owner['since']) };
  const driver = s['driver'];
  if (isObj(driver) && typeof driver['held'] === 'boolean' && typeof driver['at'] === 'string') {
    const unbound = driver['unbound'];
    const error = reasonOr(driver['error']);
    d.driver = {
      held: driver['held'],
      at: driver['at'],
      ...(typeof unbound === 'string' ? { unbound } : {}),
      ...(error ? { error } : {}),
    };
  }
  if (typeof s['generation'] === 'number' && Number.isSafeInteger(s['generation'])) d.generation = s['generation'];
  if (Array.isArray(s['slots']))
    d.slots = (s['slots'] as unknown[])
      .filter(isObj)
      .map(restoredSlot)
      .filter((v): v is SlotView => v !== undefined);
  if (Array.isArray(s['signatureEntries']))
    d.signatureEntries = (s['signatureEntries'] as unknown[]).filter((n): n is number => Number.isSafeInteger(n));
  if (typeof s['slot'] === 'number' && Number.isInteger(s['slot']) && s['slot'] >= 0 && s['slot'] <= 7)
    d.slot = s['slot'];
  d.needsAuth = s['needsAuth'] === true;
  d.authenticated = {
    state: 'unknown',
    reason: { code: 'PENDING', message: 'not authenticated since the service started' },
  };
  return d;
}
