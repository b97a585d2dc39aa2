/**
 * Every strict prefix of every encoded message in the corpus must be rejected with a DecodeError
 * (code DECODE_ERROR, message name set): never a RangeError/TypeError, never a silent success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../src/wire/errors.js';
import { SAMPLES } from './samples.js';

function decodeFailure(decode: () => unknown): DecodeError | undefined {
  try {
    decode();
    return undefined;
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
}

for (const s of SAMPLES) {
  test(`truncation: ${s.name} (${s.bytes.length} bytes)`, () => {
    for (let n = 0; n < s.bytes.length; n++) {
      const prefix = s.bytes.slice(0, n);
      if (!s.selfDelimiting && n >= 4) {
        // Vendor-defined ERROR: the extended data runs to the end of the message, so a prefix
        // that keeps the header is a valid ERROR with less extended data.
        const m = s.decode(prefix);
        assert.equal(m.raw.length, n);
        continue;
      }
      if (s.prefixDecodes?.(n)) {
        const m = s.decode(prefix);
        assert.ok(m.raw.length <= n, `${s.name}: the ${n}-byte prefix decodes within itself`);
        continue;
      }
      const err = decodeFailure(() => s.decode(prefix));
      assert.ok(err, `${s.name}: the ${n}-byte prefix decoded`);
      assert.equal(err.code, 'DECODE_ERROR');
      assert.ok(err.messageName.startsWith(s.messageName), `${s.name}: messageName ${err.messageName}`);
      assert.ok(err.field.length > 0, `${s.name}: field named`);
      assert.ok(err.offset >= 0 && err.offset <= n, `${s.name}: offset ${err.offset} within the ${n} bytes`);
    }
  });
}
