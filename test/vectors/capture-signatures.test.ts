/**
 * Known-answer test against DMTF libspdm: every CHALLENGE_AUTH and signed MEASUREMENTS signature
 * in the captured traffic is re-verified from the captured bytes alone — the transcript is rebuilt
 * with our codecs and transcript rules, the leaf key comes from the captured CERTIFICATE
 * responses, and the signature is checked with our signature code. If any rule (M1 = A||B||C,
 * L1 = [A||]message_m, the 1.2+ signing prefix, r||s encoding, PSS salt length) were wrong, these
 * signatures would not verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { libspdmVectors } from '../support/paths.js';
import { asymInfo, hashInfo } from '../../src/crypto/algorithms.js';
import { spdmVerify, SigningContext } from '../../src/crypto/signature.js';
import { fromHex, concat } from '../../src/wire/bytes.js';
import { peekHeader } from '../../src/spdm/header.js';
import { RequestCode, ResponseCode } from '../../src/spdm/codes.js';
import { Transcript } from '../../src/spdm/transcript.js';
import { decodeGetVersion, decodeVersion } from '../../src/spdm/messages/version.js';
import { decodeCapabilities, decodeGetCapabilities } from '../../src/spdm/messages/capabilities.js';
import { decodeAlgorithms, decodeNegotiateAlgorithms, OtherParams } from '../../src/spdm/messages/algorithms.js';
import { decodeDigests, decodeGetDigests } from '../../src/spdm/messages/digests.js';
import { decodeCertificate, decodeGetCertificate } from '../../src/spdm/messages/certificate.js';
import { decodeChallenge, decodeChallengeAuth } from '../../src/spdm/messages/challenge.js';
import { decodeGetMeasurements, decodeMeasurements } from '../../src/spdm/messages/measurements.js';
import { decodeSpdmCertChain } from '../../src/x509/spdm-chain.js';

interface CaptureMessage {
  kind: string;
  direction: 'request' | 'response';
  payload: string;
}

const dir = join(libspdmVectors(), 'captures');
const captures = readdirSync(dir).filter((f) => f.endsWith('.json'));

/** Replays the unsecured part of a capture, rebuilding transcripts and verifying every signature. */
function replay(file: string): { challenge: number; measurements: number; failures: string[] } {
  const msgs = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { messages: CaptureMessage[] }).messages.filter((m) => m.kind === 'spdm');
  let version = 0x10;
  let hashId = 0;
  let asymId = 0;
  let multiKey = false;
  let multiKeyOffered = false;
  let responderFlags = 0;
  const a = new Transcript();
  let b = new Transcript();
  let m = new Transcript();
  let certParts: Uint8Array[] = [];
  const leafKeys = new Map<number, X509Certificate['publicKey']>();
  let lastChallenge: ReturnType<typeof decodeChallenge> | undefined;
  let lastGetMeas: ReturnType<typeof decodeGetMeasurements> | undefined;
  let lastReq: Uint8Array | undefined;
  let challenge = 0;
  let measurements = 0;
  const failures: string[] = [];
  for (const msg of msgs) {
    const bytes = fromHex(msg.payload);
    const h = peekHeader(bytes);
    if (msg.direction === 'request') {
      if (h.code !== RequestCode.GET_MEASUREMENTS && h.code !== RequestCode.RESPOND_IF_READY) m = new Transcript(hashId || undefined);
      switch (h.code) {
        case RequestCode.GET_VERSION:
          a.clear();
          lastReq = decodeGetVersion(bytes).raw;
          break;
        case RequestCode.GET_CAPABILITIES:
          lastReq = decodeGetCapabilities(bytes).raw;
          break;
        case RequestCode.NEGOTIATE_ALGORITHMS: {
          const na = decodeNegotiateAlgorithms(bytes);
          multiKeyOffered = (na.otherParams & OtherParams.MULTI_KEY_CONN) !== 0;
          lastReq = na.raw;
          break;
        }
        case RequestCode.GET_DIGESTS:
          lastReq = decodeGetDigests(bytes).raw;
          break;
        case RequestCode.GET_CERTIFICATE:
          lastReq = decodeGetCertificate(bytes).raw;
          break;
        case RequestCode.CHALLENGE:
          lastChallenge = decodeChallenge(bytes);
          lastReq = lastChallenge.raw;
          break;
        case RequestCode.GET_MEASUREMENTS:
          lastGetMeas = decodeGetMeasurements(bytes);
          lastReq = lastGetMeas.raw;
          break;
        default:
          lastReq = undefined;
      }
      continue;
    }
    if (!lastReq) continue;
    const H = hashInfo(hashId)?.size ?? 0;
    const S = asymInfo(asymId)?.sigSize ?? 0;
    switch (h.code) {
      case ResponseCode.VERSION:
        a.append(lastReq, decodeVersion(bytes).raw);
        break;
      case ResponseCode.CAPABILITIES: {
        const c = decodeCapabilities(bytes);
        version = c.version;
        responderFlags = c.flags;
        a.append(lastReq, c.raw);
        break;
      }
      case ResponseCode.ALGORITHMS: {
        const al = decodeAlgorithms(bytes);
        hashId = al.baseHash;
        asymId = al.baseAsym;
        // Responder-side MULTI_KEY_CONN: multi-key-only responder, or negotiable and asked for by the requester.
        multiKey = version >= 0x13 && ((responderFlags & 0x04000000) !== 0 || ((responderFlags & 0x08000000) !== 0 && multiKeyOffered));
        a.append(lastReq, al.raw);
        a.setHash(hashId);
        break;
      }
      case ResponseCode.DIGESTS: {
        const d = decodeDigests(bytes, { hashSize: H, multiKeyConn: multiKey });
        b = new Transcript(hashId);
        b.append(lastReq, d.raw);
        certParts = [];
        break;
      }
      case ResponseCode.CERTIFICATE: {
        const c = decodeCertificate(bytes);
        b.append(lastReq, c.raw);
        certParts.push(c.portion);
        if (c.remainderLength === 0) {
          const chain = decodeSpdmCertChain(concat(certParts), version, H);
          leafKeys.set(c.slot, new X509Certificate(Buffer.from(chain.certificates.at(-1) as Uint8Array)).publicKey);
          certParts = [];
        }
        break;
      }
      case ResponseCode.CHALLENGE_AUTH: {
        const leafKey = lastChallenge ? leafKeys.get(lastChallenge.slot) : undefined;
        assert.ok(lastChallenge && leafKey, `${file}: CHALLENGE_AUTH before CHALLENGE and certificates`);
        const ca = decodeChallengeAuth(bytes, { hashSize: H, signatureSize: S, measurementSummaryHashRequested: lastChallenge.measurementSummaryHashType !== 0 });
        const m1 = a.fork();
        m1.append(...b.messages, lastChallenge.raw, ca.unsigned);
        const ok = spdmVerify(leafKey, asymId, { version, hashId, context: SigningContext.CHALLENGE_AUTH_RESPONDER, transcript: m1.messages }, ca.signature);
        if (!ok) failures.push(`CHALLENGE_AUTH #${challenge}`);
        challenge++;
        b = new Transcript(hashId);
        break;
      }
      case ResponseCode.MEASUREMENTS: {
        assert.ok(lastGetMeas, `${file}: MEASUREMENTS before GET_MEASUREMENTS`);
        const mr = decodeMeasurements(bytes, { signatureRequested: lastGetMeas.signatureRequested, signatureSize: S });
        if (!lastGetMeas.signatureRequested) {
          m.append(lastGetMeas.raw, mr.raw);
          break;
        }
        const leafKey = leafKeys.get(lastGetMeas.slot ?? 0);
        assert.ok(leafKey, `${file}: signed MEASUREMENTS without a certificate chain for slot ${lastGetMeas.slot ?? 0}`);
        const l = version >= 0x12 ? a.fork() : new Transcript(hashId);
        l.append(...m.messages, lastGetMeas.raw, mr.unsigned);
        const ok = spdmVerify(leafKey, asymId, { version, hashId, context: SigningContext.MEASUREMENTS, transcript: l.messages }, mr.signature as Uint8Array);
        if (!ok) failures.push(`MEASUREMENTS #${measurements} (message_m of ${m.messages.length / 2} pairs)`);
        measurements++;
        m = new Transcript(hashId);
        break;
      }
      case ResponseCode.ERROR:
        // An ERROR ends a measurement sequence on both sides (libspdm resets message_m).
        m = new Transcript(hashId || undefined);
        break;
      default:
        break;
    }
    lastReq = undefined;
  }
  return { challenge, measurements, failures };
}

for (const file of captures) {
  test(`libspdm capture ${file}: every CHALLENGE_AUTH and signed MEASUREMENTS signature re-verifies`, (t) => {
    const r = replay(file);
    t.diagnostic(`${r.challenge} CHALLENGE_AUTH, ${r.measurements} signed MEASUREMENTS`);
    assert.ok(r.challenge >= 1, 'capture has at least one CHALLENGE_AUTH');
    assert.ok(r.measurements >= 1, 'capture has at least one signed MEASUREMENTS');
    assert.deepEqual(r.failures, []);
  });
}
