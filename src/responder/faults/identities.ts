/**
 * The identities hostile devices present: one vendor root, a well-formed device (the control that
 * every case departs from in exactly one way), and certificate chains that are broken on purpose —
 * expired, not yet valid, CA leaves, missing or wrong PCIe CMA SAN, chains that do not link, loop,
 * or go on and on. ECDSA P-256 / SHA-256 throughout: key generation costs about a millisecond.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { PciIdentity } from '../../evidence/evidence.js';
import { cmaSanString } from '../../verifier/cma-san.js';
import {
  createCertificate,
  createRootCa,
  generateKeyPair,
  type CertIdentity,
  type LeafOptions,
} from '../../x509/generate.js';
import { asn1Schema, asn1X509 } from '../../x509/asn1.js';
import { buildProfile } from '../profiles.js';
import type { DeviceProfile } from '../profile.js';

const { AsnConvert, OctetString } = asn1Schema();
const { Extension } = asn1X509();

export const HOSTILE_ASYM = 0x0010; // ECDSA P-256
export const HOSTILE_HASH = 0x01; // SHA-256

/** The PCI function the hostile device claims to be (its leaf names it in the CMA SAN). */
export const HOSTILE_PCI: PciIdentity = {
  bdf: '0000:5e:00.0',
  vendorId: 0x1dea,
  deviceId: 0x0bad,
  classCode: 0x010802,
  revisionId: 0x01,
  subsystemVendorId: 0x1dea,
  subsystemId: 0x0001,
};

const DAY = 24 * 3600 * 1000;

export interface HostileIdentity {
  readonly root: CertIdentity;
  readonly intermediate: CertIdentity;
  readonly leaf: CertIdentity;
  /** The well-formed device: SPDM 1.0-1.3, CERT, CHAL, signed measurements. */
  readonly profile: DeviceProfile;
}

let base: HostileIdentity | undefined;

/** The vendor root, intermediate and device every case starts from (made once per process). */
export function hostileIdentity(): HostileIdentity {
  if (base) return base;
  const root = createRootCa({ asymId: HOSTILE_ASYM, commonName: 'Hostile Test Vendor Root CA' });
  const intermediate = createCertificate({
    issuer: root,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Intermediate CA',
    ca: true,
  });
  const leaf = createCertificate({
    issuer: intermediate,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  const template = buildProfile({
    name: 'hostile-device',
    versions: [0x10, 0x11, 0x12, 0x13],
    asymId: HOSTILE_ASYM,
    hashId: HOSTILE_HASH,
    root,
  }).profile;
  const profile: DeviceProfile = {
    ...template,
    slots: [
      {
        slot: 0,
        certificates: [root.certificate, intermediate.certificate, leaf.certificate],
        privateKey: leaf.privateKey,
        asymId: HOSTILE_ASYM,
        certModel: 1,
      },
    ],
  };
  base = { root, intermediate, leaf, profile };
  return base;
}

/** The base device with another certificate chain (DER, root first) and slot key. */
export function withChain(
  certificates: readonly Uint8Array[],
  privateKey: KeyObject,
  asymId = HOSTILE_ASYM,
): DeviceProfile {
  const b = hostileIdentity();
  return { ...b.profile, slots: [{ slot: 0, certificates, privateKey, asymId, certModel: 1 }] };
}

/** The base device with other capability flags. */
export function withFlags(flags: number): DeviceProfile {
  const p = hostileIdentity().profile;
  return { ...p, capabilities: { ...p.capabilities, flags } };
}

/** The base device offering only these versions. */
export function withVersions(versions: readonly number[]): DeviceProfile {
  return { ...hostileIdentity().profile, versions };
}

export interface LeafSpec {
  readonly leaf?: LeafOptions;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Issue the leaf as a CA certificate (basicConstraints cA TRUE). */
  readonly ca?: boolean;
  readonly issuer?: CertIdentity;
  /** No PCIe CMA SAN at all. */
  readonly noCmaSan?: boolean;
}

/** root → intermediate → a leaf made to `spec` (the CMA SAN names HOSTILE_PCI unless `spec.leaf` says otherwise). */
export function chainWithLeaf(spec: LeafSpec): DeviceProfile {
  const b = hostileIdentity();
  const issuer = spec.issuer ?? b.intermediate;
  const leaf = createCertificate({
    issuer,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: spec.ca === true,
    leaf: { ...(spec.noCmaSan ? {} : { pcieCmaSan: cmaSanString(HOSTILE_PCI) }), ...(spec.leaf ?? {}) },
    ...(spec.notBefore ? { notBefore: spec.notBefore } : {}),
    ...(spec.notAfter ? { notAfter: spec.notAfter } : {}),
  });
  return withChain([b.root.certificate, b.intermediate.certificate, leaf.certificate], leaf.privateKey);
}

export const daysFromNow = (days: number): Date => new Date(Math.floor(Date.now() / 1000) * 1000 + days * DAY);

/** An intermediate whose validity ended yesterday, with a valid leaf under it. */
export function chainWithExpiredIntermediate(): DeviceProfile {
  const b = hostileIdentity();
  const inter = createCertificate({
    issuer: b.root,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Expired Intermediate CA',
    ca: true,
    notBefore: daysFromNow(-30),
    notAfter: daysFromNow(-1),
  });
  const leaf = createCertificate({
    issuer: inter,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain([b.root.certificate, inter.certificate, leaf.certificate], leaf.privateKey);
}

/** The leaf names an issuer that is not the certificate before it. */
export function chainThatDoesNotLink(): DeviceProfile {
  const b = hostileIdentity();
  const other = createCertificate({
    issuer: b.root,
    asymId: HOSTILE_ASYM,
    commonName: 'Some Other Intermediate CA',
    ca: true,
  });
  const leaf = createCertificate({
    issuer: other,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain([b.root.certificate, b.intermediate.certificate, leaf.certificate], leaf.privateKey);
}

/** The leaf names the right issuer but was signed by another key under the same name. */
export function chainWithForgedLink(): DeviceProfile {
  const b = hostileIdentity();
  const impostor: CertIdentity = { ...b.intermediate, privateKey: generateKeyPair(HOSTILE_ASYM).privateKey };
  const leaf = createCertificate({
    issuer: impostor,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain([b.root.certificate, b.intermediate.certificate, leaf.certificate], leaf.privateKey);
}

/**
 * A chain that goes round in a circle: root R issues Y, Y issues X (a second certificate for R's
 * name and key), X's name and key make Y's signature verify again... so R, Y, X, Y, X, leaf links
 * at every step and ends at the trusted root, with two certificates repeated.
 */
export function loopingChain(): DeviceProfile {
  const b = hostileIdentity();
  const rootKeys = { privateKey: b.root.privateKey, publicKey: createPublicKey(b.root.privateKey) };
  const y = createCertificate({ issuer: b.root, asymId: HOSTILE_ASYM, commonName: 'Hostile Loop CA', ca: true });
  const x = createCertificate({
    issuer: y,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Vendor Root CA',
    ca: true,
    keyPair: rootKeys,
  });
  const leaf = createCertificate({
    issuer: x,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain(
    [b.root.certificate, y.certificate, x.certificate, y.certificate, x.certificate, leaf.certificate],
    leaf.privateKey,
  );
}

/** root → `n` intermediates, each issued by the one before → leaf. */
export function longChain(n: number): DeviceProfile {
  const b = hostileIdentity();
  const certs = [b.root.certificate];
  let issuer = b.root;
  const keys = generateKeyPair(HOSTILE_ASYM); // one key for every intermediate: only the length matters here
  for (let i = 0; i < n; i++) {
    issuer = createCertificate({
      issuer,
      asymId: HOSTILE_ASYM,
      commonName: `Hostile Intermediate ${i}`,
      ca: true,
      keyPair: keys,
    });
    certs.push(issuer.certificate);
  }
  const leaf = createCertificate({
    issuer,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  certs.push(leaf.certificate);
  return withChain(certs, leaf.privateKey);
}

/** A leaf carrying a critical extension nobody understands (an OID under the example arc). */
export function chainWithUnknownCriticalExtension(): DeviceProfile {
  const b = hostileIdentity();
  const leaf = createCertificate({
    issuer: b.intermediate,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
    customize: (tbs) => {
      tbs.extensions?.push(
        new Extension({
          extnID: '1.3.6.1.4.1.32473.1.1',
          critical: true,
          extnValue: new OctetString(AsnConvert.serialize(new OctetString(new Uint8Array([1, 2, 3])))),
        }),
      );
    },
  });
  return withChain([b.root.certificate, b.intermediate.certificate, leaf.certificate], leaf.privateKey);
}

/** A chain from a root nobody trusts (a counterfeit with a self-made PKI). */
export function chainFromUnknownRoot(): DeviceProfile {
  const root = createRootCa({ asymId: HOSTILE_ASYM, commonName: 'Hostile Test Vendor Root CA' }); // same name, other key
  const inter = createCertificate({
    issuer: root,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Intermediate CA',
    ca: true,
  });
  const leaf = createCertificate({
    issuer: inter,
    asymId: HOSTILE_ASYM,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain([root.certificate, inter.certificate, leaf.certificate], leaf.privateKey);
}

/** The chain without its root (allowed from 1.2): RootHash then names a root the verifier has never seen. */
export function chainWithoutRoot(): DeviceProfile {
  const b = hostileIdentity();
  return withChain([b.intermediate.certificate, b.leaf.certificate], b.leaf.privateKey);
}

/** A leaf whose key is P-384 on a connection that negotiated P-256. */
export function chainWithWrongLeafAlgorithm(): DeviceProfile {
  const b = hostileIdentity();
  const leaf = createCertificate({
    issuer: b.intermediate,
    asymId: 0x0080,
    commonName: 'Hostile Test Device',
    ca: false,
    leaf: { pcieCmaSan: cmaSanString(HOSTILE_PCI) },
  });
  return withChain([b.root.certificate, b.intermediate.certificate, leaf.certificate], leaf.privateKey);
}
