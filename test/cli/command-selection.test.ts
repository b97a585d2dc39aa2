/**
 * A run that names its command registers only that command (main.ts, for the cold start): the
 * name must lead to the registration that defines it, or `spdm NAME` would be an unknown command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMAND_GROUPS, INLINE_COMMANDS } from '../../src/cli/main.js';
import { spdm } from '../support/cli.js';

test('each command group registers exactly the top-level names main() selects it by', async () => {
  for (const group of COMMAND_GROUPS) {
    const program = new Command();
    await group.register(program, () => {});
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      [...group.names],
    );
  }
});

test('every command `spdm --help` lists is known by name, and `spdm NAME --help` is its own help', async () => {
  const all = await spdm(['--help']);
  assert.equal(all.code, 0);
  const listed = [...all.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const known = [...INLINE_COMMANDS, ...COMMAND_GROUPS.flatMap((g) => g.names)];
  assert.deepEqual(listed, known, 'the help order is the order the names are declared in');
  for (const name of known) {
    const r = await spdm([name, '--help']);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: spdm ${name} `), name);
  }
});

test('a misspelt command still gets the suggestion drawn from every command', async () => {
  const r = await spdm(['authenticat']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'authenticat'\n\(Did you mean authenticate\?\)/);
});
