/**
 * The API's request handling that needs no device behind it: validation of every request part,
 * the error shape, body limits, bearer tokens on TCP, the Unix socket's mode and stale-file
 * handling, and the published OpenAPI document. Served by the real server with no service (every
 * valid request then answers 503); device-backed behaviour is in api.test.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../../src/daemon/server.js';
import { clearStaleSocket, listenTcp, listenUnix, resolveGroup } from '../../src/daemon/listen.js';
import { openApiDocument } from '../../src/daemon/openapi.js';
import { bearerChecker } from '../../src/daemon/auth.js';
import { isSpdmError } from '../../src/wire/errors.js';
import fc from 'fast-check';
import { repoRoot } from '../support/paths.js';
import { JSON_HEADERS, raw } from './http.js';

const dir = mkdtempSync(join(tmpdir(), 'spdmkitd-'));
const socketPath = join(dir, 'run', 'spdmkitd.sock');
const app = await buildServer();
await listenUnix(app, { path: socketPath, mode: 0o660 });
after(() => app.close());
const sock = { socketPath };
const BDF = '0000:03:00.0';

test('the socket file gets the configured mode', () => {
  const st = statSync(socketPath);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o660);
});

test('malformed requests are 400 with the field named, in the one error shape', async () => {
  const cases: [string, string, string | undefined, string][] = [
    ['GET', '/v1/devices/03:00.0', undefined, 'params/bdf'],
    ['GET', '/v1/devices/0000:03:20.0', undefined, 'params/bdf'],
    ['GET', '/v1/devices/0000:03:00.8', undefined, 'params/bdf'],
    ['GET', `/v1/devices/${encodeURIComponent('../../etc')}`, undefined, 'params/bdf'],
    ['GET', `/v1/devices/${BDF}/certificates/8`, undefined, 'params/slot'],
    ['GET', `/v1/devices/${BDF}/certificates/x`, undefined, 'params/slot'],
    ['GET', `/v1/devices/${BDF}/certificates/0?format=xml`, undefined, 'querystring/format'],
    ['GET', `/v1/devices/${BDF}/signatures/-1`, undefined, 'params/n'],
    ['POST', `/v1/devices/${BDF}/reauthenticate`, '{"slot":"1"}', 'body/slot'],
    ['POST', `/v1/devices/${BDF}/reauthenticate`, '{"slot":1.5}', 'body/slot'],
    ['POST', `/v1/devices/${BDF}/reauthenticate`, '{"slot":1,"force":true}', 'body/force'],
    ['POST', `/v1/devices/${BDF}/reauthenticate`, '[1]', 'body'],
    ['POST', `/v1/devices/${BDF}/reauthenticate`, '"slot"', 'body'],
    ['POST', `/v1/devices/${BDF}/accept`, '{"override":{"operator":"ann"}}', 'body/override/reason'],
    ['POST', `/v1/devices/${BDF}/accept`, '{"override":{"operator":"","reason":"r"}}', 'body/override/operator'],
    ['POST', `/v1/devices/${BDF}/reset-notify`, '{"kind":"cold"}', 'body/kind'],
    ['POST', `/v1/devices/${BDF}/tsm/connect`, '{}', 'body/tsm'],
    ['POST', `/v1/devices/${BDF}/tsm/connect`, '{"tsm":"tsm0\\n"}', 'body/tsm'],
    ['GET', '/v1/log/inclusion/1?treeSize=0', undefined, 'querystring/treeSize'],
    ['GET', '/v1/log/inclusion/1?treeSize=1.5', undefined, 'querystring/treeSize'],
    ['GET', '/v1/log/inclusion/1?extra=1', undefined, 'querystring/extra'],
    ['GET', '/v1/log/consistency?to=3', undefined, 'querystring/from'],
    ['GET', '/v1/events?after=x', undefined, 'querystring/after'],
    ['GET', `/redfish/v1/ComponentIntegrity/nope`, undefined, 'params/id'],
    [
      'POST',
      `/redfish/v1/ComponentIntegrity/${BDF}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
      '{"Nonce":"abcd"}',
      'body/Nonce',
    ],
    [
      'POST',
      `/redfish/v1/ComponentIntegrity/${BDF}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
      '{"MeasurementIndices":[256]}',
      'body/MeasurementIndices/0',
    ],
    [
      'POST',
      `/redfish/v1/ComponentIntegrity/${BDF}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
      '{"SlotId":9}',
      'body/SlotId',
    ],
  ];
  for (const [method, path, body, field] of cases) {
    const r = await raw(sock, method, path, body === undefined ? {} : { headers: JSON_HEADERS, body });
    assert.equal(r.status, 400, `${method} ${path} ${body ?? ''}: ${r.text}`);
    const e = r.json().error;
    assert.equal(e?.code, 'INVALID_REQUEST', r.text);
    assert.equal(e?.field, field, `${method} ${path} ${body ?? ''}: ${r.text}`);
    assert.ok(e?.message.startsWith(field), r.text);
  }
  const header = await raw(sock, 'GET', '/v1/events', { headers: { 'last-event-id': '-3' } });
  assert.equal(header.status, 400);
  assert.equal(header.json().error?.field, 'headers/last-event-id');
});

test('bad JSON, the wrong media type and an oversize body are refused without reaching a handler', async () => {
  const path = `/v1/devices/${BDF}/reauthenticate`;
  const bad = await raw(sock, 'POST', path, { headers: JSON_HEADERS, body: '{"slot":' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error?.code, 'INVALID_JSON');
  const proto = await raw(sock, 'POST', path, { headers: JSON_HEADERS, body: '{"__proto__":{"slot":1}}' });
  assert.equal(proto.status, 400);
  const text = await raw(sock, 'POST', path, { headers: { 'content-type': 'text/plain' }, body: 'slot=1' });
  assert.equal(text.status, 415);
  assert.equal(text.json().error?.code, 'UNSUPPORTED_MEDIA_TYPE');
  const big = await raw(sock, 'POST', path, {
    headers: JSON_HEADERS,
    body: JSON.stringify({ x: 'y'.repeat(100_000) }),
  });
  assert.equal(big.status, 413);
  assert.equal(big.json().error?.code, 'BODY_TOO_LARGE');
  const deep = await raw(sock, 'POST', path, { headers: JSON_HEADERS, body: '['.repeat(30_000) + ']'.repeat(30_000) });
  assert.ok(deep.status === 400 || deep.status === 413, deep.text);
  const binary = await raw(sock, 'POST', path, { headers: JSON_HEADERS, body: Buffer.from([0xff, 0xfe, 0x00, 0x7b]) });
  assert.equal(binary.status, 400);
  const unknown = await raw(sock, 'GET', '/v1/nothing');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json().error?.code, 'NOT_FOUND');
  // Nothing above crashed the server: a valid request still gets an answer (no service: 503).
  const ok = await raw(sock, 'POST', path);
  assert.equal(ok.status, 503);
  assert.equal(ok.json().error?.code, 'SERVICE_UNAVAILABLE');
  assert.doesNotMatch(ok.text, /at .*\.js:\d+/, 'no stack trace in an answer');
});

test('TCP needs the bearer token on every request; a wrong or missing one is 401', async () => {
  const token = 'a-token-of-thirty-two-characters';
  const tcp = await buildServer({ token });
  try {
    const port = await listenTcp(tcp, '127.0.0.1', 0);
    for (const authorization of [
      undefined,
      'Bearer wrong-token-wrong-token',
      `bearer ${token}`,
      `Bearer ${token}x`,
      token,
      'Basic eDp5',
    ]) {
      const r = await raw({ port }, 'GET', '/v1/devices', authorization ? { headers: { authorization } } : {});
      assert.equal(r.status, 401, String(authorization));
      assert.equal(r.json().error?.code, 'UNAUTHORIZED');
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
    // Even an invalid request is refused for the token first: nothing is parsed for a stranger.
    const early = await raw({ port }, 'POST', `/v1/devices/x/accept`, { headers: JSON_HEADERS, body: '{' });
    assert.equal(early.status, 401);
    const r = await raw({ port }, 'GET', '/v1/devices', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 503, 'past the token check');
  } finally {
    await tcp.close();
  }
  assert.throws(() => bearerChecker('short'), TypeError);
});

test('a stale socket file is replaced; a live socket or a regular file is left alone', async () => {
  const stale = join(dir, 'stale.sock');
  // A socket file nobody listens on: bind a server, then let the process forget it without unlinking.
  const s = createServer();
  await new Promise<void>((r) => s.listen(stale, r));
  await assert.rejects(
    clearStaleSocket(stale),
    (e: unknown) => isSpdmError(e, 'TRANSPORT_ERROR') && /listening/.test(e.message),
  );
  const second = await buildServer();
  await assert.rejects(listenUnix(second, { path: socketPath, mode: 0o600 }), /another daemon is listening/);
  await second.close();
  const file = join(dir, 'not-a-socket');
  writeFileSync(file, 'keep me');
  await assert.rejects(clearStaleSocket(file), /not a socket/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  await clearStaleSocket(join(dir, 'absent.sock'));
  s.close();
});

test("the socket group: a name from the group file or a number, chown'ed before the mode is set", async () => {
  const groups = join(dir, 'group');
  writeFileSync(groups, `root:x:0:\nspdm:x:${process.getgid?.() ?? 0}:ann,bob\n`);
  assert.equal(await resolveGroup('spdm', groups), process.getgid?.() ?? 0);
  assert.equal(await resolveGroup(4242, groups), 4242);
  await assert.rejects(
    resolveGroup('nobody-here', groups),
    (e: unknown) => isSpdmError(e, 'DECODE_ERROR') && /socket\.group/.test(e.message),
  );
  const grouped = await buildServer();
  const path = join(dir, 'grouped', 'spdmkitd.sock');
  try {
    await listenUnix(grouped, { path, mode: 0o660, group: process.getgid?.() ?? 0 });
    const st = statSync(path);
    assert.equal(st.gid, process.getgid?.() ?? 0);
    assert.equal(st.mode & 0o777, 0o660);
  } finally {
    await grouped.close();
  }
});

test('docs/openapi.json is the document the server serves', async () => {
  const served = await raw(sock, 'GET', '/v1/openapi.json');
  assert.equal(served.status, 200);
  const committed = JSON.parse(readFileSync(join(repoRoot(), 'docs', 'openapi.json'), 'utf8')) as unknown;
  assert.deepEqual(served.json(), committed, 'run npm run daemon-docs to regenerate docs/openapi.json');
  assert.deepEqual(await openApiDocument(), committed);
  const paths = Object.keys((committed as { paths: Record<string, unknown> }).paths);
  for (const p of [
    '/v1/devices/{bdf}/certificates/{slot}',
    '/v1/events',
    '/v1/log/consistency',
    '/redfish/v1/ComponentIntegrity/{id}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements',
  ])
    assert.ok(paths.includes(p), p);
});

test('no input crashes the server or reaches a 500: random paths, methods, headers and bodies', async () => {
  const prefixes = [
    '/v1/devices/',
    `/v1/devices/${BDF}/`,
    `/v1/devices/${BDF}/certificates/`,
    '/v1/log/inclusion/',
    '/v1/log/consistency?from=',
    '/v1/events?after=',
    '/redfish/v1/ComponentIntegrity/',
    `/redfish/v1/ComponentIntegrity/${BDF}/Actions/`,
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...prefixes),
      fc.string({ maxLength: 40 }),
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      fc.option(fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 200 })), { nil: undefined }),
      fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'application/json; charset=latin1'),
      async (prefix, tail, method, body, type) => {
        const r = await app.inject({
          method,
          url: prefix + encodeURIComponent(tail).replace(/%2F/g, '/'),
          ...(body !== undefined && method !== 'GET' ? { payload: body, headers: { 'content-type': type } } : {}),
        });
        assert.ok(r.statusCode < 500 || r.statusCode === 503, `${method} ${prefix}${tail} → ${r.statusCode} ${r.body}`);
        const e = (JSON.parse(r.body) as { error?: { code?: unknown } }).error;
        assert.equal(typeof e?.code, 'string', r.body);
      },
    ),
    { numRuns: 300 },
  );
});
