/**
 * Profile files refuse members they do not know: a misspelt key would otherwise drop its setting
 * silently and the emulator would run with the default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { profileFromJson } from '../../src/responder/profile-file.js';

function refused(json: unknown, field: string): void {
  assert.throws(
    () => profileFromJson(json, '.'),
    (e: unknown) =>
      isSpdmError(e) && e.code === 'DECODE_ERROR' && e.message.startsWith(`profile: ${field}: unknown field`),
    field,
  );
}

test('a misspelt top-level key is DECODE_ERROR naming it; the spelt one is taken', () => {
  refused({ heartbeatPeriode: 9 }, 'heartbeatPeriode');
  assert.equal(profileFromJson({ heartbeatPeriod: 9 }, '.').session?.heartbeatPeriod, 9);
});

test('unknown members inside measurements, mutualAuth and events entries are refused with their path', () => {
  refused({ measurements: [{ index: 1, type: 1, value: 'aa', tbc: true }] }, 'measurements[0].tbc');
  refused({ mutualAuth: { sesion: 'encap' } }, 'mutualAuth.sesion');
  refused({ events: [{ type: 'MeasurementChanged', details: '00' }] }, 'events[0].details');
  refused({ slots: [{ slot: 0, asym: 'ecdsa-p256', certChain: 'c', privateKey: 'k', key: 'x' }] }, 'slots[0].key');
});

test('every documented key is accepted together', () => {
  const p = profileFromJson(
    {
      name: 'x',
      versions: ['1.2'],
      hash: 'sha-384',
      measurementHash: 'sha-384',
      measurements: [{ index: 1, type: 1, value: 'aa', raw: true, tcb: true }],
      capabilities: ['CERT', 'CHAL', 'MEAS_SIG'],
      ctExponent: 12,
      dataTransferSize: 4096,
      asym: 'ecdsa-p384',
      trustedEnvironment: true,
      heartbeatPeriod: 3,
      psk: { key: 'aa', hint: 'bb' },
      mutualAuth: { session: 'encap', basic: true, requesterSlot: 0 },
      events: [{ type: 'EventLost', detail: '00'.repeat(8) }],
    },
    '.',
  );
  assert.equal(p.name, 'x');
  assert.equal(p.session?.heartbeatPeriod, 3);
});
