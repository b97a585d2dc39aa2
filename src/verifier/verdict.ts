/**
 * Verdicts: what the verifier decided, why, and what it checked. Reasons carry a stable `code` a
 * caller can switch on, a sentence for a human, and details for a tool.
 */

/** Why a device is not trusted (or, under a `warn` rule, what a human should look at). */
export type ReasonCode =
  | 'MALFORMED_EVIDENCE'
  | 'CHAIN_UNTRUSTED'
  /** A slot 0xFF signature's provisioned public key is not one the policy lists under trustedPublicKeys. */
  | 'PUBLIC_KEY_UNTRUSTED'
  | 'CHAIN_INVALID'
  | 'CERT_INVALID'
  | 'CERT_DENIED'
  | 'CERT_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'KEY_USAGE'
  | 'EKU'
  | 'HARDWARE_IDENTITY'
  | 'SAN_MISSING'
  | 'SAN_MISMATCH'
  | 'PCI_IDENTITY_MISSING'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MISSING'
  | 'NONCE_MISMATCH'
  | 'STALE_EVIDENCE'
  | 'VERSION_TOO_OLD'
  | 'NO_POLICY_FOR_DEVICE'
  | 'MEASUREMENT_MISMATCH'
  | 'MEASUREMENT_MISSING'
  | 'MEASUREMENT_UNSIGNED'
  | 'MEASUREMENT_UNEXPECTED'
  | 'SVN_TOO_LOW'
  | 'SVN_UNREADABLE';

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
  /** Machine-readable particulars: certIndex, index, expected, actual, fingerprint... */
  readonly [detail: string]: unknown;
}

/** A check that passed. */
export interface Check {
  /** Stable identifier, e.g. CHAIN_TRUSTED, SIGNATURES_VALID, MEASUREMENTS_MATCH. */
  readonly code: string;
  readonly message: string;
}

export interface Verdict {
  readonly status: 'trusted' | 'untrusted';
  /** Every reason the device is not trusted; empty when trusted. */
  readonly reasons: readonly Reason[];
  /** Findings of rules set to `warn`: reported, but they do not make the device untrusted. */
  readonly warnings: readonly Reason[];
  readonly checks: readonly Check[];
  /** The device entry of the policy that applied, when one matched. */
  readonly devicePolicy?: string;
  /** When the verdict was reached (the verifier's clock). */
  readonly verifiedAt: string;
}

/** How a rule treats its findings. */
export type RuleMode = 'required' | 'warn' | 'off';

/** Collects reasons and checks while the verifier runs. */
export class VerdictBuilder {
  readonly reasons: Reason[] = [];
  readonly warnings: Reason[] = [];
  readonly checks: Check[] = [];

  fail(code: ReasonCode, message: string, details: Record<string, unknown> = {}, mode: RuleMode = 'required'): void {
    if (mode === 'off') return;
    const r: Reason = { ...details, code, message };
    (mode === 'warn' ? this.warnings : this.reasons).push(r);
  }

  pass(code: string, message: string): void {
    this.checks.push({ code, message });
  }

  get failed(): boolean {
    return this.reasons.length > 0;
  }

  finish(now: Date, devicePolicy?: string): Verdict {
    return {
      status: this.reasons.length === 0 ? 'trusted' : 'untrusted',
      reasons: this.reasons,
      warnings: this.warnings,
      checks: this.checks,
      ...(devicePolicy !== undefined ? { devicePolicy } : {}),
      verifiedAt: now.toISOString(),
    };
  }
}

/** One line per reason, for terminals and logs. */
export function formatVerdict(v: Verdict): string {
  const lines = [v.status === 'trusted' ? 'TRUSTED' : 'UNTRUSTED'];
  if (v.devicePolicy !== undefined) lines.push(`policy: ${v.devicePolicy}`);
  for (const r of v.reasons) lines.push(`  ✗ ${r.code}: ${r.message}`);
  for (const w of v.warnings) lines.push(`  ! ${w.code}: ${w.message}`);
  for (const c of v.checks) lines.push(`  ✓ ${c.code}: ${c.message}`);
  return lines.join('\n');
}
