/**
 * spdm-emu socket protocol, both ends. The client is a Transport that talks to libspdm's
 * spdm_responder_emu (or our own `spdm emulate`); the server makes any SpdmHandler — normally the
 * device emulator — reachable by libspdm's spdm_requester_emu and the SPDM-Responder-Validator.
 * Nagle is disabled on every socket: one SPDM exchange is two small writes, and with Nagle and
 * delayed ACKs each would wait ~40 ms on loopback.
 */
import { connect, type Socket } from 'node:net';
import { SocketServer } from './socket-server.js';
import { SpdmError } from '../wire/errors.js';
import { LIMITS, LimitError, timerMs } from '../wire/limits.js';
import { equalBytes } from '../wire/bytes.js';
import {
  CLIENT_HELLO,
  EMU_TRANSPORT_BY_NAME,
  EmuCommand,
  EmuFrameReader,
  encodeEmuFrame,
  SERVER_HELLO,
  type EmuFrame,
  type EmuTransportName,
} from './emu-frame.js';
import { unwrapPayload, wrapSecured, wrapSpdm } from './emu-framing.js';
import { answerDoeDiscovery, encodeDoeObject, DoeObjectType, PCI_SIG_VENDOR_ID } from './doe.js';
import type { SecuredTransport } from '../session/record.js';
import { isClearError, peekSessionId } from '../session/session-id.js';
import type { ExchangeOptions, SpdmHandler, Transport } from './transport.js';

/**
 * One TCP connection carrying emu frames, strictly request → reply. What it keeps of frames that
 * arrive before anyone asks for them is the hostile part: a client asks for every frame it gets
 * (`maxQueued` 0: an unsolicited frame fails the connection), a server keeps a few while it
 * answers an earlier one (LIMITS.emuServerQueuedFrames) and fails the connection past that.
 * Any failure is final: the socket is closed and every later next() rejects with that error.
 */
class FrameConnection {
  private readonly reader = new EmuFrameReader();
  private readonly queue: EmuFrame[] = [];
  private waiter: { resolve: (f: EmuFrame) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    readonly socket: Socket,
    private readonly maxQueued: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
          if (this.failure) return;
          this.deliver(f);
        }
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    socket.on('error', (e) =>
      this.fail(new SpdmError('TRANSPORT_ERROR', `socket error: ${e.message}`, {}, { cause: e })),
    );
    socket.on('close', () => this.fail(new SpdmError('TRANSPORT_ERROR', 'connection closed by peer')));
  }

  /** Why the connection failed, if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  private deliver(f: EmuFrame): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(f);
    } else if (this.queue.length < this.maxQueued) {
      this.queue.push(f);
    } else if (this.maxQueued === 0) {
      this.fail(
        new SpdmError(
          'PROTOCOL_ERROR',
          `unsolicited spdm-emu frame (command 0x${f.command.toString(16)}, ${f.payload.length} payload bytes) while no reply was awaited`,
          { command: f.command, payloadBytes: f.payload.length },
        ),
      );
    } else {
      this.fail(
        new LimitError(
          'emuServerQueuedFrames',
          this.queue.length + 1,
          this.maxQueued,
          'spdm-emu connection',
          `spdm-emu peer sent ${this.queue.length + 1} frames ahead of the replies, more than the emuServerQueuedFrames limit of ${this.maxQueued}`,
        ),
      );
    }
  }

  /** Fails the connection for good: the socket is closed, a pending next() and every later one reject with `e`. */
  fail(e: Error): void {
    this.failure ??= e;
    this.queue.length = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
    this.socket.destroy();
  }

  send(command: number, transportType: number, payload?: Uint8Array): void {
    if (this.failure) return;
    this.socket.write(encodeEmuFrame(command, transportType, payload));
  }

  /**
   * Resolves once what was sent has gone to the kernel (or the connection failed). A peer that
   * sends requests but never reads the replies would otherwise have them pile up in our memory;
   * waiting here stops the answering, its further frames queue, and the queue bound drops it.
   */
  drained(): Promise<void> {
    if (this.failure || !this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  next(timeoutMs?: number): Promise<EmuFrame> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<EmuFrame>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiter = undefined;
          reject(new SpdmError('TIMEOUT', `no reply within ${timeoutMs} ms`, { timeoutMs }));
          // spdm-emu frames carry no sequence number: a reply arriving now could not be told from
          // the reply to the next request, so the connection is given up rather than desynchronised.
          this.fail(
            new SpdmError(
              'TIMEOUT',
              `an earlier request got no reply within ${timeoutMs} ms; spdm-emu frames carry no sequence number, so a late reply could not be told from the next one and the connection was closed`,
              { timeoutMs },
            ),
          );
        }, timerMs(timeoutMs));
      }
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }
}

export interface EmuClientOptions {
  readonly host?: string;
  readonly port: number;
  readonly transport: EmuTransportName;
  readonly connectTimeoutMs?: number;
  /** What to send when closing: SHUTDOWN stops the emulator, CONTINUE keeps it running. */
  readonly endWith?: 'shutdown' | 'continue';
}

/** A Transport over the spdm-emu socket protocol (the requester side). */
export class EmuSocketTransport implements Transport {
  readonly securedCapable: boolean;
  readonly securedBinding: SecuredTransport | undefined;
  readonly maxMessageSize: number;
  private readonly type: number;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly conn: FrameConnection,
    private readonly opts: EmuClientOptions,
  ) {
    this.type = EMU_TRANSPORT_BY_NAME[opts.transport];
    this.securedBinding = opts.transport === 'none' ? undefined : opts.transport;
    this.securedCapable = this.securedBinding !== undefined;
    this.maxMessageSize = opts.transport === 'tcp' ? 0xffff - 2 : 0x10000;
  }

  static async connect(opts: EmuClientOptions): Promise<EmuSocketTransport> {
    const host = opts.host ?? '127.0.0.1';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(
          new SpdmError(
            'TIMEOUT',
            `could not connect to ${host}:${opts.port} within ${opts.connectTimeoutMs ?? 5000} ms`,
          ),
        );
      }, opts.connectTimeoutMs ?? 5000);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(
          new SpdmError('TRANSPORT_ERROR', `cannot connect to ${host}:${opts.port}: ${e.message}`, {}, { cause: e }),
        );
      });
    });
    const t = new EmuSocketTransport(new FrameConnection(socket, 0), opts);
    // The emulators greet each other, except on the NONE transport.
    if (opts.transport !== 'none') {
      t.conn.send(EmuCommand.TEST, t.type, CLIENT_HELLO);
      const reply = await t.conn.next(opts.connectTimeoutMs ?? 5000);
      if (reply.command !== EmuCommand.TEST || !equalBytes(reply.payload, SERVER_HELLO)) {
        socket.destroy();
        throw new SpdmError(
          'TRANSPORT_ERROR',
          `unexpected greeting from ${host}:${opts.port} (command 0x${reply.command.toString(16)})`,
        );
      }
    }
    return t;
  }

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Sends one NORMAL payload (already framed for the transport) and returns the reply payload. */
  private normal(payload: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    return this.serialise(async () => {
      this.conn.send(EmuCommand.NORMAL, this.type, payload);
      const reply = await this.conn.next(timeoutMs);
      if (reply.command !== EmuCommand.NORMAL)
        throw new SpdmError('TRANSPORT_ERROR', `peer answered command 0x${reply.command.toString(16)} to NORMAL`);
      if (reply.transportType !== this.type)
        throw new SpdmError(
          'TRANSPORT_ERROR',
          `peer answered on transport type ${reply.transportType}, expected ${this.type}`,
        );
      return reply.payload;
    });
  }

  async exchange(request: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    const reply = await this.normal(wrapSpdm(this.opts.transport, request), options.timeoutMs);
    const u = unwrapPayload(this.opts.transport, reply);
    if (u.kind !== 'spdm') throw new SpdmError('TRANSPORT_ERROR', `expected an SPDM message, got ${u.kind}`);
    return u.message;
  }

  /** One DSP0277 record in the transport's secured framing; the answer is a record, or a clear SPDM ERROR. */
  async exchangeSecured(record: Uint8Array, options: ExchangeOptions = {}): Promise<Uint8Array> {
    const t = this.opts.transport;
    if (t === 'none') throw new SpdmError('UNSUPPORTED', 'the NONE transport carries no secured messages');
    const u = unwrapPayload(t, await this.normal(wrapSecured(t, record), options.timeoutMs));
    if (u.kind === 'secured') return u.record;
    if (u.kind === 'spdm') return u.message;
    throw new SpdmError('TRANSPORT_ERROR', `expected a secured message, got ${u.kind}`);
  }

  /**
   * Asks spdm_responder_emu (out of band, OOB_ENCAP_KEY_UPDATE) to start a KEY_UPDATE towards us in
   * the session: the requester then collects it with GET_ENCAPSULATED_REQUEST in that session.
   */
  async requestDeviceKeyUpdate(sessionId: number, timeoutMs = 2000): Promise<void> {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, sessionId >>> 0, true);
    await this.serialise(async () => {
      this.conn.send(EmuCommand.OOB_ENCAP_KEY_UPDATE, this.type, payload);
      const reply = await this.conn.next(timeoutMs);
      if (reply.command !== EmuCommand.OOB_ENCAP_KEY_UPDATE)
        throw new SpdmError(
          'TRANSPORT_ERROR',
          `peer answered command 0x${reply.command.toString(16)} to OOB_ENCAP_KEY_UPDATE`,
        );
    });
  }

  /**
   * Asks spdm_responder_emu (out of band, OOB_ENCAP_ENDPOINT_INFO) to ask our ENDPOINT_INFO with an
   * encapsulated GET_ENDPOINT_INFO: the requester then collects it with GET_ENCAPSULATED_REQUEST,
   * in the clear (Requester.answerEncapsulatedRequests) or in a session (Session.answerEncapsulated).
   */
  async requestDeviceEndpointInfo(timeoutMs = 2000): Promise<void> {
    await this.serialise(async () => {
      this.conn.send(EmuCommand.OOB_ENCAP_ENDPOINT_INFO, this.type);
      const reply = await this.conn.next(timeoutMs);
      if (reply.command !== EmuCommand.OOB_ENCAP_ENDPOINT_INFO)
        throw new SpdmError(
          'TRANSPORT_ERROR',
          `peer answered command 0x${reply.command.toString(16)} to OOB_ENCAP_ENDPOINT_INFO`,
        );
    });
  }

  /** DOE Discovery through the emulator (PCI_DOE transport only): the protocols the device lists. */
  async doeDiscovery(timeoutMs = 1000): Promise<{ vendorId: number; type: number }[]> {
    if (this.opts.transport !== 'doe') throw new SpdmError('UNSUPPORTED', 'DOE discovery needs the PCI_DOE transport');
    const out: { vendorId: number; type: number }[] = [];
    let index = 0;
    for (let i = 0; i < 256; i++) {
      const req = encodeDoeObject({
        vendorId: PCI_SIG_VENDOR_ID,
        type: DoeObjectType.DISCOVERY,
        payload: new Uint8Array([index, 0, 0, 0]),
      });
      const u = unwrapPayload('doe', await this.normal(req, timeoutMs));
      if (u.kind !== 'doe-discovery' || u.payload.length < 4)
        throw new SpdmError('TRANSPORT_ERROR', 'malformed DOE discovery response');
      const p = u.payload;
      out.push({ vendorId: (p[0] as number) | ((p[1] as number) << 8), type: p[2] as number });
      index = p[3] as number;
      if (index === 0) return out;
    }
    throw new SpdmError('TRANSPORT_ERROR', 'DOE discovery does not terminate');
  }

  async close(): Promise<void> {
    const cmd = this.opts.endWith === 'continue' ? EmuCommand.CONTINUE : EmuCommand.SHUTDOWN;
    try {
      await this.serialise(async () => {
        this.conn.send(cmd, this.type);
        await this.conn.next(2000);
      });
    } catch {
      // The peer may close without replying; closing is best effort.
    } finally {
      this.conn.socket.destroy();
    }
  }
}

export interface EmuServerOptions {
  readonly host?: string;
  readonly port: number;
  readonly transport: EmuTransportName;
  readonly handler: SpdmHandler;
  /** Called for each problem with a peer (malformed frame, wrong transport type). */
  readonly onError?: (e: Error) => void;
}

/** The responder side: `spdm emulate`. Resolves `closed` after SHUTDOWN or close(). */
export class EmuSocketServer extends SocketServer {
  private serving: Promise<unknown> = Promise.resolve();

  private constructor(private readonly opts: EmuServerOptions) {
    super(opts.port);
  }

  static async listen(opts: EmuServerOptions): Promise<EmuSocketServer> {
    const s = new EmuSocketServer(opts);
    await s.listenOn(opts.host);
    return s;
  }

  protected accept(socket: Socket): void {
    const conn = new FrameConnection(socket, LIMITS.emuServerQueuedFrames);
    void this.serve(conn).catch((e: unknown) => {
      if (!(e instanceof SpdmError && /closed by peer/.test(e.message)))
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      socket.destroy();
    });
  }

  private async serve(conn: FrameConnection): Promise<void> {
    const type = EMU_TRANSPORT_BY_NAME[this.opts.transport];
    for (;;) {
      const f = await conn.next();
      if (f.transportType !== type && f.command !== EmuCommand.SHUTDOWN && f.command !== EmuCommand.CONTINUE) {
        throw new SpdmError(
          'TRANSPORT_ERROR',
          `peer uses transport type ${f.transportType}, this emulator serves ${type}`,
        );
      }
      switch (f.command) {
        case EmuCommand.TEST:
          conn.send(EmuCommand.TEST, type, SERVER_HELLO);
          break;
        case EmuCommand.NORMAL:
          conn.send(EmuCommand.NORMAL, type, await this.normal(f.payload));
          break;
        case EmuCommand.CONTINUE:
          conn.send(EmuCommand.CONTINUE, type);
          conn.socket.end();
          return;
        case EmuCommand.SHUTDOWN:
          conn.send(EmuCommand.SHUTDOWN, type);
          conn.socket.end();
          await this.close();
          return;
        case EmuCommand.OOB_ENCAP_KEY_UPDATE:
          // The payload is the session's u32 SessionID (host order: little-endian in spdm-emu); none means every session.
          this.opts.handler.requestKeyUpdate?.(
            f.payload.length === 4
              ? new DataView(f.payload.buffer, f.payload.byteOffset, 4).getUint32(0, true)
              : undefined,
          );
          conn.send(f.command, type);
          break;
        case EmuCommand.OOB_ENCAP_ENDPOINT_INFO:
          // Armed only where the device's policy asks for it; else the requester's
          // GET_ENCAPSULATED_REQUEST gets NoPendingRequests, which libspdm accepts.
          this.opts.handler.requestEndpointInfo?.();
          conn.send(f.command, type);
          break;
        default:
          conn.send(EmuCommand.UNKNOWN, type);
      }
      await conn.drained();
    }
  }

  /** One NORMAL payload → the reply payload; requests from several connections are answered one at a time. */
  private normal(payload: Uint8Array): Promise<Uint8Array> {
    const run = this.serving.then(async () => {
      const t = this.opts.transport;
      const u = unwrapPayload(t, payload);
      if (u.kind === 'doe-discovery') return answerDoeDiscovery(u.payload);
      if (u.kind === 'secured') {
        const h = this.opts.handler;
        if (t === 'none' || !h.handleSecured)
          throw new SpdmError('UNSUPPORTED', 'secured messages need a session, and this emulator offers none');
        const out = await h.handleSecured(u.record);
        // A record the device could not open is answered outside the session (libspdm does the same).
        return isClearError(out, peekSessionId(u.record)) ? wrapSpdm(t, out) : wrapSecured(t, out);
      }
      return wrapSpdm(t, await this.opts.handler.handle(u.message));
    });
    this.serving = run.catch(() => undefined);
    return run;
  }
}
