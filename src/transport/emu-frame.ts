/**
 * The socket protocol of DMTF's spdm-emu (spdm_requester_emu, spdm_responder_emu and the
 * SPDM-Responder-Validator): every message in either direction is a 12-byte big-endian header
 * — command, transport type, payload size — followed by the payload.
 */
import { LIMITS } from '../wire/limits.js';
import { DecodeError } from '../wire/errors.js';

export const EmuCommand = {
  NORMAL: 0x0001,
  OOB_ENCAP_KEY_UPDATE: 0x8001,
  OOB_ENCAP_ENDPOINT_INFO: 0x8002,
  TEST: 0xdead,
  CONTINUE: 0xfffd,
  SHUTDOWN: 0xfffe,
  UNKNOWN: 0xffff,
} as const;

export const EmuTransportType = { NONE: 0, MCTP: 1, PCI_DOE: 2, TCP: 3 } as const;
export type EmuTransportName = 'none' | 'mctp' | 'doe' | 'tcp';

export const EMU_TRANSPORT_BY_NAME: Readonly<Record<EmuTransportName, number>> = {
  none: EmuTransportType.NONE,
  mctp: EmuTransportType.MCTP,
  doe: EmuTransportType.PCI_DOE,
  tcp: EmuTransportType.TCP,
};

/** Default ports of the emulators: 2323, and the IANA SPDM port 4194 for the TCP binding. */
export function defaultEmuPort(transport: EmuTransportName): number {
  return transport === 'tcp' ? 4194 : 2323;
}

export const EMU_HEADER_SIZE = 12;
/** Largest payload we accept: a whole DOE object (1 MiB) and change. Anything larger is hostile. */
export const EMU_MAX_PAYLOAD = LIMITS.emuFramePayloadBytes;

export const CLIENT_HELLO = new Uint8Array(Buffer.from('Client Hello!\0', 'latin1'));
export const SERVER_HELLO = new Uint8Array(Buffer.from('Server Hello!\0', 'latin1'));

export interface EmuFrame {
  readonly command: number;
  readonly transportType: number;
  readonly payload: Uint8Array;
}

export function encodeEmuFrame(
  command: number,
  transportType: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(EMU_HEADER_SIZE + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, command >>> 0);
  dv.setUint32(4, transportType >>> 0);
  dv.setUint32(8, payload.length);
  out.set(payload, EMU_HEADER_SIZE);
  return out;
}

/**
 * Reassembles frames from a TCP byte stream. Chunks are kept as received and copied once per
 * frame; a header announcing more than EMU_MAX_PAYLOAD fails before anything is allocated, so
 * between pushes the reader never holds more than one frame's bound (header + EMU_MAX_PAYLOAD).
 */
export class EmuFrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  /** Bytes received and not yet returned as a frame: always less than one whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): EmuFrame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: EmuFrame[] = [];
    for (;;) {
      if (this.buffered < EMU_HEADER_SIZE) return out;
      const head = this.peek(EMU_HEADER_SIZE);
      const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      const size = dv.getUint32(8);
      if (size > EMU_MAX_PAYLOAD)
        throw new DecodeError(
          'spdm-emu frame',
          'PayloadSize',
          8,
          `${size} bytes exceeds the ${EMU_MAX_PAYLOAD}-byte limit`,
        );
      if (this.buffered < EMU_HEADER_SIZE + size) return out;
      const whole = this.take(EMU_HEADER_SIZE + size);
      out.push({ command: dv.getUint32(0), transportType: dv.getUint32(4), payload: whole.subarray(EMU_HEADER_SIZE) });
    }
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    return this.gather(n, false);
  }

  private take(n: number): Uint8Array {
    return this.gather(n, true);
  }

  private gather(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    let i = 0;
    while (o < n) {
      const c = this.chunks[i] as Uint8Array;
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (consume) {
        if (k === c.length) {
          this.chunks.shift();
          continue;
        }
        this.chunks[i] = c.subarray(k);
      }
      i++;
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
