/**
 * The life cycle every TCP server of ours shares — `spdm emulate` and its hostile variant: listen
 * on host:port, keep the open sockets, report the bound port, close everything, and resolve
 * `closed` once the server is down. Subclasses say only what to do with a connection.
 */
import { createServer, type Server, type Socket } from 'node:net';

export abstract class SocketServer {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly sockets = new Set<Socket>();
  protected readonly server: Server = createServer();

  protected constructor(private readonly askedPort: number) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      this.accept(s);
    });
    this.server.on('close', () => this.resolveClosed());
  }

  /** A new connection; the socket is already tracked for close(). */
  protected abstract accept(socket: Socket): void;

  /** Starts listening (127.0.0.1 unless told otherwise); rejects on a listen error such as EADDRINUSE. */
  protected listenOn(host = '127.0.0.1'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.askedPort, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The port bound (the one asked for before listening; the kernel's choice for port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.askedPort;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.resolveClosed();
  }
}
