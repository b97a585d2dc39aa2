/**
 * Stateful decoding of a whole SPDM conversation (capture decoding, `spdm dump`).
 *
 * Many SPDM messages cannot be decoded on their own. From the negotiation: the hash size H
 * (DIGESTS, CHALLENGE_AUTH, session messages), the responder's signature size (BaseAsymAlgo or
 * the 1.4 PQC selection), the requester's (ALGORITHMS AlgStruct 4 ReqBaseAsymAlg, or AlgStruct 6)
 * for FINISH and for the requester's answers in encapsulated flows, the DHE ExchangeData size
 * (AlgStruct 2; 1.4 ML-KEM AlgStruct 7), whether both sides set HANDSHAKE_IN_THE_CLEAR_CAP
 * (ResponderVerifyData sits in FINISH_RSP instead of KEY_EXCHANGE_RSP) and whether multi-key
 * DIGESTS were negotiated. From the previous request: whether CHALLENGE / KEY_EXCHANGE /
 * PSK_EXCHANGE asked for a measurement summary hash, whether GET_MEASUREMENTS /
 * GET_ENDPOINT_INFO asked for a signature. `ConversationDecoder` feeds every message, in order,
 * to the codec for its code and remembers what the later ones need. GET_VERSION resets that
 * state, as it resets the connection.
 *
 * Nested messages are decoded too: the request inside ENCAPSULATED_REQUEST /
 * ENCAPSULATED_RESPONSE_ACK and the requester's response inside DELIVER_ENCAPSULATED_RESPONSE
 * (roles reversed: requester-side signature size, the requester's multi-key DIGESTS, no
 * measurement summary hash from a requester), the response carried by CHUNK_SEND_ACK, and the
 * large message reassembled from CHUNK_SEND / CHUNK_RESPONSE chunks (returned as `large` with
 * the last chunk).
 *
 * The transport payload may be longer than the SPDM message: PCIe DOE carries whole dwords, so a
 * message is followed by up to 3 zero bytes. The true end comes from the message's own fields;
 * the bytes after it are returned as `trailing` (never part of `msg.raw`, which is what enters
 * transcripts and signatures). Anything else after the end is a DecodeError.
 *
 * What each kind's codec is given and what it leaves in the state is one entry of MESSAGE_TABLE
 * (message-table.ts); the decoder dispatches on the code, frames the result and owns the state.
 *
 * Codes without a codec (SLOT_MANAGEMENT, whose 1.4 layout is not in shared/spec, and unknown
 * codes) come back as `kind: 'other'` with the header decoded; their true length is unknown, so
 * `body` is everything after the header, padding included, and `trailing` is empty.
 */
import { MAX_TRANSPORT_PADDING } from './trailing.js';
import { advanceChunks, ChunkBuffers, type ChunkAssembly } from './chunk-assembly.js';
import { DecodeError } from '../wire/errors.js';
import { hashInfo, measurementHashToBaseHash } from '../crypto/algorithms.js';
import { codeName, isRequestCode } from './codes.js';
import { peekHeader, type Header } from './header.js';
import { exchangeDataSizes, signatureSizeOf } from './sizes.js';
import { CapabilityFlag, MEAS_CAP_MASK } from './messages/capabilities.js';
import type { MeasurementsResponse } from './messages/measurements.js';
import { wrapLargeMessageError, type NestedDecoder } from './messages/common.js';
import type { ChunkMessage } from './messages/chunk.js';
import {
  CHUNK_CODES,
  DECODED_CODES,
  initialState,
  MESSAGE_TABLE,
  type ConversationState,
  type DecodeContext,
  type DecodedKind,
  type DecodedMessage,
  type DecodedSpdmMessage,
  type Direction,
  type KindEntry,
  type MutableState,
  type OtherSpdmMessage,
  type Role,
  type UpdateContext,
} from './message-table.js';

export {
  DECODED_CODES,
  ENCAPSULATED_REQUEST_CODES,
  ENCAPSULATED_RESPONSE_CODES,
  type ConversationState,
  type DecodedKind,
  type DecodedMessage,
  type DecodedSpdmMessage,
  type Direction,
  type OtherSpdmMessage,
} from './message-table.js';
export type { ChunkAssembly } from './chunk-assembly.js';

/** Most bytes a transport may add after a message (DOE pads to a dword). */
export const MAX_TRAILING_PADDING = MAX_TRANSPORT_PADDING;

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

export interface ConversationDecoderOptions {
  /**
   * 'omitted': every signed message comes without its signature, as in the transcript a
   * signature covers (evidence records it so: verifier/signed.ts). Default 'included'.
   */
  readonly signatures?: 'included' | 'omitted';
}

export class ConversationDecoder {
  private s: MutableState;
  /** Reassembly buffers this decoder may extend in place (chunk-assembly.ts). */
  private readonly chunkBuffers = new ChunkBuffers();
  /** The chunk decode() just advanced, so that update() stores the result instead of copying the chunk again. */
  private advanced: { readonly msg: ChunkMessage; readonly assembly: ChunkAssembly | undefined } | undefined;

  /** Signed messages come without their signature (options.signatures 'omitted'). */
  private readonly omitSignatures: boolean;

  /** `initial` seeds the state, e.g. to decode a capture that starts after negotiation. */
  constructor(initial: Partial<ConversationState> = {}, options: ConversationDecoderOptions = {}) {
    // Object.assign, not a spread of both: V8 spreads a full state (a decoder resumed where a
    // signed transcript's opening left off, spdm/signed-transcript.ts) twenty times slower.
    this.s = Object.assign(initialState(), initial);
    this.omitSignatures = options.signatures === 'omitted';
  }

  get state(): Readonly<ConversationState> {
    return { ...this.s };
  }

  /** Size of the negotiated BaseHashAlgo, if one known algorithm was selected. */
  get hashSize(): number | undefined {
    return this.s.baseHashAlgo === undefined ? undefined : hashInfo(this.s.baseHashAlgo)?.size;
  }

  /** The responder's signature size: BaseAsymAlgo, or the 1.4 PQC selection when there is one. */
  get signatureSize(): number | undefined {
    return signatureSizeOf(this.s.baseAsymAlgo, this.s.pqcAsymAlgo);
  }

  /** The requester's signature size: ReqBaseAsymAlg (AlgStruct 4), or the 1.4 ReqPqcAsymAlg (AlgStruct 6). */
  get requesterSignatureSize(): number | undefined {
    return signatureSizeOf(this.s.reqBaseAsymAlgo, this.s.reqPqcAsymAlgo);
  }

  /** ExchangeData sizes of KEY_EXCHANGE / KEY_EXCHANGE_RSP (DHE group, or 1.4 ML-KEM). */
  get exchangeDataSizes(): { readonly request: number; readonly response: number } | undefined {
    return exchangeDataSizes(this.s.dheGroup, this.s.kemAlgo);
  }

  /** Both sides set HANDSHAKE_IN_THE_CLEAR_CAP (flag bit 15). */
  get handshakeInTheClear(): boolean {
    const f = CapabilityFlag.HANDSHAKE_IN_THE_CLEAR;
    return ((this.s.requesterFlags ?? 0) & f) !== 0 && ((this.s.responderFlags ?? 0) & f) !== 0;
  }

  /** Digest size of the negotiated MeasurementHashAlgo (undefined for raw bit stream only / none). */
  get measurementHashSize(): number | undefined {
    if (this.s.measurementHashAlgo === undefined) return undefined;
    const base = measurementHashToBaseHash(this.s.measurementHashAlgo);
    return base === undefined ? undefined : hashInfo(base)?.size;
  }

  reset(): void {
    this.s = initialState();
  }

  /**
   * Decodes one message. `bytes` is the transport payload (it may carry DOE padding). The state
   * only changes when the message decodes, so a failure leaves the decoder usable.
   */
  feed(direction: Direction, bytes: Uint8Array): DecodedMessage {
    const { name, decoded } = this.decodeAs(direction, bytes);
    if (decoded.kind === 'other') {
      return { ...decoded, direction, trailing: bytes.subarray(bytes.length) };
    }
    const end = decoded.msg.raw.length;
    const trailing = bytes.subarray(end);
    const nonZero = trailing.findIndex((b) => b !== 0);
    if (nonZero >= 0) {
      throw new DecodeError(
        name,
        'trailing',
        end + nonZero,
        'non-zero byte after the end of the message (padding must be zero)',
      );
    }
    this.update(decoded, 'main');
    // More zeros than dword padding explains: the message itself is intact, but its sender
    // over-reported its size (libspdm 1e16c60 does so for 1.4 KEY_PAIR_INFO). An observer reports
    // it; a requester, which must not accept it, refuses such responses (spdm/trailing.ts).
    if (trailing.length > MAX_TRAILING_PADDING) {
      return {
        ...decoded,
        direction,
        trailing,
        anomaly: `${trailing.length} zero byte(s) after the end of the message, more than transport padding`,
      };
    }
    return { ...decoded, direction, trailing };
  }

  /**
   * Decodes the message at the start of `bytes`, which may be followed by more messages: a
   * transcript, messages end to end without transport padding. `trailing` is what follows it.
   * A code without a codec is a DecodeError here, since where its message ends is unknown.
   */
  next(direction: Direction, bytes: Uint8Array): DecodedMessage {
    const decoded = this.nextMessage(direction, bytes);
    return { ...decoded, direction, trailing: bytes.subarray(decoded.msg.raw.length) };
  }

  /**
   * next() for a caller that only wants the message (a signed transcript split back into its
   * messages): it ends where `msg.raw` does, and no copy of the result with its direction and a
   * view of the rest is made — per message, that copy cost as much as the decoding.
   */
  nextMessage(direction: Direction, bytes: Uint8Array): DecodedSpdmMessage {
    const { name, decoded } = this.decodeAs(direction, bytes);
    if (decoded.kind === 'other')
      throw new DecodeError(name, 'RequestResponseCode', 1, `${name} has no codec: where it ends is unknown`);
    this.update(decoded, 'main');
    return decoded;
  }

  /** Decodes the message at the start of `bytes`, sent as a `direction`; the state is not changed. */
  private decodeAs(
    direction: Direction,
    bytes: Uint8Array,
  ): { name: string; decoded: DecodedSpdmMessage | OtherSpdmMessage } {
    const header = peekHeader(bytes);
    const name = codeName(header.code);
    const isRequest = isRequestCode(header.code);
    if (isRequest !== (direction === 'request')) {
      throw new DecodeError(
        name,
        'RequestResponseCode',
        1,
        `${isRequest ? 'a request' : 'a response'} code sent as a ${direction}`,
      );
    }
    return { name, decoded: this.decode(header, bytes, 'main') };
  }

  private need(value: number | undefined, messageName: string, field: string, what: string): number {
    if (value === undefined)
      throw new DecodeError(messageName, field, 4, `${what} unknown: no ALGORITHMS selecting a known algorithm seen`);
    return value;
  }

  /** libspdm (libspdm_get_measurement_summary_hash_size): no summary hash from a responder without MEAS_CAP. */
  private summaryHashPresent(type: number): boolean {
    const measCap = this.s.responderFlags === undefined || (this.s.responderFlags & MEAS_CAP_MASK) !== 0;
    return type !== 0 && measCap;
  }

  /**
   * A decoder for the message nested in `outer`: it must be a `direction` message allowed there
   * (`allowed`), of the outer message's version, and is decoded in `role`.
   */
  private nested(
    outer: string,
    version: number,
    direction: Direction,
    role: Role,
    allowed: (code: number) => boolean,
  ): NestedDecoder<DecodedSpdmMessage> {
    return (payload) => {
      const h = peekHeader(payload);
      const name = codeName(h.code);
      if (isRequestCode(h.code) !== (direction === 'request') || !allowed(h.code) || !DECODED_CODES.has(h.code)) {
        throw new DecodeError(name, 'RequestResponseCode', 1, `${name} cannot be carried in ${outer}`);
      }
      if (h.version !== version) {
        throw new DecodeError(name, 'SPDMVersion', 0, `version ${hex(h.version)} inside a ${hex(version)} ${outer}`);
      }
      const d = this.decode(h, payload, role);
      if (d.kind === 'other') throw new DecodeError(name, 'RequestResponseCode', 1, `${name} has no codec`);
      return { value: d, raw: d.msg.raw };
    };
  }

  /** Decodes the large message reassembled from chunks; it must use every byte. */
  private decodeLarge(outer: string, version: number, direction: Direction, bytes: Uint8Array): DecodedSpdmMessage {
    try {
      const { value, raw } = this.nested(outer, version, direction, 'main', (c) => !CHUNK_CODES.has(c))(bytes);
      if (raw.length !== bytes.length) {
        throw new DecodeError(
          codeName(bytes[1] ?? 0),
          'LargeMessageSize',
          raw.length,
          `${bytes.length - raw.length} byte(s) after the end of the large message`,
        );
      }
      return value;
    } catch (e) {
      return wrapLargeMessageError(e, outer);
    }
  }

  private decode(header: Header, bytes: Uint8Array, role: Role): DecodedSpdmMessage | OtherSpdmMessage {
    const kind = DECODED_CODES.get(header.code);
    if (kind === undefined)
      return { kind: 'other', header, name: codeName(header.code), body: bytes.subarray(4), raw: bytes };
    return MESSAGE_TABLE[kind].decode(this.decodeContext(header, role), bytes);
  }

  /** The view of this decoder a table entry decodes with. */
  private decodeContext(header: Header, role: Role): DecodeContext {
    return {
      state: this.s,
      header,
      role,
      hashSize: this.hashSize,
      signatureSize: this.omitSignatures ? 0 : this.signatureSize,
      requesterSignatureSize: this.omitSignatures ? 0 : this.requesterSignatureSize,
      exchangeDataSizes: this.exchangeDataSizes,
      handshakeInTheClear: this.handshakeInTheClear,
      need: (value, messageName, field, what) => this.need(value, messageName, field, what),
      summaryHashPresent: (type) => this.summaryHashPresent(type),
      nested: (outer, direction, innerRole, allowed) =>
        this.nested(outer, header.version, direction, innerRole, allowed),
      chunk: (outer, prev, msg, direction) => {
        const complete = this.advance(outer, prev, msg);
        return complete ? this.decodeLarge(outer, msg.version, direction, complete) : undefined;
      },
      checkDigestSizes: (msg, b) => this.checkDigestSizes(msg, b),
    };
  }

  /** One chunk into its reassembly; the large message after the last chunk. */
  private advance(outer: string, prev: ChunkAssembly | undefined, msg: ChunkMessage): Uint8Array | undefined {
    this.advanced = undefined;
    const { assembly, complete } = advanceChunks(outer, prev, msg, this.chunkBuffers);
    this.advanced = { msg, assembly };
    return complete;
  }

  /** The reassembly after the chunk decode() advanced (undefined once the message is complete). */
  private advancedAssembly(msg: ChunkMessage): ChunkAssembly | undefined {
    const a = this.advanced;
    this.advanced = undefined;
    if (!a || a.msg !== msg) throw new Error('ConversationDecoder: chunk state updated without decoding the chunk');
    return a.assembly;
  }

  /** A DMTF digest measurement must be exactly one MeasurementHashAlgo digest long. */
  private checkDigestSizes(msg: MeasurementsResponse, bytes: Uint8Array): void {
    const size = this.measurementHashSize;
    if (size === undefined) return;
    msg.blocks.forEach((b, i) => {
      if (b.dmtf && !b.dmtf.raw && b.dmtf.value.length !== size) {
        const at = b.bytes.byteOffset - bytes.byteOffset + 5;
        throw new DecodeError(
          'MEASUREMENTS',
          `MeasurementRecord.Block[${i}].DMTFSpecMeasurementValueSize`,
          at,
          `digest of ${b.dmtf.value.length} byte(s), MeasurementHashAlgo ${hex(this.s.measurementHashAlgo ?? 0)} digests are ${size}`,
        );
      }
    });
  }

  /** Applies the table's update for `d` (in `role`) to the state. */
  private update(d: DecodedSpdmMessage, role: Role): void {
    // Each entry takes the message of its own kind; the table's type cannot say so through d.kind.
    const entry = MESSAGE_TABLE[d.kind] as KindEntry<DecodedKind>;
    const ctx: UpdateContext = {
      state: this.s,
      reset: () => {
        this.s = initialState();
      },
      update: (inner, innerRole) => this.update(inner, innerRole),
      advancedAssembly: (msg) => this.advancedAssembly(msg),
    };
    if (role === 'main') entry.update?.(ctx, d);
    else entry.updateEncap?.(ctx, d);
  }
}
