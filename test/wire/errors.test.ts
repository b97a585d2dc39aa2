/**
 * SpdmError's typed details, and the rule that caller misuse is a TypeError (never an SpdmError a
 * caller's code-to-outcome mapping could take for a device fault).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError, SpdmError, isSpdmError, type ErrorDetails } from '../../src/wire/errors.js';
import { LimitError } from '../../src/wire/limits.js';
import { primitiveInput } from '../../src/crypto/signature.js';
import { chainsToRoot } from '../../src/x509/chain.js';
import { TranscriptMirror } from '../../src/responder/faults/mirror.js';
import { SimulatedDoeDevice } from '../../src/pci/doe-device.js';
import { libspdmResponderChain, parseAll, NOW } from '../x509/fixtures.js';
import { SUITES, device, pair } from '../support/fixtures.js';

test('details are typed per code and stay an open record', () => {
  const t = new SpdmError('TIMEOUT', 'GET_VERSION: no response', {
    request: 'GET_VERSION',
    deadline: 'flow',
    extra: 1,
  });
  const d: ErrorDetails<'TIMEOUT'> = t.details;
  assert.equal(d.deadline, 'flow');
  assert.equal(t.details['extra'], 1);
  // The constructor keeps its old shape: details and options are optional where every key is.
  const plain = new SpdmError('UNSUPPORTED', 'no');
  assert.deepEqual(plain.details, {});
  const caused = new SpdmError('TRANSPORT_ERROR', 'gone', { path: '/x' }, { cause: 'EIO' });
  assert.equal(caused.cause, 'EIO');
  assert.equal(caused.details.path, '/x');
  if (false as boolean) {
    // @ts-expect-error LIMIT_EXCEEDED's details are required (only LimitError throws it)
    void new SpdmError('LIMIT_EXCEEDED', 'too big');
    // @ts-expect-error a typed key must have its type
    void new SpdmError('TIMEOUT', 'late', { deadline: 'tomorrow' });
  }
});

test('isSpdmError narrows by code, so details need no cast', () => {
  const errors: unknown[] = [
    new SpdmError('NONCE_MISMATCH', 'CHALLENGE_AUTH: echoed', { request: 'CHALLENGE_AUTH', expected: 'aa', got: 'aa' }),
    new LimitError('maxTimerMs', 5, 4, 'DOE mailbox timeoutMs'),
    new DecodeError('VERSION', 'VersionNumberEntryCount', 3, 'truncated'),
    new TypeError('not an SpdmError'),
  ];
  const [nonce, limit, decode, misuse] = errors;
  assert.ok(isSpdmError(nonce, 'NONCE_MISMATCH'));
  assert.equal(nonce.details.got, 'aa');
  assert.ok(isSpdmError(limit, 'LIMIT_EXCEEDED'));
  assert.deepEqual([limit.details.limit, limit.details.value, limit.details.max], ['maxTimerMs', 5, 4]);
  assert.ok(isSpdmError(decode, 'DECODE_ERROR'));
  assert.deepEqual(
    [decode.details.messageName, decode.details.field, decode.details.offset],
    ['VERSION', 'VersionNumberEntryCount', 3],
  );
  assert.equal(isSpdmError(decode, 'TIMEOUT'), false);
  assert.equal(isSpdmError(misuse), false);
  assert.ok(isSpdmError(nonce));
});

test('caller misuse is a TypeError: signature input, chain options, fault mirror, simulated DOE device', () => {
  assert.throws(
    () => primitiveInput({ version: 0x11, hashId: 0x01, context: '' }),
    (e: unknown) => e instanceof TypeError && /full transcript/.test(e.message),
  );
  const [root, ...rest] = parseAll(libspdmResponderChain('ecp256'));
  assert.ok(root);
  assert.throws(
    () => chainsToRoot(rest, [root], NOW, { rootHash: new Uint8Array(32) }),
    (e: unknown) => e instanceof TypeError && /without hashId/.test(e.message),
  );
  assert.throws(
    () => new TranscriptMirror().negotiated,
    (e: unknown) => e instanceof TypeError && /nothing negotiated/.test(e.message),
  );
  const handler = { handle: async (m: Uint8Array) => m };
  assert.throws(
    () => new SimulatedDoeDevice({ handler, doeOffset: 0x100 }),
    (e: unknown) => e instanceof TypeError && /cannot sit at 0x100/.test(e.message),
  );
});

test('caller misuse of the requester is a TypeError: no connection, no certificate chain', async () => {
  const { requester } = pair(device(SUITES[0]!).profile);
  assert.throws(
    () => requester.connection,
    (e: unknown) => e instanceof TypeError && /call connect\(\) first/.test(e.message),
  );
  await requester.connect();
  await assert.rejects(
    requester.challenge(0),
    (e: unknown) => e instanceof TypeError && /no certificate chain for slot 0/.test(e.message),
  );
  await assert.rejects(
    requester.getMeasurements({ slot: 0 }),
    (e: unknown) => e instanceof TypeError && /no certificate chain for slot 0/.test(e.message),
  );
});
