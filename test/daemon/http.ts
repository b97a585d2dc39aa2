/** A raw HTTP client for the daemon tests: any method, headers and body bytes, over a socket or TCP. */
import { request } from 'node:http';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  readonly bytes: Buffer;
  json(): { error?: { code: string; message: string; field?: string } } & Record<string, unknown>;
}

export function raw(
  to: { socketPath: string } | { port: number },
  method: string,
  path: string,
  o: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { method, path, ...('port' in to ? { host: '127.0.0.1', port: to.port } : to), headers: o.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            bytes,
            json: () => JSON.parse(text) as ReturnType<RawAnswer['json']>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json' };
