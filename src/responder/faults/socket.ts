/**
 * A hostile spdm-emu server: speaks the socket protocol well enough to be connected to, then
 * misbehaves at the transport — says nothing, floods, announces a frame larger than any limit,
 * hangs up mid-exchange, drips its reply a byte at a time, answers on another transport type or
 * with a payload that is not SPDM. The SPDM answers themselves come from an SpdmHandler (the clean
 * responder or a fault wrapper), so every transport fault sits on top of a working device.
 */
import type { Socket } from 'node:net';
import { SocketServer } from '../../transport/socket-server.js';
import { LIMITS } from '../../wire/limits.js';
import {
  CLIENT_HELLO,
  EMU_TRANSPORT_BY_NAME,
  EmuCommand,
  EmuFrameReader,
  encodeEmuFrame,
  SERVER_HELLO,
  type EmuFrame,
  type EmuTransportName,
} from '../../transport/emu-frame.js';
import { unwrapPayload, wrapSpdm } from '../../transport/emu-framing.js';
import { answerDoeDiscovery } from '../../transport/doe.js';
import { equalBytes } from '../../wire/bytes.js';
import type { SpdmHandler } from '../../transport/transport.js';

export type SocketFault =
  /** Greets, then never answers a NORMAL frame. */
  | 'silence'
  /** Every reply is followed by frames nobody asked for. */
  | 'flood'
  /** The client's greeting is answered with NORMAL frames first, then the real greeting. */
  | 'flood-before-greeting'
  /** The reply header announces a payload of 4 GiB - 1. */
  | 'oversized-frame'
  /** The connection is closed instead of answering. */
  | 'close-mid-exchange'
  /** The reply is written one byte at a time, DRIP_INTERVAL_MS apart. */
  | 'slow-drip'
  /** The reply carries another transport type than the request. */
  | 'wrong-transport-type'
  /** The reply payload is bytes that are not an SPDM message of the transport. */
  | 'garbage-payload';

/** How many unsolicited frames a flood sends after each reply. */
export const FLOOD_FRAMES = 32;
/** Pause between two bytes of a dripped reply. */
export const DRIP_INTERVAL_MS = 100;

export interface HostileServerOptions {
  readonly host?: string;
  readonly port: number;
  readonly transport: EmuTransportName;
  readonly handler: SpdmHandler;
  readonly fault: SocketFault;
}

export class HostileEmuServer extends SocketServer {
  private constructor(private readonly opts: HostileServerOptions) {
    super(opts.port);
  }

  static async listen(opts: HostileServerOptions): Promise<HostileEmuServer> {
    const s = new HostileEmuServer(opts);
    await s.listenOn(opts.host);
    return s;
  }

  protected accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const reader = new EmuFrameReader();
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      let frames: EmuFrame[];
      try {
        frames = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        socket.destroy();
        return;
      }
      for (const f of frames) chain = chain.then(() => this.onFrame(socket, f)).catch(() => void socket.destroy());
    });
  }

  private async onFrame(socket: Socket, f: EmuFrame): Promise<void> {
    const type = EMU_TRANSPORT_BY_NAME[this.opts.transport];
    const fault = this.opts.fault;
    const send = (command: number, payload?: Uint8Array, transportType = type) => {
      if (!socket.destroyed) socket.write(encodeEmuFrame(command, transportType, payload));
    };
    switch (f.command) {
      case EmuCommand.TEST:
        if (fault === 'flood-before-greeting')
          for (let i = 0; i < FLOOD_FRAMES; i++) send(EmuCommand.NORMAL, new Uint8Array(8));
        send(EmuCommand.TEST, equalBytes(f.payload, CLIENT_HELLO) ? SERVER_HELLO : new Uint8Array(0));
        return;
      case EmuCommand.CONTINUE:
      case EmuCommand.SHUTDOWN:
        send(f.command);
        socket.end();
        if (f.command === EmuCommand.SHUTDOWN) await this.close();
        return;
      case EmuCommand.NORMAL:
        break;
      default:
        send(EmuCommand.UNKNOWN);
        return;
    }
    const u = unwrapPayload(this.opts.transport, f.payload);
    if (u.kind === 'doe-discovery') {
      send(EmuCommand.NORMAL, answerDoeDiscovery(u.payload));
      return;
    }
    if (u.kind !== 'spdm') {
      send(EmuCommand.UNKNOWN);
      return;
    }
    const reply = wrapSpdm(this.opts.transport, await this.opts.handler.handle(u.message));
    switch (fault) {
      case 'silence':
        return;
      case 'flood': {
        // One write, so the frames nobody asked for reach the client before it can send its next
        // request: then the outcome is always the client's unsolicited-frame rule. (Sent later, a
        // flood frame would be taken as the next reply and fail that exchange instead.)
        const frame = encodeEmuFrame(EmuCommand.NORMAL, type, reply);
        const all = new Uint8Array(frame.length * (FLOOD_FRAMES + 1));
        for (let i = 0; i <= FLOOD_FRAMES; i++) all.set(frame, i * frame.length);
        if (!socket.destroyed) socket.write(all);
        return;
      }
      case 'flood-before-greeting':
        send(EmuCommand.NORMAL, reply);
        return;
      case 'oversized-frame': {
        const head = encodeEmuFrame(EmuCommand.NORMAL, type);
        new DataView(head.buffer).setUint32(8, 0xffff_ffff);
        if (!socket.destroyed) socket.write(head);
        return;
      }
      case 'close-mid-exchange':
        socket.destroy();
        return;
      case 'slow-drip':
        await drip(socket, encodeEmuFrame(EmuCommand.NORMAL, type, reply));
        return;
      case 'wrong-transport-type':
        send(EmuCommand.NORMAL, reply, (type + 1) & 3);
        return;
      case 'garbage-payload':
        send(EmuCommand.NORMAL, Uint8Array.from([0x7e, 0xde, 0xad, 0xbe, 0xef]));
        return;
    }
  }
}

/** Writes `bytes` one at a time until done or the peer goes away; never longer than the frame itself. */
async function drip(socket: Socket, bytes: Uint8Array): Promise<void> {
  const n = Math.min(bytes.length, LIMITS.emuFramePayloadBytes);
  for (let i = 0; i < n && !socket.destroyed; i++) {
    socket.write(bytes.subarray(i, i + 1));
    await new Promise((r) => setTimeout(r, DRIP_INTERVAL_MS));
  }
}
