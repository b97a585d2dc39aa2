/** The PCI address syntax API callers give: a malformed one is the caller's mistake (TypeError). */

/** Domain:bus:device.function, lowercase hex, e.g. 0000:03:00.0 (device ≤ 1f, function ≤ 7). */
const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]$/;

export function isBdf(v: unknown): v is string {
  return typeof v === 'string' && BDF.test(v);
}

/** Returns `v` when it is a well-formed BDF; throws TypeError otherwise. */
export function checkBdf(v: unknown): string {
  if (!isBdf(v)) throw new TypeError(`not a PCI address (dddd:bb:dd.f, lowercase hex): ${JSON.stringify(v)}`);
  return v;
}
