/**
 * CI stand-in for interop with libspdm's requester: every captured request of the unsecured flow
 * (VCA, digests, certificates, challenge, measurements — libspdm's exact bytes, DOE padding and
 * all) is fed to our emulator, holding the same sample identity libspdm's responder had. Each of
 * our responses must be the kind libspdm's responder gave, decode under the negotiated state, and
 * every signature must verify under our requester-side transcript rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { libspdmVectors } from '../support/paths.js';
import { fromHex } from '../../src/wire/bytes.js';
import { peekHeader } from '../../src/spdm/header.js';
import { codeName, RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { ConversationDecoder } from '../../src/spdm/conversation.js';
import { SignatureTracker } from '../../src/capture/signatures.js';
import { Responder } from '../../src/responder/responder.js';
import type { DeviceProfile, MeasurementSource } from '../../src/responder/profile.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import { CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { splitDerCertificates } from '../../src/x509/der.js';

interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response' | 'unknown';
  payload: string;
}

/** The requests our emulator implements; the rest of the clear-text flow (encapsulated, CSR...) belongs to later work. */
const IN_SCOPE = new Set<number>([
  RequestCode.GET_VERSION,
  RequestCode.GET_CAPABILITIES,
  RequestCode.NEGOTIATE_ALGORITHMS,
  RequestCode.GET_DIGESTS,
  RequestCode.GET_CERTIFICATE,
  RequestCode.CHALLENGE,
  RequestCode.GET_MEASUREMENTS,
]);

const KEY_DIR: Record<number, string> = { 0x10: 'ecp256', 0x80: 'ecp384', 0x08: 'rsa3072', 0x04: 'rsa3072' };

/** Our emulator configured like libspdm's responder in the capture: versions, algorithms, slots, measurement blocks. */
function profileFor(msgs: CaptureMessage[]): DeviceProfile {
  const d = new ConversationDecoder();
  let versions: number[] = [];
  let hash = 0;
  let asym = 0;
  let measHash = 0;
  let slotMask = 1;
  let largeResp = 0;
  const blocks = new Map<number, MeasurementSource>();
  for (const m of msgs) {
    if (m.direction === 'unknown') continue;
    const x = d.feed(m.direction, fromHex(m.payload));
    // libspdm's responder sets LARGE_RESP_CAP at 1.4, and its requester then reads the chain in the
    // LargeCertChain form, which our emulator answers only when it has the capability too.
    if (x.kind === 'CAPABILITIES' && m.direction === 'response') largeResp = x.msg.flags & CapabilityFlag.LARGE_RESP;
    if (x.kind === 'VERSION') versions = x.msg.entries.map((e) => (e.major << 4) | e.minor);
    if (x.kind === 'ALGORITHMS') {
      hash = x.msg.baseHash;
      asym = x.msg.baseAsym;
      measHash = x.msg.measurementHash;
    }
    if (x.kind === 'DIGESTS') slotMask = x.msg.provisionedSlotMask;
    if (x.kind === 'MEASUREMENTS') {
      for (const b of x.msg.blocks) {
        if (!b.dmtf) continue;
        blocks.set(b.index, {
          index: b.index,
          type: b.dmtf.type,
          value: b.dmtf.value,
          ...(b.dmtf.raw ? { alwaysRaw: true } : { digest: true }),
        });
      }
    }
  }
  const dir = join(libspdmVectors(), 'keys', KEY_DIR[asym] ?? 'missing');
  const certificates = splitDerCertificates(new Uint8Array(readFileSync(join(dir, 'bundle_responder.certchain.der'))));
  const privateKey = createPrivateKey(readFileSync(join(dir, 'end_responder.key')));
  const slots = [];
  for (let s = 0; s < 8; s++) if (slotMask & (1 << s)) slots.push({ slot: s, certificates, privateKey, asymId: asym });
  return {
    name: 'libspdm-replay',
    versions,
    capabilities: {
      flags: (DEFAULT_RESPONDER_FLAGS | largeResp) >>> 0,
      ctExponent: 14,
      dataTransferSize: 0x1200,
      maxSpdmMsgSize: 0x1200,
    },
    algorithms: { baseHash: [hash], measurementHash: measHash },
    slots,
    measurements: [...blocks.values()],
  };
}

const dir = join(libspdmVectors(), 'captures');

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  test(`libspdm requester traffic from ${file} replayed against our emulator`, async (t) => {
    const all = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { messages: CaptureMessage[] }).messages;
    // The unsecured flow: everything before the first secured record.
    const firstSecured = all.findIndex((m) => m.kind === 'secured-spdm');
    const msgs = all.slice(0, firstSecured < 0 ? all.length : firstSecured).filter((m) => m.kind === 'spdm');
    const responder = new Responder(profileFor(msgs));
    const decoder = new ConversationDecoder();
    const tracker = new SignatureTracker();
    let answered = 0;
    let signatures = 0;
    for (let i = 0; i < msgs.length; i++) {
      const req = msgs[i]!;
      if (req.direction !== 'request') continue;
      const reqBytes = fromHex(req.payload);
      const code = peekHeader(reqBytes).code;
      if (!IN_SCOPE.has(code)) continue;
      const theirs = msgs[i + 1];
      assert.equal(theirs?.direction, 'response', `request #${i} has a captured response`);
      const ours = await responder.handle(reqBytes);
      const theirCode = peekHeader(fromHex(theirs.payload)).code;
      const ourCode = peekHeader(ours).code;
      assert.equal(
        codeName(ourCode),
        codeName(theirCode),
        `#${i} ${codeName(code)}: libspdm answered ${codeName(theirCode)}, we answered ${codeName(ourCode)}`,
      );
      tracker.observe(decoder.feed('request', reqBytes));
      const f = tracker.observe(decoder.feed('response', ours));
      if (f) {
        assert.equal(f.ok, true, `#${i} ${f.kind} signature: ${f.reason ?? ''}`);
        signatures++;
      }
      if (ourCode !== ResponseCode.ERROR) answered++;
    }
    t.diagnostic(`${answered} requests answered like libspdm's responder, ${signatures} signatures verified`);
    assert.ok(signatures >= 2);
  });
}
