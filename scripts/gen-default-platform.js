// Generates the default simulated platform that ships in platform/default/: vendor roots, one
// certificate chain and key per device, the platform file, the trust anchors, the deny-list and
// the reference-value policy. Run once and commit the output (keys and certificates must stay the
// same across runs, or reference values and acceptance records would mean nothing):
//
//   npm run build && node scripts/gen-default-platform.js [output directory]
//
// Reference values are not computed here: the script loads the platform it wrote, authenticates
// each reference device over its DOE mailbox and records what the device measured (the verifier's
// view, so the emulator's hashing rule has one owner).
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(repo, 'dist', 'src', p));
const { createDeviceChain, createRootCa, generateKeyPair } = await dist('x509/generate.js');
const { SimulatedDoeDevice } = await dist('pci/doe-device.js');
const { readPciIdentity } = await dist('pci/identity.js');
const { openDoeTransport } = await dist('pci/doe-transport.js');
const { cmaSanString } = await dist('verifier/cma-san.js');
const { standardMeasurements } = await dist('responder/profiles.js');
const { Requester } = await dist('requester/requester.js');
const { loadSimulatedPlatform } = await dist('platform/simulated.js');

const out = resolve(process.argv[2] ?? join(repo, 'platform', 'default'));
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const NOT_AFTER = new Date('2049-12-31T23:59:59Z');

const pem = (label, der) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;
const keyPem = (key) => key.export({ type: 'pkcs8', format: 'pem' });
const write = (rel, data) => {
  const p = join(out, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
};
const hex = (n, w) => n.toString(16).padStart(w, '0');

rmSync(join(out, 'devices'), { recursive: true, force: true });
rmSync(join(out, 'trust'), { recursive: true, force: true });

const validity = { notBefore: NOT_BEFORE, notAfter: NOT_AFTER };
const roots = {
  acme: createRootCa({ asymId: 0x0080, commonName: 'Acme Devices Root CA', ...validity }),
  globex: createRootCa({ asymId: 0x0004, commonName: 'Globex Hardware Root CA', ...validity }),
  initech: createRootCa({ asymId: 0x0080, commonName: 'Initech Silicon Root CA', ...validity }),
  // Not a trust anchor: a counterfeiter's root that copies Acme's name.
  knockoff: createRootCa({ asymId: 0x0080, commonName: 'Acme Devices Root CA', ...validity }),
};
for (const name of ['acme', 'globex', 'initech'])
  write(`trust/${name}-root.pem`, pem('CERTIFICATE', roots[name].certificate));

const ASYM = {
  0x0080: 'ECDSA-P384',
  0x0010: 'ECDSA-P256',
  0x0004: 'RSASSA-3072',
  0x0002: 'RSAPSS-2048',
  0x0400: 'EdDSA-Ed25519',
};

const ACME_NVME = {
  vendorId: 0x1dea,
  deviceId: 0xa001,
  classCode: 0x010802,
  revisionId: 0x02,
  subsystemVendorId: 0x1dea,
  subsystemId: 0x0100,
};
const ACME_NIC = {
  vendorId: 0x1dea,
  deviceId: 0xb010,
  classCode: 0x020000,
  revisionId: 0x01,
  subsystemVendorId: 0x1dea,
  subsystemId: 0x0200,
};

/**
 * The functions, in BDF order. `chain` says how the device's certificate chain is made; `ref`
 * marks devices whose measurements are the reference values of their model.
 */
const functions = [
  {
    bdf: '0000:01:00.0',
    name: 'acme-nvme0',
    kind: 'genuine',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000001n },
    versions: ['1.0', '1.1', '1.2', '1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    ref: true,
  },
  {
    bdf: '0000:02:00.0',
    name: 'acme-nic0-f0',
    kind: 'genuine',
    id: { ...ACME_NIC, serialNumber: 0x00b0100000000001n },
    versions: ['1.0', '1.1', '1.2'],
    asym: 0x0010,
    hash: 'SHA-256',
    firmware: { image: 'acme-nic-b10', version: '2.0.1' },
    chain: { root: 'acme' },
    ref: true,
  },
  {
    bdf: '0000:02:00.1',
    name: 'acme-nic0-f1',
    kind: 'genuine',
    id: { ...ACME_NIC, serialNumber: 0x00b0100000000001n },
    versions: ['1.0', '1.1', '1.2'],
    asym: 0x0010,
    hash: 'SHA-256',
    firmware: { image: 'acme-nic-b10', version: '2.0.1' },
    chain: { root: 'acme' },
    description: 'the second function of the NIC at 02:00.0 (same serial number)',
  },
  {
    bdf: '0000:03:00.0',
    name: 'globex-gpu0',
    kind: 'genuine',
    id: {
      vendorId: 0x1e5a,
      deviceId: 0x3000,
      classCode: 0x030200,
      revisionId: 0xa1,
      subsystemVendorId: 0x1e5a,
      subsystemId: 0x3001,
      serialNumber: 0x1e5a300000000042n,
    },
    versions: ['1.0', '1.1'],
    asym: 0x0004,
    hash: 'SHA-384',
    firmware: { image: 'globex-gpu-g3', version: '5.5.0' },
    chain: { root: 'globex' },
    ref: true,
  },
  {
    bdf: '0000:04:00.0',
    name: 'globex-fpga0',
    kind: 'genuine',
    id: { vendorId: 0x1e5a, deviceId: 0x4100, classCode: 0x120000, revisionId: 0x01 },
    versions: ['1.0'],
    asym: 0x0002,
    hash: 'SHA-256',
    firmware: { image: 'globex-fpga-f41', version: '1.0.0' },
    chain: { root: 'globex' },
    ref: true,
    description: 'no Device Serial Number capability; SPDM 1.0 only',
  },
  {
    bdf: '0000:05:00.0',
    name: 'initech-dpu0',
    kind: 'genuine',
    id: {
      vendorId: 0x1f0c,
      deviceId: 0x0d50,
      classCode: 0x028000,
      revisionId: 0x03,
      subsystemVendorId: 0x1f0c,
      subsystemId: 0x0001,
      serialNumber: 0x1f0c0d5000000007n,
    },
    versions: ['1.2', '1.3'],
    asym: 0x0400,
    hash: 'SHA-512',
    firmware: { image: 'initech-dpu-d5', version: '4.2.0' },
    chain: { root: 'initech' },
    ref: true,
  },
  {
    bdf: '0000:06:00.0',
    name: 'knockoff-nvme',
    kind: 'counterfeit',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000666n },
    versions: ['1.0', '1.1', '1.2'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'knockoff' },
    description: "Acme's IDs and a chain from a root that copies Acme's name but is not Acme's",
  },
  {
    bdf: '0000:07:00.0',
    name: 'clone-nvme',
    kind: 'clone',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000002n },
    versions: ['1.2', '1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    clone: true,
    description: 'presents a genuine Acme chain but signs with a key of its own',
  },
  {
    bdf: '0000:08:00.0',
    name: 'acme-nvme-tampered',
    kind: 'tampered',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000003n },
    versions: ['1.2', '1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    tamper: 2,
    description: 'genuine chain and key; its mutable firmware (measurement 2) is not what Acme shipped',
  },
  {
    bdf: '0000:09:00.0',
    name: 'acme-ssd-expired',
    kind: 'expired',
    id: {
      vendorId: 0x1dea,
      deviceId: 0xa090,
      classCode: 0x010802,
      revisionId: 0x01,
      subsystemVendorId: 0x1dea,
      subsystemId: 0x0900,
      serialNumber: 0x00a0900000000001n,
    },
    versions: ['1.1', '1.2'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-ssd-a9', version: '1.4.0' },
    chain: { root: 'acme', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2024-12-31T23:59:59Z') },
    ref: true,
    description: 'intermediate and leaf certificates expired at the end of 2024',
  },
  {
    bdf: '0000:0a:00.0',
    name: 'acme-nic-wrong-san',
    kind: 'wrong-san',
    id: { ...ACME_NIC, deviceId: 0xb011, serialNumber: 0x00b0110000000001n },
    versions: ['1.2'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nic-b11', version: '2.1.0' },
    chain: { root: 'acme', san: 'Vendor=1dea:Device=b010:CC=020000:REV=01:SSVID=1dea:SSID=0200:00b0110000000001' },
    ref: true,
    description: "the leaf's CMA SAN names device b010, config space says b011",
  },
  {
    bdf: '0000:0b:00.0',
    name: 'acme-nvme-denied',
    kind: 'denied',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000004n },
    versions: ['1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    deny: true,
    description: 'genuine, but its leaf certificate is on the shipped deny-list (a key known to have leaked)',
  },
  {
    bdf: '0000:0c:00.0',
    name: 'initech-accel-slow',
    kind: 'slow',
    id: {
      vendorId: 0x1f0c,
      deviceId: 0x0a77,
      classCode: 0x120000,
      revisionId: 0x02,
      subsystemVendorId: 0x1f0c,
      subsystemId: 0x0002,
      serialNumber: 0x1f0c0a7700000001n,
    },
    versions: ['1.1', '1.2', '1.3'],
    asym: 0x0010,
    hash: 'SHA-256',
    firmware: { image: 'initech-accel-a7', version: '0.9.8' },
    chain: { root: 'initech' },
    ref: true,
    doe: { responseDelayMs: 15 },
    misbehavior: { notReady: { request: 'CHALLENGE', times: 1, rdtExponent: 12, rdtm: 2 } },
    description: 'answers every DOE object after 15 ms, and CHALLENGE first with ResponseNotReady',
  },
  {
    bdf: '0000:0d:00.0',
    name: 'globex-nic-buggy',
    kind: 'misbehaving',
    id: {
      vendorId: 0x1e5a,
      deviceId: 0x2200,
      classCode: 0x020000,
      revisionId: 0x01,
      subsystemVendorId: 0x1e5a,
      subsystemId: 0x2201,
    },
    versions: ['1.1', '1.2'],
    asym: 0x0010,
    hash: 'SHA-256',
    firmware: { image: 'globex-nic-n22', version: '0.1.0' },
    chain: { root: 'globex' },
    misbehavior: { truncate: { request: 'CHALLENGE', bytes: 7 } },
    description: 'firmware bug: CHALLENGE_AUTH comes back 7 bytes short',
  },
  {
    bdf: '0000:0e:00.0',
    name: 'plain-nic',
    kind: 'no-doe',
    id: {
      vendorId: 0x1e5a,
      deviceId: 0x1000,
      classCode: 0x020000,
      revisionId: 0x01,
      subsystemVendorId: 0x1e5a,
      subsystemId: 0x1001,
    },
    noDoe: true,
    description: 'an ordinary NIC: no DOE capability, cannot do CMA',
  },
  {
    bdf: '0000:0f:00.0',
    name: 'cxl-memory',
    kind: 'no-cma',
    id: {
      vendorId: 0x1f0c,
      deviceId: 0x0c01,
      classCode: 0x050210,
      revisionId: 0x01,
      serialNumber: 0x1f0c0c0100000001n,
    },
    noCma: true,
    description: 'a DOE mailbox that lists only discovery (a device using DOE for other protocols)',
  },
];

/** Spares for hot-plug and swap events. */
const spares = [
  {
    name: 'acme-nvme-spare',
    kind: 'genuine',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000010n },
    versions: ['1.2', '1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    description: 'another genuine Acme NVMe drive (other key, other serial number)',
  },
  {
    name: 'acme-nvme-spare-same-serial',
    kind: 'genuine',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000001n },
    versions: ['1.2', '1.3'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'acme' },
    description: 'same IDs and serial number as acme-nvme0, other key and chain: only the certificate tells it apart',
  },
  {
    name: 'knockoff-nvme-spare',
    kind: 'counterfeit',
    id: { ...ACME_NVME, serialNumber: 0x00a0010000000001n },
    versions: ['1.2'],
    asym: 0x0080,
    hash: 'SHA-384',
    firmware: { image: 'acme-nvme-a100', version: '3.1.4' },
    chain: { root: 'knockoff' },
    description: "acme-nvme0's IDs and serial number, chain from the knockoff root",
  },
];

async function sanOf(id) {
  const dev = new SimulatedDoeDevice({ handler: { handle: async () => new Uint8Array() }, ...id });
  return cmaSanString(await readPciIdentity(dev));
}

const denied = [];

async function entry(f) {
  const e = {
    ...(f.bdf ? { bdf: f.bdf } : {}),
    name: f.name,
    kind: f.kind,
    ...(f.description ? { description: f.description } : {}),
    vendorId: hex(f.id.vendorId, 4),
    deviceId: hex(f.id.deviceId, 4),
    classCode: hex(f.id.classCode, 6),
    revisionId: hex(f.id.revisionId, 2),
    ...(f.id.subsystemVendorId !== undefined
      ? { subsystemVendorId: hex(f.id.subsystemVendorId, 4), subsystemId: hex(f.id.subsystemId, 4) }
      : {}),
    ...(f.id.serialNumber !== undefined ? { serialNumber: hex(f.id.serialNumber, 16) } : {}),
  };
  if (f.noDoe) return { ...e, doe: false };
  if (f.noCma) return { ...e, doe: { protocols: [] } };
  e.doe = { protocols: ['cma-spdm', 'secured-cma-spdm'], ...(f.doe ?? {}) };
  const chain = createDeviceChain({
    asymId: f.asym,
    root: roots[f.chain.root],
    names: { intermediate: `${f.name} Intermediate CA`, leaf: f.name },
    leaf: {
      pcieCmaSan: f.chain.san ?? (await sanOf(f.id)),
      dmtfDeviceInfo: `${f.name.split('-')[0].toUpperCase()}:${f.name}:${hex(f.id.serialNumber ?? 0n, 16)}`,
    },
    notBefore: f.chain.notBefore ?? NOT_BEFORE,
    notAfter: f.chain.notAfter ?? NOT_AFTER,
  });
  const dir = `devices/${f.name}`;
  write(`${dir}/chain.der`, Buffer.concat(chain.certificates.map((c) => Buffer.from(c))));
  write(`${dir}/leaf.pem`, pem('CERTIFICATE', chain.leaf.certificate));
  write(`${dir}/leaf.key.pem`, keyPem(chain.leaf.privateKey));
  if (f.deny)
    denied.push({ name: f.name, fingerprint: createHash('sha256').update(chain.leaf.certificate).digest('hex') });
  e.device = {
    name: f.name,
    versions: f.versions,
    hash: [f.hash],
    slots: [{ slot: 0, asym: ASYM[f.asym], certChain: `${dir}/chain.der`, privateKey: `${dir}/leaf.key.pem` }],
  };
  e.firmware = f.firmware;
  if (f.tamper !== undefined) {
    // The standard measurements of the model, but one image is not the one the vendor built.
    e.device.measurements = standardMeasurements(f.firmware.image, f.firmware.version).map((m) => ({
      index: m.index,
      type: m.type,
      value: Buffer.from(m.index === f.tamper ? createHash('sha512').update('implant').digest() : m.value).toString(
        'hex',
      ),
      ...(m.alwaysRaw ? { raw: true } : {}),
      ...(m.tcb ? { tcb: true } : {}),
    }));
  }
  const misbehavior = { ...(f.misbehavior ?? {}) };
  if (f.clone) {
    write(`${dir}/impostor.key.pem`, keyPem(generateKeyPair(f.asym).privateKey));
    misbehavior.signingKey = `${dir}/impostor.key.pem`;
  }
  if (Object.keys(misbehavior).length > 0) e.misbehavior = misbehavior;
  return e;
}

const doc = {
  $schema: '../../schemas/platform.schema.json',
  version: 1,
  functions: [],
  spares: [],
};
for (const f of functions) doc.functions.push(await entry(f));
for (const s of spares) doc.spares.push(await entry(s));

const header = [
  '# The default simulated platform of spdmkit: 16 PCI functions, one of every kind a CMA daemon',
  '# must tell apart (see each "kind"), plus spares for hot-plug and swap events.',
  '# Generated by scripts/gen-default-platform.js; regenerate rather than edit (keys, certificates,',
  '# the deny-list and the reference values in policy.yaml are made together).',
  '# Verify with: trust/ (vendor roots), deny-list.txt, policy.yaml.',
  '',
].join('\n');
write('platform.yaml', header + stringify(doc, { lineWidth: 0 }));

write(
  'deny-list.txt',
  [
    '# Device certificates that must never be accepted (verifier/deny-list.ts text format).',
    ...denied.map((d) => `# ${d.name}: leaf certificate, its key leaked\nsha256:${d.fingerprint}`),
    '',
  ].join('\n'),
);

// Reference values: what each reference device measures, read back through the verifier's eyes.
const platform = loadSimulatedPlatform(join(out, 'platform.yaml'));
const models = new Map();
async function measure(bdf) {
  const fn = (await platform.functions()).find((x) => x.bdf === bdf);
  const cs = await fn.openConfigSpace();
  const pci = await readPciIdentity(cs, bdf);
  const transport = await openDoeTransport(cs, { ownsConfigSpace: true });
  try {
    const evidence = await new Requester(transport, { pci }).authenticate();
    return { pci, measurements: evidence.measurements };
  } finally {
    await transport.close();
  }
}
function record(name, { pci, measurements }) {
  const key = `${hex(pci.vendorId, 4)}:${hex(pci.deviceId, 4)}`;
  const m = models.get(key) ?? { name, pci, values: new Map() };
  for (const b of measurements) {
    const set = m.values.get(b.index) ?? new Set();
    set.add(b.value);
    m.values.set(b.index, set);
  }
  models.set(key, m);
}
for (const f of functions.filter((x) => x.ref)) record(f.name, await measure(f.bdf));
// Acme's NVMe firmware 3.2.0 is a released update: its values are good too.
await platform.inject({ type: 'firmware-update', bdf: '0000:01:00.0', version: '3.2.0' });
record('acme-nvme0', await measure('0000:01:00.0'));
await platform.close();

const policy = {
  $schema: '../../schemas/policy.schema.json',
  version: 1,
  devices: [...models.values()].map((m) => ({
    name: `${m.name.replace(/\d*(-f\d)?$/, '')} (${hex(m.pci.vendorId, 4)}:${hex(m.pci.deviceId, 4)})`,
    match: { pci: { vendorId: hex(m.pci.vendorId, 4), deviceId: hex(m.pci.deviceId, 4) } },
    measurements: Object.fromEntries([...m.values].sort((a, b) => a[0] - b[0]).map(([i, s]) => [String(i), [...s]])),
  })),
};
write(
  'policy.yaml',
  "# Reference values of the default platform's device models (verifier policy format), recorded\n" +
    '# from the reference devices by scripts/gen-default-platform.js. Acme NVMe: firmware 3.1.4 and 3.2.0.\n' +
    stringify(policy, { lineWidth: 0 }),
);
process.stdout.write(
  `wrote ${out}: ${doc.functions.length} functions, ${doc.spares.length} spares, ${models.size} models\n`,
);
