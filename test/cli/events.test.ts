/**
 * `spdm authenticate --session key-exchange --events` against `spdm emulate` with a profile that
 * raises events as a session subscribes: the requester subscribes to what the device offers,
 * collects the SEND_EVENT deliveries over the encapsulated flow, unsubscribes, and reports them in
 * the text and JSON outputs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulate, spdm } from '../support/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'spdmkit-cli-events-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const DETAIL = `02${'ab'.repeat(31)}`;

function profile(capabilities: string[]): string {
  const file = join(scratch, `profile-${capabilities.length}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: 'event-device',
      versions: ['1.3'],
      capabilities,
      events: [{ type: 'MeasurementChanged', detail: DETAIL }],
    }),
  );
  return file;
}

const SESSION_CAPS = ['CERT', 'CHAL', 'MEAS_SIG', 'KEY_EX', 'ENCRYPT', 'MAC', 'HBEAT', 'KEY_UPD', 'ENCAP'];

test('--events: the device’s MeasurementChanged arrives, in the JSON (hex detail) and the text output', async () => {
  const emu = await emulate(['--transport', 'doe', '--profile', profile([...SESSION_CAPS, 'EVENT'])]);
  try {
    const base = ['authenticate', '--connect', `127.0.0.1:${emu.port}`, '--transport', 'doe'];
    const json = await spdm([...base, '--session', 'key-exchange', '--events', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const out = JSON.parse(json.stdout) as {
      session: {
        ran: string[];
        events: { subscribed: { eventTypes: number[] }[]; received: { eventTypeId: number; eventDetail: string }[] };
      };
    };
    assert.deepEqual(
      out.session.events.received.map((e) => [e.eventTypeId, e.eventDetail]),
      [[2, DETAIL]],
    );
    assert.ok(out.session.events.subscribed[0]?.eventTypes.includes(2));
    assert.ok(out.session.ran.includes('SUBSCRIBE_EVENT_TYPES(none)'), 'unsubscribed before END_SESSION');
    assert.equal(out.session.ran.at(-1), 'END_SESSION');

    const text = await spdm([...base, '--session', 'key-exchange', '--events', '--shutdown']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /events: subscribed to \d+ type\(s\) in 1 group\(s\), received 1/);
    assert.match(text.stdout, new RegExp(`event \\d+: MeasurementChanged detail ${DETAIL}`));
  } finally {
    await emu.stop();
  }
});

test('--events against a device without EVENT_CAP fails naming it, exit 1', async () => {
  const emu = await emulate(['--transport', 'doe', '--profile', profile(SESSION_CAPS)]);
  try {
    const r = await spdm([
      'authenticate',
      '--connect',
      `127.0.0.1:${emu.port}`,
      '--transport',
      'doe',
      '--session',
      'key-exchange',
      '--events',
      '--shutdown',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAILED UNSUPPORTED: .*EVENT_CAP/);
  } finally {
    await emu.stop();
  }
});
