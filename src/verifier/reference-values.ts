/**
 * Reference values: the measurements a device entry of the policy expects, its minimum security
 * version number (DMTF measurement type 7: an unsigned 64-bit little-endian value, sent raw), the
 * indices it ignores, and what to do with indices it does not mention.
 */
import type { DevicePolicy, EvidenceRequirements } from './policy.js';
import type { EffectiveMeasurement } from './signed.js';
import type { VerdictBuilder } from './verdict.js';

/** DMTF measurement value type of the security version number. */
export const DMTF_TYPE_SVN = 7;

function short(hex: string): string {
  return hex === '' ? '(empty)' : hex;
}

/** The SVN carried by a measurement, or why it cannot be read. */
export function readSvn(m: EffectiveMeasurement): bigint | string {
  if (m.raw !== true) return `measurement ${m.index} holds a digest, not the raw security version number`;
  if (m.value.length !== 16)
    return `measurement ${m.index} is ${m.value.length / 2} bytes, a security version number is 8`;
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(Number.parseInt(m.value.slice(2 * i, 2 * i + 2), 16));
  return v;
}

/** Checks `measurements` against the device entry, adding reasons and passed checks to `out`. */
export function checkReferenceValues(
  dev: DevicePolicy,
  measurements: ReadonlyMap<number, EffectiveMeasurement>,
  req: EvidenceRequirements,
  out: VerdictBuilder,
): void {
  const before = out.reasons.length;
  const needSigned = (m: EffectiveMeasurement): boolean => {
    if (req.signedMeasurements && !m.signed) {
      out.fail(
        'MEASUREMENT_UNSIGNED',
        `measurement ${m.index} is not covered by a valid signature, and the policy requires signed measurements`,
        { index: m.index },
      );
      return false;
    }
    return true;
  };
  let compared = 0;
  for (const [index, accepted] of [...dev.referenceValues.entries()].sort((a, b) => a[0] - b[0])) {
    const m = measurements.get(index);
    if (!m) {
      out.fail(
        'MEASUREMENT_MISSING',
        `measurement ${index} missing: the device reported no block at index ${index}, "${dev.name}" requires one`,
        { index },
      );
      continue;
    }
    if (!needSigned(m)) continue;
    compared++;
    if (!accepted.includes(m.value)) {
      const expected = accepted.length === 1 ? (accepted[0] as string) : `one of ${accepted.join(', ')}`;
      out.fail('MEASUREMENT_MISMATCH', `measurement ${index} mismatch: expected ${expected} got ${short(m.value)}`, {
        index,
        expected: accepted,
        actual: m.value,
      });
    }
  }

  let svnIndex: number | undefined;
  if (dev.minSvn !== undefined) {
    const m =
      dev.svnIndex !== undefined
        ? measurements.get(dev.svnIndex)
        : [...measurements.values()].find((x) => x.type === DMTF_TYPE_SVN);
    svnIndex = m?.index ?? dev.svnIndex;
    if (!m) {
      out.fail(
        'MEASUREMENT_MISSING',
        dev.svnIndex !== undefined
          ? `measurement ${dev.svnIndex} missing: it should hold the security version number "${dev.name}" requires`
          : `no security version number measurement (DMTF type ${DMTF_TYPE_SVN}), "${dev.name}" requires at least ${dev.minSvn}`,
        { ...(dev.svnIndex !== undefined ? { index: dev.svnIndex } : {}), minSvn: dev.minSvn.toString() },
      );
    } else if (needSigned(m)) {
      const svn = readSvn(m);
      if (typeof svn === 'string') out.fail('SVN_UNREADABLE', svn, { index: m.index });
      else if (svn < dev.minSvn)
        out.fail(
          'SVN_TOO_LOW',
          `security version number ${svn} (measurement ${m.index}) is below the minimum ${dev.minSvn}`,
          { index: m.index, svn: svn.toString(), minSvn: dev.minSvn.toString() },
        );
      else
        out.pass('SVN_OK', `security version number ${svn} (measurement ${m.index}) meets the minimum ${dev.minSvn}`);
    }
  }

  if (dev.unlisted === 'reject') {
    for (const m of measurements.values()) {
      if (dev.referenceValues.has(m.index) || dev.ignore.has(m.index) || m.index === svnIndex) continue;
      out.fail(
        'MEASUREMENT_UNEXPECTED',
        `measurement ${m.index} is not in the policy for "${dev.name}": list its acceptable values or ignore the index`,
        { index: m.index, actual: m.value },
      );
    }
  }
  if (out.reasons.length === before && dev.referenceValues.size > 0) {
    out.pass(
      'MEASUREMENTS_MATCH',
      `${compared} measurement${compared === 1 ? '' : 's'} match the reference values of "${dev.name}"${dev.ignore.size > 0 ? ` (ignored: ${[...dev.ignore].sort((a, b) => a - b).join(', ')})` : ''}`,
    );
  }
}
