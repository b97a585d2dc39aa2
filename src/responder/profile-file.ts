/**
 * Device profiles from a JSON file (`spdm emulate --profile FILE`), so the emulator can present a
 * given certificate chain and key — e.g. libspdm's sample identity, which libspdm's requester
 * trusts — or any algorithm suite and measurement set. Paths are relative to the file.
 *
 * {
 *   "name": "sample-p384",
 *   "versions": ["1.0", "1.1", "1.2", "1.3"],
 *   "hash": ["SHA-384", "SHA-256", "SHA-512"],
 *   "measurementHash": "SHA-384",
 *   "ctExponent": 14, "dataTransferSize": 4608,
 *   "capabilities": ["CERT", "CHAL", "MEAS_SIG", "MEAS_FRESH"],
 *   "slots": [{ "slot": 0, "asym": "ECDSA-P384", "certChain": "chain.der", "privateKey": "leaf.key" }],
 *   (a slot's "rootCertificate": "root.der" names the root a certChain without it leaves out),
 *   "measurements": [{ "index": 1, "type": 0, "value": "00ff..." }],
 *   "psk": [{ "key": "ascii:TestPskData\\0" }, { "key": "ascii:TestPskData\\0", "hint": "ascii:TestPskHint\\0" }],
 *   "endpointInfo": "01000000...",   (EPInfo hex, a DeviceClassIdentifier; default DEFAULT_ENDPOINT_INFO)
 *   "mel": "mel.bin",                (a DMTF measurement extension log file; default a small one)
 *   "trustedEnvironment": true,      (SET_CERTIFICATE of slots other than 0 in the clear too)
 *   "provisionedKey": { "asym": "ECDSA-P384", "privateKey": "end_responder.key", "publicKey": "end_responder.key.pub.der" }
 *                                    (PUB_KEY_ID_CAP: slot 0xFF signs; without "slots" the device has no certificate)
 * }
 * Without "slots", a chain is generated for "asym" (default ECDSA-P384). "psk" (one entry or a
 * list) is what PSK_EXCHANGE looks up by PSKHint — hex, or ascii:TEXT with \0, \\ and \xNN
 * escapes; no "hint" is the key for requests without one. The two entries above are libspdm's
 * sample PSK as its responder emulator answers both. PSK sessions also need PSK_CAP
 * ("PSK_WITH_CONTEXT" or "PSK_NO_CONTEXT") and ENCRYPT / MAC in "capabilities".
 *
 * "mutualAuth": { "session": "encap" | "digests" | "plain" | "none", "basic": true,
 *   "requesterSlot": 0, "trust": ["requester-root.der", …], "requesterCertChain": "req.certchain.der" }
 * is what the emulator asks of a requester offering MUT_AUTH_CAP (the emulator needs MUT_AUTH and,
 * for a flow, ENCAP in "capabilities"): KEY_EXCHANGE_RSP's MutAuthRequested, basic mutual
 * authentication after CHALLENGE_AUTH, the requester roots its chain must lead to, and for
 * "plain" the requester chain it knows already (concatenated DER, root first). "endpointInfo":
 * "unsigned" | "signed" lets the emulator ask the requester's ENDPOINT_INFO with an encapsulated
 * GET_ENDPOINT_INFO (1.3) when armed (spdm-emu's OOB_ENCAP_ENDPOINT_INFO); "signed" asks a
 * signature where the requester offers one and has authenticated itself.
 * "events": [{ "type": "MeasurementChanged", "detail": "<32 bytes hex>" }] are DMTF events raised
 * towards each session that subscribes to their type (needs "EVENT", "ENCAP" and SPDM 1.3+).
 */
import { LIMITS } from '../wire/limits.js';
import { readFileBounded, readTextFileBounded } from '../wire/bounded-file.js';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { allAsyms, allHashes, MeasurementHashAlgo } from '../crypto/algorithms.js';
import { keyMatchesAlgorithm } from '../crypto/signature.js';
import { SpdmError } from '../wire/errors.js';
import { equalBytes, fromHex } from '../wire/bytes.js';
import { parseByteText } from '../wire/byte-text.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeDeviceClassIdentifier } from '../spdm/messages/endpoint-info.js';
import { decodeDmtfMel } from '../spdm/messages/mel.js';
import { splitDerCertificates } from '../x509/der.js';
import { parseCertificate, type ParsedCertificate } from '../x509/certificate.js';
import { verifyCertSignature } from '../x509/signature.js';
import { buildProfile, DEFAULT_RESPONDER_FLAGS, PUBLIC_KEY_RESPONDER_FLAGS, standardMeasurements } from './profiles.js';
import type {
  DeviceProfile,
  MeasurementSource,
  ProfileEvent,
  ProvisionedPublicKey,
  PskEntry,
  SlotIdentity,
} from './profile.js';
import type { MutualAuthPolicy } from './mutual-auth.js';
import { DMTF_EVENT_DETAIL_SIZE } from '../spdm/messages/event-groups.js';
import { MAX_PSK_HINT_SIZE } from '../spdm/messages/psk.js';
import { parseVersion, SECURED_VERSION_TEXTS, securedVersionFromText } from '../spdm/version-text.js';

export { parseVersion } from '../spdm/version-text.js';

function bad(field: string, why: string): never {
  throw new SpdmError('DECODE_ERROR', `profile: ${field}: ${why}`, { field });
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(field, 'must be an object');
  return v as Record<string, unknown>;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string') bad(field, 'must be a string');
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    bad(field, `must be an integer ${min}..${max}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') bad(field, 'must be true or false');
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) bad(field, 'must be an array');
  return v;
}

export function asymByName(name: string, field = 'asym'): number {
  const norm = (x: string) => x.toLowerCase().replace(/[^a-z0-9]/g, '');
  const a = allAsyms().find((x) => norm(x.name) === norm(name) || norm(x.name).endsWith(norm(name)));
  if (!a)
    bad(
      field,
      `unknown algorithm "${name}" (one of ${allAsyms()
        .map((x) => x.name)
        .join(', ')})`,
    );
  return a.id;
}

export function hashByName(name: string, field = 'hash'): number {
  const norm = (x: string) => x.toLowerCase().replace(/[^a-z0-9]/g, '');
  const h = allHashes().find((x) => norm(x.name) === norm(name));
  if (!h)
    bad(
      field,
      `unknown hash "${name}" (one of ${allHashes()
        .map((x) => x.name)
        .join(', ')})`,
    );
  return h.id;
}

function flagsFrom(v: unknown): number {
  let flags = 0;
  for (const [i, f] of list(v, 'capabilities').entries()) {
    const name = str(f, `capabilities[${i}]`);
    const bit = (CapabilityFlag as Record<string, number>)[name];
    if (bit === undefined) bad(`capabilities[${i}]`, `unknown capability ${name}`);
    flags |= bit;
  }
  return flags >>> 0;
}

function bytesField(v: unknown, field: string, allowEmpty: boolean, maxBytes?: number): Uint8Array {
  try {
    return parseByteText(str(v, field), {
      what: 'profile',
      allowEmpty,
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
  } catch (e) {
    return bad(field, e instanceof Error ? e.message : String(e));
  }
}

const MUTUAL_SESSION_MODES = ['none', 'plain', 'encap', 'digests'] as const;
const ENDPOINT_INFO_MODES = ['unsigned', 'signed'] as const;

function mutualAuthPolicy(v: unknown, baseDir: string): MutualAuthPolicy {
  const o = obj(v, 'mutualAuth');
  onlyKeys(
    o,
    new Set(['session', 'basic', 'requesterSlot', 'trust', 'requesterCertChain', 'endpointInfo']),
    'mutualAuth',
  );
  const der = (file: unknown, field: string): Uint8Array =>
    new Uint8Array(readFileBounded(resolve(baseDir, str(file, field)), LIMITS.keyFileBytes, 'keyFileBytes'));
  let session: MutualAuthPolicy['session'];
  if (o['session'] !== undefined) {
    const m = str(o['session'], 'mutualAuth.session');
    session =
      MUTUAL_SESSION_MODES.find((x) => x === m) ??
      bad('mutualAuth.session', `"${m}" is not one of ${MUTUAL_SESSION_MODES.join(', ')}`);
  }
  if (o['basic'] !== undefined && typeof o['basic'] !== 'boolean') bad('mutualAuth.basic', 'must be true or false');
  let endpointInfo: MutualAuthPolicy['endpointInfo'];
  if (o['endpointInfo'] !== undefined) {
    const m = str(o['endpointInfo'], 'mutualAuth.endpointInfo');
    endpointInfo =
      ENDPOINT_INFO_MODES.find((x) => x === m) ??
      bad('mutualAuth.endpointInfo', `"${m}" is not one of ${ENDPOINT_INFO_MODES.join(', ')}`);
  }
  try {
    return {
      ...(session ? { session } : {}),
      ...(endpointInfo ? { endpointInfo } : {}),
      ...(o['basic'] === true ? { basic: true } : {}),
      ...(o['requesterSlot'] !== undefined
        ? { requesterSlot: int(o['requesterSlot'], 'mutualAuth.requesterSlot', 0, 7) }
        : {}),
      ...(o['trust'] !== undefined
        ? { trust: list(o['trust'], 'mutualAuth.trust').map((f, i) => der(f, `mutualAuth.trust[${i}]`)) }
        : {}),
      ...(o['requesterCertChain'] !== undefined
        ? { requesterCertificates: splitDerCertificates(der(o['requesterCertChain'], 'mutualAuth.requesterCertChain')) }
        : {}),
    };
  } catch (e) {
    if (e instanceof SpdmError && e.code === 'DECODE_ERROR') throw e;
    return bad('mutualAuth', e instanceof Error ? e.message : String(e));
  }
}

function pskEntries(v: unknown): PskEntry[] {
  const entries = Array.isArray(v) ? v : [v];
  const out: PskEntry[] = [];
  for (const [i, x] of entries.entries()) {
    const field = `psk[${i}]`;
    const e = obj(x, field);
    for (const k of Object.keys(e)) if (k !== 'key' && k !== 'hint') bad(`${field}.${k}`, 'unknown field');
    const hint =
      e['hint'] === undefined ? new Uint8Array(0) : bytesField(e['hint'], `${field}.hint`, true, MAX_PSK_HINT_SIZE);
    if (out.some((p) => equalBytes(p.hint, hint))) bad(`${field}.hint`, 'another entry has the same hint');
    out.push({ hint, key: bytesField(e['key'], `${field}.key`, false) });
  }
  return out;
}

/**
 * The members a profile file may have. Anything else is refused: a misspelt key ("heartbeatPeriode")
 * would otherwise drop its setting without a word, and the device would run with the default.
 */
const PROFILE_KEYS = new Set([
  'name',
  'versions',
  'hash',
  'measurementHash',
  'measurements',
  'capabilities',
  'ctExponent',
  'dataTransferSize',
  'asym',
  'slots',
  'endpointInfo',
  'mel',
  'trustedEnvironment',
  'mutualAuth',
  'heartbeatPeriod',
  'psk',
  'securedVersions',
  'sequenceNumberOrder',
  'sequenceLimit',
  'events',
  'provisionedKey',
]);
const MEASUREMENT_KEYS = new Set(['index', 'type', 'value', 'raw', 'tcb']);
const SLOT_KEYS = new Set(['slot', 'asym', 'certChain', 'privateKey', 'rootCertificate']);

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>, field: string): void {
  for (const k of Object.keys(o))
    if (!allowed.has(k))
      bad(field === '(root)' ? k : `${field}.${k}`, `unknown field (one of ${[...allowed].join(', ')})`);
}

export function profileFromJson(json: unknown, baseDir: string): DeviceProfile {
  const o = obj(json, '(root)');
  onlyKeys(o, PROFILE_KEYS, '(root)');
  const name = o['name'] === undefined ? 'spdmkit-emulator' : str(o['name'], 'name');
  const versions =
    o['versions'] === undefined
      ? [0x10, 0x11, 0x12, 0x13]
      : list(o['versions'], 'versions').map((v, i) => parseVersion(str(v, `versions[${i}]`), `versions[${i}]`));
  const hashes =
    o['hash'] === undefined
      ? [0x02, 0x01, 0x04]
      : (Array.isArray(o['hash']) ? o['hash'] : [o['hash']]).map((v, i) =>
          hashByName(str(v, `hash[${i}]`), `hash[${i}]`),
        );
  let measurementHash: number | undefined;
  if (o['measurementHash'] !== undefined) {
    const m = str(o['measurementHash'], 'measurementHash');
    measurementHash =
      m.toLowerCase() === 'raw' ? MeasurementHashAlgo.RAW_BIT_STREAM : hashByName(m, 'measurementHash') << 1;
  }
  const measurements: MeasurementSource[] | undefined =
    o['measurements'] === undefined
      ? undefined
      : list(o['measurements'], 'measurements').map((m, i) => {
          const e = obj(m, `measurements[${i}]`);
          onlyKeys(e, MEASUREMENT_KEYS, `measurements[${i}]`);
          return {
            index: int(e['index'], `measurements[${i}].index`, 1, 0xfe),
            type: int(e['type'], `measurements[${i}].type`, 0, 0x7f),
            value: fromHex(str(e['value'], `measurements[${i}].value`)),
            ...(e['raw'] === true ? { alwaysRaw: true } : {}),
            ...(e['tcb'] === true ? { tcb: true } : {}),
          };
        });
  const flags =
    o['capabilities'] === undefined
      ? o['provisionedKey'] === undefined
        ? DEFAULT_RESPONDER_FLAGS
        : PUBLIC_KEY_RESPONDER_FLAGS
      : flagsFrom(o['capabilities']);
  const ctExponent = o['ctExponent'] === undefined ? 14 : int(o['ctExponent'], 'ctExponent', 0, 31);
  const dataTransferSize =
    o['dataTransferSize'] === undefined ? 0x1200 : int(o['dataTransferSize'], 'dataTransferSize', 42, 0x100000);

  const provisionedKey =
    o['provisionedKey'] === undefined ? undefined : provisionedKeyFrom(o['provisionedKey'], baseDir);
  if (provisionedKey && o['capabilities'] !== undefined) {
    if (!(flags & CapabilityFlag.PUB_KEY_ID)) bad('capabilities', 'a provisionedKey needs PUB_KEY_ID');
    if (flags & CapabilityFlag.CERT) bad('capabilities', 'CERT and PUB_KEY_ID are mutually exclusive');
  }
  let slots: SlotIdentity[];
  if (provisionedKey && o['slots'] === undefined) {
    // The device has no certificate at all: its only key is the provisioned one.
    slots = [];
  } else if (o['slots'] === undefined) {
    const asymId = o['asym'] === undefined ? 0x0080 : asymByName(str(o['asym'], 'asym'));
    slots = [...buildProfile({ name, versions, asymId, hashId: hashes[0] ?? 0x02 }).profile.slots];
  } else {
    slots = list(o['slots'], 'slots').map((s, i) => {
      const e = obj(s, `slots[${i}]`);
      const field = `slots[${i}]`;
      onlyKeys(e, SLOT_KEYS, field);
      const slot = int(e['slot'] ?? 0, `${field}.slot`, 0, 7);
      const asymId = asymByName(str(e['asym'], `${field}.asym`), `${field}.asym`);
      const chainFile = resolve(baseDir, str(e['certChain'], `${field}.certChain`));
      const keyFile = resolve(baseDir, str(e['privateKey'], `${field}.privateKey`));
      let id: IdentityFiles;
      try {
        id = loadIdentityFiles(chainFile, keyFile);
      } catch (err) {
        return bad(field, err instanceof Error ? err.message : String(err));
      }
      if (!id.asymIds.includes(asymId)) bad(`${field}.asym`, 'the leaf certificate key does not match the algorithm');
      const { certificates, privateKey } = id;
      const externalRoot =
        e['rootCertificate'] === undefined
          ? undefined
          : externalRootFor(
              resolve(baseDir, str(e['rootCertificate'], `${field}.rootCertificate`)),
              certificates,
              field,
            );
      return { slot, certificates, privateKey, asymId, certModel: 1, ...(externalRoot ? { externalRoot } : {}) };
    });
  }
  let endpointInfo: Uint8Array | undefined;
  if (o['endpointInfo'] !== undefined) {
    endpointInfo = fromHex(str(o['endpointInfo'], 'endpointInfo'));
    try {
      decodeDeviceClassIdentifier(endpointInfo);
    } catch (e) {
      bad('endpointInfo', e instanceof Error ? e.message : String(e));
    }
  }
  let mel: Uint8Array | undefined;
  if (o['mel'] !== undefined) {
    try {
      mel = new Uint8Array(readFileBounded(resolve(baseDir, str(o['mel'], 'mel')), LIMITS.melBytes, 'melBytes'));
      decodeDmtfMel(mel);
    } catch (e) {
      bad('mel', e instanceof Error ? e.message : String(e));
    }
  }
  return {
    name,
    versions,
    ...(endpointInfo ? { endpointInfo } : {}),
    ...(mel ? { measurementExtensionLog: mel } : {}),
    ...(o['trustedEnvironment'] !== undefined
      ? { provisioning: { trustedEnvironment: bool(o['trustedEnvironment'], 'trustedEnvironment') } }
      : {}),
    capabilities: { flags, ctExponent, dataTransferSize, maxSpdmMsgSize: Math.max(dataTransferSize, 0x1200) },
    algorithms: { baseHash: hashes, measurementHash: measurementHash ?? (hashes[0] ?? 0x02) << 1 },
    slots,
    ...(provisionedKey ? { provisionedKey } : {}),
    measurements: measurements ?? standardMeasurements(name),
    ...(o['mutualAuth'] !== undefined ? { mutualAuth: mutualAuthPolicy(o['mutualAuth'], baseDir) } : {}),
    ...(SESSION_KEYS.some((k) => o[k] !== undefined) ? { session: sessionSettings(o) } : {}),
    ...(o['events'] !== undefined ? { events: { onSubscribe: profileEvents(o['events']) } } : {}),
  };
}

const SESSION_KEYS = ['heartbeatPeriod', 'psk', 'securedVersions', 'sequenceNumberOrder', 'sequenceLimit'] as const;

/**
 * The session members: "securedVersions": ["1.1", "1.2"] (DSP0277 versions the device selects
 * from), "sequenceNumberOrder": "le" | "be" (the nonce byte order of a 1.0/1.1 session),
 * "sequenceLimit": the last sequence number a key may use (2 .. 2^53 − 1 in JSON).
 */
function sessionSettings(o: Record<string, unknown>): NonNullable<DeviceProfile['session']> {
  const order = o['sequenceNumberOrder'];
  if (o['securedVersions'] !== undefined && list(o['securedVersions'], 'securedVersions').length === 0)
    bad('securedVersions', 'must name at least one version');
  if (order !== undefined && order !== 'le' && order !== 'be') bad('sequenceNumberOrder', 'must be "le" or "be"');
  return {
    ...(o['heartbeatPeriod'] !== undefined
      ? { heartbeatPeriod: int(o['heartbeatPeriod'], 'heartbeatPeriod', 0, 255) }
      : {}),
    ...(o['psk'] !== undefined ? { psk: pskEntries(o['psk']) } : {}),
    ...(o['securedVersions'] !== undefined
      ? {
          securedVersions: list(o['securedVersions'], 'securedVersions').map((v, i) => {
            const f = `securedVersions[${i}]`;
            return (
              securedVersionFromText(str(v, f)) ??
              bad(f, `"${String(v)}" is not one of ${SECURED_VERSION_TEXTS.join(', ')}`)
            );
          }),
        }
      : {}),
    ...(order !== undefined ? { sequenceNumberOrder: order } : {}),
    ...(o['sequenceLimit'] !== undefined
      ? { sequenceLimit: BigInt(int(o['sequenceLimit'], 'sequenceLimit', 2, Number.MAX_SAFE_INTEGER)) }
      : {}),
  };
}

/**
 * "provisionedKey": { "asym": "ECDSA-P384", "privateKey": "ecp384/end_responder.key" } — the key of
 * slot 0xFF (PUB_KEY_ID_CAP); "publicKey" (a DER SubjectPublicKeyInfo file, e.g. libspdm's
 * end_responder.key.pub.der) is checked to be its public half when given.
 */
function provisionedKeyFrom(v: unknown, baseDir: string): ProvisionedPublicKey {
  const e = obj(v, 'provisionedKey');
  onlyKeys(e, new Set(['asym', 'privateKey', 'publicKey']), 'provisionedKey');
  const asymId = asymByName(str(e['asym'], 'provisionedKey.asym'), 'provisionedKey.asym');
  const keyFile = resolve(baseDir, str(e['privateKey'], 'provisionedKey.privateKey'));
  let privateKey: KeyObject;
  try {
    privateKey = loadPrivateKeyFile(keyFile);
  } catch (err) {
    return bad('provisionedKey.privateKey', err instanceof Error ? err.message : String(err));
  }
  if (!keyMatchesAlgorithm(createPublicKey(privateKey), asymId))
    bad('provisionedKey.asym', 'the private key does not match the algorithm');
  if (e['publicKey'] !== undefined) {
    const file = resolve(baseDir, str(e['publicKey'], 'provisionedKey.publicKey'));
    let pub: KeyObject;
    try {
      pub = createPublicKey({
        key: readFileBounded(file, LIMITS.keyFileBytes, 'keyFileBytes'),
        format: 'der',
        type: 'spki',
      });
    } catch (err) {
      return bad('provisionedKey.publicKey', err instanceof Error ? err.message : String(err));
    }
    if (!equalKeys(pub, createPublicKey(privateKey)))
      bad('provisionedKey.publicKey', 'is not the public half of provisionedKey.privateKey');
  }
  return { privateKey, asymId };
}

/** A private key file: PEM (any kind), or DER as PKCS#8 or SEC1 (libspdm ships both). */
function loadPrivateKeyFile(path: string): KeyObject {
  const bytes = readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes');
  if (/-----BEGIN/.test(bytes.subarray(0, 64).toString('latin1'))) return createPrivateKey(bytes);
  try {
    return createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
  } catch {
    return createPrivateKey({ key: bytes, format: 'der', type: 'sec1' });
  }
}

const DMTF_EVENT_TYPES: Readonly<Record<string, number>> = {
  eventlost: 1,
  measurementchanged: 2,
  measurementpreupdate: 3,
  certificatechanged: 4,
};

/** "events": [{ "type": "MeasurementChanged" | 2, "detail": "hex" }]: raised towards each session that subscribes. */
function profileEvents(v: unknown): ProfileEvent[] {
  return list(v, 'events').map((x, i) => {
    const e = obj(x, `events[${i}]`);
    onlyKeys(e, new Set(['type', 'detail']), `events[${i}]`);
    const t = e['type'];
    const type = typeof t === 'string' ? DMTF_EVENT_TYPES[t.toLowerCase()] : int(t, `events[${i}].type`, 1, 4);
    if (type === undefined)
      bad(`events[${i}].type`, 'must be EventLost, MeasurementChanged, MeasurementPreUpdate or CertificateChanged');
    const detail = fromHex(str(e['detail'], `events[${i}].detail`));
    const size = DMTF_EVENT_DETAIL_SIZE[type];
    if (detail.length !== size) bad(`events[${i}].detail`, `event type ${type} has ${size} bytes of detail`);
    return { type, detail };
  });
}

/** A certificate chain file (concatenated DER, root first, as libspdm's bundle_*.certchain.der) and its leaf's private key file (PEM or DER). */
export interface IdentityFiles {
  readonly certificates: Uint8Array[];
  readonly privateKey: KeyObject;
  /** The asymmetric algorithms the leaf key can sign with (an RSA key: both RSASSA and RSAPSS of its size). */
  readonly asymIds: number[];
}

/**
 * A slot's "rootCertificate": the root its "certChain" leaves out (one DER certificate, like certChain's),
 * which must have issued and signed the chain's first certificate — a chain that starts at its
 * own root needs none, and a RootHash naming some other root would mislead every requester.
 */
function externalRootFor(path: string, certificates: readonly Uint8Array[], field: string): Uint8Array {
  const f = `${field}.rootCertificate`;
  const fail = (err: unknown): never => bad(f, err instanceof Error ? err.message : String(err));
  let der: Uint8Array[];
  try {
    der = splitDerCertificates(new Uint8Array(readFileBounded(path, LIMITS.keyFileBytes, 'keyFileBytes')));
  } catch (err) {
    return fail(err);
  }
  if (der.length !== 1) bad(f, `${path} holds ${der.length} certificates, not one`);
  let root: ParsedCertificate;
  let first: ParsedCertificate;
  try {
    root = parseCertificate(der[0] as Uint8Array);
    first = parseCertificate(certificates[0] as Uint8Array);
  } catch (err) {
    return fail(err);
  }
  if (first.selfIssued && verifyCertSignature(first, first))
    bad(f, 'the chain already starts with its root (a self-signed certificate): leave rootCertificate out');
  if (!equalBytes(first.issuerDer, root.subjectDer) || !verifyCertSignature(first, root))
    bad(f, "it did not issue and sign the chain's first certificate");
  return root.der;
}

/** Reads a chain and key pair of files, each bounded; the key must be the leaf certificate's. */
export function loadIdentityFiles(chainPath: string, keyPath: string): IdentityFiles {
  const certificates = splitDerCertificates(
    new Uint8Array(readFileBounded(chainPath, LIMITS.keyFileBytes, 'keyFileBytes')),
  );
  const keyBytes = readFileBounded(keyPath, LIMITS.keyFileBytes, 'keyFileBytes');
  const privateKey = /-----BEGIN/.test(keyBytes.subarray(0, 64).toString('latin1'))
    ? createPrivateKey(keyBytes)
    : createPrivateKey({ key: keyBytes, format: 'der', type: 'pkcs8' });
  const leaf = parseCertificate(certificates.at(-1) as Uint8Array);
  if (!equalKeys(createPublicKey(privateKey), leaf.publicKey))
    throw new SpdmError('CERT_INVALID', `${keyPath} is not the private key of the last certificate in ${chainPath}`);
  const asymIds = allAsyms()
    .map((a) => a.id)
    .filter((id) => keyMatchesAlgorithm(leaf.publicKey, id));
  return { certificates, privateKey, asymIds };
}

function equalKeys(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

export function loadProfileFile(path: string): DeviceProfile {
  let json: unknown;
  try {
    json = JSON.parse(readTextFileBounded(path, LIMITS.policyFileBytes, 'policyFileBytes'));
  } catch (e) {
    throw new SpdmError('DECODE_ERROR', `profile ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return profileFromJson(json, dirname(resolve(path)));
}
