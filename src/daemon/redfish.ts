/**
 * The Redfish view: DMTF's ComponentIntegrity schema (v1.2) over the same device state, so a
 * BMC-style client finds what OpenBMC's bmcweb would show. One member per PCI function, its Id the
 * BDF. VerificationStatus is Success only when the device authenticated and the verifier trusted
 * it, Failed when it answered and failed; it is left out while the answer is unknown (the schema
 * has no third value, and "Failed" for a device never asked would be a lie).
 */
import type { DeviceView } from '../cma/api.js';
import type { Evidence, MeasurementEvidence } from '../evidence/evidence.js';
import { deviceUrl } from './views.js';

export const REDFISH_COLLECTION = '/redfish/v1/ComponentIntegrity';

/** DSP0274 DMTFSpecMeasurementValueType (bits 6:0) → Redfish MeasurementType. */
const MEASUREMENT_TYPES: readonly (string | undefined)[] = [
  'ImmutableROM',
  'MutableFirmware',
  'HardwareConfiguration',
  'FirmwareConfiguration',
  'MeasurementManifest',
  undefined, // device mode: no Redfish name
  'MutableFirmwareVersion',
  'MutableFirmwareSecurityVersionNumber',
];

export function componentUrl(bdf: string): string {
  return `${REDFISH_COLLECTION}/${bdf}`;
}

export function redfishCollection(devices: readonly DeviceView[]): Record<string, unknown> {
  return {
    '@odata.id': REDFISH_COLLECTION,
    '@odata.type': '#ComponentIntegrityCollection.ComponentIntegrityCollection',
    Name: 'Component Integrity Collection',
    'Members@odata.count': devices.length,
    Members: devices.map((d) => ({ '@odata.id': componentUrl(d.bdf) })),
  };
}

function verificationStatus(d: DeviceView): 'Success' | 'Failed' | undefined {
  if (d.authenticated.state === 'unknown') return undefined;
  return d.authenticated.state === 'yes' && d.verdict?.status === 'trusted' ? 'Success' : 'Failed';
}

function measurement(m: MeasurementEvidence, e: Evidence): Record<string, unknown> {
  const type = m.type === undefined ? undefined : MEASUREMENT_TYPES[m.type & 0x7f];
  return {
    MeasurementIndex: m.index,
    ...(type ? { MeasurementType: type } : {}),
    Measurement: Buffer.from(m.value, 'hex').toString('base64'),
    ...(m.raw ? {} : { MeasurementHashAlgorithm: e.algorithms.measurementHashName }),
    LastUpdated: e.collectedAt,
  };
}

/** "1.2" → "1.2.0": the schema wants the full SPDM version. */
function fullVersion(v: string): string {
  return /^\d+\.\d+$/.test(v) ? `${v}.0` : v;
}

export function redfishComponent(d: DeviceView, e: Evidence | undefined): Record<string, unknown> {
  const url = componentUrl(d.bdf);
  const status = verificationStatus(d);
  const slot = d.authenticated.state === 'yes' ? d.authenticated.slot : d.slots[0]?.slot;
  const lastUpdated = d.authenticated.state === 'unknown' ? undefined : d.authenticated.at;
  return {
    '@odata.id': url,
    '@odata.type': '#ComponentIntegrity.v1_2_0.ComponentIntegrity',
    Id: d.bdf,
    Name: `SPDM integrity of PCI function ${d.bdf}`,
    ComponentIntegrityType: 'SPDM',
    ComponentIntegrityTypeVersion: e ? fullVersion(e.version) : '',
    // False while a TSM owns SPDM on the function: this service is not the one checking it then.
    ComponentIntegrityEnabled: d.owner.kind === 'cma',
    TargetComponentURI: deviceUrl(d.bdf),
    ...(lastUpdated ? { LastUpdated: lastUpdated } : {}),
    SPDM: {
      IdentityAuthentication: {
        ResponderAuthentication: {
          ...(slot !== undefined
            ? { ComponentCertificate: { '@odata.id': `${deviceUrl(d.bdf)}/certificates/${slot}` } }
            : {}),
          ...(status ? { VerificationStatus: status } : {}),
        },
      },
      ...(e && e.measurements.length > 0
        ? {
            MeasurementSet: {
              MeasurementSpecification: 'DMTF',
              Measurements: e.measurements.map((m) => measurement(m, e)),
            },
          }
        : {}),
    },
    Actions: {
      '#ComponentIntegrity.SPDMGetSignedMeasurements': {
        target: `${url}/Actions/ComponentIntegrity.SPDMGetSignedMeasurements`,
      },
    },
  };
}
