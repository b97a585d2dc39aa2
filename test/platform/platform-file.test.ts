/** Platform files: YAML and JSON say the same thing; every malformed field is a typed error naming it; garbage never crashes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { isSpdmError } from '../../src/wire/errors.js';
import { DoeObjectType } from '../../src/transport/doe.js';
import { RequestCode } from '../../src/spdm/codes.js';
import {
  compilePlatform,
  loadPlatformFile,
  parsePlatformText,
  PlatformFileError,
  type PlatformConfig,
} from '../../src/platform/platform-file.js';
import { defaultPlatformFiles } from '../../src/platform/default.js';

const DEFAULT_DIR = defaultPlatformFiles().dir;

/** A small valid document: one genuine-looking function (chain of the default platform), one without DOE. */
function doc(): Record<string, unknown> {
  return {
    version: 1,
    functions: [
      {
        bdf: '0000:03:00.0',
        vendorId: '1dea',
        deviceId: 'a001',
        classCode: '010802',
        revisionId: '02',
        subsystemVendorId: '1dea',
        subsystemId: '0100',
        serialNumber: '00a0010000000001',
        doe: { protocols: ['cma-spdm'], responseDelayMs: 3 },
        device: {
          name: 'x',
          versions: ['1.2'],
          hash: ['SHA-384'],
          slots: [
            {
              asym: 'ECDSA-P384',
              certChain: 'devices/acme-nvme0/chain.der',
              privateKey: 'devices/acme-nvme0/leaf.key.pem',
            },
          ],
        },
        firmware: { version: '2.0.0' },
        misbehavior: { notReady: { request: 'GET_MEASUREMENTS', times: 1 }, badDigest: true },
      },
      { bdf: '0000:00:1f.0', vendorId: '8086', deviceId: '1234', doe: false },
    ],
  };
}

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PlatformFileError, `not a PlatformFileError: ${String(e)}`);
    assert.equal(e.code, 'DECODE_ERROR');
    assert.equal(e.details['field'], e.issues[0]?.path);
    return [...e.issues];
  }
  assert.fail('accepted');
}

function withChange(edit: (d: Record<string, unknown>) => void): Record<string, unknown> {
  const d = doc();
  edit(d);
  return d;
}

const fn0 = (d: Record<string, unknown>) => (d['functions'] as Record<string, unknown>[])[0] as Record<string, unknown>;

test('a platform file compiles into typed function specs, in BDF order, with defaults filled in', () => {
  const c: PlatformConfig = compilePlatform(doc(), DEFAULT_DIR);
  assert.deepEqual(
    c.functions.map((f) => f.bdf),
    ['0000:00:1f.0', '0000:03:00.0'],
  );
  const [plain, dev] = c.functions;
  assert.ok(plain && dev);
  assert.equal(plain.doe, undefined);
  assert.equal(plain.profile, undefined);
  assert.deepEqual(plain.identity, {
    vendorId: 0x8086,
    deviceId: 0x1234,
    classCode: 0x120000,
    revisionId: 1,
    subsystemVendorId: 0,
    subsystemId: 0,
  });
  assert.equal(dev.identity.serialNumber, 0x00a0010000000001n);
  assert.deepEqual(
    dev.doe?.protocols.map((p) => p.type),
    [DoeObjectType.DISCOVERY, DoeObjectType.CMA_SPDM],
  );
  assert.equal(dev.doe?.responseDelayMs, 3);
  assert.equal(dev.name, 'x');
  assert.deepEqual(dev.firmware, { image: 'x', version: '2.0.0' });
  assert.equal(dev.profile?.measurements.find((m) => m.index === 5)?.value.toString(), '50,46,48,46,48'); // "2.0.0"
  assert.deepEqual(dev.misbehavior?.notReady, {
    code: RequestCode.GET_MEASUREMENTS,
    times: 1,
    rdtExponent: 10,
    rdtm: 2,
  });
  assert.equal(dev.misbehavior?.badDigest, true);
});

test('YAML and JSON of the same document give the same platform; the file form resolves paths from the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spdmkit-platform-'));
  const fromJson = parsePlatformText(JSON.stringify(doc()), { baseDir: DEFAULT_DIR });
  const fromYaml = parsePlatformText(stringify(doc()), { baseDir: DEFAULT_DIR, format: 'yaml' });
  assert.deepEqual(
    fromYaml.functions.map((f) => [f.bdf, f.identity, f.doe, f.firmware]),
    fromJson.functions.map((f) => [f.bdf, f.identity, f.doe, f.firmware]),
  );
  // In a file elsewhere, the chain paths no longer resolve: the error names the slot.
  const file = join(dir, 'p.yaml');
  writeFileSync(file, stringify(doc()));
  const issues = issuesOf(() => loadPlatformFile(file));
  assert.equal(issues[0]?.path, '/functions/0/device/slots/0');
  assert.match(issues[0]?.message ?? '', /no such file/);
  assert.match(issuesOf(() => loadPlatformFile(join(dir, 'missing.yaml')))[0]?.message ?? '', /cannot be read/);
});

test('every malformed field is named by its JSON Pointer path', () => {
  const cases: [string, (d: Record<string, unknown>) => void, string, RegExp?][] = [
    ['bdf', (d) => (fn0(d)['bdf'] = '0000:03:20.0'), '/functions/0/bdf'],
    ['bdf upper case', (d) => (fn0(d)['bdf'] = '0000:0A:00.0'), '/functions/0/bdf'],
    ['vendor as a number', (d) => (fn0(d)['vendorId'] = 0x1dea), '/functions/0/vendorId'],
    ['vendor ffff', (d) => (fn0(d)['vendorId'] = 'ffff'), '/functions/0/vendorId', /absent/],
    ['class code', (d) => (fn0(d)['classCode'] = '0108'), '/functions/0/classCode'],
    ['lonely subsystem', (d) => delete fn0(d)['subsystemId'], '/functions/0/subsystemId', /together/],
    ['zero serial', (d) => (fn0(d)['serialNumber'] = '0'), '/functions/0/serialNumber', /zero/],
    ['serial too long', (d) => (fn0(d)['serialNumber'] = '1'.repeat(17)), '/functions/0/serialNumber'],
    ['doe missing', (d) => delete fn0(d)['doe'], '/functions/0', /doe/],
    ['doe true', (d) => (fn0(d)['doe'] = true), '/functions/0/doe'],
    ['unknown protocol', (d) => (fn0(d)['doe'] = { protocols: ['cxl'] }), '/functions/0/doe/protocols/0'],
    ['delay', (d) => (fn0(d)['doe'] = { protocols: [], responseDelayMs: -1 }), '/functions/0/doe/responseDelayMs'],
    ['device missing', (d) => delete fn0(d)['device'], '/functions/0/device', /required/],
    ['unknown property', (d) => (fn0(d)['colour'] = 'red'), '/functions/0/colour'],
    [
      'bad version',
      (d) => ((fn0(d)['device'] as Record<string, unknown>)['versions'] = ['2.0']),
      '/functions/0/device/versions/0',
    ],
    [
      'key does not fit the algorithm',
      (d) => {
        const dev = fn0(d)['device'] as Record<string, unknown>;
        dev['slots'] = [
          {
            asym: 'ECDSA-P256',
            certChain: 'devices/acme-nvme0/chain.der',
            privateKey: 'devices/acme-nvme0/leaf.key.pem',
          },
        ];
      },
      '/functions/0/device/slots/0/asym',
    ],
    [
      'unknown request',
      (d) => (fn0(d)['misbehavior'] = { hang: { request: 'GET_COFFEE' } }),
      '/functions/0/misbehavior/hang/request',
    ],
    [
      'missing signing key',
      (d) => (fn0(d)['misbehavior'] = { signingKey: 'nope.pem' }),
      '/functions/0/misbehavior/signingKey',
      /private key/,
    ],
    [
      'misbehaving without a device',
      (d) => {
        const f = (d['functions'] as Record<string, unknown>[])[1] as Record<string, unknown>;
        f['misbehavior'] = { badSignature: true };
      },
      '/functions/1/misbehavior',
    ],
    [
      'duplicate bdf',
      (d) => (((d['functions'] as Record<string, unknown>[])[1] as Record<string, unknown>)['bdf'] = '0000:03:00.0'),
      '/functions/1/bdf',
      /already/,
    ],
    [
      'spare without a name',
      (d) => (d['spares'] = [{ vendorId: '1dea', deviceId: '0001', doe: false }]),
      '/spares/0',
      /name/,
    ],
    ['version', (d) => (d['version'] = 2), '/version'],
    ['functions', (d) => (d['functions'] = {}), '/functions'],
  ];
  for (const [what, edit, path, message] of cases) {
    const issues = issuesOf(() => compilePlatform(withChange(edit), DEFAULT_DIR));
    assert.ok(
      issues.some((i) => i.path === path && (!message || message.test(i.message))),
      `${what}: ${JSON.stringify(issues)}`,
    );
  }
  assert.equal(issuesOf(() => compilePlatform([], DEFAULT_DIR))[0]?.path, '');
});

test('text that is not JSON or YAML, or nests absurdly deep, is a typed error', () => {
  assert.match(
    issuesOf(() => parsePlatformText('{"version": 1,', { format: 'json' }))[0]?.message ?? '',
    /not valid JSON/,
  );
  assert.match(issuesOf(() => parsePlatformText('version: [1\nfunctions: ]'))[0]?.message ?? '', /not valid YAML/);
  assert.match(issuesOf(() => parsePlatformText('a: 1\na: 2'))[0]?.message ?? '', /not valid YAML/);
  for (const text of ['['.repeat(100_000), `${'- '.repeat(5000)}x`, `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]) {
    try {
      parsePlatformText(text);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(isSpdmError(e), `${text.slice(0, 10)}: ${String(e)}`);
    }
  }
});

test('property: random documents and random edits of a valid one are accepted or refused with a typed error, never a crash', () => {
  const refusedOrOk = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      if (!isSpdmError(e)) throw e;
      assert.ok(e.code === 'DECODE_ERROR' || e.code === 'LIMIT_EXCEEDED', e.code);
    }
  };
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => refusedOrOk(() => compilePlatform(v, DEFAULT_DIR))),
    { numRuns: 300 },
  );
  // Replace one value somewhere in a valid document with garbage.
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    paths.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(doc(), []);
  fc.assert(
    fc.property(
      fc.constantFrom(...paths.filter((p) => p.length > 0)),
      fc.jsonValue({ maxDepth: 3 }),
      (path, garbage) => {
        const d = doc();
        let parent: unknown = d;
        for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[seg];
        (parent as Record<string | number, unknown>)[path.at(-1) as string | number] = garbage;
        refusedOrOk(() => compilePlatform(d, DEFAULT_DIR));
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => refusedOrOk(() => parsePlatformText(text))),
    { numRuns: 300 },
  );
});
