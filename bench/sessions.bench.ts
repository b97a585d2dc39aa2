/**
 * Secure sessions (issue 12, item 4): handshakes per second in-process (requester ⇄ emulator),
 * against the crypto floor of the same handshake with raw node:crypto; and the record layer's
 * application-data throughput against raw AEAD on the same buffers.
 *
 * One KEY_EXCHANGE handshake = KEY_EXCHANGE, FINISH (inside the session, handshake keys),
 * END_SESSION (data keys), on a connection that has its VCA and certificate chain already. Its
 * floor, both sides:
 *
 *   ECDHE      each side generates a key pair and derives the shared secret
 *   signature  the emulator signs prefix ‖ Hash(TH) for KEY_EXCHANGE_RSP, the requester verifies
 *   hashes     one running transcript hash per side, four digests of it (TH for the signature,
 *              TH1, TH for RequesterVerifyData, TH2)
 *   HMAC       the key schedule, 18 HMAC-based HKDF steps per side (Extract; req/rsp handshake
 *              secrets; their keys, IVs and finished keys; derived salt and master secret;
 *              req/rsp data secrets, export master secret; their keys and IVs), plus
 *              ResponderVerifyData and RequesterVerifyData computed by one side, checked by the other
 *   AEAD       FINISH, FINISH_RSP, END_SESSION, END_SESSION_ACK: each sealed and opened once
 *   random     ReqRandom, RspRandom
 *
 * PSK_EXCHANGE + PSK_FINISH: the same without ECDHE and signature (the handshake secret is
 * extracted from the PSK; PSK contexts instead of randoms), three digests per side.
 *
 * Record layer: one SPDM application message of 4 KiB, and of the largest size one record
 * carries (65,504 B: the record's Length is 16 bits), sealed by the requester's SecureSession and
 * opened by the emulator's (DOE layout), against createCipheriv/createDecipheriv of the same
 * plaintext with the same AAD. MB/s of application data per CPU second.
 *
 *   npm run build && node dist/bench/sessions.bench.js [--json]
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPublicKey,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type CipherGCMTypes,
  type KeyObject,
} from 'node:crypto';
import { AeadAlgo, aeadInfo } from '../src/crypto/aead.js';
import { DheGroup } from '../src/crypto/dhe.js';
import { combinedPrefix, SigningContext } from '../src/crypto/signature.js';
import { CapabilityFlag as F } from '../src/spdm/messages/capabilities.js';
import { buildProfile, DEFAULT_RESPONDER_FLAGS } from '../src/responder/profiles.js';
import type { DeviceProfile } from '../src/responder/profile.js';
import { Responder } from '../src/responder/responder.js';
import { Requester } from '../src/requester/requester.js';
import { LoopbackTransport } from '../src/transport/loopback.js';
import type { SpdmHandler } from '../src/transport/transport.js';
import { SecureSession } from '../src/session/secure-session.js';
import { deriveDataSecrets } from '../src/session/key-schedule.js';
import { compare, measure, measureSync, Report, SECONDS, warmUp } from './harness.js';
import { censusPerRun, formatCensus } from './crypto-census.js';
import { formatBuckets, profileBuckets } from './profile.js';

const VERSION = 0x13;
const HANDSHAKE_TARGET = { op: '<=', ratio: 1.15 } as const;
const RECORD_TARGET = { op: '>=', ratio: 0.8 } as const;
/** The least untimed running of each side before it is compared (harness warmUp goes on until steady). */
const WARMUP_SECONDS = Math.min(SECONDS, 1) / 2;

const SUITES = [
  {
    name: 'ECDSA-P256/SHA-256, secp256r1',
    asymId: 0x0010,
    hashId: 0x01,
    hash: 'sha256',
    dhe: DheGroup.SECP256R1,
    curve: 'prime256v1',
  },
  {
    name: 'ECDSA-P384/SHA-384, secp384r1',
    asymId: 0x0080,
    hashId: 0x02,
    hash: 'sha384',
    dhe: DheGroup.SECP384R1,
    curve: 'secp384r1',
  },
] as const;
type Suite = (typeof SUITES)[number];

const PSK = new Uint8Array(Buffer.from('TestPskData\0', 'latin1'));
const SESSION_FLAGS = F.ENCRYPT | F.MAC | F.KEY_EX | F.HBEAT;
const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | SESSION_FLAGS | F.PSK_WITH_CONTEXT;
const REQ_FLAGS = F.CERT | F.CHAL | SESSION_FLAGS | F.PSK_NO_CONTEXT;

function sessionProfile(s: Suite, aead: number): DeviceProfile {
  const base = buildProfile({
    name: `sessions ${s.name}`,
    versions: [VERSION],
    asymId: s.asymId,
    hashId: s.hashId,
  }).profile;
  return {
    ...base,
    capabilities: { ...base.capabilities, flags: RSP_FLAGS },
    algorithms: { ...base.algorithms, dhe: [s.dhe], aead: [aead] },
    session: { psk: [{ hint: new Uint8Array(0), key: PSK }] },
  };
}

interface Seen {
  clear: { request: Uint8Array; response: Uint8Array }[];
}

/** A connected requester (VCA, digests, chain) against its own emulator; what went in the clear is kept. */
async function connectedPair(profile: DeviceProfile): Promise<{ requester: Requester; seen: Seen }> {
  const responder = new Responder(profile, { securedBinding: 'doe' });
  const seen: Seen = { clear: [] };
  // The emulator's within-the-call paths, as a LoopbackTransport over the Responder itself takes
  // them (without them every message paid the promise hops and deadline race of a handler that may wait).
  const handleNow = (request: Uint8Array): Uint8Array => {
    const response = responder.handleNow(request);
    if (seen.clear.length < 64) seen.clear.push({ request: request.slice(), response: response.slice() });
    return response;
  };
  const handler: SpdmHandler = {
    handle: async (request) => handleNow(request),
    handleNow,
    handleSecured: (record) => responder.handleSecured(record),
    handleSecuredNow: (record) => responder.handleSecuredNow(record),
  };
  const requester = new Requester(new LoopbackTransport(handler, 0x10000, { securedBinding: 'doe' }), {
    versions: [VERSION],
    capabilityFlags: REQ_FLAGS,
    session: {},
  });
  await requester.connect();
  await requester.getDigests();
  await requester.getCertificateChain(0);
  return { requester, seen };
}

// ---------------------------------------------------------------------------------------------
// The raw floor

const hmac = (h: string, key: Uint8Array, data: Uint8Array) => createHmac(h, key).update(data).digest();

/** BinConcat(length, "spdm1.3 " ‖ label, context), as DSP0274's key schedule builds HKDF's info. */
function info(length: number, label: string, context?: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.of(length & 0xff, length >> 8),
    Buffer.from(`spdm1.3 ${label}`, 'latin1'),
    context ?? Buffer.alloc(0),
  ]);
}

/** HKDF-Expand for at most HashLen bytes: one HMAC. */
const expand = (h: string, prk: Uint8Array, label: string, length: number, context?: Uint8Array) =>
  hmac(h, prk, Buffer.concat([info(length, label, context), Buffer.of(1)])).subarray(0, length);

interface Keys {
  key: Buffer;
  iv: Buffer;
}
interface Handshake {
  hs: Buffer;
  req: Keys;
  rsp: Keys;
  reqFinished: Buffer;
  rspFinished: Buffer;
}

function traffic(h: string, secret: Buffer, keySize: number): Keys {
  return { key: expand(h, secret, 'key', keySize), iv: expand(h, secret, 'iv', 12) };
}

function handshakeKeys(
  h: string,
  size: number,
  keySize: number,
  ikm: Uint8Array,
  th1: Buffer,
  salt: Buffer,
): Handshake {
  const hs = hmac(h, salt, ikm);
  const req = expand(h, hs, 'req hs data', size, th1);
  const rsp = expand(h, hs, 'rsp hs data', size, th1);
  return {
    hs,
    req: traffic(h, req, keySize),
    rsp: traffic(h, rsp, keySize),
    reqFinished: expand(h, req, 'finished', size),
    rspFinished: expand(h, rsp, 'finished', size),
  };
}

function dataKeys(h: string, size: number, keySize: number, hs: Buffer, th2: Buffer): { req: Keys; rsp: Keys } {
  const salt1 = expand(h, hs, 'derived', size);
  const ms = hmac(h, salt1, Buffer.alloc(size));
  const req = traffic(h, expand(h, ms, 'req app data', size, th2), keySize);
  const rsp = traffic(h, expand(h, ms, 'rsp app data', size, th2), keySize);
  expand(h, ms, 'exp master', size, th2);
  return { req, rsp };
}

/** Seal under `from`, open with the same keys (the other side's copy): one record each way of the floor. */
function sealOpen(alg: CipherGCMTypes | 'chacha20-poly1305', k: Keys, aad: Uint8Array, plain: Uint8Array): void {
  const c = createCipheriv(alg as CipherGCMTypes, k.key, k.iv, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plain.length });
  // GCM and ChaCha20-Poly1305 are stream modes: update() returns all of it, final() nothing.
  const ct = c.update(plain);
  c.final();
  const tag = c.getAuthTag();
  const d = createDecipheriv(alg as CipherGCMTypes, k.key, k.iv, { authTagLength: 16 });
  d.setAuthTag(tag);
  d.setAAD(aad, { plaintextLength: ct.length });
  d.update(ct);
  d.final();
}

function primitive(s: Suite) {
  return { alg: s.hash, opts: { dsaEncoding: 'ieee-p1363' as const } };
}

const RECORD_AAD = Buffer.alloc(6);
/** FINISH (header + RequesterVerifyData), FINISH_RSP, END_SESSION, END_SESSION_ACK plaintexts: 2 + message. */
const plain = (n: number) => Buffer.alloc(2 + n);

function keyExchangeFloor(
  s: Suite,
  aeadNode: string,
  keySize: number,
  seen: Seen,
  keys: { privateKey: KeyObject; publicKey: KeyObject },
) {
  const h = s.hash;
  const size = createHash(h).digest().length;
  const vca = Buffer.concat(seen.clear.slice(0, 3).flatMap((c) => [c.request, c.response]));
  const ke = seen.clear.find((c) => c.request[1] === 0xe4);
  if (!ke) throw new Error('no KEY_EXCHANGE seen');
  const sigSize = s.asymId === 0x0010 ? 64 : 96;
  // KEY_EXCHANGE_RSP: ... signature, then ResponderVerifyData (HashLen) at the end.
  const rspBeforeSig = ke.response.subarray(0, ke.response.length - size - sigSize);
  const certChainHash = Buffer.alloc(size, 7);
  const prefix = combinedPrefix(VERSION, SigningContext.KEY_EXCHANGE_RSP);
  const { alg, opts } = primitive(s);
  const salt0 = Buffer.alloc(size);
  const finishHeader = Buffer.alloc(4);
  const aead = aeadNode as CipherGCMTypes;
  return () => {
    // requester: KEY_EXCHANGE
    randomBytes(32);
    const q = createECDH(s.curve);
    const qPub = q.generateKeys();
    // emulator: KEY_EXCHANGE_RSP
    randomBytes(32);
    const r = createECDH(s.curve);
    const rPub = r.generateKeys();
    const rShared = r.computeSecret(qPub);
    const rTh = createHash(h).update(vca).update(certChainHash).update(ke.request).update(rspBeforeSig);
    const sig = sign(alg, Buffer.concat([prefix, rTh.copy().digest()]), { key: keys.privateKey, ...opts });
    rTh.update(sig);
    const rTh1 = rTh.copy().digest();
    const rHs = handshakeKeys(h, size, keySize, rShared, rTh1, salt0);
    const rvd = hmac(h, rHs.rspFinished, rTh1);
    rTh.update(rvd);
    // requester: check KEY_EXCHANGE_RSP
    const qShared = q.computeSecret(rPub);
    const qTh = createHash(h).update(vca).update(certChainHash).update(ke.request).update(rspBeforeSig);
    if (!verify(alg, Buffer.concat([prefix, qTh.copy().digest()]), { key: keys.publicKey, ...opts }, sig))
      throw new Error('floor: KEY_EXCHANGE_RSP does not verify');
    qTh.update(sig);
    const qTh1 = qTh.copy().digest();
    const qHs = handshakeKeys(h, size, keySize, qShared, qTh1, salt0);
    if (!timingSafeEqual(hmac(h, qHs.rspFinished, qTh1), rvd)) throw new Error('floor: ResponderVerifyData');
    qTh.update(rvd);
    // FINISH: RequesterVerifyData, sealed under the request handshake keys, opened and checked.
    qTh.update(finishHeader);
    const rqvd = hmac(h, qHs.reqFinished, qTh.copy().digest());
    qTh.update(rqvd);
    sealOpen(aead, qHs.req, RECORD_AAD, plain(4 + size));
    rTh.update(finishHeader);
    if (!timingSafeEqual(hmac(h, rHs.reqFinished, rTh.copy().digest()), rqvd))
      throw new Error('floor: RequesterVerifyData');
    rTh.update(rqvd);
    // FINISH_RSP under the response handshake keys; both sides' TH2 and data keys.
    sealOpen(aead, rHs.rsp, RECORD_AAD, plain(4));
    rTh.update(finishHeader);
    qTh.update(finishHeader);
    const rData = dataKeys(h, size, keySize, rHs.hs, rTh.digest());
    dataKeys(h, size, keySize, qHs.hs, qTh.digest());
    // END_SESSION and its ACK under the data keys.
    sealOpen(aead, rData.req, RECORD_AAD, plain(4));
    sealOpen(aead, rData.rsp, RECORD_AAD, plain(4));
  };
}

function pskFloor(s: Suite, aeadNode: string, keySize: number, seen: Seen) {
  const h = s.hash;
  const size = createHash(h).digest().length;
  const vca = Buffer.concat(seen.clear.slice(0, 3).flatMap((c) => [c.request, c.response]));
  const px = seen.clear.find((c) => c.request[1] === 0xe6);
  if (!px) throw new Error('no PSK_EXCHANGE seen');
  const rspBeforeVerify = px.response.subarray(0, px.response.length - size);
  // SPDM 1.3: Salt_0 for a PSK is HashLen bytes of 0xFF.
  const salt0 = Buffer.alloc(size, 0xff);
  const header = Buffer.alloc(4);
  const aead = aeadNode as CipherGCMTypes;
  return () => {
    randomBytes(32); // requester context
    randomBytes(32); // emulator context
    const rTh = createHash(h).update(vca).update(px.request).update(rspBeforeVerify);
    const rTh1 = rTh.copy().digest();
    const rHs = handshakeKeys(h, size, keySize, PSK, rTh1, salt0);
    const rvd = hmac(h, rHs.rspFinished, rTh1);
    rTh.update(rvd);
    const qTh = createHash(h).update(vca).update(px.request).update(rspBeforeVerify);
    const qTh1 = qTh.copy().digest();
    const qHs = handshakeKeys(h, size, keySize, PSK, qTh1, salt0);
    if (!timingSafeEqual(hmac(h, qHs.rspFinished, qTh1), rvd)) throw new Error('floor: ResponderVerifyData');
    qTh.update(rvd);
    qTh.update(header);
    const rqvd = hmac(h, qHs.reqFinished, qTh.copy().digest());
    qTh.update(rqvd);
    sealOpen(aead, qHs.req, RECORD_AAD, plain(4 + size));
    rTh.update(header);
    if (!timingSafeEqual(hmac(h, rHs.reqFinished, rTh.copy().digest()), rqvd))
      throw new Error('floor: RequesterVerifyData');
    rTh.update(rqvd);
    sealOpen(aead, rHs.rsp, RECORD_AAD, plain(4));
    rTh.update(header);
    qTh.update(header);
    const rData = dataKeys(h, size, keySize, rHs.hs, rTh.digest());
    dataKeys(h, size, keySize, qHs.hs, qTh.digest());
    sealOpen(aead, rData.req, RECORD_AAD, plain(4));
    sealOpen(aead, rData.rsp, RECORD_AAD, plain(4));
  };
}

// ---------------------------------------------------------------------------------------------

const report = new Report('spdmkit sessions bench');
/**
 * `--section handshakes` or `--section records` runs one of the two (bench/run.ts runs each in a
 * process of its own); without it, both. The record figures came out lower after the handshakes
 * in the same process: its garbage collections were about three times as costly (353 scavenges,
 * 3.2 s, against 295 and 0.9 s in a fresh process; 164 mark-compacts against 8), and raw 64 KiB
 * AES-256-GCM fell from 1,100-1,300 MB/s to 500-650, the stack's extra record buffer hit harder.
 */
const sectionArg = process.argv.indexOf('--section');
const only = sectionArg >= 0 ? process.argv[sectionArg + 1] : undefined;
if (only !== undefined && only !== 'handshakes' && only !== 'records') {
  process.stderr.write('sessions bench: --section takes handshakes or records\n');
  process.exit(2);
}
const runs = (section: 'handshakes' | 'records') => only === undefined || only === section;
/**
 * The censuses and profiles, run after the last timed figure. Profiled in the middle of the
 * records section (a node:inspector session over the 4 KiB round trip), every figure after it
 * came out at about half its speed, raw AEAD as much as the stack: 64 KiB raw AES-256-GCM
 * 1,144-1,244 MB/s without it, 588-636 with (and the ratios fell, x0.78-0.81 to x0.67-0.68).
 */
const DIAGNOSTICS: (() => Promise<void>)[] = [];
if (runs('handshakes')) {
  report.section(
    'sessions',
    'Session handshakes in-process, SPDM 1.3, AES-256-GCM, CPU µs per handshake (both sides) against the raw floor',
  );

  for (const s of SUITES) {
    const profile = sessionProfile(s, AeadAlgo.AES_256_GCM);
    const slot = profile.slots[0]!;
    const keys = { privateKey: slot.privateKey, publicKey: createPublicKey(slot.privateKey) };
    const a = aeadInfo(AeadAlgo.AES_256_GCM)!;
    const { requester, seen } = await connectedPair(profile);
    const ke = async () => {
      const session = await requester.startSession();
      await session.end();
    };
    const psk = async () => {
      const session = await requester.startSession({ psk: { key: PSK } });
      await session.end();
    };
    // One of each first: the floors are built from the messages they exchanged.
    await ke();
    await psk();
    const keFl = keyExchangeFloor(s, 'aes-256-gcm', a.keySize, seen, keys);
    const pskFloorFn = pskFloor(s, 'aes-256-gcm', a.keySize, seen);
    // Steady state, both sides: compare() warms each side up by three runs only, and the stack's
    // code is still being compiled (on V8's compiler threads, whose CPU time process.cpuUsage
    // counts) for its first few hundred handshakes, which doubled the PSK figure of the first suite:
    // each side runs until its cost per handshake has settled.
    for (const fn of [ke, psk]) await warmUp({ async: fn }, WARMUP_SECONDS);
    for (const fn of [keFl, pskFloorFn]) await warmUp({ sync: fn }, WARMUP_SECONDS);
    const [keStack, keFloor] = await compare({ async: ke }, { sync: keFl });
    report.add({
      name: `KEY_EXCHANGE+FINISH+END ${s.name}: CPU`,
      value: keStack.cpuUs,
      unit: 'µs',
      baseline: { name: 'floor', value: keFloor.cpuUs },
      target: HANDSHAKE_TARGET,
    });
    report.add({
      name: `KEY_EXCHANGE+FINISH+END ${s.name}: rate`,
      value: keStack.perSecond,
      unit: '/s',
      baseline: { name: 'floor', value: keFloor.perSecond },
    });
    const [pskStack, pskFl] = await compare({ async: psk }, { sync: pskFloorFn });
    report.add({
      name: `PSK_EXCHANGE+PSK_FINISH+END ${s.hash.toUpperCase()}: CPU`,
      value: pskStack.cpuUs,
      unit: 'µs',
      baseline: { name: 'floor', value: pskFl.cpuUs },
      target: HANDSHAKE_TARGET,
    });
    report.add({
      name: `PSK_EXCHANGE+PSK_FINISH+END ${s.hash.toUpperCase()}: rate`,
      value: pskStack.perSecond,
      unit: '/s',
      baseline: { name: 'floor', value: pskFl.perSecond },
    });
    if (s.dhe === DheGroup.SECP256R1) {
      // The cheap group shows the overhead best: what the stack asks of node:crypto, and where the
      // time goes (once every figure is timed, see DIAGNOSTICS).
      DIAGNOSTICS.push(async () => handshakeDiagnostics(s, ke, psk));
    }
  }
}

async function handshakeDiagnostics(s: Suite, ke: () => Promise<void>, psk: () => Promise<void>): Promise<void> {
  report.section('sessions');
  const census: Record<string, unknown> = {};
  const profiles: Record<string, unknown> = {};
  for (const [label, fn] of [
    ['KEY_EXCHANGE', ke],
    ['PSK', psk],
  ] as const) {
    const c = await censusPerRun(5, fn);
    census[label] = c;
    report.note(`  census of one ${label} handshake (${s.name}):`);
    for (const line of formatCensus(c)) report.note(line);
    const timed = await measure(fn, { seconds: Math.min(SECONDS, 1) });
    const { buckets, functions } = await profileBuckets(fn, Math.max(SECONDS, 1));
    profiles[label] = { cpuUs: timed.cpuUs, buckets, functions: functions.slice(0, 20) };
    report.note(`  profile of one ${label} handshake (${timed.cpuUs.toFixed(0)} µs):`);
    for (const line of formatBuckets(buckets, timed.cpuUs, 7)) report.note(line);
    for (const line of formatBuckets(functions, timed.cpuUs, 6, 60)) report.note(`  ${line}`);
  }
  report.part.data['sessionCensus'] = census;
  report.part.data['sessionProfile'] = profiles;
}

if (runs('records')) {
  report.section(
    'records',
    '\nRecord layer: one application message sealed (requester) and opened (emulator), MB/s of application data per CPU second, against raw AEAD on the same buffers',
  );
}

/** A requester/emulator pair of SecureSessions with the same data keys, as after FINISH. */
function sessionPair(aeadId: number) {
  const params = { version: VERSION, hashId: 0x02, aeadId };
  const ds = () => deriveDataSecrets(params, new Uint8Array(48).fill(3), new Uint8Array(48).fill(4));
  const common = {
    reqSessionId: 0x1234,
    rspSessionId: 0xabcd,
    securedVersion: 0x1200,
    aeadId,
    binding: 'doe' as const,
    mode: 'encrypt' as const,
  };
  const req = new SecureSession({ ...common, role: 'requester' });
  const rsp = new SecureSession({ ...common, role: 'responder' });
  req.installData(ds());
  rsp.installData(ds());
  return { req, rsp, key: Buffer.from(ds().request.key), iv: Buffer.from(ds().request.iv) };
}

const MAX_RECORD_MESSAGE = 0xffff - 16 - 2 - 13; // 65,504: Length is 16 bits (tag, ApplicationDataLength)
if (runs('records')) {
  for (const [aname, aeadId, node] of [
    ['AES-256-GCM', AeadAlgo.AES_256_GCM, 'aes-256-gcm'],
    ['ChaCha20-Poly1305', AeadAlgo.CHACHA20_POLY1305, 'chacha20-poly1305'],
  ] as const) {
    for (const [sname, size] of [
      ['4 KiB', 4096],
      ['64 KiB (65,504 B)', MAX_RECORD_MESSAGE],
    ] as const) {
      const { req, rsp, key, iv } = sessionPair(aeadId);
      const message = new Uint8Array(size).fill(0x5a);
      message[0] = 0x13;
      const plaintext = Buffer.concat([Buffer.of(size & 0xff, size >> 8), message]);
      // The record header the AEAD authenticates: SessionID, Length (DOE sends no sequence number).
      const aad = Buffer.alloc(6);
      const roundTripSync = () => {
        rsp.open(req.seal(message));
      };
      const rawSync = () => sealOpen(node, { key, iv }, aad, plaintext);
      for (const fn of [roundTripSync, rawSync]) measureSync(fn, { seconds: WARMUP_SECONDS / 2 });
      const [stack, raw] = await compare({ sync: roundTripSync }, { sync: rawSync });
      const mbps = (t: { cpuUs: number }) => size / t.cpuUs; // bytes per µs = MB/s
      report.add({
        name: `${aname}, ${sname} messages`,
        value: mbps(stack),
        unit: 'MB/s',
        baseline: { name: 'raw AEAD', value: mbps(raw) },
        target: RECORD_TARGET,
      });
      if (aeadId === AeadAlgo.AES_256_GCM && size === 4096) DIAGNOSTICS.push(async () => recordDiagnostics(message));
    }
  }
}

/** Where a 4 KiB AES-256-GCM round trip's time goes, on a session pair of its own. */
async function recordDiagnostics(message: Uint8Array): Promise<void> {
  report.section('records');
  const { req, rsp } = sessionPair(AeadAlgo.AES_256_GCM);
  const roundTrip = async () => {
    rsp.open(req.seal(message));
    return Promise.resolve();
  };
  const timed = measureSync(() => rsp.open(req.seal(message)), { seconds: Math.min(SECONDS, 1) });
  const { buckets, functions } = await profileBuckets(roundTrip, Math.max(SECONDS, 1));
  report.part.data['recordProfile'] = { cpuUs: timed.cpuUs, buckets, functions: functions.slice(0, 20) };
  report.note(`  profile of one 4 KiB AES-256-GCM seal + open (${timed.cpuUs.toFixed(1)} µs):`);
  for (const line of formatBuckets(buckets, timed.cpuUs, 6)) report.note(line.replace('µs/flow', 'µs'));
  for (const line of formatBuckets(functions, timed.cpuUs, 6, 60)) report.note(`  ${line.replace('µs/flow', 'µs')}`);
}

report.section(
  only ?? 'sessions',
  '\nWhere the time goes (censuses and profiles, run after every figure above is timed)',
);
for (const run of DIAGNOSTICS) await run();
report.finish();
