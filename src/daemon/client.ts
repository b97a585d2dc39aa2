/**
 * A small client of the daemon's API for the `spdm status` and `spdm devices …` commands: JSON
 * over node:http on the Unix socket (or TCP with a token). The answer body is bounded and parsed
 * defensively: the daemon is ours, but the socket path is whatever the user typed.
 */
import { request } from 'node:http';
import { SpdmError } from '../wire/errors.js';

export interface ClientTarget {
  readonly socketPath?: string;
  /** http://host:port, with `token` for the TCP listener. */
  readonly url?: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The largest answer the CLI reads (a device list of a few hundred functions is well below it). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The daemon answered with an error: `status` and its `{error: {code, message}}`. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** Sends one request; resolves with any status, rejects with TRANSPORT_ERROR when the daemon cannot be reached. */
export function callApi(t: ClientTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ApiAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const where = t.socketPath ?? t.url ?? '';
  return new Promise((resolve, reject) => {
    const u = t.url !== undefined ? new URL(t.url) : undefined;
    const req = request(
      {
        method,
        path,
        ...(u ? { host: u.hostname, port: u.port } : { socketPath: t.socketPath }),
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(t.token !== undefined ? { authorization: `Bearer ${t.token}` } : {}),
        },
        timeout: t.timeoutMs ?? 120_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON (a certificate, or not our daemon): keep the text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (e) =>
      reject(
        new SpdmError('TRANSPORT_ERROR', `cannot reach spdmkitd at ${where}: ${e.message}`, {
          path: where,
          reason: (e as NodeJS.ErrnoException).code ?? e.message,
        }),
      ),
    );
    req.end(payload);
  });
}

/** Like callApi, but an error status becomes an ApiCallError carrying the daemon's code and message. */
export async function callApiOk(
  t: ClientTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const a = await callApi(t, method, path, body);
  if (a.status >= 200 && a.status < 300) return a.body;
  const err = (a.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  throw new ApiCallError(
    a.status,
    typeof err?.code === 'string' ? err.code : `HTTP_${a.status}`,
    typeof err?.message === 'string' ? err.message : `HTTP ${a.status}`,
  );
}
