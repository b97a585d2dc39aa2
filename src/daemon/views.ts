/**
 * The JSON the API answers with, derived from the service's views. Field names stay the kernel's
 * (`authenticated`, `certificates`, `signatures`, `tsm.connect`); the device object adds the
 * sysfs-style `vendor`/`device` strings and links to the per-slot certificate chains.
 */
import type { DeviceView, SlotView } from '../cma/api.js';
import { listingBytes } from './listing.js';

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

/**
 * Each device's JSON as last served, until something it shows changes. `spdm status` asks for
 * every device, and with thousands of them building and serialising each one again for every
 * listing held the daemon's event loop for long stretches while nothing had changed. The service
 * replaces a device's state objects rather than editing them, so a view whose parts are the same
 * objects (and the same signature entries, busy flag and generation) gives the same JSON.
 */
export class DeviceJsonCache {
  private readonly byBdf = new Map<
    string,
    { readonly parts: readonly unknown[]; readonly json: string; readonly bytes: number }
  >();

  private static parts(d: DeviceView): unknown[] {
    return [
      d.identity,
      d.doe,
      d.authenticated,
      d.verdict,
      d.acceptance,
      d.sameDevice,
      d.owner,
      d.driver,
      d.busy,
      d.generation,
      d.slots,
      ...d.signatureEntries,
    ];
  }

  /** The device's JSON text (what JSON.stringify(deviceJson(d)) gives). */
  json(d: DeviceView): string {
    return this.entry(d).json;
  }

  private entry(d: DeviceView): { readonly json: string; readonly bytes: number } {
    const parts = DeviceJsonCache.parts(d);
    const hit = this.byBdf.get(d.bdf);
    if (hit && hit.parts.length === parts.length && hit.parts.every((p, i) => p === parts[i])) return hit;
    const json = JSON.stringify(deviceJson(d));
    const entry = { parts, json, bytes: Buffer.byteLength(json) };
    this.byBdf.set(d.bdf, entry);
    return entry;
  }

  /**
   * The listing `{ devices: [...] }` as the devices' JSON texts, in order, and its length in
   * bytes (listing.ts writes it); devices no longer listed are forgotten.
   */
  listing(devices: readonly DeviceView[]): { readonly pieces: readonly string[]; readonly bytes: number } {
    if (this.byBdf.size > devices.length) {
      const listed = new Set(devices.map((d) => d.bdf));
      for (const bdf of this.byBdf.keys()) if (!listed.has(bdf)) this.byBdf.delete(bdf);
    }
    const pieces: string[] = new Array<string>(devices.length);
    let bytes = 0;
    devices.forEach((d, i) => {
      const e = this.entry(d);
      pieces[i] = e.json;
      bytes += e.bytes;
    });
    return { pieces, bytes: listingBytes(devices.length, bytes) };
  }
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
