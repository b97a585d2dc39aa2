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
  | 'STORAGE_ERROR';

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
