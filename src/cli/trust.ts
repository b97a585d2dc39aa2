/**
 * Trust anchors from PEM or DER files, or a directory of them. The trust store itself (anchors,
 * deny-list, reload) lives in verifier/trust-store.ts; this re-export keeps `spdm authenticate`'s
 * import working.
 */
export { loadTrustAnchors } from '../verifier/trust-store.js';
