/**
 * A PSK session played by both peers, built from the key schedule and record functions directly
 * (not from the tracker), so the tracker can be checked on flows the libspdm captures do not have:
 * UpdateKey, several interleaved sessions, MCTP/TCP framing, authenticate-only records, the
 * 1.0/1.1 big-endian nonce option, a responder without PSK context.
 */
import { concat } from '../../src/wire/bytes.js';
import { digest } from '../../src/crypto/hash.js';
import { ConversationDecoder, type DecodedMessage, type Direction } from '../../src/spdm/conversation.js';
import { CapabilityFlag } from '../../src/spdm/messages/capabilities.js';
import { encodeOpaqueData } from '../../src/spdm/opaque.js';
import {
  encodePskExchange,
  encodePskExchangeRsp,
  encodePskFinish,
  encodePskFinishRsp,
} from '../../src/spdm/messages/psk.js';
import {
  deriveDataSecrets,
  deriveHandshakeSecrets,
  updateTrafficKeys,
  verifyData,
  type HandshakeSecrets,
  type KeyScheduleParams,
  type TrafficKeys,
} from '../../src/session/key-schedule.js';
import {
  RECORD_LAYOUTS,
  sealSecuredRecord,
  wrapApplicationData,
  type NonceOrder,
  type SecuredTransport,
  type SessionMode,
} from '../../src/session/record.js';
import type { SessionTracker } from '../../src/capture/session-tracker.js';
import { loadCapture } from '../session/captures.js';

/** The VCA of doe-v12-p256 (SPDM 1.2, SHA-256, AES-256-GCM), optionally with other capability flags. */
export function vca(
  patch: { requesterFlags?: (f: number) => number; responderFlags?: (f: number) => number } = {},
): Uint8Array[] {
  const cap = loadCapture('doe-v12-p256.pcap');
  const dec = new ConversationDecoder();
  const out: Uint8Array[] = [];
  for (const p of cap.payloads) {
    if (p.kind !== 'spdm') continue;
    const d = dec.feed((p.body[1]! & 0x80) !== 0 ? 'request' : 'response', p.body);
    if (d.kind === 'other') continue;
    const raw = Uint8Array.from(d.msg.raw);
    const fix =
      d.kind === 'GET_CAPABILITIES'
        ? patch.requesterFlags
        : d.kind === 'CAPABILITIES'
          ? patch.responderFlags
          : undefined;
    if (fix) new DataView(raw.buffer).setUint32(8, fix(new DataView(raw.buffer).getUint32(8, true)) >>> 0, true);
    out.push(raw);
    if (d.kind === 'ALGORITHMS') return out;
  }
  throw new Error('no VCA');
}

export const PARAMS: KeyScheduleParams = { version: 0x12, hashId: 0x01, aeadId: 0x02 };

interface Side {
  keys: TrafficKeys;
  seq: bigint;
  next?: TrafficKeys;
}

export interface PeerOptions {
  readonly psk: Uint8Array;
  readonly reqSessionId: number;
  readonly rspSessionId: number;
  readonly transport?: SecuredTransport;
  readonly mode?: SessionMode;
  /** DSP0277 version in the responder's VersionSelection (u16, 0x1200 = 1.2). */
  readonly securedVersion?: number;
  readonly nonceOrder?: NonceOrder;
  /** Responder PSK_CAP 01: no context, no PSK_FINISH. */
  readonly noContext?: boolean;
}

/** Both ends of one PSK session: the clear exchange, then sealed records in either direction. */
export class Peers {
  readonly id: number;
  readonly pskExchange: Uint8Array;
  readonly pskExchangeRsp: Uint8Array;
  private readonly a: readonly Uint8Array[];
  private readonly hs: HandshakeSecrets;
  private th: Uint8Array[];
  private req: Side;
  private rsp: Side;
  private readonly o: PeerOptions;
  private random = 1;

  constructor(a: readonly Uint8Array[], o: PeerOptions) {
    this.o = o;
    this.a = a;
    this.id = ((o.rspSessionId << 16) | o.reqSessionId) >>> 0;
    const sv = o.securedVersion ?? 0x1200;
    const opaque = (id: number, data: number[]) =>
      encodeOpaqueData([{ registryId: 0, vendorId: new Uint8Array(0), data: Uint8Array.from([1, id, ...data]) }]);
    this.pskExchange = encodePskExchange(PARAMS.version, {
      measurementSummaryHashType: 0,
      reqSessionId: o.reqSessionId,
      pskHint: new TextEncoder().encode('hint\0'),
      requesterContext: new Uint8Array(32).fill(0x11),
      opaqueData: opaque(1, [1, 0, 0x00, 0x12]),
    });
    const h = 32;
    const rspFields = {
      heartbeatPeriod: 0,
      rspSessionId: o.rspSessionId,
      responderContext: o.noContext ? new Uint8Array(0) : new Uint8Array(32).fill(0x22),
      opaqueData: opaque(0, [sv & 0xff, sv >> 8]),
    };
    const unsigned = encodePskExchangeRsp(PARAMS.version, { ...rspFields, responderVerifyData: new Uint8Array(0) });
    const th1Hash = digest(PARAMS.hashId, concat([...a, this.pskExchange, unsigned]));
    this.hs = deriveHandshakeSecrets(PARAMS, o.psk, 'psk', th1Hash);
    this.pskExchangeRsp = encodePskExchangeRsp(PARAMS.version, {
      ...rspFields,
      responderVerifyData: verifyData(PARAMS, this.hs.responseFinishedKey, th1Hash),
    });
    if (this.pskExchangeRsp.length !== unsigned.length + h) throw new Error('layout');
    this.th = [...a, this.pskExchange, this.pskExchangeRsp];
    this.req = { keys: this.hs.request, seq: 0n };
    this.rsp = { keys: this.hs.response, seq: 0n };
    if (o.noContext) this.toData();
  }

  private toData(): void {
    const data = deriveDataSecrets(PARAMS, this.hs.handshakeSecret, digest(PARAMS.hashId, concat(this.th)));
    this.req = { keys: data.request, seq: 0n };
    this.rsp = { keys: data.response, seq: 0n };
  }

  /** The PSK_FINISH message (with a correct RequesterVerifyData unless `corrupt`). */
  pskFinish(corrupt = false): Uint8Array {
    const header = encodePskFinish(PARAMS.version, { requesterVerifyData: new Uint8Array(0) });
    const vd = verifyData(PARAMS, this.hs.requestFinishedKey, digest(PARAMS.hashId, concat([...this.th, header])));
    if (corrupt) vd[0] = (vd[0] as number) ^ 1;
    const m = concat([header, vd]);
    this.th.push(m);
    return m;
  }

  /** PSK_FINISH_RSP; both sides switch to the data keys after it. */
  pskFinishRsp(): Uint8Array {
    const m = encodePskFinishRsp(PARAMS.version);
    this.th.push(m);
    return m;
  }

  afterFinish(): void {
    this.toData();
  }

  /** One record from `from`, with its key and counter; DOE records are padded to a dword. */
  seal(from: Direction, spdm: Uint8Array): Uint8Array {
    const side = from === 'request' ? this.req : this.rsp;
    const transport = this.o.transport ?? 'doe';
    const layout = RECORD_LAYOUTS[transport];
    const mode = this.o.mode ?? 'encrypt';
    const randomData =
      layout.maxRandomPadding > 0 && mode === 'encrypt'
        ? new Uint8Array((this.random++ % layout.maxRandomPadding) + 1).fill(0xcc)
        : undefined;
    const rec = sealSecuredRecord(
      this.id,
      wrapApplicationData(transport, spdm),
      { aeadId: PARAMS.aeadId, ...side.keys },
      side.seq,
      {
        layout,
        mode,
        ...(this.o.nonceOrder ? { nonceOrder: this.o.nonceOrder } : {}),
        ...(randomData ? { randomData } : {}),
      },
    );
    side.seq++;
    if (transport !== 'doe') return rec;
    const padded = new Uint8Array(Math.ceil(rec.length / 4) * 4);
    padded.set(rec);
    return padded;
  }

  /** KEY_UPDATE semantics as libspdm implements them (keyschedule.md §7). */
  deriveNext(which: 'request' | 'both'): void {
    this.req.next = updateTrafficKeys(PARAMS, this.req.keys);
    if (which === 'both') this.rsp.next = updateTrafficKeys(PARAMS, this.rsp.keys);
  }

  switchTo(side: Direction): void {
    const s = side === 'request' ? this.req : this.rsp;
    if (!s.next) throw new Error('no next key');
    s.keys = s.next;
    s.next = undefined;
    s.seq = 0n;
  }
}

/** Feeds clear messages to a decoder and the tracker the way spdm dump does. */
export class Wire {
  readonly decoder = new ConversationDecoder();
  constructor(readonly tracker: SessionTracker) {}

  clear(bytes: Uint8Array): DecodedMessage {
    const d = this.decoder.feed((bytes[1]! & 0x80) !== 0 ? 'request' : 'response', bytes);
    this.tracker.observe(d, this.decoder.state);
    return d;
  }

  vca(messages: readonly Uint8Array[]): void {
    for (const m of messages) this.clear(m);
  }
}

export const ENCRYPT_CLEARED = (f: number): number => f & ~CapabilityFlag.ENCRYPT;
export const PSK_NO_CONTEXT = (f: number): number =>
  (f & ~CapabilityFlag.PSK_WITH_CONTEXT) | CapabilityFlag.PSK_NO_CONTEXT;
