/**
 * The JSON Schema (2020-12) of an Evidence document, the bundle a remote verifier receives.
 * Published as schemas/evidence.schema.json (a test keeps the two identical) and written from the
 * same bounds and patterns as the decoder (verifier/evidence-input.ts), which stays the one that
 * decides: a test holds the schema and the decoder to the same verdict on genuine and hostile
 * documents. Two rules need more than a schema can say and are the decoder's alone: a slot number
 * or a measurement index appears once (named in `$comment` where they apply).
 */
import { EVIDENCE_FORMAT } from '../evidence/evidence.js';
import { END, EVIDENCE_LIMITS as L, EVIDENCE_PATTERNS as P } from '../evidence/evidence-limits.js';
import { SIGNED_MESSAGE_KINDS } from '../evidence/signed-kinds.js';
import { REQUESTER_CONTEXT_SIZE } from '../spdm/messages/challenge.js';
import type { JsonSchema } from './schema.js';

export const EVIDENCE_SCHEMA_ID = 'https://spdmkit.dev/schemas/evidence.schema.json';

const u8 = { type: 'integer', minimum: 0, maximum: 0xff };
const u16 = { type: 'integer', minimum: 0, maximum: 0xffff };
const u32 = { type: 'integer', minimum: 0, maximum: 0xffffffff };

/** Lower- or upper-case hex of whole bytes, `min`..`max` bytes (the decoder lower-cases it). */
function hex(description: string, min: number, max?: number): Record<string, unknown> {
  const hi = max ?? L.hexChars / 2;
  return {
    type: 'string',
    description,
    maxLength: 2 * hi,
    pattern: `^${min === hi ? `[0-9a-fA-F]{${2 * min}}` : min === 0 ? '([0-9a-fA-F]{2})*' : '([0-9a-fA-F]{2})+'}${END}`,
    ...(min > 0 && min !== hi ? { minLength: 2 * min } : {}),
  };
}

function text(description: string, maxLength: number, pattern?: string): Record<string, unknown> {
  return { type: 'string', description, maxLength, ...(pattern ? { pattern } : {}) };
}

const dateTime = (description: string) => text(description, 64, P.dateTime);

export const EVIDENCE_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: EVIDENCE_SCHEMA_ID,
  title: 'spdmkit evidence',
  description:
    'What a requester learned from an SPDM device, with the exact signed bytes of every signature: the input of spdm verify (docs/evidence.md). Either the Evidence document itself or the output of spdm authenticate --json around it.',
  $comment:
    "Patterns end with (?![\\s\\S]) rather than $: Python's re, which Python validators use, also matches $ before a final newline.",
  anyOf: [{ $ref: '#/$defs/evidence' }, { $ref: '#/$defs/authenticateOutput' }],
  $defs: {
    authenticateOutput: {
      type: 'object',
      description: 'spdm authenticate --json: the outcome of the run around its evidence',
      required: ['evidence'],
      additionalProperties: false,
      properties: {
        authenticated: { type: 'boolean' },
        trusted: { type: 'boolean' },
        reason: text('why the run failed or the device is untrusted', L.summaryChars),
        errorCode: text('the SpdmError code of a failed run', 64),
        evidence: { $ref: '#/$defs/evidence' },
        verdict: { type: 'object', description: "the collecting host's verdict; informational, never read" },
        session: { type: 'object', description: 'the secure session the run used; informational, never read' },
        basicMutualAuth: {
          type: 'object',
          description: 'whether the device authenticated the requester; informational, never read',
        },
      },
    },
    evidence: {
      type: 'object',
      description: 'an Evidence document',
      required: [
        'format',
        'collectedAt',
        'version',
        'versionByte',
        'capabilities',
        'algorithms',
        'slots',
        'signatures',
        'measurements',
      ],
      additionalProperties: false,
      properties: {
        format: { const: EVIDENCE_FORMAT },
        collectedAt: dateTime('when the requester collected the evidence, by its clock (unsigned)'),
        device: text('the name the requester used for the device (informational)', 1024),
        pci: { $ref: '#/$defs/pci' },
        version: text('the negotiated SPDM version as text (informational)', 16, P.version),
        versionByte: { type: 'integer', minimum: 0x10, maximum: 0x1f, description: 'the negotiated SPDM version byte' },
        capabilities: { $ref: '#/$defs/capabilities' },
        algorithms: { $ref: '#/$defs/algorithms' },
        slots: {
          type: 'array',
          maxItems: L.slots,
          items: { $ref: '#/$defs/slot' },
          $comment: 'each slot number appears once (checked by the decoder)',
        },
        publicKey: hex('the provisioned public key (slot 0xFF), DER SubjectPublicKeyInfo', 1, L.publicKeyHexChars / 2),
        signatures: { type: 'array', maxItems: L.signatures, items: { $ref: '#/$defs/signature' } },
        measurements: {
          type: 'array',
          maxItems: L.measurements,
          items: { $ref: '#/$defs/measurement' },
          $comment: 'each index appears once (checked by the decoder)',
        },
      },
    },
    pci: {
      type: 'object',
      description: "the device's PCI identity as read from its configuration space (unsigned)",
      required: ['vendorId', 'deviceId', 'classCode', 'revisionId'],
      additionalProperties: false,
      properties: {
        bdf: text('a PCI address DDDD:BB:DD.F (lower-case hex)', 64, P.bdf),
        vendorId: u16,
        deviceId: u16,
        classCode: { type: 'integer', minimum: 0, maximum: 0xffffff },
        revisionId: u8,
        subsystemVendorId: u16,
        subsystemId: u16,
        serialNumber: hex('Device Serial Number capability', 8, 8),
      },
      anyOf: [
        { required: ['subsystemVendorId', 'subsystemId'], description: 'both subsystem IDs (Type 0 header)' },
        { properties: { subsystemVendorId: false, subsystemId: false }, description: 'no subsystem IDs' },
      ],
    },
    capabilities: {
      type: 'object',
      required: ['flags'],
      additionalProperties: false,
      properties: {
        flags: u32,
        flagNames: { type: 'array', maxItems: 32, items: text('a capability name (informational)', 64) },
        ctExponent: u8,
        dataTransferSize: u32,
        maxSpdmMsgSize: u32,
      },
    },
    algorithms: {
      type: 'object',
      required: ['baseAsym', 'baseHash', 'measurementHash', 'measurementSpec'],
      additionalProperties: false,
      properties: {
        baseAsym: u32,
        baseAsymName: text('informational', 256),
        baseHash: u32,
        baseHashName: text('informational', 256),
        measurementHash: u32,
        measurementHashName: text('informational', 256),
        measurementSpec: u32,
        otherParams: u32,
      },
    },
    slot: {
      type: 'object',
      required: ['slot', 'digest', 'certChain'],
      additionalProperties: false,
      properties: {
        slot: { type: 'integer', minimum: 0, maximum: L.slots - 1 },
        digest: hex('the digest DIGESTS gave for the slot', 0, L.hashBytes),
        certChain: hex('the SPDM certificate chain as read (empty: not read)', 0),
        certModel: u8,
        certificates: {
          type: 'array',
          maxItems: L.certificates,
          items: { $ref: '#/$defs/certificateSummary' },
          description: 'informational',
        },
        chainProblems: {
          type: 'array',
          maxItems: L.chainProblems,
          items: { $ref: '#/$defs/chainProblem' },
          description: 'informational',
        },
      },
    },
    certificateSummary: {
      type: 'object',
      required: ['subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'fingerprintSha256'],
      additionalProperties: false,
      properties: {
        subject: text('informational', L.summaryChars),
        issuer: text('informational', L.summaryChars),
        serialNumber: text('informational', L.summaryChars),
        notBefore: dateTime('informational'),
        notAfter: dateTime('informational'),
        fingerprintSha256: hex('informational', 32, 32),
      },
    },
    chainProblem: {
      type: 'object',
      required: ['code', 'certIndex', 'message'],
      additionalProperties: false,
      properties: {
        code: text('informational', 64),
        certIndex: { type: 'integer', minimum: 0, maximum: L.certificates },
        message: text('informational', L.summaryChars),
      },
    },
    signature: {
      type: 'object',
      required: [
        'kind',
        'slot',
        'version',
        'asymAlgo',
        'hashAlgo',
        'context',
        'requesterNonce',
        'responderNonce',
        'transcript',
        'transcriptHash',
        'signature',
      ],
      additionalProperties: false,
      properties: {
        kind: { enum: [...SIGNED_MESSAGE_KINDS] },
        sessionId: text('a SessionID, 0x and 8 hex digits', 10, P.sessionId),
        slot: { enum: [0, 1, 2, 3, 4, 5, 6, 7, 0xff], description: 'a certificate slot, or 255: the provisioned key' },
        version: { type: 'integer', minimum: 0x10, maximum: 0x1f },
        asymAlgo: u32,
        hashAlgo: u32,
        context: text('the SPDM 1.2+ signing context ("" before 1.2)', 256),
        requesterNonce: hex('the nonce of the signed request', 32, 32),
        responderNonce: hex('the nonce of the signed response', 32, 32),
        requesterContext: hex(
          'the RequesterContext of the signed request (1.3)',
          REQUESTER_CONTEXT_SIZE,
          REQUESTER_CONTEXT_SIZE,
        ),
        transcript: hex('the signed bytes, without the signature', 1),
        transcriptHash: hex('Hash(transcript)', 1, L.hashBytes),
        signature: hex('the signature', 1, L.signatureBytes),
        measurementSummaryHash: hex('the signed summary hash', 1, L.hashBytes),
        epInfo: hex('the EPInfo of a signed ENDPOINT_INFO', 0),
        verified: { type: 'boolean', description: 'informational' },
      },
      anyOf: [
        {
          properties: { kind: { const: 'CHALLENGE_AUTH' }, sessionId: false, epInfo: false },
          description: 'CHALLENGE_AUTH, never inside a session',
        },
        {
          properties: { kind: { const: 'MEASUREMENTS' }, epInfo: false },
          description: 'MEASUREMENTS, in a session or not',
        },
        {
          properties: { kind: { const: 'KEY_EXCHANGE_RSP' }, epInfo: false },
          required: ['sessionId'],
          description: 'KEY_EXCHANGE_RSP, with the session it set up',
        },
        {
          properties: { kind: { const: 'ENDPOINT_INFO' } },
          required: ['epInfo'],
          description: 'ENDPOINT_INFO (1.3), with the EPInfo it signed, in a session or not',
        },
      ],
    },
    measurement: {
      type: 'object',
      required: ['index', 'spec', 'value', 'block'],
      additionalProperties: false,
      properties: {
        index: { type: 'integer', minimum: 1, maximum: 0xfe },
        spec: u8,
        type: { type: 'integer', minimum: 0, maximum: 0x7f },
        typeName: text('informational', 256),
        raw: { type: 'boolean' },
        value: hex('the DMTF measurement value, or the Measurement field', 0),
        block: hex('the measurement block as sent', 1),
        signed: { type: 'boolean', description: 'informational' },
      },
    },
  },
};
