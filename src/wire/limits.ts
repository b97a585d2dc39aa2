/**
 * Every bound spdmkit puts on what a device, a socket or a file may make it do: sizes, counts,
 * waits, retries, nesting. One module owns them so that a reviewer can read them in one place and
 * `docs/limits.md` can list them; code that enforces a bound imports it from here instead of
 * spelling a number of its own. Values a user could need to change are also options of the API
 * that enforces them (named beside each entry); the rest are protocol maxima or safety nets.
 */
import { SpdmError } from './errors.js';

export const LIMITS = {
  // ── Requester timing (RequesterOptions) ────────────────────────────────────────────────────
  /** Longest wait for one response whatever the device's CTExponent claims (option maxResponseWaitMs). */
  maxResponseWaitMs: 10_000,
  /** Longest one ResponseNotReady wait, whatever RDTExponent asks for; longer asks are clamped (option maxNotReadyWaitMs). */
  maxNotReadyWaitMs: 2_000,
  /** ResponseNotReady rounds honoured for one request (option notReadyRetries). */
  notReadyRetries: 8,
  /** Busy answers retried for one request (option busyRetries). */
  busyRetries: 3,
  /** Everything one request may take: retries, ResponseNotReady waits and the responses (option requestDeadlineMs). */
  requestDeadlineMs: 30_000,
  /** Everything one authenticate() may take, from GET_VERSION to the last MEASUREMENTS (option flowDeadlineMs). */
  flowDeadlineMs: 120_000,
  /** Node's timers overflow past 2^31-1 ms and then fire at once; no wait is ever set beyond this. */
  maxTimerMs: 0x7fff_ffff,

  // ── Transports ─────────────────────────────────────────────────────────────────────────────
  /** Largest spdm-emu frame payload accepted (1 MiB and the transport header). */
  emuFramePayloadBytes: (1 << 20) + 64,
  /** Frames a server keeps while it answers an earlier one; a client keeps none it did not ask for. */
  emuServerQueuedFrames: 4,
  /** PCIe's DOE timeout: how long a device may take to set Data Object Ready, and an abort to clear (DoeMailboxOptions timeoutMs, abortTimeoutMs). */
  doeTimeoutMs: 1000,
  /** DOE object length field maximum (2^18 dwords = 1 MiB). */
  doeObjectDwords: 1 << 18,

  // ── Files and captures ─────────────────────────────────────────────────────────────────────
  /** Largest evidence file `spdm verify` reads. */
  evidenceFileBytes: 256 * 1024 * 1024,
  /** Largest capture `spdm dump` reads whole: one from a pipe (a regular file is streamed, without this bound). */
  captureFileBytes: 256 * 1024 * 1024,
  /**
   * Bytes of one transcript (A, B, a message_m) or one certificate chain that `spdm dump` keeps to
   * re-verify signatures; past it the transcript is dropped and its signature reported unchecked.
   */
  captureTranscriptBytes: 32 * 1024 * 1024,
  /**
   * Sessions `spdm dump` lists in its report and keeps state for at once (keys, TH, message_m);
   * beyond it the oldest is given up (ended, then only counted in the report).
   */
  captureSessionReports: 10_000,
  /** Largest pcap record. */
  pcapRecordBytes: (1 << 20) + 64,
  /**
   * Largest message reassembled from CHUNK_SEND / CHUNK_RESPONSE chunks (a declared
   * LargeMessageSize above it is refused at chunk 0). 16 MiB: a MEASUREMENTS record length is 3
   * bytes; certificate chains, CSRs and measurement logs are far smaller.
   */
  largeMessageBytes: 16 * 1024 * 1024,
  /** Longest line of a JSON Lines log export (`spdm log import`; option maxLineBytes, --max-line-bytes). */
  logImportLineBytes: 16 * 1024 * 1024,
  /** JSON values in one log export line (an entry line has ~30 fields and its measurement blocks); stops a line of `[{},{},…]` from costing 20 times its size once parsed. */
  logImportLineItems: 4096,
  /** Decoded entries and chains an import holds before writing them to the store (it writes sooner past this). */
  logImportPendingBytes: 32 * 1024 * 1024,
  /** Largest checkpoint file `spdm log verify --checkpoint` reads (it holds one signed tree head). */
  checkpointFileBytes: 64 * 1024,
  /** Longest EAT Attestation Result (a JWT) verifyEar() and `spdm ear verify` read; a verifier's are about 1 KiB. */
  earTokenBytes: 64 * 1024,
  /** Longest wait for a PostgreSQL signature log's server to accept a connection (or a reconnection after it dropped one). */
  logConnectTimeoutMs: 10_000,
  /**
   * Longest a signature-log writer waits for another's write lock (SQLite busy timeout), and the
   * longest any one PostgreSQL query may go unanswered, the lock wait included, before the
   * connection is given up as dead (openLog option busyTimeoutMs).
   */
  logBusyTimeoutMs: 60_000,
  /**
   * How long the CMA daemon waits for its durable-write thread (cma/durable-thread.ts) to answer a
   * commit or an append: past the busy timeout its SQLite waits for a lock, so that a lock held too
   * long fails as SQLite's own error first and this only catches a thread that is stuck.
   */
  durableReplyMs: 120_000,
  /** Largest key or certificate-chain file: a profile's chain and key, a log's signing key or pinned public key. */
  keyFileBytes: 1024 * 1024,
  /** Largest policy, reference-value or device-profile file. */
  policyFileBytes: 16 * 1024 * 1024,
  /** Largest trust-anchor file (`spdm verify --trust`, PEM or DER), and certificate file of a deny-list. */
  trustFileBytes: 16 * 1024 * 1024,
  /** Largest deny-list file of fingerprints or issuer/serial entries (`spdm verify --deny`): about 900k entries. */
  denyListFileBytes: 64 * 1024 * 1024,
  /** Deepest nesting of arrays/objects in a JSON or YAML policy, evidence or log line. */
  jsonNestingDepth: 64,

  // ── Certificates and measurements ──────────────────────────────────────────────────────────
  /** Largest SPDM certificate chain the requester reads (the 1.0–1.3 2-byte Length maximum). */
  certChainBytes: 0xffff,
  /**
   * Largest chain read with the 1.4 LargeCertChain form (u32 Offset/Length, both sides LARGE_RESP_CAP):
   * the format allows 4 GiB; a real chain of a few certificates with large keys or extensions stays
   * well under 1 MiB (libspdm's own maximum, LIBSPDM_MAX_CERT_CHAIN_SIZE, is 0x28000 at most).
   */
  largeCertChainBytes: 1024 * 1024,
  /** Largest measurement extension log the requester reads (GET_MEASUREMENT_EXTENSION_LOG; option maxMelBytes). */
  melBytes: 1024 * 1024,
  /** Certificates in one chain a verifier walks. */
  chainCertificates: 16,
  /** Messages in one recorded transcript the verifier re-hashes. */
  transcriptMessages: 4096,
} as const;

export type LimitName = keyof typeof LIMITS;

/**
 * A bound was hit. `limit` names the LIMITS entry (or the option that overrides it), `value` what
 * the input asked for, `max` what is allowed, `where` the message, field, line or file.
 */
export class LimitError extends SpdmError<'LIMIT_EXCEEDED'> {
  constructor(
    readonly limit: string,
    readonly value: number,
    readonly max: number,
    readonly where: string,
    message?: string,
  ) {
    super('LIMIT_EXCEEDED', message ?? `${where}: ${value} exceeds the ${limit} limit of ${max}`, {
      limit,
      value,
      max,
      where,
    });
    this.name = 'LimitError';
  }
}

/** A wait Node's timers can hold: finite, non-negative, below the 2^31-1 ms overflow. */
export function timerMs(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), LIMITS.maxTimerMs);
}
