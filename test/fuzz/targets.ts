/**
 * Every fuzz target, in one list: the CI property tests (fuzz.test.ts), the runner
 * (`npm run fuzz`, bench/fuzz.ts) and the regression replays (regressions.test.ts) all take them from
 * here. Names are stable: they prefix the files saved under test/regressions/.
 */
import type { AnyTarget } from './target.js';
import { spdmDecoders, spdmSamplesMutated, spdmConversation } from './targets/spdm.js';
import { transportFraming, doeMailbox } from './targets/transport.js';
import { securedRecord } from './targets/record.js';
import { certChain } from './targets/x509.js';
import { policyLoader, evidenceVerify } from './targets/verifier.js';
import { logImport } from './targets/log-import.js';
import { requesterEmulator, requesterLibspdm } from './targets/requester.js';

export const TARGETS: readonly AnyTarget[] = [
  spdmDecoders,
  spdmSamplesMutated,
  spdmConversation,
  transportFraming,
  doeMailbox,
  securedRecord,
  certChain,
  policyLoader,
  evidenceVerify,
  logImport,
  requesterEmulator,
  requesterLibspdm,
];

export function targetNamed(name: string): AnyTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
