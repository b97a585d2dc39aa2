/**
 * The PCI-SIG / CXL vendor-defined codecs: each message encodes to the layout of its spec (byte
 * offsets checked against the layouts libspdm's requester builds) and decodes back; a message cut
 * short at any field, or longer than its layout, is a DecodeError naming that message and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../src/wire/errors.js';
import {
  STANDARD_ID_PCISIG,
  decodeVendorProtocol,
  encodeVendorProtocolPayload,
} from '../../../src/spdm/vendor/pci-protocol.js';
import { IdeKmObject, decodeIdeKm, encodeIdeKm, type IdeKmMessage } from '../../../src/spdm/vendor/ide-km.js';
import {
  TdispRequest,
  TdispResponse,
  decodeDeviceInterfaceReport,
  decodeTdispRequest,
  decodeTdispResponse,
  encodeDeviceInterfaceReport,
  encodeTdispRequest,
  encodeTdispResponse,
  type TdispRequestMessage,
  type TdispResponseMessage,
} from '../../../src/spdm/vendor/pci-tdisp.js';
import {
  TspRequest,
  TspResponse,
  decodeTspRequest,
  decodeTspResponse,
  encodeTspRequest,
  encodeTspResponse,
  type TspRequestMessage,
  type TspResponseMessage,
} from '../../../src/spdm/vendor/cxl-tsp.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** Every proper prefix and one extra byte: all DecodeErrors naming `messageName`. */
function assertStrict(encoded: Uint8Array, decode: (b: Uint8Array) => unknown, messageName: RegExp): void {
  for (let n = 0; n < encoded.length; n++) {
    assert.throws(
      () => decode(encoded.subarray(0, n)),
      (e: unknown) => e instanceof DecodeError && messageName.test(e.messageName),
      `prefix of ${n} byte(s)`,
    );
  }
  const longer = new Uint8Array(encoded.length + 1);
  longer.set(encoded);
  assert.throws(
    () => decode(longer),
    (e: unknown) => e instanceof DecodeError && messageName.test(e.messageName),
  );
}

test('PCI-SIG vendor header: VendorID 0x0001 and CXL 0x1E98 carry a ProtocolID; other IDs are not ours', () => {
  const payload = encodeVendorProtocolPayload(1, Uint8Array.of(0xaa));
  assert.deepEqual([...payload], [1, 0xaa]);
  assert.deepEqual(decodeVendorProtocol(STANDARD_ID_PCISIG, Uint8Array.of(1, 0), payload), {
    vendorId: 1,
    protocolId: 1,
    body: Uint8Array.of(0xaa),
  });
  assert.equal(decodeVendorProtocol(STANDARD_ID_PCISIG, Uint8Array.of(0x98, 0x1e), payload)?.vendorId, 0x1e98);
  assert.equal(decodeVendorProtocol(STANDARD_ID_PCISIG, Uint8Array.of(0x86, 0x80), payload), undefined);
  assert.equal(decodeVendorProtocol(4, Uint8Array.of(1, 0), payload), undefined);
  assert.equal(decodeVendorProtocol(STANDARD_ID_PCISIG, Uint8Array.of(1), payload), undefined);
  assert.throws(
    () => decodeVendorProtocol(STANDARD_ID_PCISIG, Uint8Array.of(1, 0), new Uint8Array(0)),
    (e: unknown) => e instanceof DecodeError && e.field === 'ProtocolID',
  );
});

test('IDE_KM (PCIe and CXL): layouts, round trips, and every short or long message refused', () => {
  const pci: [IdeKmMessage, number[] | number][] = [
    [{ object: IdeKmObject.QUERY, portIndex: 1 }, [0, 0, 1]],
    [
      {
        object: IdeKmObject.QUERY_RESP,
        portIndex: 1,
        devFuncNum: 2,
        busNum: 3,
        segment: 4,
        maxPortIndex: 5,
        registers: [0x00010030, 0x42],
      },
      [1, 0, 1, 2, 3, 4, 5, 0x30, 0, 1, 0, 0x42, 0, 0, 0],
    ],
    [
      {
        object: IdeKmObject.KEY_PROG,
        streamId: 9,
        keySubStream: 0x13,
        portIndex: 1,
        key: bytes(32, 1),
        iv: bytes(8, 2),
      },
      47,
    ],
    [
      { object: IdeKmObject.KP_ACK, streamId: 9, status: 3, keySubStream: 0x13, portIndex: 1 },
      [3, 0, 0, 9, 3, 0x13, 1],
    ],
    [{ object: IdeKmObject.K_SET_GO, streamId: 9, keySubStream: 0x22, portIndex: 0 }, [4, 0, 0, 9, 0, 0x22, 0]],
    [{ object: IdeKmObject.K_SET_STOP, streamId: 9, keySubStream: 0x22, portIndex: 0 }, [5, 0, 0, 9, 0, 0x22, 0]],
    [{ object: IdeKmObject.K_GOSTOP_ACK, streamId: 9, keySubStream: 0x22, portIndex: 0 }, [6, 0, 0, 9, 0, 0x22, 0]],
  ];
  for (const [m, layout] of pci) {
    const b = encodeIdeKm(m, 'pci');
    if (typeof layout === 'number') assert.equal(b.length, layout);
    else assert.deepEqual([...b], layout);
    assert.deepEqual(decodeIdeKm(b, 'pci'), m);
    // QUERY_RESP may end after any whole DW, so only prefixes inside the fixed part are errors.
    if (m.object !== IdeKmObject.QUERY_RESP) assertStrict(b, (x) => decodeIdeKm(x, 'pci'), /^IDE_KM/);
  }
  // KEY_PROG: key at offset 7, IFV after it.
  const kp = encodeIdeKm(pci[2]![0], 'pci');
  assert.deepEqual([...kp.subarray(0, 7)], [2, 0, 0, 9, 0, 0x13, 1]);
  assert.deepEqual(kp.subarray(7, 39), bytes(32, 1));
  // QUERY_RESP registers must be whole DWs.
  assert.throws(
    () => decodeIdeKm(Uint8Array.of(1, 0, 1, 2, 3, 4, 5, 0x30, 0), 'pci'),
    (e: unknown) => e instanceof DecodeError && e.field === 'IdeRegisters',
  );
  // CXL: Caps byte, three-DW IV, GET_KEY/GET_KEY_ACK; those objects do not exist in the PCIe form.
  const cxlResp: IdeKmMessage = {
    object: IdeKmObject.QUERY_RESP,
    portIndex: 0,
    devFuncNum: 0,
    busNum: 0,
    segment: 0,
    maxPortIndex: 0,
    caps: 0x71,
    registers: [0x800007],
  };
  assert.deepEqual([...encodeIdeKm(cxlResp, 'cxl')], [1, 0, 0, 0, 0, 0, 0, 0x71, 7, 0, 0x80, 0]);
  assert.deepEqual(decodeIdeKm(encodeIdeKm(cxlResp, 'cxl'), 'cxl'), cxlResp);
  const ack: IdeKmMessage = {
    object: IdeKmObject.GET_KEY_ACK,
    streamId: 0,
    keySubStream: 0x80,
    portIndex: 0,
    key: bytes(32, 3),
    iv: bytes(12, 4),
  };
  const ackBytes = encodeIdeKm(ack, 'cxl');
  assert.equal(ackBytes.length, 51);
  assert.deepEqual(decodeIdeKm(ackBytes, 'cxl'), ack);
  assertStrict(ackBytes, (x) => decodeIdeKm(x, 'cxl'), /^CXL_IDE_KM/);
  const cxlKeyProg = encodeIdeKm({ ...ack, object: IdeKmObject.KEY_PROG }, 'cxl');
  assert.equal(cxlKeyProg.length, 51);
  assert.throws(
    () => decodeIdeKm(cxlKeyProg, 'pci'),
    (e: unknown) => e instanceof DecodeError && e.field === 'length',
  );
  for (const object of [7, 8, 9, 0xff]) {
    assert.throws(
      () => decodeIdeKm(Uint8Array.of(object, 0, 0, 0, 0, 0, 0), 'pci'),
      (e: unknown) => e instanceof DecodeError && e.field === 'ObjectID',
    );
  }
  assert.throws(
    () => decodeIdeKm(Uint8Array.of(9, 0, 0, 0, 0, 0, 0), 'cxl'),
    (e: unknown) => e instanceof DecodeError,
  );
});

test('TDISP: requests and responses round-trip with the 16-byte header; lengths are exact', () => {
  const h = { version: 0x10, functionId: 0xbeef };
  const requests: [TdispRequestMessage, number][] = [
    [{ ...h, messageType: TdispRequest.GET_VERSION }, 16],
    [{ ...h, messageType: TdispRequest.GET_CAPABILITIES, tsmCaps: 0x12345678 }, 20],
    [
      {
        ...h,
        messageType: TdispRequest.LOCK_INTERFACE_REQUEST,
        flags: 7,
        defaultStreamId: 3,
        mmioReportingOffset: 0xd000_0000n,
        bindP2pAddressMask: 0xffff_0000_0000_0001n,
      },
      36,
    ],
    [{ ...h, messageType: TdispRequest.GET_DEVICE_INTERFACE_REPORT, offset: 0x40, length: 0x40 }, 20],
    [{ ...h, messageType: TdispRequest.GET_DEVICE_INTERFACE_STATE }, 16],
    [{ ...h, messageType: TdispRequest.START_INTERFACE_REQUEST, nonce: bytes(32, 5) }, 48],
    [{ ...h, messageType: TdispRequest.STOP_INTERFACE_REQUEST }, 16],
  ];
  for (const [m, size] of requests) {
    const b = encodeTdispRequest(m);
    assert.equal(b.length, size);
    assert.deepEqual([...b.subarray(0, 8)], [0x10, m.messageType, 0, 0, 0xef, 0xbe, 0, 0]);
    assert.deepEqual(decodeTdispRequest(b), m);
    assertStrict(b, decodeTdispRequest, /^TDISP/);
  }
  const lock = encodeTdispRequest(requests[2]![0]);
  assert.deepEqual([...lock.subarray(16, 36)], [7, 0, 3, 0, 0, 0, 0, 0xd0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0xff, 0xff]);
  assert.throws(
    () => decodeTdispRequest(encodeTdispRequest({ ...h, messageType: TdispRequest.GET_VERSION }).fill(0x88, 1, 2)),
    (e: unknown) => e instanceof DecodeError && e.field === 'MessageType',
  );

  const responses: [TdispResponseMessage, number][] = [
    [{ ...h, messageType: TdispResponse.VERSION, versions: [0x10] }, 18],
    [
      {
        ...h,
        messageType: TdispResponse.CAPABILITIES,
        dsmCaps: 1,
        reqMsgsSupported: bytes(16, 6),
        lockInterfaceFlagsSupported: 7,
        devAddrWidth: 52,
        numReqThis: 1,
        numReqAll: 2,
      },
      16 + 28,
    ],
    [{ ...h, messageType: TdispResponse.LOCK_INTERFACE_RESPONSE, nonce: bytes(32, 7) }, 48],
    [{ ...h, messageType: TdispResponse.DEVICE_INTERFACE_REPORT, portion: bytes(5, 8), remainderLength: 9 }, 25],
    [{ ...h, messageType: TdispResponse.DEVICE_INTERFACE_STATE, state: 2 }, 17],
    [{ ...h, messageType: TdispResponse.START_INTERFACE_RESPONSE }, 16],
    [{ ...h, messageType: TdispResponse.STOP_INTERFACE_RESPONSE }, 16],
  ];
  for (const [m, size] of responses) {
    const b = encodeTdispResponse(m);
    assert.equal(b.length, size);
    assert.deepEqual(decodeTdispResponse(b), m);
    assertStrict(b, decodeTdispResponse, /^TDISP/);
  }
  // TDISP_ERROR: extended data runs to the end, so only the fixed part can be short.
  const err: TdispResponseMessage = {
    ...h,
    messageType: TdispResponse.TDISP_ERROR,
    errorCode: 0x102,
    errorData: 0,
    extendedErrorData: Uint8Array.of(0, 2, 1, 0),
  };
  const errBytes = encodeTdispResponse(err);
  assert.deepEqual([...errBytes.subarray(16, 20)], [2, 1, 0, 0]);
  assert.deepEqual(decodeTdispResponse(errBytes), err);
  assert.throws(
    () => decodeTdispResponse(errBytes.subarray(0, 23)),
    (e: unknown) => e instanceof DecodeError,
  );
  // Field values: no version entries, unknown TDI state.
  const noVersion = encodeTdispResponse(responses[0]![0]).subarray(0, 17).fill(0, 16);
  assert.throws(
    () => decodeTdispResponse(noVersion),
    (e: unknown) => e instanceof DecodeError && e.field === 'VersionNumEntryCount',
  );
  const state4 = encodeTdispResponse({ ...h, messageType: TdispResponse.DEVICE_INTERFACE_STATE, state: 4 });
  assert.throws(
    () => decodeTdispResponse(state4),
    (e: unknown) => e instanceof DecodeError && e.field === 'TDIState',
  );
});

test('TDISP device interface report: ranges and device info round-trip; a range count beyond the bytes is refused', () => {
  const report = {
    interfaceInfo: 3,
    msixMessageControl: 7,
    lnrControl: 0,
    tphControl: 0,
    mmioRanges: [
      { firstPage: 0x1ce000n, numberOfPages: 16, attributes: 0, rangeId: 0 },
      { firstPage: 0xffff_ffff_ffffn, numberOfPages: 1, attributes: 4, rangeId: 4 },
    ],
    deviceSpecificInfo: bytes(5, 9),
  };
  const b = encodeDeviceInterfaceReport(report);
  assert.equal(b.length, 16 + 32 + 4 + 5);
  assert.deepEqual(decodeDeviceInterfaceReport(b), report);
  assertStrict(b, decodeDeviceInterfaceReport, /DEVICE_INTERFACE_REPORT/);
  const huge = b.slice();
  huge.set([0xff, 0xff, 0xff, 0xff], 12);
  assert.throws(
    () => decodeDeviceInterfaceReport(huge),
    (e: unknown) => e instanceof DecodeError && e.field === 'MMIORangeCount',
  );
});

test('CXL TSP: the messages libspdm sends have their layout sizes and round-trip; lengths are exact', () => {
  const configuration = {
    memoryEncryptionFeatures: 1,
    memoryEncryptionAlgorithm: 2,
    teStateFeatures: 0x16,
    explicitOobTeStateGranularity: 0,
    configurationFeatures: 1,
    ckidBase: 5,
    numberOfCkids: 6,
    explicitIbTeStateGranularity: Array.from({ length: 8 }, (_, i) => ({
      granularity: BigInt(i) << 40n,
      lengthIndex: i === 0 ? 0 : 0xff,
    })),
  };
  const requests: [TspRequestMessage, number][] = [
    [{ opcode: TspRequest.GET_TARGET_TSP_VERSION }, 4],
    [{ opcode: TspRequest.GET_TARGET_CAPABILITIES }, 4],
    [
      {
        opcode: TspRequest.SET_TARGET_CONFIGURATION,
        configuration,
        secondary: { validityFlags: 3, ckidType: 1, psks: [bytes(32, 1), bytes(32, 2), bytes(32, 3), bytes(32, 4)] },
      },
      352,
    ],
    [{ opcode: TspRequest.GET_TARGET_CONFIGURATION }, 4],
    [{ opcode: TspRequest.GET_TARGET_CONFIGURATION_REPORT, offset: 0x200, length: 0x100 }, 8],
    [{ opcode: TspRequest.LOCK_TARGET_CONFIGURATION }, 4],
    [
      {
        opcode: TspRequest.SET_TARGET_TE_STATE,
        teState: 1,
        ranges: [{ start: 0x100000n, length: 0x10000n }],
      },
      32,
    ],
  ];
  for (const [m, size] of requests) {
    const b = encodeTspRequest(0x10, m);
    assert.equal(b.length, size);
    assert.deepEqual([b[0], b[1]], [0x10, m.opcode]);
    assert.deepEqual(decodeTspRequest(b), { version: 0x10, ...m });
    assertStrict(b, decodeTspRequest, /^CXL TSP/);
  }
  const set = encodeTspRequest(0x10, requests[2]![0]);
  assert.deepEqual([set[192], set[193], set[208]], [3, 0, 1]); // validity flags at 192, CKID type at 208
  assert.deepEqual(set.subarray(224, 256), bytes(32, 1));
  const tooMany = encodeTspRequest(0x10, requests[6]![0]);
  tooMany[3] = 33;
  assert.throws(
    () => decodeTspRequest(tooMany),
    (e: unknown) => e instanceof DecodeError && e.field === 'NumberOfMemoryRanges',
  );

  const responses: [TspResponseMessage, number][] = [
    [{ opcode: TspResponse.GET_TARGET_TSP_VERSION_RSP, versions: [0x10] }, 6],
    [
      {
        opcode: TspResponse.GET_TARGET_CAPABILITIES_RSP,
        memoryEncryptionFeatures: 1,
        memoryEncryptionAlgorithms: 0x80000002,
        numberOfRangeBasedKeys: 0,
        teStateFeatures: 0x16,
        explicitOobTeStateGranularity: 0,
        explicitIbTeStateGranularity: 1,
        configurationFeatures: 1,
        numberOfCkids: 0,
        numberOfSecondarySessions: 0,
      },
      52,
    ],
    [{ opcode: TspResponse.GET_TARGET_CONFIGURATION_RSP, configuration, state: 1 }, 192],
    [{ opcode: TspResponse.GET_TARGET_CONFIGURATION_REPORT_RSP, portion: bytes(9, 1), remainderLength: 3 }, 17],
    [{ opcode: TspResponse.SET_TARGET_CONFIGURATION_RSP }, 4],
    [{ opcode: TspResponse.LOCK_TARGET_CONFIGURATION_RSP }, 4],
    [{ opcode: TspResponse.SET_TARGET_TE_STATE_RSP }, 4],
  ];
  for (const [m, size] of responses) {
    const b = encodeTspResponse(0x10, m);
    assert.equal(b.length, size);
    assert.deepEqual(decodeTspResponse(b), { version: 0x10, ...m });
    assertStrict(b, decodeTspResponse, /^CXL TSP/);
  }
  const cfg = encodeTspResponse(0x10, responses[2]![0]);
  assert.equal(cfg[36], 1); // CurrentTSPState
  cfg[36] = 3;
  assert.throws(
    () => decodeTspResponse(cfg),
    (e: unknown) => e instanceof DecodeError && e.field === 'CurrentTSPState',
  );
  const err = encodeTspResponse(0x10, {
    opcode: TspResponse.ERROR,
    errorCode: 0x0d,
    errorData: 0,
    extendedErrorData: new Uint8Array(0),
  });
  assert.deepEqual([...err], [0x10, 0x7f, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(
    () => decodeTspRequest(Uint8Array.of(0x10, 0x87, 0, 0)),
    (e: unknown) => e instanceof DecodeError && e.field === 'Opcode',
  );
});
