/**
 * The JSON Schema of simulated platform files (YAML or JSON). Published as
 * schemas/platform.schema.json (a test keeps the two identical); kept here as well so the loader
 * validates from an installed package. Enumerations come from the code that gives them meaning
 * (algorithm names, request codes, capability flags), so a new algorithm shows up as a schema
 * change to regenerate rather than as a silent difference.
 */
import { allAsyms, allHashes } from '../crypto/algorithms.js';
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';

/** A JSON Schema document (the subset verifier/schema.ts validates). */
export type PlatformJsonSchema = { readonly [keyword: string]: unknown };

export const PLATFORM_SCHEMA_ID = 'https://spdmkit.dev/schemas/platform.schema.json';

/** The DOE protocols a simulated mailbox can announce besides discovery, by name. */
export const DOE_PROTOCOL_NAMES = ['cma-spdm', 'secured-cma-spdm'] as const;

const hex = (digits: number, what: string) => ({
  type: 'string',
  pattern: `^(0x)?[0-9a-fA-F]{${digits}}$`,
  description: `${what} as ${digits} hex digits, quoted (e.g. "${'0'.repeat(digits - 1)}1")`,
});

const request = {
  type: 'string',
  enum: Object.keys(RequestCode),
  description: 'an SPDM request code by name, e.g. CHALLENGE or GET_MEASUREMENTS',
};
const spdmVersion = { type: 'string', enum: ['1.0', '1.1', '1.2', '1.3'] };
const asymName = { type: 'string', enum: allAsyms().map((a) => a.name) };
const hashName = { type: 'string', enum: allHashes().map((h) => h.name) };
const path = {
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  description: 'a file path, relative to the platform file',
};

/** Properties a function and a spare share: everything but where it sits. */
const deviceProperties = {
  name: { type: 'string', minLength: 1, maxLength: 128, description: 'a label (default: the profile name)' },
  kind: {
    type: 'string',
    minLength: 1,
    maxLength: 64,
    description:
      'what the device stands for (genuine, counterfeit, clone, ...): informational, never changes behaviour',
  },
  description: { type: 'string', maxLength: 1024 },
  vendorId: { $ref: '#/$defs/hex16' },
  deviceId: { $ref: '#/$defs/hex16' },
  classCode: { $ref: '#/$defs/hex24', description: 'default "120000" (processing accelerator)' },
  revisionId: { $ref: '#/$defs/hex8', description: 'default "01"' },
  subsystemVendorId: { $ref: '#/$defs/hex16', description: 'with subsystemId, or neither (default 0000)' },
  subsystemId: { $ref: '#/$defs/hex16' },
  serialNumber: {
    type: 'string',
    pattern: '^(0x)?[0-9a-fA-F]{1,16}$',
    description: 'a non-zero 64-bit serial number in hex: the function gets a Device Serial Number capability',
  },
  doe: {
    description: 'the DOE mailbox, or false for a function without a DOE capability',
    anyOf: [{ const: false }, { $ref: '#/$defs/doe' }],
  },
  device: { $ref: '#/$defs/profile' },
  firmware: { $ref: '#/$defs/firmware' },
  misbehavior: { $ref: '#/$defs/misbehavior' },
};

export const PLATFORM_SCHEMA: PlatformJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: PLATFORM_SCHEMA_ID,
  title: 'spdmkit simulated platform',
  description:
    'The PCI functions of a simulated machine: config-space identity, DOE mailbox, and the emulated SPDM device behind it.',
  type: 'object',
  required: ['version', 'functions'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Platform file format version; always 1.' },
    functions: {
      type: 'array',
      // One PCI domain's worth (256 buses × 32 devices × 8 functions): scale runs simulate thousands.
      maxItems: 65536,
      items: { $ref: '#/$defs/function' },
    },
    spares: {
      type: 'array',
      maxItems: 64,
      description: 'devices not present at start, for hot-plug and device-swap events (by name)',
      items: { $ref: '#/$defs/spare' },
    },
  },
  $defs: {
    hex16: hex(4, 'a 16-bit ID'),
    hex8: hex(2, 'an 8-bit value'),
    hex24: hex(6, 'a 24-bit class code'),
    function: {
      type: 'object',
      additionalProperties: false,
      required: ['bdf', 'vendorId', 'deviceId', 'doe'],
      properties: {
        bdf: {
          type: 'string',
          pattern: '^[0-9a-f]{4,8}:[0-9a-f]{2}:[01][0-9a-f]\\.[0-7]$',
          description: 'domain:bus:device.function in lower-case hex, e.g. 0000:03:00.0',
        },
        ...deviceProperties,
      },
    },
    spare: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'vendorId', 'deviceId', 'doe'],
      properties: deviceProperties,
    },
    doe: {
      type: 'object',
      additionalProperties: false,
      required: ['protocols'],
      properties: {
        protocols: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', enum: [...DOE_PROTOCOL_NAMES] },
          description: 'protocols discovery lists after itself; [] is a DOE mailbox with discovery only',
        },
        responseDelayMs: {
          type: 'integer',
          minimum: 0,
          maximum: 60000,
          description: 'how long the mailbox takes to answer each object (a slow device the driver polls for)',
        },
        capabilityVersion: {
          type: 'integer',
          minimum: 1,
          maximum: 2,
          description: 'DOE capability version (default 1)',
        },
      },
    },
    firmware: {
      type: 'object',
      additionalProperties: false,
      properties: {
        image: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          description:
            'what the measured images are derived from (default: the profile name); devices of one model share it',
        },
        version: { type: 'string', minLength: 1, maxLength: 64, description: 'firmware version (default "1.0.0")' },
      },
    },
    profile: {
      type: 'object',
      additionalProperties: false,
      description: 'the emulated device, as in `spdm emulate --profile` files',
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 128 },
        versions: { type: 'array', minItems: 1, uniqueItems: true, items: spdmVersion },
        hash: { type: 'array', minItems: 1, uniqueItems: true, items: hashName },
        measurementHash: { anyOf: [hashName, { const: 'raw' }] },
        asym: { ...asymName, description: 'algorithm of a generated chain when there are no slots' },
        ctExponent: { type: 'integer', minimum: 0, maximum: 31 },
        dataTransferSize: { type: 'integer', minimum: 42, maximum: 1048576 },
        capabilities: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', enum: Object.keys(CapabilityFlag) },
        },
        slots: {
          type: 'array',
          minItems: 1,
          maxItems: 8,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['asym', 'certChain', 'privateKey'],
            properties: {
              slot: { type: 'integer', minimum: 0, maximum: 7 },
              asym: asymName,
              certChain: { ...path, description: 'DER certificates, root first, leaf last, concatenated' },
              privateKey: { ...path, description: "the leaf's private key (PEM or DER)" },
              rootCertificate: {
                ...path,
                description:
                  'the root certificate (DER) a certChain without its root leaves out: not sent, but the RootHash names it (SPDM 1.2+)',
              },
            },
          },
        },
        measurements: {
          type: 'array',
          maxItems: 254,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['index', 'type', 'value'],
            properties: {
              index: { type: 'integer', minimum: 1, maximum: 254 },
              type: { type: 'integer', minimum: 0, maximum: 127 },
              value: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$', maxLength: 65536 },
              raw: { type: 'boolean' },
              tcb: { type: 'boolean' },
            },
          },
        },
      },
    },
    requestTimes: {
      type: 'object',
      additionalProperties: false,
      required: ['request', 'times'],
      properties: { request, times: { type: 'integer', minimum: 1, maximum: 255 } },
    },
    misbehavior: {
      type: 'object',
      additionalProperties: false,
      description: 'how the device breaks the protocol (the fault wrapper around the clean emulator)',
      properties: {
        badSignature: { type: 'boolean' },
        staleNonce: { type: 'boolean' },
        wrongRequesterContext: { type: 'boolean' },
        badDigest: { type: 'boolean' },
        badCertChainHash: { type: 'boolean' },
        truncate: {
          type: 'object',
          additionalProperties: false,
          required: ['request', 'bytes'],
          properties: { request, bytes: { type: 'integer', minimum: 1, maximum: 65536 } },
        },
        notReady: {
          type: 'object',
          additionalProperties: false,
          required: ['request', 'times'],
          description: 'answer with ResponseNotReady first, `times` times',
          properties: {
            request,
            times: { type: 'integer', minimum: 1, maximum: 255 },
            rdtExponent: { type: 'integer', minimum: 0, maximum: 31, description: 'default 10 (about 1 ms)' },
            rdtm: { type: 'integer', minimum: 1, maximum: 255, description: 'default 2' },
          },
        },
        busy: { $ref: '#/$defs/requestTimes' },
        hang: {
          type: 'object',
          additionalProperties: false,
          required: ['request'],
          properties: { request },
        },
        delay: {
          type: 'object',
          additionalProperties: false,
          required: ['request', 'ms'],
          properties: { request, ms: { type: 'integer', minimum: 0, maximum: 60000 } },
        },
        wrongVersion: spdmVersion,
        selectAsym: asymName,
        signingKey: { ...path, description: 'sign with this private key instead of the slot key (a clone)' },
      },
    },
  },
};
