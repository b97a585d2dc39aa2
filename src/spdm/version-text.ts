/**
 * SPDM versions as people write them ("1.2"), for profiles and the command line. A module of its
 * own so `spdm authenticate --version` does not load the emulator's profile reader to parse it.
 */
import { SpdmError } from '../wire/errors.js';

/** "1.0" … "1.4" to the version byte (0x10 … 0x14); `field` names the input in the error. */
export function parseVersion(s: string, field = 'version'): number {
  const m = /^1\.([0-4])$/.exec(s.trim());
  if (!m)
    throw new SpdmError('DECODE_ERROR', `profile: ${field}: "${s}" is not one of 1.0, 1.1, 1.2, 1.3, 1.4`, { field });
  return 0x10 | Number(m[1]);
}
