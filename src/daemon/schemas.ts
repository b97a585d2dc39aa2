/**
 * The HTTP API's request and response shapes as TypeBox schemas: fastify validates every body,
 * param, query and header against them (unknown fields refused, no type coercion of bodies), and
 * @fastify/swagger publishes them as the OpenAPI document. Response schemas document; they do not
 * filter (the server serialises with JSON.stringify, so a field the schema forgot still reaches
 * the client rather than vanishing silently).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const strict = { additionalProperties: false } as const;

/** Domain:bus:device.function as the kernel spells it (device 00–1f, function 0–7), any case. */
export const BDF_PATTERN = '^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\.[0-7]$';

export const BdfParams = Type.Object(
  { bdf: Type.String({ pattern: BDF_PATTERN, description: 'PCI function, e.g. 0000:03:00.0' }) },
  strict,
);

export const SlotParams = Type.Object(
  { bdf: BdfParams.properties.bdf, slot: Type.Integer({ minimum: 0, maximum: 7, description: 'certificate slot' }) },
  strict,
);

const logIndex = (o: { minimum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...o });

export const SignatureParams = Type.Object(
  { bdf: BdfParams.properties.bdf, n: logIndex({ description: 'signature-log index (from signatureEntries)' }) },
  strict,
);

export const CertificateQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('der'), Type.Literal('pem'), Type.Literal('json')], {
        description: 'der (default): the DER certificates concatenated, as certificates/slotN; pem; json',
      }),
    ),
  },
  strict,
);

const operator = Type.String({ minLength: 1, maxLength: 256 });
const reasonText = Type.String({ minLength: 1, maxLength: 4096 });

export const AcceptBody = Type.Object(
  {
    override: Type.Optional(
      Type.Object(
        { operator, reason: reasonText },
        { ...strict, description: 'accept over an untrusted verdict; recorded with who and why' },
      ),
    ),
  },
  strict,
);

export const RejectBody = Type.Object({ operator: Type.Optional(operator), reason: Type.Optional(reasonText) }, strict);

export const ReauthBody = Type.Object(
  { slot: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, description: 'certificate slot to use' })) },
  strict,
);

export const ResetKindSchema = Type.Union(
  [Type.Literal('flr'), Type.Literal('secondary-bus'), Type.Literal('resume'), Type.Literal('notified')],
  { description: 'how the function lost its state (default notified)' },
);

export const ResetBody = Type.Object({ kind: Type.Optional(ResetKindSchema) }, strict);

export const TsmConnectBody = Type.Object(
  { tsm: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'the TSM, as written to tsm/connect (tsm0)' }) },
  strict,
);

export const EmptyBody = Type.Object({}, strict);

export const InclusionParams = Type.Object({ index: logIndex() }, strict);
export const InclusionQuery = Type.Object({ treeSize: Type.Optional(logIndex({ minimum: 1 })) }, strict);
export const ConsistencyQuery = Type.Object(
  { from: logIndex({ minimum: 1 }), to: Type.Optional(logIndex({ minimum: 1 })) },
  strict,
);

export const EventsQuery = Type.Object(
  { after: Type.Optional(logIndex({ description: 'replay events with a larger id (as Last-Event-ID)' })) },
  strict,
);
export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the last id received' })),
});

export const RedfishIdParams = Type.Object(
  { id: Type.String({ pattern: BDF_PATTERN, description: 'the ComponentIntegrity id: the PCI function' }) },
  strict,
);

export const SignedMeasurementsBody = Type.Object(
  {
    Nonce: Type.Optional(
      Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: '32 bytes, hex; generated when absent' }),
    ),
    SlotId: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, default: 0 })),
    MeasurementIndices: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), {
        minItems: 1,
        maxItems: 255,
        uniqueItems: true,
        description: 'indices to measure; 255 (the default) asks for all',
      }),
    ),
  },
  strict,
);

// ---- responses -----------------------------------------------------------------------------

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable code: INVALID_REQUEST, DEVICE_NOT_FOUND, …' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'the request part and field at fault, e.g. body/slot' })),
    }),
  },
  { $id: 'Error' },
);

const StateReason = Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true });

export const DeviceBody = Type.Object(
  {
    bdf: Type.String(),
    vendor: Type.Optional(Type.String({ description: 'vendor id as the kernel prints it (0x8086)' })),
    device: Type.Optional(Type.String({ description: 'device id as the kernel prints it' })),
    identity: Type.Optional(Type.Object({}, { additionalProperties: true })),
    doe: Type.String({ description: 'cma | no-doe | no-cma | unknown' }),
    authenticated: Type.Object(
      { state: Type.String({ description: 'yes | no | unknown' }), reason: Type.Optional(StateReason) },
      { additionalProperties: true },
    ),
    verdict: Type.Optional(
      Type.Object(
        { status: Type.String({ description: 'trusted | untrusted' }), reasons: Type.Array(StateReason) },
        { additionalProperties: true },
      ),
    ),
    acceptance: Type.Object({ state: Type.String() }, { additionalProperties: true }),
    sameDevice: Type.Optional(Type.Object({}, { additionalProperties: true })),
    owner: Type.Object({ kind: Type.String() }, { additionalProperties: true }),
    tsm: Type.Object({ connect: Type.String({ description: 'the TSM that owns the device, "" when none' }) }),
    driver: Type.Optional(
      Type.Object(
        {
          held: Type.Boolean({ description: 'driver binding held back (holdDrivers: driver_override / unbind)' }),
          at: Type.String(),
          unbound: Type.Optional(Type.String({ description: 'the driver that was unbound when the hold began' })),
          error: Type.Optional(StateReason),
        },
        { additionalProperties: false },
      ),
    ),
    certificates: Type.Array(
      Type.Object({ slot: Type.Integer(), leafSubject: Type.Optional(Type.String()), href: Type.String() }),
    ),
    signatures: Type.Array(Type.Integer(), { description: 'signature-log indices, oldest first' }),
    busy: Type.Boolean(),
    generation: Type.Integer(),
  },
  { $id: 'Device' },
);

export const DeviceListBody = Type.Object({ devices: Type.Array(Type.Ref('Device')) });

export const SignatureBody = Type.Object(
  {
    logIndex: Type.Integer(),
    bdf: Type.String(),
    type: Type.String(),
    rspCode: Type.Integer(),
    slot: Type.Integer(),
    hashAlgorithm: Type.String(),
    transcript: Type.String(),
    signature: Type.String(),
    combinedSpdmPrefix: Type.String(),
    requesterNonce: Type.String(),
    responderNonce: Type.String(),
    reqNonceOffset: Type.Integer(),
    rspNonceOffset: Type.Integer(),
    sigOffset: Type.Integer(),
    publicKey: Type.Optional(Type.String()),
    at: Type.String(),
  },
  { $id: 'Signature' },
);

export const DecisionListBody = Type.Object({
  decisions: Type.Array(
    Type.Object(
      {
        bdf: Type.String(),
        at: Type.String(),
        action: Type.String({ description: 'accept | override | reject | drop' }),
        operator: Type.Optional(Type.String()),
        reason: Type.Optional(Type.String()),
        detail: Type.Optional(Type.Unknown()),
      },
      { additionalProperties: true },
    ),
  ),
});

export const SignatureListBody = Type.Object({ signatures: Type.Array(Type.Ref('Signature')) });

const Anything = Type.Object({}, { additionalProperties: true });

export const EvidenceBody = Type.Object({ format: Type.String() }, { additionalProperties: true });
export const VerdictBody = Type.Object(
  { bdf: Type.String(), generation: Type.Integer(), authenticated: Anything, verdict: Anything },
  { additionalProperties: false },
);

export const TreeHeadBody = Type.Object(
  {
    treeSize: Type.Integer(),
    timestamp: Type.Integer(),
    time: Type.String(),
    rootHash: Type.String(),
    signature: Type.String(),
    logId: Type.Optional(Type.String()),
  },
  { $id: 'TreeHead' },
);
export const InclusionBody = Type.Object({
  index: Type.Integer(),
  treeSize: Type.Optional(Type.Integer()),
  leafHash: Type.String(),
  proof: Type.Array(Type.String()),
});
export const ConsistencyBody = Type.Object({
  from: Type.Integer(),
  to: Type.Optional(Type.Integer()),
  proof: Type.Array(Type.String()),
});

export const RedfishCollectionBody = Type.Object(
  {
    '@odata.id': Type.String(),
    '@odata.type': Type.String(),
    Name: Type.String(),
    'Members@odata.count': Type.Integer(),
    Members: Type.Array(Type.Object({ '@odata.id': Type.String() })),
  },
  { additionalProperties: true },
);
export const RedfishComponentBody = Type.Object(
  {
    '@odata.id': Type.String(),
    '@odata.type': Type.String(),
    Id: Type.String(),
    Name: Type.String(),
    ComponentIntegrityType: Type.Literal('SPDM'),
    ComponentIntegrityTypeVersion: Type.String(),
    ComponentIntegrityEnabled: Type.Boolean(),
    TargetComponentURI: Type.String(),
    LastUpdated: Type.Optional(Type.String()),
    SPDM: Anything,
  },
  { additionalProperties: true },
);
export const SignedMeasurementsResponse = Type.Object({
  SignedMeasurements: Type.String({ description: 'base64 of VCA ‖ GET_MEASUREMENTS ‖ MEASUREMENTS' }),
  Certificate: Type.String({ description: 'PEM chain of the slot used' }),
  Version: Type.String(),
  HashingAlgorithm: Type.String(),
  SigningAlgorithm: Type.String(),
});

/** The error statuses every route may answer with, for the OpenAPI document. */
export function withErrors<R extends Record<number, TSchema>>(ok: R): R & Record<400 | 404 | 409 | 500, TSchema> {
  const e = Type.Ref('Error');
  return { ...ok, 400: e, 404: e, 409: e, 500: e };
}

export type AcceptBodyT = Static<typeof AcceptBody>;
