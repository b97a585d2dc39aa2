import { DecodeError } from '../wire/errors.js';

/** Most bytes a transport may add after an SPDM message: DOE pads each object to a dword. */
export const MAX_TRANSPORT_PADDING = 3;

/**
 * A decoded message covers `raw`, a prefix of `bytes`. Whatever follows may only be transport
 * padding — at most three zero bytes; anything else is refused rather than silently ignored.
 */
export function withoutPadding<T extends { readonly raw: Uint8Array }>(
  bytes: Uint8Array,
  decoded: T,
  messageName: string,
): T {
  const extra = bytes.length - decoded.raw.length;
  if (extra === 0) return decoded;
  if (extra > MAX_TRANSPORT_PADDING)
    throw new DecodeError(messageName, 'trailing', decoded.raw.length, `${extra} unexpected byte(s) after the message`);
  for (let i = decoded.raw.length; i < bytes.length; i++) {
    if (bytes[i] !== 0) throw new DecodeError(messageName, 'trailing', i, 'non-zero byte after the message');
  }
  return decoded;
}
