/**
 * Hostile variations of genuine evidence, each with the problem the decoder must name: the strict
 * decoder's tests and the schema's (which must refuse every one of them too) share them.
 */
import type { edited } from './helpers.js';
import { EVIDENCE_LIMITS } from '../../src/evidence/evidence-limits.js';

export type Doc = Parameters<Parameters<typeof edited>[1]>[0];
type Rec = Record<string, unknown>;

const rec = (v: unknown): Rec => v as Rec;

/** Hostile variations of genuine evidence, each with the problem the decoder must name. */
export function hostileCases(): [string, (d: Doc) => void, RegExp][] {
  return [
    // Unknown members, at every level.
    ['top-level member', (d) => void (d['comment'] = 'trust me'), /^evidence\.comment: unknown member/],
    [
      'member of capabilities',
      (d) => void (rec(d['capabilities'])['extra'] = 1),
      /^evidence\.capabilities\.extra: unknown member/,
    ],
    [
      'member of algorithms',
      (d) => void (rec(d['algorithms'])['keySchedule'] = 0),
      /^evidence\.algorithms\.keySchedule: unknown member/,
    ],
    ['member of pci', (d) => void (rec(d['pci'])['segment'] = 0), /^evidence\.pci\.segment: unknown member/],
    ['member of a slot', (d) => void (d.slots[0]!['leafKey'] = 'aa'), /^evidence\.slots\[0\]\.leafKey: unknown member/],
    [
      'member of a certificate summary',
      (d) => void (rec((d.slots[0]!['certificates'] as unknown[])[0])['trusted'] = true),
      /^evidence\.slots\[0\]\.certificates\[0\]\.trusted: unknown member/,
    ],
    [
      'member of a chain problem',
      (d) => void (d.slots[0]!['chainProblems'] = [{ code: 'EXPIRED', certIndex: 0, message: 'x', severity: 1 }]),
      /^evidence\.slots\[0\]\.chainProblems\[0\]\.severity: unknown member/,
    ],
    [
      'member of a signature',
      (d) => void (d.signatures[0]!['publicKey'] = '00'),
      /^evidence\.signatures\[0\]\.publicKey: unknown member/,
    ],
    [
      'an EPInfo beside a CHALLENGE_AUTH signature',
      (d) => void (d.signatures[0]!['epInfo'] = '01000000'),
      /^evidence\.signatures\[0\]\.epInfo: a CHALLENGE_AUTH signature has no EPInfo/,
    ],
    [
      'member of a measurement',
      (d) => void (d.measurements[0]!['expected'] = '00'),
      /^evidence\.measurements\[0\]\.expected: unknown member/,
    ],
    [
      '__proto__ as a member',
      (d) => void Object.defineProperty(d, '__proto__', { value: {}, enumerable: true }),
      /^evidence\.__proto__: unknown member/,
    ],
    // Informational members: type-checked, never coerced.
    [
      'ctExponent a string',
      (d) => void (rec(d['capabilities'])['ctExponent'] = '12'),
      /^evidence\.capabilities\.ctExponent: must be an integer/,
    ],
    [
      'ctExponent out of range',
      (d) => void (rec(d['capabilities'])['ctExponent'] = 256),
      /^evidence\.capabilities\.ctExponent: 256 is outside 0\.\.255/,
    ],
    [
      'flagNames holding a number',
      (d) => void (rec(d['capabilities'])['flagNames'] = ['CERT', 7]),
      /^evidence\.capabilities\.flagNames\[1\]: must be a string/,
    ],
    [
      'baseAsymName a number',
      (d) => void (rec(d['algorithms'])['baseAsymName'] = 16),
      /^evidence\.algorithms\.baseAsymName: must be a string/,
    ],
    [
      'certificates not an array',
      (d) => void (d.slots[0]!['certificates'] = 'none'),
      /^evidence\.slots\[0\]\.certificates: must be an array/,
    ],
    [
      'certificate summary subject a number',
      (d) => void (rec((d.slots[0]!['certificates'] as unknown[])[0])['subject'] = 1),
      /^evidence\.slots\[0\]\.certificates\[0\]\.subject: must be a string/,
    ],
    [
      'certificate fingerprint not 32 bytes',
      (d) => void (rec((d.slots[0]!['certificates'] as unknown[])[0])['fingerprintSha256'] = 'abcd'),
      /^evidence\.slots\[0\]\.certificates\[0\]\.fingerprintSha256: must be 32 bytes/,
    ],
    [
      'chain problem certIndex negative',
      (d) => void (d.slots[0]!['chainProblems'] = [{ code: 'EXPIRED', certIndex: -1, message: 'x' }]),
      /^evidence\.slots\[0\]\.chainProblems\[0\]\.certIndex: -1 is outside/,
    ],
    [
      'verified a string',
      (d) => void (d.signatures[0]!['verified'] = 'yes'),
      /^evidence\.signatures\[0\]\.verified: must be true or false/,
    ],
    [
      'signed a number',
      (d) => void (d.measurements[0]!['signed'] = 1),
      /^evidence\.measurements\[0\]\.signed: must be true or false/,
    ],
    [
      'typeName a number',
      (d) => void (d.measurements[0]!['typeName'] = 3),
      /^evidence\.measurements\[0\]\.typeName: must be a string/,
    ],
    // Numbers and byte strings held to their SPDM ranges and sizes.
    [
      'signature slot 9',
      (d) => void (d.signatures[0]!['slot'] = 9),
      /^evidence\.signatures\[0\]\.slot: 9 is not a slot/,
    ],
    ['slot entry 0xFF', (d) => void (d.slots[0]!['slot'] = 0xff), /^evidence\.slots\[0\]\.slot: 255 is outside 0\.\.7/],
    [
      'requester context of 3 bytes',
      (d) => void (d.signatures[0]!['requesterContext'] = 'aabbcc'),
      /^evidence\.signatures\[0\]\.requesterContext: must be 8 bytes, has 3/,
    ],
    [
      'transcript hash of 65 bytes',
      (d) => void (d.signatures[0]!['transcriptHash'] = 'ab'.repeat(65)),
      /^evidence\.signatures\[0\]\.transcriptHash: must be at most 64 bytes, has 65/,
    ],
    [
      'signature larger than any algorithm makes',
      (d) => void (d.signatures[0]!['signature'] = 'ab'.repeat(EVIDENCE_LIMITS.signatureBytes + 1)),
      /^evidence\.signatures\[0\]\.signature: must be at most \d+ bytes/,
    ],
    [
      'slot digest of 65 bytes',
      (d) => void (d.slots[0]!['digest'] = 'cd'.repeat(65)),
      /^evidence\.slots\[0\]\.digest: must be at most 64 bytes/,
    ],
    [
      'collectedAt not ISO 8601',
      (d) => void (d['collectedAt'] = 'Sun, 01 Mar 2026 12:00:00 GMT'),
      /^evidence\.collectedAt: must be an ISO 8601 date and time/,
    ],
    ['version not M.N', (d) => void (d['version'] = 'one'), /^evidence\.version: must be a version "M\.N"/],
    [
      'bdf not a PCI address',
      (d) => void (rec(d['pci'])['bdf'] = '../../etc'),
      /^evidence\.pci\.bdf: must be a PCI address/,
    ],
    [
      'measurement type 0x80',
      (d) => void (d.measurements[0]!['type'] = 0x80),
      /^evidence\.measurements\[0\]\.type: 128 is outside 0\.\.127/,
    ],
    [
      'context 257 characters',
      (d) => void (d.signatures[0]!['context'] = 'x'.repeat(257)),
      /^evidence\.signatures\[0\]\.context: is 257 characters long/,
    ],
    ['a float', (d) => void (d['versionByte'] = 18.5), /^evidence\.versionByte: must be an integer/],
  ];
}
