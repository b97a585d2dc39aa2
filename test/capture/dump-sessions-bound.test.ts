/**
 * `spdm dump` on a capture that opens more sessions than LIMITS.captureSessionReports: the report
 * lists the latest ones and counts the rest, instead of keeping every session of the capture.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpCapture, formatDump } from '../../src/capture/dump.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { encodeKeyExchange, encodeKeyExchangeRsp } from '../../src/spdm/messages/key-exchange.js';
import { LIMITS } from '../../src/wire/limits.js';
import { vca } from './synthetic-sessions.js';
import { doeSpdm, filler, PcapWriter } from './synthetic-pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'spdmkit-dump-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('more KEY_EXCHANGE sessions than captureSessionReports: the latest are listed, the earlier counted', () => {
  const a = vca();
  const dec = new ConversationDecoder();
  a.forEach((m, i) => dec.feed(i % 2 === 0 ? 'request' : 'response', m));
  const v = 0x12;
  const ex = dec.exchangeDataSizes;
  const sig = dec.signatureSize;
  const h = dec.hashSize;
  assert.ok(ex && sig && h);
  const extra = 5;
  const n = LIMITS.captureSessionReports + extra;
  const path = join(dir, 'sessions.pcap');
  const w = new PcapWriter(path);
  for (const m of a) w.record(doeSpdm(m));
  for (let i = 0; i < n; i++) {
    w.record(
      doeSpdm(
        encodeKeyExchange(v, {
          measurementSummaryHashType: 0,
          slot: 0,
          reqSessionId: 1 + (i & 0x7fff),
          randomData: filler(32, i),
          exchangeData: filler(ex.request, 1),
        }),
      ),
    );
    w.record(
      doeSpdm(
        encodeKeyExchangeRsp(v, {
          heartbeatPeriod: 0,
          rspSessionId: 1 + (i >> 15),
          mutAuthRequested: 0,
          reqSlotIdParam: 0,
          randomData: filler(32, 2),
          exchangeData: filler(ex.response, 3),
          signature: filler(sig, 4),
          ...(dec.handshakeInTheClear ? {} : { responderVerifyData: filler(h, 5) }),
        }),
      ),
    );
  }
  w.close();
  const d = dumpCapture(new Uint8Array(readFileSync(path)));
  assert.deepEqual(d.packets.filter((p) => p.decodeError).slice(0, 1), []);
  assert.equal(d.summary.errors, 0);
  assert.equal(d.sessions.length, LIMITS.captureSessionReports);
  assert.equal(d.sessionsNotListed, extra);
  // The first listed is the (extra+1)th session: created by the response at record 6 + 2*extra + 1.
  assert.equal(d.sessions[0]?.createdAt, a.length + 2 * extra + 1);
  assert.equal(d.sessions.at(-1)?.createdAt, a.length + 2 * n - 1);
  assert.match(
    formatDump(d),
    new RegExp(
      `\\n${extra} earlier session\\(s\\) not listed \\(over the captureSessionReports limit of ${LIMITS.captureSessionReports}\\)\\n`,
    ),
  );
});
