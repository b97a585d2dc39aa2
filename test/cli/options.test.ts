/** The CLI's one exit-code table and its one set of option parsers: a bad value is exit 2 in every command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommanderError, InvalidArgumentError } from 'commander';
import { EXIT, exitCodeForError } from '../../src/cli/exit-codes.js';
import {
  dateArg,
  hostPortArg,
  msArg,
  nonNegativeIntArg,
  nonceArg,
  parseHostPort,
  portArg,
  slotArg,
} from '../../src/cli/options.js';
import { main } from '../../src/cli/main.js';
import { SpdmError } from '../../src/wire/errors.js';
import { LIMITS } from '../../src/wire/limits.js';

const invalid = (e: unknown) => e instanceof InvalidArgumentError;

test('exit codes: 0 ok/trusted, 1 failed/untrusted, 2 usage, 3 unreachable', () => {
  assert.deepEqual(EXIT, { OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 });
  assert.equal(exitCodeForError(new CommanderError(1, 'commander.unknownOption', 'x')), EXIT.USAGE);
  assert.equal(exitCodeForError(new CommanderError(0, 'commander.helpDisplayed', '')), EXIT.OK);
  assert.equal(exitCodeForError(new InvalidArgumentError('bad')), EXIT.USAGE);
  assert.equal(exitCodeForError(new SpdmError('DECODE_ERROR', 'bad profile')), EXIT.USAGE);
  assert.equal(exitCodeForError(new TypeError('a bug')), undefined);
});

test('integer parsers take whole numbers in range and nothing else', () => {
  assert.equal(nonNegativeIntArg('0'), 0);
  assert.equal(nonNegativeIntArg('42'), 42);
  for (const bad of ['-1', '1.5', '1e3', '0x10', '', ' ', 'ten', '9007199254740993'])
    assert.throws(() => nonNegativeIntArg(bad), invalid, bad);
  assert.equal(portArg('0'), 0);
  assert.equal(portArg('65535'), 65535);
  assert.throws(() => portArg('65536'), invalid);
  assert.equal(slotArg('7'), 7);
  assert.throws(() => slotArg('8'), invalid);
  assert.equal(msArg(String(LIMITS.maxTimerMs)), LIMITS.maxTimerMs);
  assert.throws(() => msArg('0'), invalid);
  assert.throws(() => msArg(String(LIMITS.maxTimerMs + 1)), invalid);
});

test('nonce, date and HOST:PORT parsers', () => {
  const nonce = 'ab'.repeat(32);
  assert.equal(nonceArg(nonce), nonce);
  assert.equal(nonceArg(`0x${nonce}`), `0x${nonce}`);
  assert.throws(() => nonceArg('abc'), invalid);
  assert.throws(() => nonceArg(`${nonce}00`), invalid);
  assert.equal(dateArg('2026-03-01T12:00:00Z'), '2026-03-01T12:00:00Z');
  assert.throws(() => dateArg('yesterday'), invalid);
  assert.deepEqual(parseHostPort('[::1]:2323'), { host: '::1', port: 2323 });
  assert.deepEqual(parseHostPort('localhost:1'), { host: 'localhost', port: 1 });
  assert.equal(hostPortArg('127.0.0.1:2323'), '127.0.0.1:2323');
  for (const bad of ['nonsense', '127.0.0.1:0', '127.0.0.1:99999', ':2323'])
    assert.throws(() => hostPortArg(bad), invalid, bad);
});

test('every command refuses a bad option value with exit 2, before it runs', async () => {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = (s: string | Uint8Array) => ((stderr += String(s)), true);
  try {
    const runs: string[][] = [
      ['emulate', '--port', '-1'],
      ['emulate', '--hostile', 'list', '--variant', '1.5'],
      ['authenticate', '--connect', 'nonsense'],
      ['authenticate', '--connect', '127.0.0.1:1', '--slot', '8'],
      ['authenticate', '--connect', '127.0.0.1:1', '--max-wait', '0'],
      ['authenticate', '--connect', '127.0.0.1:1', '--deadline', String(LIMITS.maxTimerMs + 1)],
      ['authenticate', '--connect', '127.0.0.1:1', '--nonce', 'abc'],
      ['verify', 'evidence.json', '--trust', 'ca.pem', '--nonce', 'abc'],
      ['verify', 'evidence.json', '--trust', 'ca.pem', '--now', 'yesterday'],
      ['log', 'show', '--from', '-1'],
      ['log', 'verify', '--workers', 'many'],
      ['authenticate', '--no-such-option'],
    ];
    for (const argv of runs) assert.equal(await main(argv), EXIT.USAGE, argv.join(' '));
  } finally {
    process.stderr.write = write;
  }
  assert.match(stderr, /option '--slot <n>' argument '8' is invalid\. wants an integer from 0 to 7\./);
  assert.match(stderr, /option '--connect <host:port>' argument 'nonsense' is invalid\. wants HOST:PORT/);
});
