/**
 * The hostile case table: every way the emulated device lies, with what a correct requester or
 * verifier must answer. `spdm emulate --hostile NAME` serves a case and the adversarial suite
 * (test/adversarial) iterates this table, so a case added here is served and tested at once.
 */
import { generateKeyPair } from '../../x509/generate.js';
import { digest } from '../../crypto/hash.js';
import { RequestCode as RQ, ResponseCode as RS } from '../../spdm/codes.js';
import { CapabilityFlag } from '../../spdm/messages/capabilities.js';
import { encodeError, encodeResponseNotReady, ErrorCode } from '../../spdm/messages/error.js';
import { decodeMeasurementRecord } from '../../spdm/messages/measurement-block.js';
import { SigningContext } from '../../crypto/signature.js';
import { encodeSpdmCertChain } from '../../x509/spdm-chain.js';
import { Responder } from '../responder.js';
import type { DeviceProfile } from '../profile.js';
import { FaultyResponder, type Fault, type FaultContext, type FaultReply } from './wrapper.js';
import type { SignOptions } from './mirror.js';
import {
  append,
  editChallengeAuth,
  editMeasurements,
  flip,
  rawBlock,
  readU16,
  readU32,
  setU16,
  setU24,
  setU32,
  setU8,
  unsignedPart,
  type ChallengeAuthFields,
  type MeasurementsFields,
} from './edit.js';
import {
  chainFromUnknownRoot,
  chainThatDoesNotLink,
  chainWithExpiredIntermediate,
  chainWithForgedLink,
  chainWithLeaf,
  chainWithoutRoot,
  chainWithUnknownCriticalExtension,
  chainWithWrongLeafAlgorithm,
  daysFromNow,
  HOSTILE_ASYM,
  hostileIdentity,
  loopingChain,
  longChain,
  withFlags,
  withVersions,
} from './identities.js';
import type { HandlerCase, HostileCase, HostileDevice } from './case-types.js';

// ── Building blocks ──────────────────────────────────────────────────────────────────────────

/** Lets every answer through. */
export const honestly: Fault = () => undefined;

/** The device `profile` (the well-formed one by default) behind `fault`. */
export function faultyDevice(fault: Fault, profile: DeviceProfile = hostileIdentity().profile): HostileDevice {
  const slot = profile.slots[0];
  if (!slot) throw new Error('hostile profile without a slot');
  return {
    profile,
    handler: new FaultyResponder(new Responder(profile), slot.privateKey, fault),
    trustAnchors: [hostileIdentity().root.certificate],
    faulted: fault !== honestly,
  };
}

type Edit = (msg: Uint8Array, x: FaultContext) => FaultReply | undefined;

/** Applies `edit` to the honest (non-ERROR) answer to requests with `code` (only the `nth` one when given). */
function on(code: number, edit: Edit, nth?: number): Fault {
  return async (x) => {
    if (x.code !== code || (nth !== undefined && x.count !== nth)) return undefined;
    const h = await x.honest();
    if (h[1] === RS.ERROR) return undefined;
    return edit(h, x);
  };
}

/** Several faults; the first that answers wins. */
function all(...faults: Fault[]): Fault {
  return async (x) => {
    for (const f of faults) {
      const r = await f(x);
      if (r !== undefined) return r;
    }
    return undefined;
  };
}

/** CHALLENGE_AUTH with fields changed and a valid signature over the changed bytes (or one departing as `o` says). */
function challengeAuth(
  edit: (f: ChallengeAuthFields, x: FaultContext) => void,
  o?: (x: FaultContext) => SignOptions,
): Fault {
  return on(RQ.CHALLENGE, (m, x) =>
    x.resign(
      'CHALLENGE_AUTH',
      editChallengeAuth(m, x.original, x.mirror.negotiated, (f) => edit(f, x)),
      o?.(x),
    ),
  );
}

/** A re-signature of the honest CHALLENGE_AUTH that departs as `o` says. */
function challengeSignedWith(o: (x: FaultContext) => SignOptions): Fault {
  return challengeAuth(() => undefined, o);
}

const signedRequest = (x: FaultContext) => ((x.original[2] ?? 0) & 0x01) !== 0;

/** MEASUREMENTS with fields changed; signed ones re-signed over the changed bytes (or as `o` says). */
function measurements(
  edit: (f: MeasurementsFields, x: FaultContext) => void,
  o?: (x: FaultContext) => SignOptions,
): Fault {
  return on(RQ.GET_MEASUREMENTS, (m, x) => {
    const unsigned = editMeasurements(m, x.original, x.mirror.negotiated, (f) => edit(f, x));
    return signedRequest(x) ? x.resign('MEASUREMENTS', unsigned, o?.(x)) : unsigned;
  });
}

/** The blocks of a measurement record, as separate byte strings. */
function blocksOf(f: MeasurementsFields): Uint8Array[] {
  return decodeMeasurementRecord(f.record, f.numberOfBlocks).map((b) => b.bytes.slice());
}

function setRecord(f: MeasurementsFields, blocks: readonly Uint8Array[], count = blocks.length): void {
  f.record = Buffer.concat(blocks);
  f.numberOfBlocks = count;
}

/** Edits the honest answer to `code` as raw bytes. */
function bytes(code: number, edit: (m: Uint8Array, x: FaultContext) => Uint8Array, nth?: number): Fault {
  return on(code, edit, nth);
}

/** An ERROR (or any bytes) instead of the answer to `code`. */
function instead(code: number, reply: (x: FaultContext) => FaultReply | undefined): Fault {
  return (x) => (x.code === code ? reply(x) : undefined);
}

const versionOf = (x: FaultContext) => (x.mirror.isNegotiated ? x.mirror.negotiated.version : 0x10);

/** Serves `chain` (SPDM chain structure bytes) as slot 0 in DIGESTS, CERTIFICATE and CHALLENGE_AUTH. */
function forgedChain(chain: () => Uint8Array): Fault {
  let bytesOfChain: Uint8Array | undefined;
  const get = () => (bytesOfChain ??= chain());
  return all(
    on(RQ.GET_DIGESTS, (m, x) => {
      const out = m.slice();
      out.set(digest(x.mirror.negotiated.hashId, get()), 4);
      return out;
    }),
    on(RQ.GET_CERTIFICATE, (m, x) => {
      const c = get();
      const offset = readU16(x.original, 4);
      const length = readU16(x.original, 6);
      const portion = c.subarray(offset, Math.min(c.length, offset + length));
      const out = new Uint8Array(8 + portion.length);
      out.set(m.subarray(0, 4));
      out.set(setU16(setU16(new Uint8Array(4), 0, portion.length), 2, c.length - offset - portion.length), 4);
      out.set(portion, 8);
      return out;
    }),
    challengeAuth((f, x) => {
      f.certChainHash = digest(x.mirror.negotiated.hashId, get());
    }),
  );
}

/** The SPDM chain structure of the honest identity, for forgeries that start from it. */
function honestChainBytes(): Uint8Array {
  return encodeSpdmCertChain(0x13, 0x01, hostileIdentity().profile.slots[0]?.certificates ?? []);
}

/** Cuts the first answer to `code` to `variant` bytes (the sweep ends when `variant` reaches its length). */
function cutAt(code: number, variant: number): Fault {
  return bytes(code, (m) => (variant < m.length ? m.slice(0, variant) : m), 1);
}

const RESPONSES: readonly { request: number; name: string }[] = [
  { request: RQ.GET_VERSION, name: 'VERSION' },
  { request: RQ.GET_CAPABILITIES, name: 'CAPABILITIES' },
  { request: RQ.NEGOTIATE_ALGORITHMS, name: 'ALGORITHMS' },
  { request: RQ.GET_DIGESTS, name: 'DIGESTS' },
  { request: RQ.GET_CERTIFICATE, name: 'CERTIFICATE' },
  { request: RQ.CHALLENGE, name: 'CHALLENGE_AUTH' },
  { request: RQ.GET_MEASUREMENTS, name: 'MEASUREMENTS' },
];

/** Appends `tail` to the answer to the `variant`-th response kind (the sweep ends after the last kind). */
function trailingOn(variant: number, tail: readonly number[]): Fault {
  const r = RESPONSES[variant];
  return r ? bytes(r.request, (m) => append(m, tail), 1) : honestly;
}

type CaseSpec = Omit<HandlerCase, 'via' | 'device' | 'sweep'>;

/** A case whose device is the well-formed profile (or `profile`) behind `f`. */
function fault(c: CaseSpec, f: Fault, profile?: () => DeviceProfile): HandlerCase {
  return { via: 'handler', ...c, device: () => faultyDevice(f, profile?.()) };
}

/** As fault(), with a fault made afresh for every run (it keeps state, or a key of its own). */
function stateful(c: CaseSpec, make: () => Fault): HandlerCase {
  return { via: 'handler', ...c, device: () => faultyDevice(make()) };
}

/** A family of runs: variant 0, 1, 2... until the fault no longer fires. */
function sweep(c: CaseSpec, make: (variant: number) => Fault): HandlerCase {
  return { via: 'handler', ...c, sweep: true, device: (v) => faultyDevice(make(v)) };
}

/** A case whose device is honest but presents `profile` (a broken chain, odd capabilities). */
function device(c: CaseSpec, profile: () => DeviceProfile): HandlerCase {
  return { via: 'handler', ...c, device: () => faultyDevice(honestly, profile()) };
}

// Offsets in the responses the cases patch (SPDM 1.2+ layouts unless a case pins another version).
const CAPS = { ctExponent: 5, flags: 8, dataTransferSize: 12, maxSpdmMsgSize: 16 } as const;
const ALG = {
  length: 4,
  measurementSpec: 6,
  otherParams: 7,
  measurementHash: 8,
  baseAsym: 12,
  baseHash: 16,
  extAsymCount: 32,
} as const;
const CERT = { portionLength: 4, remainderLength: 6 } as const;
const MEAS = { numberOfBlocks: 4, recordLength: 5, record: 8 } as const;

/** Small portions, so that a chain takes several CERTIFICATE round trips. */
const SMALL_TRANSFERS = { dataTransferSize: 256 } as const;
/** Requester waits short enough for a suite: the device's silence costs ~120 ms. */
const SHORT_WAITS = { rttMs: 20 } as const;

// ── The table ────────────────────────────────────────────────────────────────────────────────

const truncationCases: HandlerCase[] = RESPONSES.map(({ request, name }) =>
  sweep(
    {
      name: `truncate-${name.toLowerCase().replace(/_/g, '-')}-at-every-offset`,
      category: 'truncation',
      description: `${name} cut at every byte offset from 0 to its length - 1 (one run per offset)`,
      expect: { error: 'DECODE_ERROR' },
    },
    (v) => cutAt(request, v),
  ),
);

/** The same cuts at the older versions, whose layouts differ (no DataTransferSize in 1.0/1.1, no RequesterContext before 1.3...). */
const olderVersionTruncationCases: HandlerCase[] = [0x10, 0x11, 0x12].flatMap((version) =>
  RESPONSES.filter((r) => r.request !== RQ.GET_CERTIFICATE).map(({ request, name }) =>
    sweep(
      {
        name: `truncate-${name.toLowerCase().replace(/_/g, '-')}-at-every-offset-v1-${version & 0xf}`,
        category: 'truncation',
        description: `SPDM 1.${version & 0xf}: ${name} cut at every byte offset from 0 to its length - 1`,
        expect: { error: 'DECODE_ERROR' },
        requester: { versions: [version] },
      },
      (v) => cutAt(request, v),
    ),
  ),
);

const cases: HostileCase[] = [
  // ── Length fields: too large, too small, past the end ─────────────────────────────────────
  fault(
    {
      name: 'version-entry-count-past-end',
      category: 'length',
      description: 'VERSION claims 32 entries and carries 4',
      expect: { error: 'DECODE_ERROR', detail: /VERSION\.VersionNumberEntry\[4\]/ },
    },
    bytes(RQ.GET_VERSION, (m) => setU8(m, 5, 32)),
  ),
  fault(
    {
      name: 'version-entry-count-zero',
      category: 'length',
      description: 'VERSION with VersionNumberEntryCount 0',
      expect: { error: 'DECODE_ERROR', detail: /no version entries/ },
    },
    bytes(RQ.GET_VERSION, (m) => setU8(m, 5, 0).slice(0, 6)),
  ),
  fault(
    {
      name: 'algorithms-length-past-end',
      category: 'length',
      description: 'ALGORITHMS Length says 8 bytes more than were sent',
      expect: { error: 'DECODE_ERROR', detail: /ALGORITHMS\.Length.*only/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU16(m, ALG.length, m.length + 8)),
  ),
  fault(
    {
      name: 'algorithms-length-too-small',
      category: 'length',
      description: 'ALGORITHMS Length 20, shorter than its fixed fields',
      expect: { error: 'DECODE_ERROR', detail: /shorter than the fixed fields/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU16(m, ALG.length, 20)),
  ),
  fault(
    {
      name: 'algorithms-ext-asym-count-past-end',
      category: 'length',
      description: 'ALGORITHMS ExtAsymSelCount 1 with no ExtAsymSel present',
      expect: { error: 'DECODE_ERROR', detail: /ExtAsymSel\[0\]/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU8(m, ALG.extAsymCount, 1)),
  ),
  fault(
    {
      name: 'algorithms-algstruct-count-past-end',
      category: 'length',
      description: 'ALGORITHMS Param1 announces 3 AlgStruct tables and carries none',
      expect: { error: 'DECODE_ERROR', detail: /AlgStruct\[0\]/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU8(m, 2, 3)),
  ),
  fault(
    {
      name: 'digests-mask-past-end',
      category: 'length',
      description: 'DIGESTS provisions slots 0-3 and carries one digest',
      expect: { error: 'DECODE_ERROR', detail: /DIGESTS\.Digest\[1\]/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => setU8(setU8(m, 2, 0xff), 3, 0x0f)),
  ),
  fault(
    {
      name: 'digests-no-slot-provisioned',
      category: 'length',
      description: 'DIGESTS provisions no slot at all',
      expect: { error: 'SLOT_INVALID', detail: /slot 0 is not provisioned/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => setU8(m, 3, 0).slice(0, 4)),
  ),
  fault(
    {
      name: 'digests-provisioned-not-supported',
      category: 'length',
      description: 'DIGESTS (1.3) provisions a slot its SupportedSlotMask lacks',
      expect: { error: 'DECODE_ERROR', detail: /ProvisionedSlotMask/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => setU8(m, 2, 0x02)),
  ),
  fault(
    {
      name: 'certificate-portion-past-end',
      category: 'length',
      description: 'CERTIFICATE PortionLength 100 bytes beyond the message',
      expect: { error: 'DECODE_ERROR', detail: /CERTIFICATE\.CertChain/ },
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU16(m, CERT.portionLength, readU16(m, CERT.portionLength) + 100)),
  ),
  fault(
    {
      name: 'certificate-portion-length-too-small',
      category: 'length',
      description: 'CERTIFICATE PortionLength 10 bytes short of the portion sent',
      expect: { error: 'DECODE_ERROR', detail: /CERTIFICATE\.trailing/ },
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU16(m, CERT.portionLength, readU16(m, CERT.portionLength) - 10)),
  ),
  fault(
    {
      name: 'certificate-portion-over-request',
      category: 'length',
      description: 'CERTIFICATE returns 16 bytes more than the Length asked for',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /PortionLength \d+ exceeds the \d+ requested/ },
      requester: SMALL_TRANSFERS,
    },
    bytes(
      RQ.GET_CERTIFICATE,
      (m) =>
        append(setU16(m, CERT.portionLength, readU16(m, CERT.portionLength) + 16), new Array<number>(16).fill(0x30)),
      1,
    ),
  ),
  fault(
    {
      name: 'certificate-remainder-changes',
      category: 'length',
      description: 'the second CERTIFICATE claims a longer chain than the first',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /chain length changed/ },
      requester: SMALL_TRANSFERS,
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU16(m, CERT.remainderLength, readU16(m, CERT.remainderLength) + 50), 2),
  ),
  stateful(
    {
      name: 'certificate-ignores-offset',
      category: 'length',
      description: 'every CERTIFICATE returns the first portion again, whatever Offset asks',
      expect: { error: 'DIGEST_MISMATCH', detail: /certificate chain hash/ },
      requester: SMALL_TRANSFERS,
    },
    () => {
      let first: Uint8Array | undefined;
      return bytes(RQ.GET_CERTIFICATE, (m) => {
        first ??= m;
        const remainder = readU16(m, CERT.remainderLength);
        const out = setU16(
          first.slice(0, 8 + Math.min(readU16(first, CERT.portionLength), readU16(m, CERT.portionLength))),
          CERT.remainderLength,
          remainder,
        );
        return setU16(out, CERT.portionLength, out.length - 8);
      });
    },
  ),
  fault(
    {
      name: 'certificate-remainder-beyond-64k',
      category: 'length',
      description: 'CERTIFICATE RemainderLength 0xFFFF: a chain longer than 1.3 allows',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /exceeds 65535/ },
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU16(m, CERT.remainderLength, 0xffff), 1),
  ),
  fault(
    {
      name: 'certificate-empty-portion',
      category: 'length',
      description: 'CERTIFICATE with PortionLength 0 and data remaining (an endless transfer)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /empty portion/ },
      requester: SMALL_TRANSFERS,
    },
    bytes(
      RQ.GET_CERTIFICATE,
      (m) =>
        setU16(
          setU16(m, CERT.remainderLength, readU16(m, CERT.portionLength) + readU16(m, CERT.remainderLength)),
          CERT.portionLength,
          0,
        ).slice(0, 8),
      1,
    ),
  ),
  fault(
    {
      name: 'certificate-remainder-zero-early',
      category: 'length',
      description: 'the first CERTIFICATE says nothing remains: the chain is cut short',
      expect: { error: 'DIGEST_MISMATCH', detail: /certificate chain hash/ },
      requester: SMALL_TRANSFERS,
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU16(m, CERT.remainderLength, 0), 1),
  ),
  fault(
    {
      name: 'measurements-record-length-past-end',
      category: 'length',
      description: 'MEASUREMENTS MeasurementRecordLength 64 bytes beyond the record',
      expect: {
        error: 'DECODE_ERROR',
        detail: /MEASUREMENTS\.(MeasurementRecord|Block|Nonce|OpaqueData|Signature|RequesterContext)/,
      },
    },
    bytes(RQ.GET_MEASUREMENTS, (m) => setU24(m, MEAS.recordLength, (readU32(m, MEAS.recordLength) & 0xffffff) + 64)),
  ),
  fault(
    {
      name: 'measurements-record-length-too-small',
      category: 'length',
      description: 'MEASUREMENTS MeasurementRecordLength 5 bytes short of its blocks',
      expect: { error: 'DECODE_ERROR', detail: /MEASUREMENTS\.MeasurementRecord\.Block\[5\]/ },
    },
    bytes(RQ.GET_MEASUREMENTS, (m) => setU24(m, MEAS.recordLength, (readU32(m, MEAS.recordLength) & 0xffffff) - 5)),
  ),
  fault(
    {
      name: 'measurements-record-length-max',
      category: 'length',
      description: 'MEASUREMENTS MeasurementRecordLength 16 MiB - 1 in a message of a few hundred bytes',
      expect: { error: 'DECODE_ERROR', detail: /MEASUREMENTS\.MeasurementRecord/ },
    },
    bytes(RQ.GET_MEASUREMENTS, (m) => setU24(m, MEAS.recordLength, 0xffffff)),
  ),
  fault(
    {
      name: 'measurements-opaque-length-past-end',
      category: 'length',
      description: 'MEASUREMENTS OpaqueDataLength 500 with no opaque data',
      expect: { error: 'DECODE_ERROR', detail: /MEASUREMENTS\.(OpaqueData|RequesterContext|Signature)/ },
    },
    bytes(RQ.GET_MEASUREMENTS, (m) => setU16(m, MEAS.record + (readU32(m, MEAS.recordLength) & 0xffffff) + 32, 500)),
  ),
  fault(
    {
      name: 'challenge-auth-opaque-length-over-limit',
      category: 'length',
      description: 'CHALLENGE_AUTH OpaqueDataLength 0xFFFF, over the 1024-byte maximum',
      expect: { error: 'DECODE_ERROR', detail: /OpaqueDataLength.*exceeds 1024/ },
    },
    bytes(RQ.CHALLENGE, (m, x) =>
      setU16(
        m,
        4 + 2 * x.mirror.negotiated.hashSize + 32 + ((x.original[3] ?? 0) !== 0 ? 0 : -x.mirror.negotiated.hashSize),
        0xffff,
      ),
    ),
  ),
  fault(
    {
      name: 'error-not-ready-without-data',
      category: 'length',
      description: 'ERROR ResponseNotReady without its 4 bytes of extended error data',
      expect: { error: 'DECODE_ERROR', detail: /ERROR\.ExtendedErrorData\.RDTExponent/ },
    },
    instead(RQ.CHALLENGE, (x) => encodeError(versionOf(x), ErrorCode.ResponseNotReady)),
  ),

  // ── Truncation at every byte of every response ─────────────────────────────────────────────
  ...truncationCases,
  ...olderVersionTruncationCases,

  // ── Trailing bytes ─────────────────────────────────────────────────────────────────────────
  sweep(
    {
      name: 'trailing-garbage-after-every-response',
      category: 'trailing',
      description: 'one non-zero byte after each kind of response in turn',
      expect: { error: 'DECODE_ERROR', detail: /\.trailing @\d+: non-zero byte/ },
    },
    (v) => trailingOn(v, [0x01]),
  ),
  sweep(
    {
      name: 'trailing-zeros-beyond-padding',
      category: 'trailing',
      description: 'four zero bytes (more than DOE padding) after each kind of response in turn',
      expect: { error: 'DECODE_ERROR', detail: /\.trailing @\d+: 4 unexpected byte/ },
    },
    (v) => trailingOn(v, [0, 0, 0, 0]),
  ),

  // ── Wrong codes and versions, downgrade ────────────────────────────────────────────────────
  fault(
    {
      name: 'wrong-response-code',
      category: 'codes-versions',
      description: 'GET_DIGESTS answered with a CERTIFICATE response code',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /expected DIGESTS, got CERTIFICATE/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => setU8(m, 1, RS.CERTIFICATE)),
  ),
  fault(
    {
      name: 'response-code-is-a-request',
      category: 'codes-versions',
      description: 'GET_CERTIFICATE answered with the request code GET_CERTIFICATE',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /expected CERTIFICATE, got GET_CERTIFICATE/ },
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU8(m, 1, RQ.GET_CERTIFICATE)),
  ),
  fault(
    {
      name: 'unknown-response-code',
      category: 'codes-versions',
      description: 'CHALLENGE answered with response code 0x55',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /expected CHALLENGE_AUTH/ },
    },
    bytes(RQ.CHALLENGE, (m) => setU8(m, 1, 0x55)),
  ),
  fault(
    {
      name: 'version-changes-after-negotiation',
      category: 'codes-versions',
      description: 'DIGESTS carries version 1.1 on a 1.3 connection',
      expect: { error: 'VERSION_MISMATCH', detail: /0x11, negotiated 0x13/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => setU8(m, 0, 0x11)),
  ),
  fault(
    {
      name: 'unknown-version-byte',
      category: 'codes-versions',
      description: 'CHALLENGE_AUTH carries version byte 0x99',
      expect: { error: 'VERSION_MISMATCH', detail: /0x99/ },
    },
    bytes(RQ.CHALLENGE, (m) => setU8(m, 0, 0x99)),
  ),
  fault(
    {
      name: 'version-response-not-1-0',
      category: 'codes-versions',
      description: 'VERSION sent with header version 1.3 instead of 1.0',
      expect: { error: 'VERSION_MISMATCH', detail: /GET_VERSION: response carries version 0x13/ },
    },
    bytes(RQ.GET_VERSION, (m) => setU8(m, 0, 0x13)),
  ),
  fault(
    {
      name: 'version-downgrade-mid-vca',
      category: 'codes-versions',
      description: 'VERSION offers 1.3, CAPABILITIES answers in 1.1',
      expect: { error: 'VERSION_MISMATCH', detail: /GET_CAPABILITIES.*0x11/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU8(m, 0, 0x11)),
  ),
  device(
    {
      name: 'version-downgrade-below-minimum',
      category: 'codes-versions',
      description: 'the device offers only 1.0 and 1.1 to a requester that insists on 1.2',
      expect: { error: 'NO_COMMON_VERSION', detail: /offers 1\.0, 1\.1/ },
      requester: { minVersion: 0x12 },
    },
    () => withVersions([0x10, 0x11]),
  ),
  fault(
    {
      name: 'no-common-version',
      category: 'codes-versions',
      description: 'VERSION lists only SPDM 2.0 and 0.9',
      expect: { error: 'NO_COMMON_VERSION' },
    },
    bytes(RQ.GET_VERSION, (m) => setU16(setU16(m.slice(0, 10), 6, 0x2000), 8, 0x0900).map((b, i) => (i === 5 ? 2 : b))),
  ),
  fault(
    {
      name: 'device-error-on-challenge',
      category: 'codes-versions',
      description: 'CHALLENGE answered with ERROR Unspecified',
      expect: { error: 'DEVICE_ERROR', details: { errorCode: ErrorCode.Unspecified, request: 'CHALLENGE' } },
    },
    instead(RQ.CHALLENGE, (x) => encodeError(versionOf(x), ErrorCode.Unspecified)),
  ),
  fault(
    {
      name: 'not-ready-names-another-request',
      category: 'codes-versions',
      description: 'ResponseNotReady for CHALLENGE names GET_DIGESTS',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /names request 0x81/ },
    },
    instead(RQ.CHALLENGE, (x) =>
      encodeResponseNotReady(versionOf(x), { rdtExponent: 10, requestCode: RQ.GET_DIGESTS, token: 1, rdtm: 1 }),
    ),
  ),
  fault(
    {
      name: 'respond-if-ready-answers-other-message',
      category: 'codes-versions',
      description: 'after ResponseNotReady, RESPOND_IF_READY is answered with a DIGESTS',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /expected CHALLENGE_AUTH, got DIGESTS/ },
    },
    (x) => {
      if (x.code !== RQ.CHALLENGE) return undefined;
      if (x.request[1] === RQ.CHALLENGE)
        return encodeResponseNotReady(versionOf(x), { rdtExponent: 10, requestCode: RQ.CHALLENGE, token: 7, rdtm: 1 });
      return Uint8Array.from([versionOf(x), RS.DIGESTS, 0x01, 0x01, ...new Uint8Array(32)]);
    },
  ),

  // ── Impossible capabilities and algorithm selections ───────────────────────────────────────
  fault(
    {
      name: 'caps-reserved-flag-bits',
      category: 'capabilities-algorithms',
      description: 'CAPABILITIES (1.3) sets flag bit 31, reserved in 1.3',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /reserved flag bits/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU32(m, CAPS.flags, (readU32(m, CAPS.flags) | 0x8000_0000) >>> 0)),
  ),
  fault(
    {
      name: 'caps-meas-cap-reserved-value',
      category: 'capabilities-algorithms',
      description: 'CAPABILITIES MEAS_CAP = 11b',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /MEAS_CAP has the reserved value/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU32(m, CAPS.flags, readU32(m, CAPS.flags) | 0x18)),
  ),
  fault(
    {
      name: 'caps-cert-and-pub-key-id',
      category: 'capabilities-algorithms',
      description: 'CAPABILITIES claims both CERT_CAP and PUB_KEY_ID_CAP',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /mutually exclusive/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU32(m, CAPS.flags, readU32(m, CAPS.flags) | CapabilityFlag.PUB_KEY_ID)),
  ),
  fault(
    {
      name: 'caps-transfer-size-below-minimum',
      category: 'capabilities-algorithms',
      description: 'CAPABILITIES DataTransferSize 41',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /DataTransferSize 41 is below/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU32(m, CAPS.dataTransferSize, 41)),
  ),
  fault(
    {
      name: 'caps-max-message-below-transfer-size',
      category: 'capabilities-algorithms',
      description: 'CAPABILITIES MaxSPDMmsgSize smaller than DataTransferSize',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /MaxSPDMmsgSize is smaller/ },
    },
    bytes(RQ.GET_CAPABILITIES, (m) => setU32(m, CAPS.maxSpdmMsgSize, readU32(m, CAPS.dataTransferSize) - 1)),
  ),
  fault(
    {
      name: 'alg-two-hashes-selected',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects SHA-256 and SHA-384 at once',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /BaseHashSel 0x3 is not exactly one/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseHash, 0x03)),
  ),
  fault(
    {
      name: 'alg-hash-not-offered',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects SHA-512 when only SHA-256 was offered',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /BaseHashSel 0x4 was not offered/ },
      requester: { baseHash: [0x01] },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseHash, 0x04)),
  ),
  fault(
    {
      name: 'alg-two-asyms-selected',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects ECDSA P-256 and P-384 at once',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /BaseAsymSel 0x90 is not exactly one/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseAsym, 0x90)),
  ),
  fault(
    {
      name: 'alg-asym-not-offered',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects ECDSA P-384 when only P-256 was offered',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /BaseAsymSel 0x80 was not offered/ },
      requester: { baseAsym: [HOSTILE_ASYM] },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseAsym, 0x80)),
  ),
  fault(
    {
      name: 'alg-no-asym-for-challenge',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects no signature algorithm from a device with CHAL_CAP',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /BaseAsymSel 0x0 is not exactly one/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseAsym, 0)),
  ),
  fault(
    {
      name: 'alg-two-measurement-hashes',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS MeasurementHashAlgo with two bits set',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /MeasurementHashAlgo 0x6 is not exactly one/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.measurementHash, 0x06)),
  ),
  fault(
    {
      name: 'alg-measurement-spec-not-dmtf',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS MeasurementSpecificationSel 0x02',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /MeasurementSpecificationSel 0x2 is not DMTF/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU8(m, ALG.measurementSpec, 0x02)),
  ),
  fault(
    {
      name: 'alg-opaque-format-not-offered',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects opaque data format 0, offered only format 1',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /opaque data format 0x1 was not offered/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU8(m, ALG.otherParams, 0x01)),
  ),
  fault(
    {
      name: 'alg-struct-selected-unasked',
      category: 'capabilities-algorithms',
      description: 'ALGORITHMS selects a DHE group although the requester offered no AlgStruct',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /AlgStruct type 2 selected/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => {
      const out = append(m, [0x02, 0x20, 0x10, 0x00]);
      return setU16(setU8(out, 2, 1), ALG.length, out.length);
    }),
  ),
  fault(
    {
      name: 'alg-measurement-hash-without-meas-cap',
      category: 'capabilities-algorithms',
      description: 'a device without MEAS_CAP selects a measurement hash',
      expect: { error: 'ALGORITHM_MISMATCH', detail: /without MEAS_CAP/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.measurementHash, 0x02)),
    () => withFlags(CapabilityFlag.CERT | CapabilityFlag.CHAL),
  ),
  device(
    {
      name: 'caps-cert-only',
      category: 'capabilities-algorithms',
      description: 'a device with certificates but neither CHAL_CAP nor measurements: nothing is ever signed',
      expect: { error: 'SIGNATURE_MISSING' },
      overSocket: true,
    },
    () => withFlags(CapabilityFlag.CERT),
  ),
  device(
    {
      name: 'caps-unsigned-measurements-only',
      category: 'capabilities-algorithms',
      description: 'no CHAL_CAP and MEAS_CAP without signatures: the device proves nothing',
      expect: { error: 'SIGNATURE_MISSING' },
    },
    () => withFlags(CapabilityFlag.CERT | CapabilityFlag.MEAS_NO_SIG),
  ),
  device(
    {
      name: 'caps-no-challenge-when-required',
      category: 'capabilities-algorithms',
      description: 'signed measurements but no CHAL_CAP, to a requester that requires CHALLENGE',
      expect: { error: 'SIGNATURE_MISSING', detail: /CHALLENGE/ },
      authenticate: { requireChallenge: true },
    },
    () => withFlags(CapabilityFlag.CERT | CapabilityFlag.MEAS_SIG | CapabilityFlag.MEAS_FRESH),
  ),
  device(
    {
      name: 'caps-challenge-without-certificates',
      category: 'capabilities-algorithms',
      description: 'CHAL_CAP and signed measurements but neither CERT_CAP nor a provisioned public key',
      expect: { error: 'CAPABILITY_MISMATCH', detail: /CHAL_CAP/ },
    },
    () => withFlags(CapabilityFlag.CHAL | CapabilityFlag.MEAS_SIG),
  ),

  // ── Timing abuse ───────────────────────────────────────────────────────────────────────────
  fault(
    {
      name: 'ct-exponent-huge-then-silent',
      category: 'timing',
      description: 'CTExponent 255 (2^255 µs) and then no CHALLENGE_AUTH at all',
      expect: { error: 'TIMEOUT', details: { request: 'CHALLENGE', limitMs: 150 } },
      requester: { maxResponseWaitMs: 150 },
    },
    all(
      bytes(RQ.GET_CAPABILITIES, (m) => setU8(m, CAPS.ctExponent, 255)),
      instead(RQ.CHALLENGE, () => ({ withhold: true })),
    ),
  ),
  fault(
    {
      name: 'not-ready-forever',
      category: 'timing',
      description: 'CHALLENGE and every RESPOND_IF_READY answered with ResponseNotReady',
      expect: { error: 'NOT_READY' },
      requester: { notReadyRetries: 3, maxNotReadyWaitMs: 20 },
    },
    instead(RQ.CHALLENGE, (x) =>
      encodeResponseNotReady(versionOf(x), { rdtExponent: 10, requestCode: RQ.CHALLENGE, token: 1, rdtm: 2 }),
    ),
  ),
  fault(
    {
      name: 'rdt-exponent-huge',
      category: 'timing',
      description: 'ResponseNotReady asking for 2^255 µs, forever',
      expect: { error: 'NOT_READY' },
      requester: { notReadyRetries: 3, maxNotReadyWaitMs: 20 },
    },
    instead(RQ.CHALLENGE, (x) =>
      encodeResponseNotReady(versionOf(x), { rdtExponent: 255, requestCode: RQ.CHALLENGE, token: 1, rdtm: 255 }),
    ),
  ),
  fault(
    {
      name: 'not-ready-past-request-deadline',
      category: 'timing',
      description: 'ResponseNotReady of 32 ms, over and over, past the per-request deadline',
      expect: { error: 'TIMEOUT', details: { deadline: 'request' } },
      requester: { notReadyRetries: 100, maxNotReadyWaitMs: 50, requestDeadlineMs: 150 },
    },
    instead(RQ.CHALLENGE, (x) =>
      encodeResponseNotReady(versionOf(x), { rdtExponent: 15, requestCode: RQ.CHALLENGE, token: 1, rdtm: 2 }),
    ),
  ),
  fault(
    {
      name: 'slow-drip-past-flow-deadline',
      category: 'timing',
      description: 'every answer 40 ms late: each in time, the whole flow not',
      expect: { error: 'TIMEOUT', details: { deadline: 'flow' } },
      requester: { flowDeadlineMs: 250 },
    },
    async (x) => ({ delayMs: 40, response: await x.honest() }),
  ),
  fault(
    {
      name: 'silent-from-the-start',
      category: 'timing',
      description: 'GET_VERSION is never answered',
      expect: { error: 'TIMEOUT', details: { request: 'GET_VERSION' } },
      requester: SHORT_WAITS,
    },
    instead(RQ.GET_VERSION, () => ({ withhold: true })),
  ),
  fault(
    {
      name: 'challenge-auth-withheld',
      category: 'timing',
      description: 'CHALLENGE is never answered',
      expect: { error: 'TIMEOUT', details: { request: 'CHALLENGE' } },
      requester: SHORT_WAITS,
    },
    instead(RQ.CHALLENGE, () => ({ withhold: true })),
  ),
  fault(
    {
      name: 'answer-after-timeout',
      category: 'timing',
      description: 'DIGESTS arrives 400 ms after the requester stopped waiting',
      expect: { error: 'TIMEOUT', details: { request: 'GET_DIGESTS' } },
      requester: SHORT_WAITS,
    },
    async (x) => (x.code === RQ.GET_DIGESTS ? { delayMs: 400, response: await x.honest() } : undefined),
  ),
  fault(
    {
      name: 'busy-forever',
      category: 'timing',
      description: 'GET_DIGESTS answered with ERROR Busy every time',
      expect: { error: 'BUSY', details: { request: 'GET_DIGESTS' } },
      requester: { busyRetries: 2 },
    },
    instead(RQ.GET_DIGESTS, (x) => encodeError(versionOf(x), ErrorCode.Busy)),
  ),

  // ── Nonce, context and transcript games ────────────────────────────────────────────────────
  stateful(
    {
      name: 'responder-nonce-replayed',
      category: 'nonce-transcript',
      description: 'MEASUREMENTS reuses the nonce of CHALLENGE_AUTH (validly signed)',
      expect: { error: 'NONCE_MISMATCH', detail: /already used/ },
    },
    () => {
      let seen: Uint8Array | undefined;
      return all(
        challengeAuth((f) => {
          seen = f.nonce.slice();
        }),
        measurements((f) => {
          if (seen) f.nonce = seen;
        }),
      );
    },
  ),
  fault(
    {
      name: 'responder-nonce-echoes-requester',
      category: 'nonce-transcript',
      description: "CHALLENGE_AUTH returns the requester's nonce as its own (validly signed)",
      expect: { error: 'NONCE_MISMATCH', detail: /echoed our nonce/ },
    },
    challengeAuth((f, x) => void (f.nonce = x.original.slice(4, 36))),
  ),
  fault(
    {
      name: 'measurements-nonce-echoes-requester',
      category: 'nonce-transcript',
      description: "MEASUREMENTS returns the requester's nonce as its own (validly signed)",
      expect: { error: 'NONCE_MISMATCH', detail: /MEASUREMENTS: responder echoed our nonce/ },
    },
    measurements((f, x) => void (f.nonce = x.original.slice(4, 36))),
  ),
  fault(
    {
      name: 'responder-nonce-all-zero',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH with an all-zero nonce (validly signed)',
      expect: { error: 'NONCE_MISMATCH', detail: /all zeros/ },
    },
    challengeAuth((f) => void (f.nonce = new Uint8Array(32))),
  ),
  fault(
    {
      name: 'requester-context-not-echoed',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH (1.3) with another RequesterContext (validly signed)',
      expect: { error: 'CONTEXT_MISMATCH', detail: /CHALLENGE_AUTH/ },
    },
    challengeAuth((f) => void (f.requesterContext = new Uint8Array(8).fill(0xaa))),
  ),
  fault(
    {
      name: 'measurements-context-not-echoed',
      category: 'nonce-transcript',
      description: 'MEASUREMENTS (1.3) with another RequesterContext (validly signed)',
      expect: { error: 'CONTEXT_MISMATCH', detail: /MEASUREMENTS/ },
    },
    measurements((f) => void (f.requesterContext = new Uint8Array(8).fill(0x55))),
  ),
  fault(
    {
      name: 'challenge-auth-for-another-nonce',
      category: 'nonce-transcript',
      description: 'a genuine CHALLENGE_AUTH the device made for a different challenge nonce',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    async (x) => {
      if (x.code !== RQ.CHALLENGE) return undefined;
      const other = x.original.slice();
      other.fill(0x42, 4, 36);
      return x.ask(other);
    },
  ),
  fault(
    {
      name: 'signature-omits-certificate-transcript',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH signed over VCA and C without B (the chain it vouches for)',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    challengeSignedWith(() => ({ transcript: (t) => [...t.slice(0, 6), ...t.slice(-2)] })),
  ),
  stateful(
    {
      name: 'measurements-signed-over-previous-transcript',
      category: 'nonce-transcript',
      description: 'MEASUREMENTS signed over the transcript of the earlier CHALLENGE_AUTH',
      expect: { error: 'SIGNATURE_INVALID', detail: /MEASUREMENTS/ },
    },
    () => {
      let previous: readonly Uint8Array[] | undefined;
      return all(
        challengeSignedWith(() => ({
          transcript: (t) => {
            previous = t;
            return t;
          },
        })),
        measurements(
          () => undefined,
          () => ({ transcript: (t) => previous ?? t }),
        ),
      );
    },
  ),
  fault(
    {
      name: 'signature-cross-context',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH signed under the MEASUREMENTS signing context',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    challengeSignedWith(() => ({ context: SigningContext.MEASUREMENTS })),
  ),
  fault(
    {
      name: 'measurements-signature-skips-earlier-blocks',
      category: 'nonce-transcript',
      description: 'one-by-one: the final signature covers only the last request, not the unsigned blocks before it',
      expect: { error: 'SIGNATURE_INVALID', detail: /MEASUREMENTS/ },
      authenticate: { mode: 'one-by-one' },
    },
    measurements(
      () => undefined,
      (x) => ({ transcript: (t) => [...(x.mirror.negotiated.version >= 0x12 ? t.slice(0, 6) : []), ...t.slice(-2)] }),
    ),
  ),
  fault(
    {
      name: 'certificate-wrong-slot',
      category: 'nonce-transcript',
      description: 'CERTIFICATE for slot 0 answers for slot 2',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /answers slot 2, asked 0/ },
    },
    bytes(RQ.GET_CERTIFICATE, (m) => setU8(m, 2, 2)),
  ),
  fault(
    {
      name: 'challenge-auth-wrong-slot',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH answers for slot 1 (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /slot 1, challenged slot 0/ },
    },
    challengeAuth((f) => void (f.slot = 1)),
  ),
  fault(
    {
      name: 'challenge-auth-slot-mask-lacks-slot',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH SlotMask without the challenged slot (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /SlotMask 0x2 lacks slot 0/ },
    },
    challengeAuth((f) => void (f.slotMask = 0x02)),
  ),
  fault(
    {
      name: 'challenge-auth-cert-chain-hash-wrong',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH CertChainHash of another chain (validly signed)',
      expect: { error: 'DIGEST_MISMATCH', detail: /CertChainHash/ },
    },
    challengeAuth((f) => void (f.certChainHash = flip(f.certChainHash, 0, 0xff))),
  ),
  fault(
    {
      name: 'digests-do-not-match-chain',
      category: 'nonce-transcript',
      description: 'DIGESTS reports a slot digest the chain does not hash to',
      expect: { error: 'DIGEST_MISMATCH', detail: /does not match DIGESTS/ },
    },
    bytes(RQ.GET_DIGESTS, (m) => flip(m, 4, 0xff)),
  ),
  fault(
    {
      name: 'opaque-data-without-format',
      category: 'nonce-transcript',
      description: 'no opaque format negotiated, yet CHALLENGE_AUTH carries opaque data (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /opaque data present/ },
    },
    all(
      bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU8(m, ALG.otherParams, 0)),
      challengeAuth((f) => void (f.opaqueData = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))),
    ),
  ),
  fault(
    {
      name: 'summary-hash-disagrees-with-measurements',
      category: 'nonce-transcript',
      description: 'CHALLENGE_AUTH signs a measurement summary hash that is not the hash of the signed measurements',
      expect: { verdict: 'MEASUREMENT_MISMATCH' },
    },
    challengeAuth((f) => {
      if (f.measurementSummaryHash) f.measurementSummaryHash = flip(f.measurementSummaryHash, 0, 0xff);
    }),
  ),

  // ── Signatures of the wrong length, over the wrong data, with the wrong key ────────────────
  stateful(
    {
      name: 'signature-wrong-key',
      category: 'signature',
      description: 'CHALLENGE_AUTH signed with another P-256 key (a clone with a copied chain)',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
      overSocket: true,
    },
    () => {
      const key = generateKeyPair(HOSTILE_ASYM).privateKey;
      return challengeSignedWith(() => ({ key }));
    },
  ),
  stateful(
    {
      name: 'measurements-signature-wrong-key',
      category: 'signature',
      description: 'MEASUREMENTS signed with another P-256 key',
      expect: { error: 'SIGNATURE_INVALID', detail: /MEASUREMENTS/ },
    },
    () => {
      const key = generateKeyPair(HOSTILE_ASYM).privateKey;
      return measurements(
        () => undefined,
        () => ({ key }),
      );
    },
  ),
  fault(
    {
      name: 'signature-over-wrong-data',
      category: 'signature',
      description: 'CHALLENGE_AUTH signed over the transcript with one byte of the challenge changed',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    challengeSignedWith(() => ({
      transcript: (t) => [...t.slice(0, -2), flip(t.at(-2) as Uint8Array, 10), t.at(-1) as Uint8Array],
    })),
  ),
  fault(
    {
      name: 'signature-too-short',
      category: 'signature',
      description: 'CHALLENGE_AUTH signature 8 bytes short',
      expect: { error: 'DECODE_ERROR', detail: /CHALLENGE_AUTH\.Signature/ },
    },
    bytes(RQ.CHALLENGE, (m) => m.slice(0, m.length - 8)),
  ),
  fault(
    {
      name: 'signature-missing',
      category: 'signature',
      description: 'CHALLENGE_AUTH without any signature bytes',
      expect: { error: 'DECODE_ERROR', detail: /CHALLENGE_AUTH\.Signature/ },
    },
    bytes(RQ.CHALLENGE, (m, x) => unsignedPart(m, x.mirror.negotiated)),
  ),
  fault(
    {
      name: 'signature-too-long',
      category: 'signature',
      description: 'CHALLENGE_AUTH signature followed by 8 more bytes',
      expect: { error: 'DECODE_ERROR', detail: /CHALLENGE_AUTH\.trailing/ },
    },
    bytes(RQ.CHALLENGE, (m) => append(m, [1, 2, 3, 4, 5, 6, 7, 8])),
  ),
  stateful(
    {
      name: 'signature-by-p384-key',
      category: 'signature',
      description: 'CHALLENGE_AUTH carries a 96-byte P-384 signature on a P-256 connection',
      expect: { error: 'DECODE_ERROR', detail: /CHALLENGE_AUTH\.trailing/ },
    },
    () => {
      const key = generateKeyPair(0x0080).privateKey;
      return on(RQ.CHALLENGE, (m, x) => {
        const unsigned = unsignedPart(m, x.mirror.negotiated);
        const sig = x.mirror.sign('CHALLENGE_AUTH', x.original, unsigned, key, {});
        return append(unsigned, sig.length === 96 ? sig : new Uint8Array(96));
      });
    },
  ),
  fault(
    {
      name: 'signature-all-zero',
      category: 'signature',
      description: 'CHALLENGE_AUTH signature of the right length, all zeros',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    bytes(RQ.CHALLENGE, (m, x) =>
      append(unsignedPart(m, x.mirror.negotiated), new Uint8Array(x.mirror.negotiated.signatureSize)),
    ),
  ),
  fault(
    {
      name: 'signature-r-s-swapped',
      category: 'signature',
      description: 'CHALLENGE_AUTH ECDSA signature with r and s swapped',
      expect: { error: 'SIGNATURE_INVALID', detail: /CHALLENGE_AUTH/ },
    },
    bytes(RQ.CHALLENGE, (m, x) => {
      const n = x.mirror.negotiated.signatureSize;
      const sig = m.slice(m.length - n);
      return append(unsignedPart(m, x.mirror.negotiated), append(sig.subarray(n / 2), sig.subarray(0, n / 2)));
    }),
  ),
  fault(
    {
      name: 'measurements-signature-bit-flip',
      category: 'signature',
      description: 'MEASUREMENTS signature with one bit flipped',
      expect: { error: 'SIGNATURE_INVALID', detail: /MEASUREMENTS/ },
    },
    bytes(RQ.GET_MEASUREMENTS, (m) => flip(m, m.length - 5)),
  ),

  // ── Certificate chains ─────────────────────────────────────────────────────────────────────
  device(
    {
      name: 'chain-leaf-expired',
      category: 'chain',
      description: 'the leaf certificate expired yesterday',
      expect: { verdict: 'CERT_EXPIRED', problem: 'EXPIRED' },
    },
    () => chainWithLeaf({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }),
  ),
  device(
    {
      name: 'chain-intermediate-expired',
      category: 'chain',
      description: 'the intermediate CA expired yesterday',
      expect: { verdict: 'CERT_EXPIRED', problem: 'EXPIRED' },
    },
    chainWithExpiredIntermediate,
  ),
  device(
    {
      name: 'chain-leaf-not-yet-valid',
      category: 'chain',
      description: 'the leaf becomes valid tomorrow',
      expect: { verdict: 'CERT_NOT_YET_VALID', problem: 'NOT_YET_VALID' },
    },
    () => chainWithLeaf({ notBefore: daysFromNow(1), notAfter: daysFromNow(30) }),
  ),
  device(
    {
      name: 'chain-leaf-is-ca',
      category: 'chain',
      description: 'the leaf is a CA certificate (basicConstraints cA TRUE)',
      expect: { verdict: 'CERT_INVALID', problem: 'LEAF_IS_CA' },
    },
    () => chainWithLeaf({ ca: true }),
  ),
  device(
    {
      name: 'chain-no-cma-san',
      category: 'chain',
      description: 'the leaf has no PCIe CMA subjectAltName',
      expect: { verdict: 'SAN_MISSING' },
    },
    () => chainWithLeaf({ noCmaSan: true }),
  ),
  device(
    {
      name: 'chain-wrong-cma-san',
      category: 'chain',
      description: 'the leaf names another PCI device in its CMA SAN',
      expect: { verdict: 'SAN_MISMATCH' },
    },
    () => chainWithLeaf({ leaf: { pcieCmaSan: 'Vendor=8086:Device=1234:CC=020000:REV=01' } }),
  ),
  device(
    {
      name: 'chain-leaf-requester-eku-only',
      category: 'chain',
      description: 'the leaf is for requester authentication only (EKU)',
      expect: { verdict: 'EKU', problem: 'LEAF_EKU' },
    },
    () => chainWithLeaf({ leaf: { responderAuthEku: false, requesterAuthEku: true } }),
  ),
  device(
    {
      name: 'chain-leaf-without-digital-signature',
      category: 'chain',
      description: 'the leaf keyUsage lacks digitalSignature',
      expect: { verdict: 'KEY_USAGE', problem: 'LEAF_DIGITAL_SIGNATURE' },
    },
    () => chainWithLeaf({ leaf: { keyUsage: ['nonRepudiation'] } }),
  ),
  device(
    {
      name: 'chain-leaf-unknown-critical-extension',
      category: 'chain',
      description: 'the leaf carries a critical extension nobody understands',
      expect: { verdict: 'CERT_INVALID', problem: 'UNKNOWN_CRITICAL_EXTENSION' },
    },
    chainWithUnknownCriticalExtension,
  ),
  fault(
    {
      name: 'alg-asym-disagrees-with-leaf-key',
      category: 'chain',
      description: 'ALGORITHMS selects RSASSA-3072 (offered) for a device whose leaf key is P-256',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /LEAF_KEY_ALGORITHM/ },
    },
    bytes(RQ.NEGOTIATE_ALGORITHMS, (m) => setU32(m, ALG.baseAsym, 0x0004)),
  ),
  device(
    {
      name: 'chain-from-unknown-root',
      category: 'chain',
      description: 'a well-formed chain from a root with the vendor root name but another key',
      expect: { verdict: 'CHAIN_UNTRUSTED' },
    },
    chainFromUnknownRoot,
  ),
  device(
    {
      name: 'chain-root-omitted-unknown',
      category: 'chain',
      description: 'the chain omits its root and RootHash names no trusted root',
      expect: { verdict: 'CHAIN_UNTRUSTED' },
    },
    chainWithoutRoot,
  ),
  device(
    {
      name: 'chain-does-not-link',
      category: 'chain',
      description: 'the leaf is issued by an intermediate that is not in the chain',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /CHAIN_LINK/ },
      overSocket: true,
    },
    chainThatDoesNotLink,
  ),
  device(
    {
      name: 'chain-link-signature-forged',
      category: 'chain',
      description: 'the leaf names the intermediate but is signed by another key',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /CHAIN_SIGNATURE/ },
    },
    chainWithForgedLink,
  ),
  device(
    {
      name: 'chain-loops',
      category: 'chain',
      description: 'root, Y, X, Y, X, leaf: every link verifies, certificates repeat',
      expect: { verdict: 'CHAIN_INVALID', problem: 'REPEATED_CERTIFICATE' },
    },
    loopingChain,
  ),
  device(
    {
      name: 'chain-absurdly-long',
      category: 'chain',
      description: 'root, 40 intermediates, leaf',
      expect: { verdict: 'CHAIN_INVALID' },
    },
    () => longChain(40),
  ),
  device(
    {
      name: 'chain-leaf-key-wrong-algorithm',
      category: 'chain',
      description: 'the leaf key is P-384 on a P-256 connection',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /LEAF_KEY_ALGORITHM/ },
    },
    chainWithWrongLeafAlgorithm,
  ),
  fault(
    {
      name: 'chain-root-hash-wrong',
      category: 'chain',
      description: 'the SPDM chain RootHash is not the hash of its root certificate',
      expect: { error: 'CERT_CHAIN_INVALID', detail: /ROOT_HASH/ },
    },
    forgedChain(() => flip(honestChainBytes(), 4, 0xff)),
  ),
  fault(
    {
      name: 'chain-empty',
      category: 'chain',
      description: 'the SPDM chain holds a RootHash and no certificate',
      expect: { error: 'DECODE_ERROR', detail: /no certificate after RootHash/ },
    },
    forgedChain(() => setU16(honestChainBytes().slice(0, 36), 0, 36)),
  ),
  fault(
    {
      name: 'chain-length-field-lies',
      category: 'chain',
      description: 'the SPDM chain Length field is 100 more than the chain',
      expect: { error: 'DECODE_ERROR', detail: /SpdmCertChain\.Length/ },
    },
    forgedChain(() => {
      const c = honestChainBytes();
      return setU16(c, 0, c.length + 100);
    }),
  ),
  fault(
    {
      name: 'chain-not-der',
      category: 'chain',
      description: 'the SPDM chain carries bytes that are not a DER certificate',
      expect: { error: 'CERT_INVALID', detail: /Certificates\[0\]/ },
    },
    forgedChain(() => {
      const junk = Uint8Array.from([0x30, 0x82, 0x01, 0x00, ...new Uint8Array(256).fill(0xa5)]);
      const c = new Uint8Array(36 + junk.length);
      c.set(honestChainBytes().subarray(0, 36));
      c.set(junk, 36);
      return setU16(c, 0, c.length);
    }),
  ),

  // ── Measurement blocks that disagree with their sizes, repeat, exceed the message ──────────
  fault(
    {
      name: 'measurement-block-size-exceeds-value',
      category: 'measurements',
      description: 'a block MeasurementSize 4 bytes larger than its DMTF value (validly signed)',
      expect: { error: 'DECODE_ERROR', detail: /beyond the DMTF value/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      const first = b[0] as Uint8Array;
      b[0] = append(setU16(first, 2, readU16(first, 2) + 4), [0, 0, 0, 0]);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-block-past-record',
      category: 'measurements',
      description: 'the last block claims 16 KiB inside a record of a few hundred bytes (validly signed)',
      expect: { error: 'DECODE_ERROR', detail: /Block\[5\]\.Measurement/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[5] = setU16(b[5] as Uint8Array, 2, 0x4000);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-value-size-past-block',
      category: 'measurements',
      description: 'a DMTF value size larger than its block (validly signed)',
      expect: { error: 'DECODE_ERROR', detail: /DMTFSpecMeasurementValue/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[4] = setU16(b[4] as Uint8Array, 5, 0x200);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-blocks-fewer-than-announced',
      category: 'measurements',
      description: 'NumberOfBlocks one more than the record holds (validly signed)',
      expect: { error: 'DECODE_ERROR', detail: /Block\[6\]\.Index/ },
    },
    measurements((f) => void (f.numberOfBlocks += 1)),
  ),
  fault(
    {
      name: 'measurement-blocks-more-than-announced',
      category: 'measurements',
      description: 'NumberOfBlocks one less than the record holds (validly signed)',
      expect: { error: 'DECODE_ERROR', detail: /after 5 block/ },
    },
    measurements((f) => void (f.numberOfBlocks -= 1)),
  ),
  fault(
    {
      name: 'measurement-index-repeated',
      category: 'measurements',
      description: 'two blocks with index 1 (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /index 1 repeated/ },
      overSocket: true,
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[1] = setU8(b[1] as Uint8Array, 0, 1);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-index-reserved',
      category: 'measurements',
      description: 'a block with the reserved index 0xFF (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /index 255 is reserved/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[2] = setU8(b[2] as Uint8Array, 0, 0xff);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-digest-wrong-size',
      category: 'measurements',
      description: 'a digest block of 20 bytes under SHA-256 (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /digest is 20 bytes/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[0] = rawBlock({ index: 1, valueType: 0x00, value: new Uint8Array(20).fill(7) });
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-spec-not-dmtf',
      category: 'measurements',
      description: 'a block with MeasurementSpecification 0x02 (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /measurement specification 0x2/ },
    },
    measurements((f) => {
      const b = blocksOf(f);
      b[3] = setU8(b[3] as Uint8Array, 1, 0x02);
      setRecord(f, b);
    }),
  ),
  fault(
    {
      name: 'measurement-count-query-returns-blocks',
      category: 'measurements',
      description: 'one-by-one: the count query (operation 0) comes back with a block',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /count query/ },
      authenticate: { mode: 'one-by-one' },
    },
    measurements((f, x) => {
      if (x.original[3] === 0) setRecord(f, [rawBlock({ index: 1, value: new Uint8Array(4) })]);
    }),
  ),
  fault(
    {
      name: 'measurement-wrong-index-answered',
      category: 'measurements',
      description: 'one-by-one: index 2 is answered with block 3',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /asked for index 2, got 3/ },
      authenticate: { mode: 'one-by-one' },
    },
    measurements((f, x) => {
      if (x.original[3] === 2) {
        const b = blocksOf(f);
        b[0] = setU8(b[0] as Uint8Array, 0, 3);
        setRecord(f, b);
      }
    }),
  ),
  fault(
    {
      name: 'measurement-total-indices-inflated',
      category: 'measurements',
      description: 'one-by-one: the device reports 200 indices and has 6',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /reports 200 indices but only 6 answered/ },
      authenticate: { mode: 'one-by-one' },
    },
    measurements((f, x) => {
      if (x.original[3] === 0) f.totalIndices = 200;
    }),
  ),
  fault(
    {
      name: 'measurements-wrong-slot',
      category: 'measurements',
      description: 'signed MEASUREMENTS for slot 0 answers for slot 3 (validly signed)',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /slot/ },
    },
    measurements((f, x) => void (signedRequest(x) && (f.slot = 3))),
  ),
  fault(
    {
      name: 'measurements-content-changed-mid-sequence',
      category: 'measurements',
      description:
        'one-by-one: the final signed MEASUREMENTS (1.2+) reports ContentChanged: the blocks before it are stale',
      expect: { error: 'UNEXPECTED_RESPONSE', detail: /changed/i },
      authenticate: { mode: 'one-by-one' },
    },
    measurements((f, x) => void (signedRequest(x) && (f.contentChanged = 1))),
  ),
  fault(
    {
      name: 'measurements-unsigned-when-signature-requested',
      category: 'measurements',
      description: 'signed MEASUREMENTS requested, sent without a signature',
      expect: { error: 'DECODE_ERROR', detail: /MEASUREMENTS\.Signature/ },
    },
    bytes(RQ.GET_MEASUREMENTS, (m, x) => unsignedPart(m, x.mirror.negotiated)),
  ),

  // ── The transport: floods and silence at the socket ────────────────────────────────────────
  {
    via: 'socket',
    socket: 'silence',
    name: 'socket-silence',
    category: 'transport',
    description: 'the server greets, then never answers',
    expect: { error: 'TIMEOUT', details: { request: 'GET_VERSION' } },
    overSocket: true,
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'flood',
    name: 'socket-flood',
    category: 'transport',
    description: `every reply is followed by ${32} frames nobody asked for`,
    expect: { error: 'PROTOCOL_ERROR' },
    overSocket: true,
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'flood-before-greeting',
    name: 'socket-flood-before-greeting',
    category: 'transport',
    description: 'the greeting is answered with a flood of NORMAL frames before the real greeting',
    expect: { error: 'TRANSPORT_ERROR', detail: /unexpected greeting/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'oversized-frame',
    name: 'socket-oversized-frame',
    category: 'transport',
    description: 'a reply header announcing a 4 GiB payload',
    expect: { error: 'DECODE_ERROR', detail: /PayloadSize/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'close-mid-exchange',
    name: 'socket-close-mid-exchange',
    category: 'transport',
    description: 'the server hangs up instead of answering',
    expect: { error: 'TRANSPORT_ERROR', detail: /closed/ },
    overSocket: true,
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'slow-drip',
    name: 'socket-slow-drip',
    category: 'transport',
    description: 'the reply trickles in one byte every 100 ms',
    expect: { error: 'TIMEOUT', details: { request: 'GET_VERSION' } },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'wrong-transport-type',
    name: 'socket-wrong-transport-type',
    category: 'transport',
    description: 'the reply frame names another transport type',
    expect: { error: 'TRANSPORT_ERROR', detail: /transport type/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'socket',
    socket: 'garbage-payload',
    name: 'socket-garbage-payload',
    category: 'transport',
    description: 'the reply payload is not an SPDM message of the transport (MCTP in the suite)',
    expect: { error: 'DECODE_ERROR', detail: /MCTP/ },
    overSocket: true,
    device: () => faultyDevice(honestly),
  },

  // ── The DOE mailbox ────────────────────────────────────────────────────────────────────────
  {
    via: 'doe',
    doe: 'busy-stuck',
    failure: 'busy',
    name: 'doe-busy-stuck',
    category: 'doe',
    description: 'the mailbox reports Busy and never clears it',
    expect: { error: 'BUSY' },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'error-set',
    failure: 'device-error',
    name: 'doe-error-set',
    category: 'doe',
    description: 'the device sets DOE Error instead of answering',
    expect: { error: 'TRANSPORT_ERROR', detail: /Error bit/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'ready-never-set',
    name: 'doe-ready-never-set',
    category: 'doe',
    description: 'the device takes the request and never sets Data Object Ready',
    expect: { error: 'TIMEOUT', details: { request: 'GET_VERSION' } },
    requester: SHORT_WAITS,
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'longer-than-announced',
    failure: 'longer-than-announced',
    name: 'doe-object-longer-than-announced',
    category: 'doe',
    description: 'the response object holds one DW more than its Length field says',
    expect: { error: 'TRANSPORT_ERROR', detail: /longer than its Length field/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'shorter-than-announced',
    failure: 'not-ready',
    name: 'doe-object-shorter-than-announced',
    category: 'doe',
    description: 'the response Length field announces one DW more than the device has',
    expect: { error: 'TRANSPORT_ERROR', detail: /Data Object Ready dropped/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'reset-mid-response',
    failure: 'not-ready',
    name: 'doe-reset-mid-response',
    category: 'doe',
    description: 'the device resets while its response is being read',
    expect: { error: 'TRANSPORT_ERROR', detail: /Data Object Ready dropped/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'reset-mid-request',
    failure: 'device-error',
    name: 'doe-reset-mid-request',
    category: 'doe',
    description: 'the device resets while the request is being written',
    expect: { error: 'TRANSPORT_ERROR', detail: /Error/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'response-over-limit',
    failure: 'response-too-large',
    name: 'doe-response-over-limit',
    category: 'doe',
    description: 'a response object larger than the driver accepts',
    expect: { error: 'TRANSPORT_ERROR', detail: /exceeds the 8-DW maximum/ },
    device: () => faultyDevice(honestly),
  },
  {
    via: 'doe',
    doe: 'abort-ignored',
    failure: 'dead',
    name: 'doe-abort-ignored',
    category: 'doe',
    description: 'Error is set and aborts are ignored: a dead mailbox',
    expect: { error: 'TRANSPORT_ERROR', detail: /mailbox dead/ },
    device: () => faultyDevice(honestly),
  },
];

/** Every hostile case, in table order. */
export const HOSTILE_CASES: readonly HostileCase[] = cases;

export function findHostileCase(name: string): HostileCase | undefined {
  return HOSTILE_CASES.find((c) => c.name === name);
}
