/**
 * Typed errors. Every failure the library reports is an `SpdmError` with a stable `code` a caller
 * can switch on; `DecodeError` additionally names the message and field that was malformed.
 */
export type SpdmErrorCode =
  | 'DECODE_ERROR'
  | 'ENCODE_ERROR'
  | 'UNEXPECTED_RESPONSE'
  | 'VERSION_MISMATCH'
  | 'NO_COMMON_VERSION'
  | 'CAPABILITY_MISMATCH'
  | 'ALGORITHM_MISMATCH'
  | 'DEVICE_ERROR'
  | 'BUSY'
  | 'NOT_READY'
  | 'TIMEOUT'
  | 'TRANSPORT_ERROR'
  | 'NONCE_MISMATCH'
  | 'CONTEXT_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'DIGEST_MISMATCH'
  | 'CERT_CHAIN_INVALID'
  | 'CERT_CHAIN_UNTRUSTED'
  | 'CERT_INVALID'
  | 'SLOT_INVALID'
  | 'UNSUPPORTED_ALGORITHM'
  | 'UNSUPPORTED'
  | 'STATE_ERROR'
  | 'SIGNATURE_MISSING'
  | 'PROTOCOL_ERROR'
  | 'LIMIT_EXCEEDED'
  /** A log's disk, file-size limit or quota is full (log/store/errors.ts). */
  | 'STORAGE_FULL'
  /** A log's database, file or connection failed otherwise (log/store/errors.ts). */
  | 'STORAGE_ERROR'
  /** Signature log (src/log/): no log at the target, or the database there is not one. */
  | 'LOG_NOT_FOUND'
  /** A log's own records (state, tree heads, entries, chains) are missing or disagree: run `spdm log verify`. */
  | 'LOG_CORRUPT'
  /** The signing key given or found is not the key of this log. */
  | 'LOG_KEY_MISMATCH'
  /** An append needs the log's signing key and none was given or found. */
  | 'LOG_KEY_MISSING'
  /** The log (its store) was closed. */
  | 'LOG_CLOSED'
  /** An entry index or tree size beyond what the log holds. */
  | 'LOG_OUT_OF_RANGE'
  /** An import the log cannot take: it already holds more than, or something other than, the export. */
  | 'LOG_IMPORT_CONFLICT';

export class SpdmError extends Error {
  readonly code: SpdmErrorCode;
  readonly details: Readonly<Record<string, unknown>>;
  constructor(code: SpdmErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SpdmError';
    this.code = code;
    this.details = details;
  }
}

/** Malformed bytes: names the message, the field and the offset where decoding stopped. */
export class DecodeError extends SpdmError {
  readonly messageName: string;
  readonly field: string;
  readonly offset: number;
  constructor(messageName: string, field: string, offset: number, reason: string) {
    super('DECODE_ERROR', `${messageName}.${field} @${offset}: ${reason}`, { messageName, field, offset });
    this.name = 'DecodeError';
    this.messageName = messageName;
    this.field = field;
    this.offset = offset;
  }
}
