/**
 * A TSM's IDE key programming and TDISP interface lifecycle, requester ⇄ emulator in-process,
 * inside a KEY_EXCHANGE session over the DOE record layout: IDE_KM QUERY / KEY_PROG / K_SET_GO /
 * K_SET_STOP against the device's IDE stream state, TDISP LOCK → report → START (nonce) → RUN, and
 * the coupling between them (LOCK needs a secure stream; stopping its keys puts the TDI in ERROR).
 * CXL IDE_KM's device-generated keys (GET_KEY) ride the same path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSpdmError } from '../../src/wire/errors.js';
import { AeadAlgo } from '../../src/crypto/aead.js';
import { DheGroup } from '../../src/crypto/dhe.js';
import { CapabilityFlag as F } from '../../src/spdm/messages/capabilities.js';
import { Responder } from '../../src/responder/responder.js';
import { DEFAULT_RESPONDER_FLAGS } from '../../src/responder/profiles.js';
import { EMULATED_TDI_FUNCTION_ID } from '../../src/responder/vendor/tdisp-device.js';
import { Requester } from '../../src/requester/requester.js';
import type { Session } from '../../src/requester/session.js';
import {
  ideKmExchange,
  ideKmQuery,
  tdispExchange,
  tdispGetVersion,
  vendorProtocolExchange,
} from '../../src/requester/vendor-protocols.js';
import { PciProtocolId, VENDOR_ID_PCISIG } from '../../src/spdm/vendor/pci-protocol.js';
import { LoopbackTransport } from '../../src/transport/loopback.js';
import {
  IdeKmObject,
  KeySubStream,
  KpAckStatus,
  decodeIdeKm,
  encodeIdeKm,
  type IdeKmMessage,
} from '../../src/spdm/vendor/ide-km.js';
import {
  LockInterfaceFlag,
  TDISP_VERSION_10,
  TdiState,
  TdispErrorCode,
  TdispRequest,
  TdispResponse,
  decodeDeviceInterfaceReport,
  type TdispRequestMessage,
  type TdispResponseMessage,
} from '../../src/spdm/vendor/pci-tdisp.js';
import { SUITES, device } from '../support/fixtures.js';

const RSP_FLAGS = DEFAULT_RESPONDER_FLAGS | F.ENCRYPT | F.MAC | F.KEY_EX;
const REQ_FLAGS = F.CERT | F.CHAL | F.ENCRYPT | F.MAC | F.KEY_EX;
const TDI = EMULATED_TDI_FUNCTION_ID;
const SUB_STREAMS = [KeySubStream.SUB_STREAM_PR, KeySubStream.SUB_STREAM_NPR, KeySubStream.SUB_STREAM_CPL];

async function openSession(): Promise<{ session: Session; responder: Responder; requester: Requester }> {
  const base = device(SUITES[1]!).profile;
  const responder = new Responder({
    ...base,
    versions: [0x12],
    capabilities: { ...base.capabilities, flags: RSP_FLAGS },
    algorithms: { ...base.algorithms, dhe: [DheGroup.SECP256R1], aead: [AeadAlgo.AES_256_GCM] },
  });
  const requester = new Requester(new LoopbackTransport(responder, 0x10000), {
    versions: [0x12],
    capabilityFlags: REQ_FLAGS,
    session: {},
  });
  await requester.connect();
  return { session: await requester.startSession(), responder, requester };
}

function key(seed: number): Uint8Array {
  return new Uint8Array(32).map((_, i) => (seed * 31 + i) & 0xff);
}

/** KEY_PROG then K_SET_GO for key set 0 of every sub-stream in both directions of port 0's stream 0. */
async function programStream(s: Session): Promise<void> {
  let n = 0;
  for (const sub of SUB_STREAMS)
    for (const dir of [0, KeySubStream.TX]) {
      const stream = { streamId: 0, keySubStream: sub | dir, portIndex: 0 };
      const ack = await ideKmExchange(s, 'pci', {
        object: IdeKmObject.KEY_PROG,
        ...stream,
        key: key(n++),
        iv: new Uint8Array(8).fill(1),
      });
      assert.equal(ack.object, IdeKmObject.KP_ACK);
      assert.equal((ack as { status: number }).status, KpAckStatus.SUCCESS);
      const go = await ideKmExchange(s, 'pci', { object: IdeKmObject.K_SET_GO, ...stream });
      assert.equal(go.object, IdeKmObject.K_GOSTOP_ACK);
    }
}

type Body<T> = T extends unknown ? Omit<T, 'version' | 'functionId'> : never;

function tdisp(s: Session, m: Body<TdispRequestMessage>): Promise<TdispResponseMessage> {
  return tdispExchange(s, { version: TDISP_VERSION_10, functionId: TDI, ...m });
}

async function stateOf(s: Session): Promise<number> {
  const r = await tdisp(s, { messageType: TdispRequest.GET_DEVICE_INTERFACE_STATE });
  assert.equal(r.messageType, TdispResponse.DEVICE_INTERFACE_STATE);
  return (r as { state: number }).state;
}

function errorCode(r: TdispResponseMessage): number | undefined {
  return r.messageType === TdispResponse.TDISP_ERROR ? r.errorCode : undefined;
}

const LOCK = {
  messageType: TdispRequest.LOCK_INTERFACE_REQUEST,
  flags: LockInterfaceFlag.NO_FW_UPDATE | LockInterfaceFlag.LOCK_MSIX,
  defaultStreamId: 0,
  mmioReportingOffset: 0x1_0000_0000n,
  bindP2pAddressMask: 0n,
} as const;

test('IDE_KM: QUERY reports the stream insecure until every sub-stream has a live key set, then secure', async () => {
  const { session } = await openSession();
  const before = await ideKmQuery(session, 'pci', 0);
  assert.equal(before.maxPortIndex, 1);
  // The Selective IDE Stream Status register (after header, capability, control, stream capability and control).
  assert.equal(before.registers[5], 0);
  await programStream(session);
  const after = await ideKmQuery(session, 'pci', 0);
  assert.equal(after.registers[5], 2, 'stream state Secure');
  assert.equal((after.registers[4] ?? 0) & 1, 1, 'stream enabled');
  await session.end();
});

test('IDE_KM: a port the device lacks is an SPDM ERROR; a bad key length is KP_ACK INCORRECT_LENGTH; K_SET_GO of an unprogrammed key set is refused', async () => {
  const { session } = await openSession();
  await assert.rejects(
    () => ideKmQuery(session, 'pci', 5),
    (e: unknown) => isSpdmError(e) && e.code === 'DEVICE_ERROR',
  );
  const stream = { streamId: 0, keySubStream: KeySubStream.SUB_STREAM_PR, portIndex: 0 };
  // A KEY_PROG 16 bytes short (our encoder refuses to build one, so cut a good one).
  const good = encodeIdeKm({ object: IdeKmObject.KEY_PROG, ...stream, key: key(1), iv: new Uint8Array(8) }, 'pci');
  const ack = decodeIdeKm(
    await vendorProtocolExchange(session, VENDOR_ID_PCISIG, PciProtocolId.IDE_KM, good.subarray(0, good.length - 16)),
    'pci',
  );
  assert.equal(ack.object, IdeKmObject.KP_ACK);
  assert.equal((ack as { status: number }).status, KpAckStatus.INCORRECT_LENGTH);
  await assert.rejects(
    () => ideKmExchange(session, 'pci', { object: IdeKmObject.K_SET_GO, ...stream, keySubStream: KeySubStream.K1 }),
    (e: unknown) => isSpdmError(e) && e.code === 'DEVICE_ERROR',
  );
  // The session survives the refusals.
  assert.equal((await ideKmQuery(session, 'pci', 1)).portIndex, 1);
  await session.end();
});

test('TDISP: LOCK needs a secure IDE stream; LOCK → report → START with the nonce → RUN; a stale or wrong nonce is INVALID_NONCE', async () => {
  const { session } = await openSession();
  assert.deepEqual(await tdispGetVersion(session, TDI), [TDISP_VERSION_10]);
  assert.equal(errorCode(await tdisp(session, LOCK)), TdispErrorCode.INVALID_DEVICE_CONFIGURATION);
  assert.equal(await stateOf(session), TdiState.CONFIG_UNLOCKED);

  await programStream(session);
  const locked = await tdisp(session, LOCK);
  assert.equal(locked.messageType, TdispResponse.LOCK_INTERFACE_RESPONSE);
  const nonce = (locked as { nonce: Uint8Array }).nonce;
  assert.equal(nonce.length, 32);
  assert.equal(await stateOf(session), TdiState.CONFIG_LOCKED);
  assert.equal(errorCode(await tdisp(session, LOCK)), TdispErrorCode.INVALID_INTERFACE_STATE, 'locked twice');

  // The report in portions: every MMIO range is offset by what LOCK asked for.
  let report = new Uint8Array(0);
  for (;;) {
    const r = await tdisp(session, {
      messageType: TdispRequest.GET_DEVICE_INTERFACE_REPORT,
      offset: report.length,
      length: 64,
    });
    assert.equal(r.messageType, TdispResponse.DEVICE_INTERFACE_REPORT);
    const { portion, remainderLength } = r as { portion: Uint8Array; remainderLength: number };
    report = Uint8Array.from([...report, ...portion]);
    if (remainderLength === 0) break;
  }
  const rep = decodeDeviceInterfaceReport(report);
  assert.ok(rep.mmioRanges.length > 0);
  for (const m of rep.mmioRanges) assert.ok(m.firstPage * 4096n >= 0x1_0000_0000n);
  assert.notEqual(rep.msixMessageControl, 0, 'LOCK_MSIX reports the locked MSI-X control');

  const wrong = Uint8Array.from(nonce, (b) => b ^ 0xff);
  assert.equal(
    errorCode(await tdisp(session, { messageType: TdispRequest.START_INTERFACE_REQUEST, nonce: wrong })),
    TdispErrorCode.INVALID_NONCE,
  );
  const started = await tdisp(session, { messageType: TdispRequest.START_INTERFACE_REQUEST, nonce });
  assert.equal(started.messageType, TdispResponse.START_INTERFACE_RESPONSE);
  assert.equal(await stateOf(session), TdiState.RUN);
  assert.equal(
    errorCode(await tdisp(session, { messageType: TdispRequest.START_INTERFACE_REQUEST, nonce })),
    TdispErrorCode.INVALID_INTERFACE_STATE,
    'the nonce is good once',
  );
  await session.end();
});

test('TDISP ⇄ IDE_KM: K_SET_STOP on the running interface’s stream puts the TDI in ERROR; STOP_INTERFACE unlocks it', async () => {
  const { session } = await openSession();
  await programStream(session);
  const nonce = ((await tdisp(session, LOCK)) as { nonce: Uint8Array }).nonce;
  await tdisp(session, { messageType: TdispRequest.START_INTERFACE_REQUEST, nonce });
  const stop = await ideKmExchange(session, 'pci', {
    object: IdeKmObject.K_SET_STOP,
    streamId: 0,
    keySubStream: KeySubStream.SUB_STREAM_NPR | KeySubStream.TX,
    portIndex: 0,
  });
  assert.equal(stop.object, IdeKmObject.K_GOSTOP_ACK);
  assert.equal(await stateOf(session), TdiState.ERROR);
  assert.equal((await ideKmQuery(session, 'pci', 0)).registers[5], 0, 'the stream is insecure again');
  const stopped = await tdisp(session, { messageType: TdispRequest.STOP_INTERFACE_REQUEST });
  assert.equal(stopped.messageType, TdispResponse.STOP_INTERFACE_RESPONSE);
  assert.equal(await stateOf(session), TdiState.CONFIG_UNLOCKED);
  await session.end();
});

test('TDISP: another interface is INVALID_INTERFACE, another version VERSION_MISMATCH', async () => {
  const { session } = await openSession();
  const other = await tdispExchange(session, {
    version: TDISP_VERSION_10,
    functionId: TDI + 1,
    messageType: TdispRequest.GET_VERSION,
  });
  assert.equal(errorCode(other), TdispErrorCode.INVALID_INTERFACE);
  const v2 = await tdispExchange(session, { version: 0x20, functionId: TDI, messageType: TdispRequest.GET_VERSION });
  assert.equal(errorCode(v2), TdispErrorCode.VERSION_MISMATCH);
  await session.end();
});

test('CXL IDE_KM: QUERY_RESP caps, device-generated keys by GET_KEY (32-byte key, 12-byte IV), fresh per call', async () => {
  const { session } = await openSession();
  const q = await ideKmQuery(session, 'cxl', 0);
  assert.equal(q.maxPortIndex, 0);
  assert.ok(q.caps !== undefined && (q.caps & 0x20) !== 0, 'KEY_GEN');
  const stream = { streamId: 0, keySubStream: KeySubStream.SUB_STREAM_CXL, portIndex: 0 };
  const get = (): Promise<IdeKmMessage> => ideKmExchange(session, 'cxl', { object: IdeKmObject.GET_KEY, ...stream });
  const a = await get();
  const b = await get();
  assert.equal(a.object, IdeKmObject.GET_KEY_ACK);
  const ka = a as { key: Uint8Array; iv: Uint8Array };
  assert.equal(ka.key.length, 32);
  assert.equal(ka.iv.length, 12);
  assert.notDeepEqual(ka.key, (b as { key: Uint8Array }).key);
  await session.end();
});
