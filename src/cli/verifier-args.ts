/**
 * What `spdm verify` and `spdm authenticate --trust` both take for a verdict — trust anchors, a
 * deny-list, a policy file, an expected nonce — read one way, so the two commands cannot disagree
 * on what a valid argument is. Problems are thrown as errors whose message the command prints.
 */
import { TrustStore } from '../verifier/trust-store.js';
import { loadPolicyFile } from '../verifier/policy-loader.js';
import type { Policy } from '../verifier/policy.js';

/** `--trust` (at least one), `--deny`, `--policy` → the verifier's inputs; throws on an unreadable or invalid file. */
export function loadVerifierInputs(o: {
  readonly trust: readonly string[];
  readonly deny?: readonly string[];
  readonly policy?: string;
}): { store: TrustStore; policy?: Policy } {
  const store = new TrustStore({
    anchors: [...o.trust],
    ...(o.deny && o.deny.length > 0 ? { deny: [...o.deny] } : {}),
  });
  return { store, ...(o.policy !== undefined ? { policy: loadPolicyFile(o.policy) } : {}) };
}
