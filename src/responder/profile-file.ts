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
 *   "measurements": [{ "index": 1, "type": 0, "value": "00ff..." }],
 *   "endpointInfo": "01000000...",   (EPInfo hex, a DeviceClassIdentifier; default DEFAULT_ENDPOINT_INFO)
 *   "mel": "mel.bin",                (a DMTF measurement extension log file; default a small one)
 *   "trustedEnvironment": true       (SET_CERTIFICATE of slots other than 0 in the clear too)
 * }
 * Without "slots", a chain is generated for "asym" (default ECDSA-P384).
 */
import { LIMITS } from '../wire/limits.js';
import { readFileBounded, readTextFileBounded } from '../wire/bounded-file.js';
import { createPrivateKey } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { allAsyms, allHashes, MeasurementHashAlgo } from '../crypto/algorithms.js';
import { keyMatchesAlgorithm } from '../crypto/signature.js';
import { SpdmError } from '../wire/errors.js';
import { fromHex } from '../wire/bytes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeDeviceClassIdentifier } from '../spdm/messages/endpoint-info.js';
import { decodeDmtfMel } from '../spdm/messages/mel.js';
import { splitDerCertificates } from '../x509/der.js';
import { parseCertificate } from '../x509/certificate.js';
import { buildProfile, DEFAULT_RESPONDER_FLAGS, standardMeasurements } from './profiles.js';
import type { DeviceProfile, MeasurementSource, SlotIdentity } from './profile.js';

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

export function parseVersion(s: string, field = 'version'): number {
  const m = /^1\.([0-3])$/.exec(s.trim());
  if (!m) bad(field, `"${s}" is not one of 1.0, 1.1, 1.2, 1.3`);
  return 0x10 | Number(m[1]);
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

export function profileFromJson(json: unknown, baseDir: string): DeviceProfile {
  const o = obj(json, '(root)');
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
          return {
            index: int(e['index'], `measurements[${i}].index`, 1, 0xfe),
            type: int(e['type'], `measurements[${i}].type`, 0, 0x7f),
            value: fromHex(str(e['value'], `measurements[${i}].value`)),
            ...(e['raw'] === true ? { alwaysRaw: true } : {}),
            ...(e['tcb'] === true ? { tcb: true } : {}),
          };
        });
  const flags = o['capabilities'] === undefined ? DEFAULT_RESPONDER_FLAGS : flagsFrom(o['capabilities']);
  const ctExponent = o['ctExponent'] === undefined ? 14 : int(o['ctExponent'], 'ctExponent', 0, 31);
  const dataTransferSize =
    o['dataTransferSize'] === undefined ? 0x1200 : int(o['dataTransferSize'], 'dataTransferSize', 42, 0x100000);

  let slots: SlotIdentity[];
  if (o['slots'] === undefined) {
    const asymId = o['asym'] === undefined ? 0x0080 : asymByName(str(o['asym'], 'asym'));
    slots = [...buildProfile({ name, versions, asymId, hashId: hashes[0] ?? 0x02 }).profile.slots];
  } else {
    slots = list(o['slots'], 'slots').map((s, i) => {
      const e = obj(s, `slots[${i}]`);
      const field = `slots[${i}]`;
      const slot = int(e['slot'] ?? 0, `${field}.slot`, 0, 7);
      const asymId = asymByName(str(e['asym'], `${field}.asym`), `${field}.asym`);
      let certificates: Uint8Array[];
      let privateKey;
      try {
        certificates = splitDerCertificates(
          new Uint8Array(
            readFileBounded(
              resolve(baseDir, str(e['certChain'], `${field}.certChain`)),
              LIMITS.keyFileBytes,
              'keyFileBytes',
            ),
          ),
        );
        privateKey = createPrivateKey(
          readFileBounded(
            resolve(baseDir, str(e['privateKey'], `${field}.privateKey`)),
            LIMITS.keyFileBytes,
            'keyFileBytes',
          ),
        );
      } catch (err) {
        return bad(field, err instanceof Error ? err.message : String(err));
      }
      const leaf = parseCertificate(certificates.at(-1) as Uint8Array);
      if (!keyMatchesAlgorithm(leaf.publicKey, asymId))
        bad(`${field}.asym`, 'the leaf certificate key does not match the algorithm');
      return { slot, certificates, privateKey, asymId, certModel: 1 };
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
    measurements: measurements ?? standardMeasurements(name),
    ...(o['heartbeatPeriod'] !== undefined
      ? { session: { heartbeatPeriod: int(o['heartbeatPeriod'], 'heartbeatPeriod', 0, 255) } }
      : {}),
  };
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
