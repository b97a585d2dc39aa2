/**
 * `spdm dump --psk`: PSK sessions of the libspdm captures decrypted and decoded inside the dump,
 * in-session signed MEASUREMENTS verified with the session's message_m, undecryptable records
 * explained, a wrong PSK reported, and the --psk argument forms.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { libspdmVectors, repoRoot } from '../support/paths.js';
import { dumpCapture, formatDump, parsePskArgument, type Dump } from '../../src/capture/dump.js';
import { DecodeError } from '../../src/wire/errors.js';

const dir = join(libspdmVectors(), 'captures');
const PSK = parsePskArgument('ascii:TestPskData\\0');
const read = (file: string) => new Uint8Array(readFileSync(join(dir, file)));
const hasPsk = (file: string) =>
  (
    JSON.parse(readFileSync(join(dir, file.replace('.pcap', '.json')), 'utf8')) as {
      messages: { kind: string; payload: string }[];
    }
  ).messages.some((m) => m.kind === 'spdm' && m.payload.slice(2, 4) === 'e6');

for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.pcap'))
  .sort()) {
  if (!hasPsk(file)) continue;
  test(`dump --psk ${file}: the PSK session decrypted and decoded, in-session signatures verified`, (t) => {
    const plainDump = dumpCapture(read(file));
    const d = dumpCapture(read(file), { psk: PSK });
    assert.equal(d.summary.errors, 0);
    assert.deepEqual(
      d.packets.filter((p) => p.decodeError).map((p) => `#${p.index} ${p.decodeError}`),
      [],
    );
    assert.equal(d.summary.secured, plainDump.summary.secured);
    assert.deepEqual(d.summary.securedRecords, { decrypted: 536, undecrypted: 1068, failed: 0 });
    assert.deepEqual(plainDump.summary.securedRecords, { decrypted: 0, undecrypted: 1604, failed: 0 });
    // Same packets, same directions and pairing with or without decryption.
    assert.deepEqual(
      d.packets.map((p) => `${p.direction}${p.answers ?? ''}`),
      plainDump.packets.map((p) => `${p.direction}${p.answers ?? ''}`),
    );

    const decrypted = d.packets.filter((p) => p.secured?.status === 'decrypted');
    assert.ok(decrypted.every((p) => p.kind === 'secured' && p.version && p.fields && p.name !== 'SECURED_MESSAGE'));
    assert.deepEqual(
      [decrypted[0]?.name, decrypted[1]?.name, decrypted.at(-2)?.name, decrypted.at(-1)?.name],
      ['PSK_FINISH', 'PSK_FINISH_RSP', 'END_SESSION', 'END_SESSION_ACK'],
    );
    const ku = decrypted.find((p) => p.name === 'KEY_UPDATE');
    assert.equal(
      (ku?.fields as { operation?: number } | undefined)?.operation,
      2,
      'UpdateAllKeys, decoded field by field',
    );
    assert.equal(decrypted.find((p) => p.name === 'KEY_UPDATE_ACK')?.secured?.generation, 1);
    for (const p of decrypted) {
      if (p.direction === 'response') assert.equal(p.answers, p.index - 1);
    }
    // The PSK session's records say nothing more without the PSK.
    const pskRecords = plainDump.packets.filter((p) => /no PSK given/.test(p.secured?.reason ?? ''));
    assert.equal(pskRecords.length, 536);
    const kex = d.packets.filter((p) => p.secured?.status === 'undecrypted');
    assert.ok(kex.every((p) => /KEY_EXCHANGE session/.test(p.secured?.reason ?? '')));

    // MEASUREMENTS signed inside the session verify with A || the session's message_m.
    const inSession = d.packets.filter((p) => p.kind === 'secured' && p.signature);
    assert.ok(inSession.length > 0);
    assert.ok(inSession.every((p) => p.signature?.ok === true && p.signature.sessionId === 0xffffffff));
    assert.equal(d.summary.signatures.verified, plainDump.summary.signatures.verified + inSession.length);
    assert.equal(d.summary.signatures.failed, 0);

    const pskSession = d.sessions.find((s) => s.kind === 'psk');
    assert.equal(pskSession?.responderVerifyData, true);
    assert.equal(pskSession?.requesterVerifyData, true);
    assert.equal(d.packets.find((p) => p.name === 'PSK_EXCHANGE_RSP')?.session?.responderVerifyData, true);

    const text = formatDump(d);
    assert.match(
      text,
      /← KEY_UPDATE_ACK \(SPDM \d\.\d\) answers #\d+\n.*\n {4}secured: session 0xffffffff, decrypted with data keys gen 1, sequence 0;/,
    );
    assert.match(
      text,
      /session 0xffffffff \(psk, #\d+\): 536 decrypted, 0 not decrypted, 0 failed, ResponderVerifyData ok, RequesterVerifyData ok/,
    );
    assert.match(
      text,
      /response data key gen 1 \(after KEY_UPDATE\(UpdateAllKeys\)\) first used by KEY_UPDATE_ACK #\d+/,
    );
    assert.match(text, /not decrypted: KEY_EXCHANGE session/);
    JSON.stringify(d);
    t.diagnostic(
      `${file}: ${JSON.stringify(d.summary.securedRecords)}; ${inSession.length} in-session MEASUREMENTS signatures verified; ${d.summary.signatures.verified} signatures in all`,
    );
  });

  test(`dump --psk (wrong) ${file}: reported at PSK_EXCHANGE_RSP, counted as an error, nothing decrypted`, () => {
    const d = dumpCapture(read(file), { psk: parsePskArgument('ascii:TestPskData') });
    assert.equal(d.summary.errors, 1);
    assert.equal(d.summary.securedRecords.decrypted, 0);
    const rsp = d.packets.find((p) => p.name === 'PSK_EXCHANGE_RSP');
    assert.equal(rsp?.session?.responderVerifyData, false);
    assert.match(
      rsp?.session?.note ?? '',
      /^wrong PSK: ResponderVerifyData .* does not verify; it matches with a NUL byte appended/,
    );
    assert.equal(d.packets.filter((p) => /^wrong PSK/.test(p.secured?.reason ?? '')).length, 536);
    assert.match(formatDump(d), /ResponderVerifyData MISMATCH/);
  });
}

test('--psk forms: hex (0x, spaces, colons) and ascii: with \\0, \\\\, \\xNN escapes; bad ones are DecodeErrors', () => {
  const want = Buffer.from('TestPskData\0', 'latin1').toString('hex');
  for (const arg of [
    'ascii:TestPskData\\0',
    'ascii:TestPskData\\x00',
    want,
    `0x${want.toUpperCase()}`,
    '54:65:73:74:50:73:6b:44:61:74:61:00',
    '5465 7374 5073 6b44 6174 6100',
  ]) {
    assert.equal(Buffer.from(parsePskArgument(arg)).toString('hex'), want, arg);
  }
  assert.deepEqual([...parsePskArgument('ascii:a\\\\b')], [0x61, 0x5c, 0x62]);
  assert.deepEqual([...parsePskArgument('ascii:é')], [0xe9]);
  for (const bad of ['', 'ascii:', 'abc', 'zz', 'ascii:x\\q', 'ascii:\\x1', 'ascii:€']) {
    assert.throws(() => parsePskArgument(bad), DecodeError, JSON.stringify(bad));
  }
});

/**
 * The real command in its own process. (Patching this process's stdout instead would also swallow
 * the test runner's own reports, which travel on the same stream.)
 */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'bin', 'spdm.js'), ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test('spdm dump --psk on the command line: text and JSON, wrong PSK and bad argument exit codes', async () => {
  const file = join(dir, 'mctp-default.pcap');
  const ok = await cli(['dump', file, '--psk', 'ascii:TestPskData\\0']);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /1604 secured \(536 decrypted, 1068 not decrypted, 0 failed\), 0 errors/);
  assert.match(ok.out, /mctpMessageType=5/);
  const json = await cli(['dump', file, '--json', '--psk', '5465737450736b446174610' + '0']);
  assert.equal(json.code, 0);
  const d = JSON.parse(json.out) as Dump;
  assert.equal(d.summary.securedRecords.decrypted, 536);
  assert.equal(d.sessions.length, 3);
  const wrong = await cli(['dump', file, '--psk', 'ascii:nope']);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.out, /wrong PSK/);
  const bad = await cli(['dump', file, '--psk', 'xyz']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /--psk\.value/);
});
