/**
 * `spdm log import`: a genuine JSON Lines export of a signature log, damaged line by line (a
 * field of one line edited as JSON, lines dropped, duplicated or swapped, text edits), imported
 * into a real SQLite log. Outcome: an ImportResult or a typed SpdmError naming the line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import fc from 'fast-check';
import { openLog } from '../../../src/log/log.js';
import { collect, makeDevice } from '../../verifier/helpers.js';
import { jsonMutationArb, mutateJson, type JsonMutation } from '../json-mutate.js';
import { textFromJson, textToJson } from '../mutate.js';
import { defineTarget, expectTyped } from '../target.js';

interface LineEdit {
  readonly op: 'json' | 'drop' | 'duplicate' | 'swap' | 'blank';
  readonly line: number;
  readonly other: number;
  readonly json: JsonMutation;
}

const lineEditArb: fc.Arbitrary<LineEdit> = fc.record({
  op: fc.constantFrom<LineEdit['op']>('json', 'json', 'json', 'drop', 'duplicate', 'swap', 'blank'),
  line: fc.nat({ max: 63 }),
  other: fc.nat({ max: 63 }),
  json: jsonMutationArb(1),
});

function damage(lines: readonly string[], edits: readonly LineEdit[]): string {
  const out = [...lines];
  for (const e of edits) {
    if (out.length === 0) break;
    const i = e.line % out.length;
    const j = e.other % out.length;
    switch (e.op) {
      case 'json': {
        let doc: unknown;
        try {
          doc = JSON.parse(out[i] as string);
          out[i] = mutateJson(doc, e.json);
        } catch {
          // Not JSON any more, or nested too deep to copy (an earlier edit): edit it as text.
          out[i] = mutateJson(out[i], { ...e.json, tree: [] });
        }
        break;
      }
      case 'drop':
        out.splice(i, 1);
        break;
      case 'duplicate':
        out.splice(i, 0, out[i] as string);
        break;
      case 'swap':
        [out[i], out[j]] = [out[j] as string, out[i] as string];
        break;
      case 'blank':
        out[i] = '   ';
        break;
    }
  }
  return `${out.join('\n')}\n`;
}

async function exportText(file: string, keyFile: string): Promise<string> {
  const log = await openLog(file, { keyFile });
  try {
    const device = makeDevice();
    for (let k = 0; k < 3; k++) await log.appendEvidence({ ...(await collect(device)), device: `fuzz-${k}` });
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString('utf8');
        cb();
      },
    });
    await log.exportJsonl(sink);
    return text;
  } finally {
    await log.close();
  }
}

export const logImport = defineTarget<{ readonly text: string }>({
  name: 'log-import',
  what: 'spdm log import of a genuine export with line-level damage, into a real SQLite log',
  ciRuns: 150,
  prepare: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spdmkit-fuzz-log-'));
    const lines = (await exportText(join(dir, 'source.sqlite'), join(dir, 'source.key'))).trim().split('\n');
    const dest = await openLog(join(dir, 'dest.sqlite'), { keyFile: join(dir, 'dest.key') });
    return {
      arbitrary: fc.array(lineEditArb, { minLength: 1, maxLength: 3 }).map((edits) => ({ text: damage(lines, edits) })),
      run: async (i) => {
        await expectTyped(() => dest.importJsonl(Readable.from([i.text])));
      },
      dispose: async () => {
        await dest.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  toJson: (i) => textToJson(i.text),
  fromJson: (j) => ({ text: textFromJson(j) }),
});
