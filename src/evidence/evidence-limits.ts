/**
 * Upper bounds on an Evidence document: they keep a hostile file from making the verifier do
 * unbounded work, and each is the largest value the SPDM field it holds can have (or, for the
 * requester's own summaries, far more than a chain the requester accepts can produce). The decoder
 * (verifier/evidence-input.ts) and the published schema (verifier/evidence-schema.ts) both read
 * them here; docs/evidence.md lists them.
 */
export const EVIDENCE_LIMITS = {
  /** SPDM has 8 certificate slots (0..7); slot 0xFF is the provisioned key, recorded as publicKey. */
  slots: 8,
  /** A DER SubjectPublicKeyInfo: an RSA-4096 key is some 550 bytes; 16 KiB leaves room for any algorithm SPDM names. */
  publicKeyHexChars: 2 * 0x4000,
  signatures: 64,
  measurements: 255,
  /** Hex characters of any one byte string (a 0xFFFFFF measurement record is the largest). */
  hexChars: 2 * 0x1000000,
  /** A signature: RSA-4096 is 512 bytes; 64 KiB leaves room for post-quantum algorithms. */
  signatureBytes: 0x10000,
  /** A hash (digest, transcript hash, summary hash, root hash): SHA-512 and SHA3-512 are 64 bytes. */
  hashBytes: 64,
  /** Certificate summaries of one slot: a 1 MiB LargeCertChain cannot hold more certificates. */
  certificates: 16384,
  /** Chain problems the requester recorded for one slot. */
  chainProblems: 65536,
  /** Characters of a summary string (subject, issuer, a problem message, a device name). */
  summaryChars: 1 << 20,
} as const;

/**
 * The end of the string in a pattern: `$` would do in ECMA-262, but Python's re (which Python JSON
 * Schema validators use) also matches `$` before a final newline, so "aa\n" would pass for hex.
 */
export const END = '(?![\\s\\S])';

/**
 * The text forms an Evidence document's strings take, as regular expression sources that mean the
 * same in JavaScript, in ECMA-262 JSON Schema validators and in Python's.
 */
export const EVIDENCE_PATTERNS = {
  /**
   * ISO 8601 date and time with seconds and a zone, fields in range (what Date#toISOString writes);
   * every match is a date Date.parse accepts.
   */
  dateTime:
    '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])' +
    END,
  /** An SPDM version as versionString() writes it. */
  version: '^[0-9]{1,2}\\.[0-9]{1,2}' + END,
  /** A PCI address as Linux names it: domain, bus, device, function, lower-case hex. */
  bdf: '^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-1][0-9a-f]\\.[0-7]' + END,
  /** A SessionID: 0x and 8 hex digits, never 0xFFFFFFFF (DSP0277's invalid SessionID). */
  sessionId: '^0x(?![fF]{8}$)[0-9a-fA-F]{8}' + END,
} as const;
