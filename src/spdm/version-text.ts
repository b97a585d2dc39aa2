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

/** The DSP0277 secured-message versions people write, in order. */
export const SECURED_VERSION_TEXTS = ['1.0', '1.1', '1.2'] as const;

/**
 * A DSP0277 secured-message version as people write it ("1.0" … "1.2") to its u16 form in
 * KEY_EXCHANGE / PSK_EXCHANGE opaque data (0x1000 … 0x1200); undefined for anything else, which
 * each caller reports in its own terms (profile field, command-line flag).
 */
export function securedVersionFromText(s: string): number | undefined {
  const m = /^1\.([0-2])$/.exec(s.trim());
  return m ? 0x1000 | (Number(m[1]) << 8) : undefined;
}
