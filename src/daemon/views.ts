/**
 * The JSON the API answers with, derived from the service's views. Field names stay the kernel's
 * (`authenticated`, `certificates`, `signatures`, `tsm.connect`); the device object adds the
 * sysfs-style `vendor`/`device` strings and links to the per-slot certificate chains.
 */
import type { DeviceView, SlotView } from '../cma/api.js';

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

export function deviceUrl(bdf: string): string {
  return `/v1/devices/${bdf}`;
}

export function deviceJson(d: DeviceView): Record<string, unknown> {
  const v = d.verdict;
  return {
    bdf: d.bdf,
    ...(d.identity
      ? { vendor: hex4(d.identity.vendorId), device: hex4(d.identity.deviceId), identity: d.identity }
      : {}),
    doe: d.doe,
    authenticated: d.authenticated,
    ...(v
      ? {
          verdict: {
            status: v.status,
            reasons: v.reasons,
            warnings: v.warnings,
            ...(v.devicePolicy !== undefined ? { devicePolicy: v.devicePolicy } : {}),
            verifiedAt: v.verifiedAt,
          },
        }
      : {}),
    acceptance: d.acceptance,
    ...(d.sameDevice ? { sameDevice: d.sameDevice } : {}),
    owner: d.owner,
    tsm: { connect: d.owner.kind === 'tsm' ? d.owner.tsm : '' },
    ...(d.driver ? { driver: d.driver } : {}),
    certificates: d.slots.map((s) => ({
      slot: s.slot,
      ...(s.leafSubject !== undefined ? { leafSubject: s.leafSubject } : {}),
      href: `${deviceUrl(d.bdf)}/certificates/${s.slot}`,
    })),
    signatures: d.signatureEntries,
    busy: d.busy,
    generation: d.generation,
  };
}

/** The DER certificates of a slot, concatenated (the content of the kernel's certificates/slotN). */
export function slotDer(s: SlotView): Buffer {
  return Buffer.concat(s.certificates.map((c) => Buffer.from(c, 'base64')));
}

export function slotPem(s: SlotView): string {
  return s.certificates
    .map((c) => {
      const lines = c.match(/.{1,64}/g) ?? [];
      return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
    })
    .join('');
}
