/**
 * Ready-made device profiles: a certificate chain generated for the algorithm suite, DMTF
 * measurement blocks, and the capability set a CMA device typically advertises.
 */
import { createHash } from 'node:crypto';
import { MeasurementHashAlgo } from '../crypto/algorithms.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { DmtfMeasurementType } from '../spdm/messages/measurement-block.js';
import { createDeviceChain, type CertIdentity, type LeafOptions } from '../x509/generate.js';
import type { DeviceProfile, MeasurementSource } from './profile.js';
import { publicKeyDer } from './provisioned-key.js';

/**
 * CERT, CHAL, signed and fresh measurements; from 1.2 provisioning (GET_CSR, SET_CERTIFICATE);
 * from 1.3 also key-pair information and setting, signed ENDPOINT_INFO, the measurement extension
 * log and multi-key connections when the requester asks (MULTI_KEY_CAP requires
 * GET_KEY_PAIR_INFO_CAP). Bits a version does not define are masked off when CAPABILITIES is sent.
 */
export const DEFAULT_RESPONDER_FLAGS =
  CapabilityFlag.CERT |
  CapabilityFlag.CHAL |
  CapabilityFlag.MEAS_SIG |
  CapabilityFlag.MEAS_FRESH |
  CapabilityFlag.SET_CERT |
  CapabilityFlag.CSR |
  CapabilityFlag.EP_INFO_SIG |
  CapabilityFlag.MEL |
  CapabilityFlag.MULTI_KEY_NEG |
  CapabilityFlag.GET_KEY_PAIR_INFO |
  CapabilityFlag.SET_KEY_PAIR_INFO;

/**
 * A device without a certificate (PUB_KEY_ID_CAP): CHALLENGE and signed, fresh measurements with
 * the provisioned key, and the measurement extension log. Nothing that needs a certificate slot
 * (CERT_CAP, provisioning, key-pair information, multi-key, signed ENDPOINT_INFO).
 */
export const PUBLIC_KEY_RESPONDER_FLAGS =
  CapabilityFlag.PUB_KEY_ID |
  CapabilityFlag.CHAL |
  CapabilityFlag.MEAS_SIG |
  CapabilityFlag.MEAS_FRESH |
  CapabilityFlag.MEL;

export interface ProfileSpec {
  readonly name: string;
  readonly versions: readonly number[];
  readonly asymId: number;
  readonly hashId: number;
  readonly measurementHash?: number;
  /** Issue the chain under this root (a vendor CA); a fresh root is made otherwise. */
  readonly root?: CertIdentity;
  readonly flags?: number;
  readonly ctExponent?: number;
  readonly dataTransferSize?: number;
  readonly measurements?: readonly MeasurementSource[];
  readonly firmwareVersion?: string;
  readonly leaf?: LeafOptions;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /**
   * No certificate: the generated leaf key is the device's provisioned public key (slot 0xFF), the
   * profile has no slots, and `flags` defaults to PUBLIC_KEY_RESPONDER_FLAGS. The requester needs
   * the public key (BuiltProfile.publicKey) out of band.
   */
  readonly provisionedKey?: boolean;
}

export interface BuiltProfile {
  readonly profile: DeviceProfile;
  readonly root: CertIdentity;
  readonly certificates: readonly Uint8Array[];
  /** The DER SubjectPublicKeyInfo of the leaf key: what a requester is given for a `provisionedKey` profile. */
  readonly publicKey: Uint8Array;
}

function bytesOf(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

/** A plausible measurement set: ROM, firmware, hardware and firmware configuration, version, SVN. */
export function standardMeasurements(firmware: string, version = '1.0.0'): MeasurementSource[] {
  const svn = new Uint8Array(8);
  svn[0] = Number.parseInt(version.split('.')[0] ?? '1', 10) || 1;
  const image = (label: string) => new Uint8Array(createHash('sha512').update(`${label}:${firmware}`).digest());
  return [
    { index: 1, type: DmtfMeasurementType.IMMUTABLE_ROM, value: image('rom'), tcb: true },
    { index: 2, type: DmtfMeasurementType.MUTABLE_FIRMWARE, value: image(`fw:${version}`), tcb: true },
    { index: 3, type: DmtfMeasurementType.HARDWARE_CONFIG, value: image('fuses') },
    { index: 4, type: DmtfMeasurementType.FIRMWARE_CONFIG, value: image('config') },
    { index: 5, type: DmtfMeasurementType.FIRMWARE_VERSION, value: bytesOf(version), alwaysRaw: true },
    { index: 6, type: DmtfMeasurementType.SECURE_VERSION_NUMBER, value: svn, alwaysRaw: true },
  ];
}

const MEAS_HASH_FOR_BASE: Record<number, number> = {
  0x01: MeasurementHashAlgo.SHA_256,
  0x02: MeasurementHashAlgo.SHA_384,
  0x04: MeasurementHashAlgo.SHA_512,
  0x08: MeasurementHashAlgo.SHA3_256,
  0x10: MeasurementHashAlgo.SHA3_384,
  0x20: MeasurementHashAlgo.SHA3_512,
};

export function buildProfile(spec: ProfileSpec): BuiltProfile {
  const chain = createDeviceChain({
    asymId: spec.asymId,
    ...(spec.root ? { root: spec.root } : {}),
    names: { root: `${spec.name} Root CA`, intermediate: `${spec.name} Intermediate CA`, leaf: spec.name },
    ...(spec.leaf ? { leaf: spec.leaf } : {}),
    ...(spec.notBefore ? { notBefore: spec.notBefore } : {}),
    ...(spec.notAfter ? { notAfter: spec.notAfter } : {}),
  });
  const profile: DeviceProfile = {
    name: spec.name,
    versions: spec.versions,
    capabilities: {
      flags: spec.flags ?? (spec.provisionedKey ? PUBLIC_KEY_RESPONDER_FLAGS : DEFAULT_RESPONDER_FLAGS),
      ctExponent: spec.ctExponent ?? 14,
      dataTransferSize: spec.dataTransferSize ?? 0x1200,
      maxSpdmMsgSize: Math.max(spec.dataTransferSize ?? 0x1200, 0x1200),
    },
    algorithms: {
      baseHash: [spec.hashId],
      measurementHash: spec.measurementHash ?? MEAS_HASH_FOR_BASE[spec.hashId] ?? MeasurementHashAlgo.SHA_256,
    },
    slots: spec.provisionedKey
      ? []
      : [
          {
            slot: 0,
            certificates: chain.certificates,
            privateKey: chain.leaf.privateKey,
            asymId: spec.asymId,
            certModel: 1,
          },
        ],
    ...(spec.provisionedKey ? { provisionedKey: { privateKey: chain.leaf.privateKey, asymId: spec.asymId } } : {}),
    measurements: spec.measurements ?? standardMeasurements(spec.name, spec.firmwareVersion),
  };
  return {
    profile,
    root: chain.root,
    certificates: chain.certificates,
    publicKey: publicKeyDer(chain.leaf.privateKey),
  };
}
