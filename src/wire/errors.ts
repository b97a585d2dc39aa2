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
  | 'LOG_IMPORT_CONFLICT'
  /** A C2SP checkpoint (log/checkpoint.ts) or a proof file does not parse or its signature does not verify. */
  | 'CHECKPOINT_INVALID'
  /** An EAT Attestation Result (verifier/ear.ts) whose JWS, key set or claims-set does not verify; details.reason names the step. */
  | 'EAR_INVALID'
  /** CMA (src/cma/): no function at that BDF. */
  | 'DEVICE_NOT_FOUND'
  /** CMA: the function is owned by a TSM (or a guest): its DOE mailbox is not ours to use. */
  | 'DEVICE_OWNED'
  /** CMA: the request conflicts with the device's state (e.g. accepting a device with no evidence). */
  | 'DEVICE_STATE'
  /** Secured session (session/): a record's MAC does not verify (tampered, wrong key, or a replayed/skipped sequence number). */
  | 'SESSION_AUTH_FAILED'
  /** Secured session: a record's wire sequence number is not the one expected (replayed or skipped), or the counter is exhausted. */
  | 'SESSION_SEQUENCE'
  /** Secured session: a record for a session that was ended (END_SESSION) or torn down, or never existed. */
  | 'SESSION_CLOSED'
  /** Secured session: a finished MAC (ResponderVerifyData / RequesterVerifyData) does not match. */
  | 'VERIFY_DATA_MISMATCH'
  /** Secured session: a KEY_UPDATE_ACK does not echo the operation and Tag, or came under the wrong key; the session is torn down. */
  | 'KEY_UPDATE_FAILED';

/**
 * Keys a code's `details` carries when its thrower knows them, typed per code so that a caller who
 * narrowed with `isSpdmError(e, 'TIMEOUT')` reads `e.details.deadline` as `'request' | 'flow'`
 * instead of `unknown`. Keys are optional unless every thrower of that code sets them (LIMIT_EXCEEDED
 * is only thrown through `LimitError`). A code missing here carries open details. Every code's
 * details stay an open record as well: wrappers add context (`certIndex` in x509/chain.ts, the DOE
 * register state in pci/doe-mailbox.ts) and the log's store errors add their own keys.
 * Byte values (nonces, hashes) are lower-case hex strings, so details survive JSON.stringify.
 */
export interface ErrorDetailsMap {
  /** `DecodeError` sets messageName/field/offset; JSON Lines readers set `line`; policy files `issues`. */
  DECODE_ERROR: {
    readonly messageName?: string;
    readonly field?: string;
    readonly offset?: number;
    readonly line?: number;
  };
  ENCODE_ERROR: { readonly field?: string; readonly value?: unknown };
  /** A bound from wire/limits.ts: `limit` names it, `value` is what the input asked for, `max` what is allowed. */
  LIMIT_EXCEEDED: { readonly limit: string; readonly value: number; readonly max: number; readonly where: string };
  /** `got` is the responder's nonce; `expected` the one it should have matched, when there is one. */
  NONCE_MISMATCH: { readonly request?: string; readonly expected?: string; readonly got?: string };
  /** `deadline` is set when a per-request or whole-flow deadline, not the device's own allowance, ran out. */
  TIMEOUT: {
    readonly request?: string;
    readonly timeoutMs?: number;
    readonly waitedMs?: number;
    readonly askedMs?: number;
    readonly limitMs?: number;
    readonly limitedBy?: string;
    readonly deadline?: 'request' | 'flow';
  };
  /** The device's SPDM ERROR response: its ErrorCode, the code's name and ErrorData. */
  DEVICE_ERROR: {
    readonly request?: string;
    readonly errorCode?: number;
    readonly errorName?: string;
    readonly errorData?: number;
  };
  BUSY: { readonly request?: string; readonly retries?: number };
  NOT_READY: { readonly request?: string; readonly retries?: number };
  /** Transports name what they could: a file and offset (sysfs), a BDF, a DOE `failure` and `phase`. */
  TRANSPORT_ERROR: {
    readonly path?: string;
    readonly offset?: number;
    readonly bdf?: string;
    readonly failure?: string;
    readonly phase?: string;
    readonly reason?: string;
  };
  CERT_INVALID: { readonly field?: string; readonly certIndex?: number };
  /** `reason`: size, header, jwks, signature, expired, profile, claims or nonce. */
  EAR_INVALID: { readonly reason: string };
  DIGEST_MISMATCH: { readonly slot?: number };
  SIGNATURE_MISSING: { readonly slot?: number };
  DEVICE_NOT_FOUND: { readonly bdf: string };
  DEVICE_OWNED: { readonly bdf: string; readonly owner: string };
  DEVICE_STATE: { readonly bdf: string; readonly state?: string };
  /** The session (u32 as 0x-hex) and the 64-bit sequence number (decimal string) the record was checked against. */
  SESSION_AUTH_FAILED: { readonly sessionId?: string; readonly sequence?: string };
  SESSION_SEQUENCE: { readonly sessionId?: string; readonly sequence?: string; readonly got?: number };
  SESSION_CLOSED: { readonly sessionId?: string; readonly sequence?: string };
  VERIFY_DATA_MISMATCH: { readonly sessionId?: string; readonly field?: string };
}

/** The details of an error with code `C`: its typed keys (ErrorDetailsMap) in an open record. */
export type ErrorDetails<C extends SpdmErrorCode = SpdmErrorCode> = (C extends keyof ErrorDetailsMap
  ? KnownDetails<C>
  : unknown) &
  Readonly<Record<string, unknown>>;

/**
 * ErrorDetailsMap[C], looked up key by key rather than indexed with C: `e instanceof SpdmError`
 * narrows to an SpdmError whose code parameter is untyped, and indexing with that would leave
 * its details untyped too.
 */
type KnownDetails<C> = {
  [K in keyof ErrorDetailsMap]: C extends K ? ErrorDetailsMap[K] : never;
}[keyof ErrorDetailsMap];

/** The constructor's tail: `details` may be left out only for codes whose keys are all optional. */
type DetailsArgs<C extends SpdmErrorCode> = C extends keyof ErrorDetailsMap
  ? Record<never, never> extends ErrorDetailsMap[C]
    ? [details?: ErrorDetails<C>, options?: ErrorOptions]
    : [details: ErrorDetails<C>, options?: ErrorOptions]
  : [details?: ErrorDetails<C>, options?: ErrorOptions];

/**
 * A library failure with a stable `code` and the code's `details` (see ErrorDetailsMap). Caller
 * misuse — a method called in the wrong state, an argument out of range — is a `TypeError`
 * instead, never an SpdmError: a caller's `catch` that maps codes to outcomes then cannot mistake
 * a bug for a device fault.
 */
export class SpdmError<C extends SpdmErrorCode = SpdmErrorCode> extends Error {
  readonly code: C;
  readonly details: ErrorDetails<C>;
  constructor(code: C, message: string, ...[details, options]: DetailsArgs<C>) {
    super(message, options);
    this.name = 'SpdmError';
    this.code = code;
    // DetailsArgs lets `details` be absent only where every key is optional, so {} fits.
    this.details = (details ?? {}) as ErrorDetails<C>;
  }
}

/**
 * `e` is an SpdmError (with `code`, when given): the narrowing that types `e.details`, which
 * `e.code === '…'` alone cannot do because `code` and `details` are separate properties.
 */
export function isSpdmError<C extends SpdmErrorCode>(e: unknown, code?: C): e is SpdmError<C> {
  return e instanceof SpdmError && (code === undefined || e.code === code);
}

/** Malformed bytes: names the message, the field and the offset where decoding stopped. */
export class DecodeError extends SpdmError<'DECODE_ERROR'> {
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
