/**
 * The JSON Schema of spdmkitd's configuration file. Published as schemas/daemon-config.schema.json
 * (a test keeps the two identical; `npm run daemon-docs` rewrites it); kept here as well so the
 * loader validates from an installed package. Validated by the verifier's small schema validator,
 * so only the keywords it implements may appear (it refuses others when compiled).
 */
import type { JsonSchema } from '../verifier/schema.js';

export const DAEMON_CONFIG_SCHEMA_ID = 'https://spdmkit.dev/schemas/daemon-config.schema.json';

const path = { type: 'string', minLength: 1, maxLength: 4096 };
const paths = (description: string) => ({
  type: 'array',
  maxItems: 256,
  items: path,
  description,
});

export const DAEMON_CONFIG_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: DAEMON_CONFIG_SCHEMA_ID,
  title: 'spdmkitd configuration',
  description:
    'Where spdmkitd listens, where it keeps its state, what it trusts and which devices it watches. Relative paths are relative to the configuration file.',
  type: 'object',
  required: ['version', 'dataDir', 'platform'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    version: { const: 1, description: 'Configuration format version; always 1.' },
    socket: {
      type: 'object',
      additionalProperties: false,
      description: 'The Unix socket of the HTTP API (always served).',
      properties: {
        path: {
          ...path,
          maxLength: 107,
          description:
            'Socket file (at most 107 bytes, the sun_path limit). Default, chosen by the command: $XDG_RUNTIME_DIR/spdmkit/spdmkitd.sock, or /run/spdmkit/spdmkitd.sock as root.',
        },
        mode: {
          type: 'string',
          pattern: '^0?[0-7]{3}$',
          description: 'an octal file mode of 3 digits, quoted (e.g. "0660", the default: owner and group)',
        },
        group: {
          anyOf: [
            { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,31}$', description: 'a group name' },
            { type: 'integer', minimum: 0, maximum: 4294967294, description: 'a numeric group id' },
          ],
          description: 'Group that owns the socket file, so its members may use the API.',
        },
      },
    },
    listen: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'tokenFile'],
      description:
        'Also serve the API over TCP. Every TCP request then needs "Authorization: Bearer <token>" with the token of tokenFile.',
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 255, description: 'Address to bind (default 127.0.0.1).' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: '0 lets the system choose.' },
        tokenFile: {
          ...path,
          description: 'File holding the bearer token (its first line, at least 16 characters).',
        },
      },
    },
    dataDir: {
      ...path,
      description: 'Directory of the daemon state: the signature log, the event log, acceptance records.',
    },
    trust: paths('Trusted root certificates, PEM or DER files or directories of them.'),
    deny: paths('Deny-list files or directories (certificates, fingerprints, serial numbers).'),
    policy: {
      ...path,
      description: 'Verifier policy file, JSON or YAML (docs/policy.md). Default: every rule required.',
    },
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 64,
      description: 'Authentications running at once (default 4).',
    },
    autoAccept: {
      type: 'boolean',
      description: 'Accept a device on a trusted verdict without an operator (default false).',
    },
    holdDrivers: {
      type: 'boolean',
      description:
        'Hold back driver binding of refused functions and release it on accept (default false). On sysfs: driver_override and unbind, then drivers_probe on release; on the simulated platform: state only. See docs/daemon.md.',
    },
    platform: {
      description: 'Where the PCI functions come from.',
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'file'],
          description: 'Emulated devices described by a platform file (demos, tests).',
          properties: {
            kind: { const: 'simulated' },
            file: { ...path, description: 'The platform file.' },
            deviceThreads: {
              type: 'integer',
              minimum: 0,
              maximum: 64,
              description:
                "Worker threads the emulated devices' SPDM work runs in (default 0: the daemon's own thread); their mailboxes and timing stay in the daemon, as real devices compute their answers off the host's CPU.",
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          description: 'The PCI functions of this Linux machine, through sysfs (needs root).',
          properties: {
            kind: { const: 'sysfs' },
            root: { ...path, description: 'The sysfs PCI devices directory (default /sys/bus/pci/devices).' },
          },
        },
      ],
    },
    events: {
      type: 'object',
      additionalProperties: false,
      description: 'The server-sent event stream (GET /v1/events).',
      properties: {
        heartbeatSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          description: 'Seconds between comment heartbeats (default 15).',
        },
        maxBufferedBytes: {
          type: 'integer',
          minimum: 4096,
          maximum: 67108864,
          description:
            'Bytes a slow client may have unread before it is disconnected (default 1 MiB); it resumes with Last-Event-ID.',
        },
      },
    },
  },
};
