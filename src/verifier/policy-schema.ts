/**
 * The JSON Schema of verifier policy files. Published as schemas/policy.schema.json (a test keeps
 * the two identical); kept here as well so the validator works from an installed package.
 */
import type { JsonSchema } from './schema.js';

const ruleMode = {
  type: 'string',
  enum: ['required', 'warn', 'off'],
  description: 'required: a violation makes the device untrusted; warn: reported as a warning; off: not checked',
};

export const POLICY_SCHEMA_ID = 'https://spdmkit.dev/schemas/policy.schema.json';

export const POLICY_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: POLICY_SCHEMA_ID,
  title: 'spdmkit verifier policy',
  description:
    'Which devices to trust: certificate rules, evidence requirements and reference measurements per device identity.',
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Policy format version; always 1.' },
    rules: { $ref: '#/$defs/rules' },
    evidence: { $ref: '#/$defs/evidence' },
    devices: { type: 'array', items: { $ref: '#/$defs/device' } },
    trustedPublicKeys: {
      type: 'array',
      maxItems: 4096,
      items: { $ref: '#/$defs/publicKey' },
      description:
        "Provisioned device public keys (PUB_KEY_ID_CAP, slot 0xFF) to trust: a slot 0xFF signature is trusted only when the evidence's public key is one of these (PUBLIC_KEY_UNTRUSTED otherwise).",
    },
  },
  $defs: {
    publicKey: {
      type: 'string',
      pattern: '^(sha256:[0-9a-fA-F]{64}|([0-9a-fA-F]{2})+)$',
      maxLength: 32768,
      description:
        'a DER SubjectPublicKeyInfo in hex, or "sha256:" and the SHA-256 of that DER in hex (the fingerprint spdm authenticate prints)',
    },
    rules: {
      type: 'object',
      description: 'Certificate rules; each is required (default unless noted), warn or off.',
      additionalProperties: false,
      properties: {
        chain: {
          ...ruleMode,
          description: 'The chain is well formed and leads to a trust anchor (CHAIN_UNTRUSTED, CHAIN_INVALID).',
        },
        deny: {
          ...ruleMode,
          description: 'No certificate of the chain, nor its anchor, is on the deny-list (CERT_DENIED).',
        },
        validity: {
          ...ruleMode,
          description: 'Every certificate is within its validity period (CERT_EXPIRED, CERT_NOT_YET_VALID).',
        },
        keyUsage: {
          ...ruleMode,
          description: 'Leaf keyUsage has digitalSignature; CA certificates have keyCertSign (KEY_USAGE).',
        },
        eku: {
          ...ruleMode,
          description: 'DSP0274: a responder leaf must not carry requester-auth EKU without responder-auth (EKU).',
        },
        responderAuthEku: {
          ...ruleMode,
          description: 'Stricter: the leaf must carry id-DMTF-eku-responder-auth (EKU). Default off.',
        },
        hardwareIdentity: {
          ...ruleMode,
          description: 'DSP0274: id-DMTF-hardware-identity only in DeviceCert-model leaves (HARDWARE_IDENTITY).',
        },
        spdmCertificate: {
          ...ruleMode,
          description:
            'Other DSP0274 certificate rules: X.509 v3, names present, no unknown critical extension, leaf not a CA, basicConstraints from 1.3, key matches BaseAsymAlgo (CERT_INVALID).',
        },
        cmaSan: {
          ...ruleMode,
          description:
            'PCIe r6.1 CMA: the leaf subjectAltName names the PCI identity (SAN_MISSING, SAN_MISMATCH, PCI_IDENTITY_MISSING).',
        },
      },
    },
    evidence: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAgeSeconds: {
          type: 'integer',
          minimum: 0,
          description: 'Evidence older than this (collectedAt) is STALE_EVIDENCE.',
        },
        minSpdmVersion: {
          type: 'string',
          enum: ['1.0', '1.1', '1.2', '1.3', '1.4'],
          description: 'Lowest acceptable negotiated SPDM version (VERSION_TOO_OLD).',
        },
        signedMeasurements: {
          type: 'boolean',
          description:
            'Measurements checked against reference values must be covered by a valid signature (MEASUREMENT_UNSIGNED). Default true.',
        },
        requireDevicePolicy: {
          type: 'boolean',
          description: 'A device no entry of "devices" matches is untrusted (NO_POLICY_FOR_DEVICE). Default false.',
        },
        certificateTime: {
          type: 'string',
          enum: ['collected', 'now'],
          description:
            'Check certificate validity at the evidence time (collectedAt, default) or at the verifier clock.',
        },
      },
    },
    hex16: {
      type: 'string',
      pattern: '^(0x)?[0-9a-fA-F]{4}$',
      description: 'a 16-bit ID as 4 hex digits, quoted (e.g. "8086")',
    },
    hex8: {
      type: 'string',
      pattern: '^(0x)?[0-9a-fA-F]{2}$',
      description: 'an 8-bit value as 2 hex digits, quoted (e.g. "01")',
    },
    hex24: {
      type: 'string',
      pattern: '^(0x)?[0-9a-fA-F]{6}$',
      description: 'a 24-bit class code as 6 hex digits, quoted (e.g. "020000")',
    },
    digest: {
      type: 'string',
      pattern: '^([0-9a-fA-F]{2})+$',
      maxLength: 65536,
      description: 'a measurement value in hex (a digest, or a raw value), quoted',
    },
    index: { type: 'integer', minimum: 1, maximum: 254 },
    pciMatch: {
      type: 'object',
      additionalProperties: false,
      required: ['vendorId'],
      properties: {
        vendorId: { $ref: '#/$defs/hex16' },
        deviceId: { $ref: '#/$defs/hex16' },
        subsystemVendorId: { $ref: '#/$defs/hex16' },
        subsystemId: { $ref: '#/$defs/hex16' },
        revisionId: { $ref: '#/$defs/hex8' },
        classCode: { $ref: '#/$defs/hex24' },
      },
    },
    match: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      description: 'All given criteria must hold.',
      properties: {
        pci: { $ref: '#/$defs/pciMatch' },
        subject: {
          type: 'string',
          minLength: 1,
          description: 'the leaf certificate subject exactly, e.g. "CN=Acme X100,O=Acme"',
        },
        subjectPattern: {
          type: 'string',
          minLength: 1,
          maxLength: 1024,
          description: 'a regular expression the leaf subject must match',
        },
      },
    },
    device: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'match'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 256 },
        match: { $ref: '#/$defs/match' },
        rules: { $ref: '#/$defs/rules' },
        evidence: { $ref: '#/$defs/evidence' },
        measurements: {
          type: 'object',
          description: 'measurement index → acceptable values (any one of them)',
          additionalProperties: false,
          patternProperties: {
            '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$': {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { $ref: '#/$defs/digest' },
            },
          },
        },
        ignore: {
          type: 'array',
          uniqueItems: true,
          items: { $ref: '#/$defs/index' },
          description: 'indices whose value is never checked',
        },
        unlisted: {
          type: 'string',
          enum: ['reject', 'ignore'],
          description: 'a measurement neither listed nor ignored: reject (MEASUREMENT_UNEXPECTED, default) or ignore',
        },
        minSvn: {
          description: 'minimum security version number (DMTF measurement type 7, u64 little-endian)',
          anyOf: [
            { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'a non-negative integer' },
            { type: 'string', pattern: '^[0-9]{1,20}$', description: 'a decimal string (for values beyond 2^53)' },
          ],
        },
        svnIndex: {
          $ref: '#/$defs/index',
          description: 'index of the SVN measurement (default: the block of DMTF type 7)',
        },
      },
    },
  },
};
