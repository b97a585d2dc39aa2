/**
 * `spdm authenticate`'s flags for how messages travel: chunking (CHUNK_CAP with our
 * DataTransferSize and MaxSPDMmsgSize), LARGE_RESP_CAP, and the DSP0277 secured-message settings
 * of a session (versions offered, the 1.0/1.1 sequence-number byte order, the per-key limit).
 * Read here from the command line's strings into what RequesterOptions takes, each refused with
 * the flag named.
 */
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import type { SessionAlgorithmOptions } from '../requester/options.js';
import { SECURED_VERSION_TEXTS, securedVersionFromText } from '../spdm/version-text.js';

/** The flags as commander hands them over. */
export interface WireFlags {
  /** Announce CHUNK_CAP: messages over either side's DataTransferSize go in CHUNK_SEND / CHUNK_GET pieces. */
  readonly chunk?: boolean;
  /** Announce LARGE_RESP_CAP (1.4 LargeCertChain and large responses). */
  readonly largeResp?: boolean;
  /** Our DataTransferSize (42 .. 2^32 − 1); default the transport's limit up to 0x1200. */
  readonly dataTransferSize?: string;
  /** Our MaxSPDMmsgSize, the largest message reassembled from chunks (at least the DataTransferSize; default 64 KiB with --chunk). */
  readonly maxSpdmMsgSize?: string;
  /** DSP0277 versions offered, e.g. "1.1,1.2". */
  readonly securedVersion?: string;
  /** 'le' | 'be': the AEAD nonce's sequence-number byte order for a 1.0/1.1 session. */
  readonly sequenceOrder?: string;
  /** The last sequence number a key may use before the session updates its keys or ends. */
  readonly sequenceLimit?: string;
}

/** What the flags ask of the requester: capability bits to add, sizes, and session record settings. */
export interface WireSettings {
  readonly capabilityFlags: number;
  readonly dataTransferSize?: number;
  readonly maxSpdmMsgSize?: number;
  readonly session: Pick<SessionAlgorithmOptions, 'securedVersions' | 'sequenceNumberOrder' | 'sequenceLimit'>;
  /** A session flag was given: meaningful only with --session. */
  readonly needsSession: boolean;
}

/** DSP0274's floor for DataTransferSize (MinDataTransferSize). */
const MIN_DATA_TRANSFER_SIZE = 42;
/**
 * MaxSPDMmsgSize with --chunk and no --max-spdm-msg-size: 64 KiB, so that a whole DIGESTS, a
 * CERTIFICATE portion or a MEASUREMENTS of any usual size arrives by CHUNK_GET. Left at the
 * DataTransferSize, chunking would gain nothing: a device answers ResponseTooLarge to whatever
 * outgrows it (libspdm's responder does, to GET_DIGESTS at a 64-byte DataTransferSize).
 */
const DEFAULT_CHUNKED_MAX_SPDM_MSG_SIZE = 0x10000;

function size(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`${flag}: "${text}" is not a whole number of bytes`);
  const n = Number(text);
  if (n < min || n > 0xffff_ffff) throw new Error(`${flag}: ${n} is outside ${min} .. ${0xffff_ffff}`);
  return n;
}

/** The settings of `f`; an Error naming the flag for anything out of range or unknown. */
export function wireSettings(f: WireFlags): WireSettings {
  const dts =
    f.dataTransferSize !== undefined
      ? size(f.dataTransferSize, '--data-transfer-size', MIN_DATA_TRANSFER_SIZE)
      : undefined;
  const max =
    f.maxSpdmMsgSize !== undefined ? size(f.maxSpdmMsgSize, '--max-spdm-msg-size', MIN_DATA_TRANSFER_SIZE) : undefined;
  if (max !== undefined && !f.chunk)
    throw new Error('--max-spdm-msg-size needs --chunk: without chunking no message is larger than one transfer');
  if (max !== undefined && dts !== undefined && max < dts)
    throw new Error(`--max-spdm-msg-size ${max} is below --data-transfer-size ${dts}`);
  const securedVersions = f.securedVersion?.split(',').map((v) => {
    const n = securedVersionFromText(v);
    if (n === undefined) throw new Error(`--secured-version: "${v}" is not one of ${SECURED_VERSION_TEXTS.join(', ')}`);
    return n;
  });
  if (f.sequenceOrder !== undefined && f.sequenceOrder !== 'le' && f.sequenceOrder !== 'be')
    throw new Error(`--sequence-order: "${f.sequenceOrder}" is not le or be`);
  let sequenceLimit: bigint | undefined;
  if (f.sequenceLimit !== undefined) {
    if (!/^\d+$/.test(f.sequenceLimit.trim()))
      throw new Error(`--sequence-limit: "${f.sequenceLimit}" is not a whole number`);
    sequenceLimit = BigInt(f.sequenceLimit.trim());
    // A key must carry at least the request and its answer; a u64 counter cannot go past 2^64 − 1.
    if (sequenceLimit < 2n || sequenceLimit > 0xffff_ffff_ffff_ffffn)
      throw new Error(`--sequence-limit: ${sequenceLimit} is outside 2 .. 2^64 − 1`);
  }
  return {
    capabilityFlags: (f.chunk ? CapabilityFlag.CHUNK : 0) | (f.largeResp ? CapabilityFlag.LARGE_RESP : 0),
    ...(dts !== undefined ? { dataTransferSize: dts } : {}),
    ...(max !== undefined
      ? { maxSpdmMsgSize: max }
      : f.chunk
        ? { maxSpdmMsgSize: Math.max(dts ?? 0, DEFAULT_CHUNKED_MAX_SPDM_MSG_SIZE) }
        : {}),
    session: {
      ...(securedVersions ? { securedVersions } : {}),
      ...(f.sequenceOrder !== undefined ? { sequenceNumberOrder: f.sequenceOrder } : {}),
      ...(sequenceLimit !== undefined ? { sequenceLimit } : {}),
    },
    needsSession: securedVersions !== undefined || f.sequenceOrder !== undefined || sequenceLimit !== undefined,
  };
}
