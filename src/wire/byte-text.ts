/**
 * Secret or identifier bytes written as text (a `--psk` argument, a profile's PSK): hex digits
 * (spaces, colons and a 0x prefix allowed), or `ascii:TEXT` for the bytes of TEXT, where `\0`,
 * `\\` and `\xNN` escape a NUL, a backslash and any byte. libspdm's sample PSK is the C string
 * "TestPskData" *with* its NUL: `ascii:TestPskData\0`. One parser, so that the CLI, the capture
 * decoder and device profiles read the same text as the same bytes.
 */
import { fromHex } from './bytes.js';
import { DecodeError } from './errors.js';

export interface ByteTextOptions {
  /** Named in the error: the option or field the text came from (e.g. '--psk'). */
  readonly what: string;
  /** Accept no bytes at all (`ascii:` or ''), e.g. for an absent PSK hint. Default false. */
  readonly allowEmpty?: boolean;
  /** Refuse more bytes than this. */
  readonly maxBytes?: number;
}

export function parseByteText(arg: string, o: ByteTextOptions): Uint8Array {
  const field = (reason: string, at = 0): never => {
    throw new DecodeError(o.what, 'value', at, reason);
  };
  let out: Uint8Array;
  if (arg.startsWith('ascii:')) {
    const text = arg.slice(6);
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) field(`character U+${c.toString(16)} is not a single byte: use hex`, 6 + i);
      if (c !== 0x5c) {
        bytes.push(c);
        continue;
      }
      const n = text[i + 1];
      if (n === '0') bytes.push(0);
      else if (n === '\\') bytes.push(0x5c);
      else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
        bytes.push(parseInt(text.slice(i + 2, i + 4), 16));
        i += 2;
      } else field('a backslash starts \\0, \\\\ or \\xNN', 6 + i);
      i++;
    }
    out = Uint8Array.from(bytes);
  } else {
    const clean = arg.replace(/^0x/i, '').replace(/[\s:]/g, '');
    if (clean.length === 0 && o.allowEmpty) return new Uint8Array(0);
    if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean))
      field('expected hex bytes or ascii:TEXT');
    out = fromHex(clean);
  }
  if (out.length === 0 && !o.allowEmpty) field('no bytes given');
  if (o.maxBytes !== undefined && out.length > o.maxBytes) field(`${out.length} bytes, at most ${o.maxBytes} allowed`);
  return out;
}
