/**
 * `spdm authenticate`: the authentication flow against a device over the spdm-emu socket or a real
 * DOE mailbox. With `--trust` the outcome is the verifier's verdict on the evidence — the same
 * `verify()` that `spdm verify` runs, with the same policy, deny-list and nonce options — so
 * "trusted" means one thing everywhere.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { fromHex, toHex } from '../wire/bytes.js';
import { LIMITS } from '../wire/limits.js';
import { readFileBounded } from '../wire/bounded-file.js';
import { isSpdmError, SpdmError } from '../wire/errors.js';
import { systemRandom } from '../crypto/random.js';
import { NONCE_SIZE } from '../spdm/messages/challenge.js';
import type { TrustStore } from '../verifier/trust-store.js';
import { nonceArgProblem, parseHostPort } from './options.js';
import type { Policy } from '../verifier/policy.js';
import { formatVerdict, type Verdict } from '../verifier/verdict.js';
import type { Transport } from '../transport/transport.js';
import { EmuSocketTransport } from '../transport/emu-socket.js';
import type { EmuTransportName } from '../transport/emu-frame.js';
import type { Evidence, PciIdentity } from '../evidence/evidence.js';

export interface AuthenticateCliOptions extends WireFlags {
  readonly connect?: string;
  readonly pci?: string;
  readonly transport: EmuTransportName;
  readonly slot: number;
  /** Trust anchors (files or directories): the evidence then goes to the verifier. */
  readonly trust?: string | readonly string[];
  /** Policy file (JSON or YAML) for the verdict; default: every rule required. */
  readonly policy?: string;
  /** Deny-list files or directories. */
  readonly deny?: readonly string[];
  /** The requester nonce, 64 hex digits (e.g. chosen by a remote verifier); random otherwise. */
  readonly nonce?: string;
  readonly json?: boolean;
  readonly versions?: readonly number[];
  readonly measurements: 'all' | 'one-by-one';
  readonly shutdown?: boolean;
  /** Append every signature of the run to this log (SQLite file or postgres:// URL). */
  readonly log?: string;
  /** Refuse a device without CHALLENGE; default: on for --pci and the DOE transport (PCIe CMA). */
  readonly requireChallenge?: boolean;
  /** RequesterOptions.maxResponseWaitMs. */
  readonly maxWait?: number;
  /** RequesterOptions.flowDeadlineMs. */
  readonly deadline?: number;
  /** Take the signed measurements inside a secure session ('key-exchange' or 'psk'), then end it. */
  readonly session?: 'key-exchange' | 'psk';
  /** With session 'psk': the PSK, hex or ascii:TEXT (wire/byte-text.ts). */
  readonly psk?: string;
  /** With session 'psk': the PSKHint, hex or ascii:TEXT, 0..16 bytes; none when omitted. */
  readonly pskHint?: string;
  /** With `session`: send HEARTBEAT inside it. */
  readonly heartbeat?: boolean;
  /** Offer mutual authentication (MUT_AUTH_CAP, ENCAP_CAP) with this requester identity: chain file and key file. */
  readonly requesterChain?: string;
  readonly requesterKey?: string;
  /** Says mutual authentication is wanted: then the chain and key must be given. */
  readonly mutual?: boolean;
  /**
   * The device's provisioned public key (PUB_KEY_ID_CAP), a PEM or DER SubjectPublicKeyInfo file:
   * the run then uses SlotID 0xFF and reads no certificate. With it, --policy alone (its
   * trustedPublicKeys) gives a verdict, there being no chain for --trust anchors to judge.
   */
  readonly devicePublicKey?: string;
  /** With `session`: KEY_UPDATE after the measurements, 'one' (UpdateKey) or 'all' (UpdateAllKeys); announces KEY_UPD_CAP. */
  readonly keyUpdate?: 'one' | 'all';
  /** With `session` (SPDM 1.3+): subscribe to every event type the device offers and collect what it sends; announces EVENT_CAP and ENCAP_CAP. */
  readonly events?: boolean;
  /** Also a signed ENDPOINT_INFO of the slot (1.3+, EP_INFO_CAP with signature): one more signature in the evidence. */
  readonly endpointInfo?: boolean;
}

export interface AuthenticateOutcome {
  readonly authenticated: boolean;
  readonly trusted?: boolean;
  readonly reason?: string;
  readonly errorCode?: string;
  readonly evidence?: Evidence;
  /** The verifier's verdict, when trust anchors were given. */
  readonly verdict?: Verdict;
  /** The secure session the run used (--session): its algorithms, ID, what ran, the KEY_EXCHANGE_RSP signature. */
  readonly session?: SessionReport;
  /** The device authenticated us after CHALLENGE_AUTH (basic mutual authentication; --requester-chain). */
  readonly basicMutualAuth?: MutualAuthReport;
}

import { EXIT } from './exit-codes.js';
import { wireSettings, type WireFlags, type WireSettings } from './wire-flags.js';
import type { MutualAuthReport, PskOptions, SessionReport } from '../requester/requester.js';
import { MAX_PSK_HINT_SIZE } from '../spdm/messages/psk.js';
import { parseByteText } from '../wire/byte-text.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { dmtfEventName } from '../spdm/messages/event-groups.js';
import { decodeDeviceClassIdentifier } from '../spdm/messages/endpoint-info.js';
import type { RequesterIdentity } from '../requester/identity.js';

/** What the requester announces with --session: CERT, CHAL, ENCRYPT, MAC, KEY_EX, HBEAT (and KEY_UPD with --key-update). */
const SESSION_REQUESTER_FLAGS =
  CapabilityFlag.CERT |
  CapabilityFlag.CHAL |
  CapabilityFlag.ENCRYPT |
  CapabilityFlag.MAC |
  CapabilityFlag.KEY_EX |
  CapabilityFlag.HBEAT;
/** With --session psk: the same with PSK_CAP (01b, the requester's only value) instead of KEY_EX. */
const PSK_SESSION_REQUESTER_FLAGS = (SESSION_REQUESTER_FLAGS & ~CapabilityFlag.KEY_EX) | CapabilityFlag.PSK_NO_CONTEXT;

/** --psk / --psk-hint for --session psk; undefined for other sessions. A problem is a usage error (thrown). */
function pskArguments(o: AuthenticateCliOptions): PskOptions | undefined {
  if (o.session !== 'psk') {
    if (o.psk !== undefined || o.pskHint !== undefined)
      throw new SpdmError('DECODE_ERROR', '--psk and --psk-hint need --session psk');
    return undefined;
  }
  if (o.psk === undefined) throw new SpdmError('DECODE_ERROR', '--session psk needs --psk HEX|ascii:TEXT');
  const key = parseByteText(o.psk, { what: '--psk' });
  const hint =
    o.pskHint === undefined
      ? undefined
      : parseByteText(o.pskHint, { what: '--psk-hint', allowEmpty: true, maxBytes: MAX_PSK_HINT_SIZE });
  return { key, ...(hint ? { hint } : {}) };
}
export { EXIT };

/** A public key file: PEM ("PUBLIC KEY") or DER SubjectPublicKeyInfo, bounded like every key file; returned as DER. */
function readPublicKeyFile(path: string): Uint8Array {
  const bytes = readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes');
  const head = bytes.subarray(0, 64).toString('latin1');
  // createPublicKey would derive a public key from a private one: a secret key file is refused instead.
  if (/-----BEGIN/.test(head) && !/-----BEGIN (RSA )?PUBLIC KEY-----/.test(head))
    throw new TypeError(`${path} is PEM but not a PUBLIC KEY`);
  const key = /-----BEGIN/.test(head)
    ? createPublicKey(bytes)
    : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

async function openTransport(
  o: AuthenticateCliOptions,
  connect: { host: string; port: number } | undefined,
): Promise<{ transport: Transport; pci?: PciIdentity }> {
  if (o.pci) {
    const { openSysfsDoeTransport } = await import('../pci/sysfs-doe.js');
    const { readPciIdentity } = await import('../pci/identity.js');
    const transport = await openSysfsDoeTransport(o.pci);
    return { transport, pci: await readPciIdentity(transport.mailbox.cs, o.pci) };
  }
  if (!connect) throw new SpdmError('DECODE_ERROR', 'give --connect HOST:PORT or --pci BDF');
  const { host, port } = connect;
  return {
    transport: await EmuSocketTransport.connect({
      host,
      port,
      transport: o.transport,
      endWith: o.shutdown ? 'shutdown' : 'continue',
    }),
  };
}

function usage(message: string): { exitCode: number; outcome: AuthenticateOutcome } {
  return { exitCode: EXIT.USAGE, outcome: { authenticated: false, reason: message, errorCode: 'DECODE_ERROR' } };
}

/**
 * Trust store and policy, loaded before the device is touched so that bad files are exit 2. The
 * verifier's modules are imported only for a verdict: a run that collects evidence alone (no
 * --trust) does not load them (issue 12, cold start).
 */
async function loadVerifier(o: AuthenticateCliOptions): Promise<{ store?: TrustStore; policy?: Policy }> {
  const anchors = o.trust === undefined ? [] : typeof o.trust === 'string' ? [o.trust] : [...o.trust];
  // A provisioned key has no chain: the policy's trustedPublicKeys decide, no anchors needed.
  if (anchors.length === 0 && o.devicePublicKey !== undefined && o.policy !== undefined) {
    const [{ TrustStore }, { loadPolicyFile }] = await Promise.all([
      import('../verifier/trust-store.js'),
      import('../verifier/policy-loader.js'),
    ]);
    return { store: TrustStore.fromCertificates([]), policy: loadPolicyFile(o.policy) };
  }
  if (anchors.length === 0) {
    if (o.policy !== undefined || (o.deny && o.deny.length > 0))
      throw new SpdmError(
        'DECODE_ERROR',
        '--policy and --deny need --trust: without trust anchors there is no verdict',
      );
    return {};
  }
  const { loadVerifierInputs } = await import('./verifier-args.js');
  return loadVerifierInputs({
    trust: anchors,
    ...(o.deny ? { deny: o.deny } : {}),
    ...(o.policy !== undefined ? { policy: o.policy } : {}),
  });
}

export async function runAuthenticate(
  o: AuthenticateCliOptions,
): Promise<{ exitCode: number; outcome: AuthenticateOutcome }> {
  let verifier: { store?: TrustStore; policy?: Policy };
  try {
    verifier = await loadVerifier(o);
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  const nonceProblem = nonceArgProblem(o.nonce);
  if (nonceProblem) return usage(nonceProblem);
  let psk: PskOptions | undefined;
  try {
    psk = pskArguments(o);
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  let connect: { host: string; port: number } | undefined;
  try {
    connect = o.pci || o.connect === undefined ? undefined : parseHostPort(o.connect);
  } catch (e) {
    return usage(`--connect ${e instanceof Error ? e.message : String(e)}`);
  }
  // Chosen here, not inside the requester, so the verifier can insist every signature is over it.
  const nonce = o.nonce !== undefined ? fromHex(o.nonce.replace(/^0x/, '')) : systemRandom(NONCE_SIZE);
  let identity: RequesterIdentity | undefined;
  if (o.mutual && (o.requesterChain === undefined || o.requesterKey === undefined))
    return usage('--mutual needs --requester-chain and --requester-key');
  if (o.requesterChain !== undefined || o.requesterKey !== undefined) {
    if (o.requesterChain === undefined || o.requesterKey === undefined)
      return usage('--requester-chain and --requester-key go together');
    try {
      // Loaded only when asked for: the profile reader is not on the path of a plain authenticate.
      const { loadIdentityFiles } = await import('../responder/profile-file.js');
      const f = loadIdentityFiles(o.requesterChain, o.requesterKey);
      identity = { slots: f.asymIds.map((asymId) => ({ slot: 0, ...f, asymId })) };
    } catch (e) {
      return usage(`requester identity: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let devicePublicKey: Uint8Array | undefined;
  if (o.devicePublicKey !== undefined) {
    try {
      devicePublicKey = readPublicKeyFile(o.devicePublicKey);
    } catch (e) {
      return usage(`--device-public-key: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let wire: WireSettings;
  try {
    wire = wireSettings(o);
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (wire.needsSession && !o.session)
    return usage('--secured-version, --sequence-order and --sequence-limit need --session');
  const mutualFlags = identity ? CapabilityFlag.MUT_AUTH | CapabilityFlag.ENCAP | CapabilityFlag.CERT : 0;
  let transport: Transport;
  let pci: PciIdentity | undefined;
  try {
    ({ transport, pci } = await openTransport(o, connect));
  } catch (e) {
    const err = isSpdmError(e) ? e : new SpdmError('TRANSPORT_ERROR', String(e));
    return {
      exitCode: err.code === 'DECODE_ERROR' ? EXIT.USAGE : EXIT.UNREACHABLE,
      outcome: { authenticated: false, reason: err.message, errorCode: err.code },
    };
  }
  // Loaded once there is a device to talk to: an unreachable one does not pay for the requester.
  let requesterModules: [
    typeof import('../requester/requester.js'),
    typeof import('../requester/device-public-key.js'),
  ];
  try {
    requesterModules = await Promise.all([
      import('../requester/requester.js'),
      import('../requester/device-public-key.js'),
    ]);
  } catch (e) {
    await transport.close?.();
    throw e;
  }
  const [{ Requester }, { PUBLIC_KEY_SLOT }] = requesterModules;
  const requester = new Requester(transport, {
    deviceName: o.pci ?? o.connect ?? 'device',
    ...(pci ? { pci } : {}),
    ...(o.versions ? { versions: o.versions } : {}),
    ...(o.maxWait !== undefined ? { maxResponseWaitMs: o.maxWait } : {}),
    ...(o.deadline !== undefined ? { flowDeadlineMs: o.deadline } : {}),
    // A session needs its capabilities and algorithms offered; without --session the requests are unchanged.
    ...(o.session
      ? {
          capabilityFlags:
            (psk ? PSK_SESSION_REQUESTER_FLAGS : SESSION_REQUESTER_FLAGS) |
            mutualFlags |
            wire.capabilityFlags |
            (o.keyUpdate ? CapabilityFlag.KEY_UPD : 0) |
            // The device delivers events over the encapsulated flow; answering its own KEY_UPDATE there needs KEY_UPD_CAP.
            (o.events ? CapabilityFlag.EVENT | CapabilityFlag.ENCAP | CapabilityFlag.KEY_UPD : 0),
          session: wire.session,
        }
      : // Mutual authentication offers ReqBaseAsymAlg (an AlgStruct), so it needs the session algorithm structs too.
        identity
        ? {
            capabilityFlags: CapabilityFlag.CERT | CapabilityFlag.CHAL | mutualFlags | wire.capabilityFlags,
            session: { dhe: [], aead: [] },
          }
        : wire.capabilityFlags !== 0
          ? { capabilityFlags: CapabilityFlag.CERT | CapabilityFlag.CHAL | wire.capabilityFlags }
          : {}),
    ...(wire.dataTransferSize !== undefined ? { dataTransferSize: wire.dataTransferSize } : {}),
    ...(wire.maxSpdmMsgSize !== undefined ? { maxSpdmMsgSize: wire.maxSpdmMsgSize } : {}),
    ...(identity ? { identity } : {}),
    ...(devicePublicKey ? { devicePublicKey } : {}),
  });
  const requireChallenge = o.requireChallenge ?? (o.pci !== undefined || o.transport === 'doe');
  try {
    const evidence = await requester.authenticate({
      // The provisioned public key is slot 0xFF, whatever --slot says.
      slot: devicePublicKey ? PUBLIC_KEY_SLOT : o.slot,
      mode: o.measurements,
      requireChallenge,
      nonce,
      ...(o.endpointInfo ? { endpointInfo: true } : {}),
      ...(o.session
        ? {
            session: {
              heartbeat: o.heartbeat === true,
              ...(psk ? { psk } : {}),
              ...(o.keyUpdate ? { keyUpdate: o.keyUpdate } : {}),
              ...(o.events ? { events: true } : {}),
            },
          }
        : {}),
    });
    const session = requester.lastSession;
    const basic = requester.basicMutualAuth;
    // What the run reports besides the evidence: the session, and whether the device authenticated us.
    const ran = { ...(session ? { session } : {}), ...(basic ? { basicMutualAuth: basic } : {}) };
    if (o.log) {
      // Logged before any trust decision: the log keeps every signature a device gave us.
      const [{ appendEvidenceToLog }, { logKeyOptions }] = await Promise.all([
        import('../log/log.js'),
        import('./log-env.js'),
      ]);
      await appendEvidenceToLog(o.log, evidence, logKeyOptions());
    }
    if (!verifier.store) return { exitCode: EXIT.OK, outcome: { authenticated: true, evidence, ...ran } };
    const { verify } = await import('../verifier/verify.js');
    const verdict = verify(evidence, verifier.policy, verifier.store, { expectedNonce: toHex(nonce) });
    const trusted = verdict.status === 'trusted';
    const reason = verdict.reasons.map((r) => `${r.code}: ${r.message}`).join('; ');
    return {
      exitCode: trusted ? EXIT.OK : EXIT.FAILED,
      outcome: {
        authenticated: true,
        trusted,
        ...(reason ? { reason } : {}),
        evidence,
        verdict,
        ...ran,
      },
    };
  } catch (e) {
    const err = isSpdmError(e) ? e : new SpdmError('DEVICE_ERROR', String(e));
    return { exitCode: EXIT.FAILED, outcome: { authenticated: false, reason: err.message, errorCode: err.code } };
  } finally {
    await transport.close?.();
  }
}

/** A signed EPInfo as one line: its DeviceClassIdentifier elements, or why it does not decode. */
function describeEndpointInfo(epInfo: string): string {
  try {
    const ids = decodeDeviceClassIdentifier(fromHex(epInfo));
    const each = ids.map(
      (d) =>
        `registry ${d.registryId} vendor ${toHex(d.vendorId) || '(none)'}${d.subordinateIds.length ? ` sub ${d.subordinateIds.map((x) => toHex(x)).join(',')}` : ''}`,
    );
    return `EPInfo: DeviceClassIdentifier, ${ids.length} element(s)${each.length ? `: ${each.join('; ')}` : ''}`;
  } catch (err) {
    return `EPInfo ${epInfo.length > 64 ? `${epInfo.slice(0, 64)}…` : epInfo}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function formatMutualAuth(m: MutualAuthReport, signed: string): string {
  const read = m.asked.length ? `; it asked ${m.asked.join(', ')}` : '';
  return `mutual authentication (${m.flow}): we signed ${signed} with requester slot ${m.requesterSlot}${read}`;
}

/** JSON.stringify's replacer for outcomes: byte fields (event details, vendor IDs) as hex. */
export function outcomeJsonReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? toHex(value) : value;
}

export function formatOutcome(o: AuthenticateOutcome): string {
  const lines: string[] = [];
  const e = o.evidence;
  if (e) {
    lines.push(
      `SPDM ${e.version}, ${e.algorithms.baseAsymName} / ${e.algorithms.baseHashName}, measurements ${e.algorithms.measurementHashName}`,
    );
    lines.push(`capabilities: ${e.capabilities.flagNames.join(' ')}`);
    for (const s of e.slots) {
      if (!s.certChain) {
        lines.push(`slot ${s.slot}: provisioned (digest ${s.digest.slice(0, 16)}…), chain not read`);
        continue;
      }
      const leaf = s.certificates.at(-1);
      lines.push(
        `slot ${s.slot}: ${s.certificates.length} certificates, leaf ${leaf?.subject ?? '?'} (issuer ${leaf?.issuer ?? '?'})${s.chainProblems.length ? `; problems: ${s.chainProblems.map((p) => p.code).join(', ')}` : ''}`,
      );
    }
    if (e.publicKey)
      lines.push(
        `slot 0xFF: provisioned public key, sha256:${createHash('sha256').update(fromHex(e.publicKey)).digest('hex')}`,
      );
    for (const s of e.signatures) {
      lines.push(`${s.kind}: signature verified (transcript hash ${s.transcriptHash.slice(0, 16)}…)`);
      if (s.kind === 'ENDPOINT_INFO' && s.epInfo !== undefined) lines.push(`  ${describeEndpointInfo(s.epInfo)}`);
    }
    for (const m of e.measurements)
      lines.push(
        `measurement ${m.index}: ${m.typeName ?? 'non-DMTF'} ${m.raw ? 'raw' : 'digest'} ${m.value.length > 64 ? `${m.value.slice(0, 64)}…` : m.value}${m.signed ? '' : ' (UNSIGNED: not attested, the device could have sent anything)'}`,
      );
  }
  const ss = o.session;
  if (ss) {
    const i = ss.info;
    const how = i.psk
      ? `PSK${i.psk.hint ? ` (hint ${i.psk.hint})` : ' (no hint)'}${i.psk.finish ? '' : ', responder without PSK context'}`
      : (i.dhe?.name ?? 'no DHE');
    lines.push(
      `session 0x${i.sessionId.toString(16).padStart(8, '0')}: ${how}, ${i.aead.name}${i.mode === 'mac-only' ? ' (authenticate only)' : ''}, secured messages ${i.securedVersion} over ${i.binding}${i.heartbeatPeriod ? `, heartbeat ${i.heartbeatPeriod} s` : ''}; ran ${ss.ran.join(', ')}`,
    );
    if (ss.keyExchangeSignature)
      lines.push(
        `KEY_EXCHANGE_RSP: signature verified (transcript hash ${ss.keyExchangeSignature.transcriptHash.slice(0, 16)}…)`,
      );
    else if (i.kind === 'psk')
      lines.push(
        'PSK_EXCHANGE_RSP: ResponderVerifyData verified with the PSK (no signature: it proves the PSK, not the certificate key)',
      );
    if (i.mutualAuth) lines.push(formatMutualAuth(i.mutualAuth, 'FINISH'));
    if (ss.events) {
      const types = ss.events.subscribed.reduce((n, g) => n + g.eventTypes.length, 0);
      lines.push(
        `events: subscribed to ${types} type(s) in ${ss.events.subscribed.length} group(s), received ${ss.events.received.length}${ss.events.deviceKeyUpdate ? '; the device renewed its response key' : ''}`,
      );
      for (const ev of ss.events.received)
        lines.push(
          `event ${ev.eventInstanceId}: ${ev.registryId === 0 ? dmtfEventName(ev.eventTypeId) : `registry ${ev.registryId} type ${ev.eventTypeId}`} detail ${toHex(ev.eventDetail) || '(none)'}`,
        );
    }
  }
  if (o.basicMutualAuth) lines.push(formatMutualAuth(o.basicMutualAuth, 'CHALLENGE_AUTH'));
  if (o.verdict) lines.push(formatVerdict(o.verdict));
  if (o.authenticated && o.verdict)
    lines.push(
      o.trusted
        ? 'AUTHENTICATED and TRUSTED'
        : `AUTHENTICATED but UNTRUSTED: ${o.verdict.reasons.map((r) => r.code).join(', ')}`,
    );
  else if (o.authenticated) lines.push('AUTHENTICATED (no trust anchors given: no verdict)');
  else lines.push(`FAILED${o.errorCode ? ` ${o.errorCode}` : ''}: ${o.reason ?? ''}`);
  return lines.join('\n');
}
