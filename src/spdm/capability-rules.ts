/**
 * Capability combinations DSP0274 forbids in a GET_CAPABILITIES request (the rules libspdm's
 * responder enforces). Returns the first violated rule as a sentence, or undefined when the
 * flags are consistent.
 */
import { CapabilityFlag as F } from './messages/capabilities.js';

const has = (flags: number, bit: number): boolean => ((flags >>> 0) & bit) !== 0;

export function requesterFlagProblem(flags: number, version: number): string | undefined {
  if (version < 0x11) return undefined;
  const psk = ((flags >>> 0) >> 10) & 3;
  const keyEx = has(flags, F.KEY_EX);
  const secure = has(flags, F.ENCRYPT) || has(flags, F.MAC);
  const cert = has(flags, F.CERT);
  const pubKey = has(flags, F.PUB_KEY_ID);
  const chal = has(flags, F.CHAL);
  const mutAuth = has(flags, F.MUT_AUTH);
  const epInfo = ((flags >>> 0) >> 22) & 3;
  const multiKey = ((flags >>> 0) >> 26) & 3;
  if (psk >= 2) return 'PSK_CAP has a value reserved for requesters';
  if (keyEx || psk !== 0) {
    if (!secure) return 'KEY_EX_CAP or PSK_CAP without ENCRYPT_CAP or MAC_CAP';
  } else {
    if (secure) return 'ENCRYPT_CAP or MAC_CAP without a way to establish a session';
    if (has(flags, F.HANDSHAKE_IN_THE_CLEAR) || has(flags, F.HBEAT) || has(flags, F.KEY_UPD))
      return 'session capabilities without KEY_EX_CAP or PSK_CAP';
    if (version >= 0x13 && has(flags, F.EVENT)) return 'EVENT_CAP without a way to establish a session';
  }
  if (!keyEx && psk === 1 && has(flags, F.HANDSHAKE_IN_THE_CLEAR)) return 'HANDSHAKE_IN_THE_CLEAR_CAP with PSK only';
  if (cert || pubKey) {
    if (cert && pubKey) return 'CERT_CAP and PUB_KEY_ID_CAP are mutually exclusive';
    if (!chal && !keyEx && !(version >= 0x13 && epInfo === 2))
      return 'a certificate or public key but no capability that uses it';
  } else {
    if (chal || mutAuth) return 'CHAL_CAP or MUT_AUTH_CAP without CERT_CAP or PUB_KEY_ID_CAP';
    if (version >= 0x13 && epInfo === 2) return 'signed EP_INFO_CAP without CERT_CAP or PUB_KEY_ID_CAP';
  }
  if (mutAuth && !keyEx && !chal) return 'MUT_AUTH_CAP without CHAL_CAP or KEY_EX_CAP';
  if (version === 0x11 && mutAuth && !has(flags, F.ENCAP)) return 'MUT_AUTH_CAP without ENCAP_CAP (1.1)';
  if (version >= 0x13) {
    if (epInfo === 3) return 'EP_INFO_CAP has the reserved value 11b';
    if (multiKey === 3) return 'MULTI_KEY_CAP has the reserved value 11b';
    if (multiKey !== 0 && (pubKey || !cert)) return 'MULTI_KEY_CAP without CERT_CAP';
  }
  return undefined;
}
