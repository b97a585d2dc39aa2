/**
 * What chunking (1.2+) allows on a connection: both sides' DataTransferSize and MaxSPDMmsgSize
 * when both set CHUNK_CAP, and the largest CERTIFICATE portion worth asking for.
 */
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import type { Connection } from './connection.js';
import type { ChunkLimits } from './chunking.js';
import { dataTransferSize } from './negotiate.js';
import type { RequesterOptions } from './options.js';

/** Our DataTransferSize and MaxSPDMmsgSize as GET_CAPABILITIES announced them. */
export function ourMessageLimits(
  opts: RequesterOptions,
  maxMessageSize: number,
): { dataTransferSize: number; maxSpdmMsgSize: number } {
  const dts = dataTransferSize(opts, maxMessageSize);
  return { dataTransferSize: dts, maxSpdmMsgSize: Math.max(dts, opts.maxSpdmMsgSize ?? dts) };
}

/** What chunking needs of a connection; negotiation has it from CAPABILITIES on. */
export type ChunkingPeer = Pick<Connection, 'version' | 'capabilities'>;

function bothChunk(c: ChunkingPeer, opts: RequesterOptions): boolean {
  const ours = opts.capabilityFlags ?? 0;
  return c.version >= 0x12 && (ours & c.capabilities.flags & CapabilityFlag.CHUNK) !== 0;
}

/** The limits chunking runs on, or undefined when the connection does not chunk. */
export function chunkLimits(
  c: ChunkingPeer,
  opts: RequesterOptions,
  maxMessageSize: number,
  handles: { next: number },
): ChunkLimits | undefined {
  if (!bothChunk(c, opts)) return undefined;
  const ours = ourMessageLimits(opts, maxMessageSize);
  return {
    version: c.version,
    peerDataTransferSize: c.capabilities.dataTransferSize,
    peerMaxSpdmMsgSize: c.capabilities.maxSpdmMsgSize,
    ourDataTransferSize: ours.dataTransferSize,
    ourMaxSpdmMsgSize: ours.maxSpdmMsgSize,
    nextHandle: () => handles.next++ & 0xff,
  };
}

/**
 * The largest CERTIFICATE portion to ask for (`large`: the 1.4 LargeCertChain form, 16-byte
 * header and u32 lengths). Without chunking a response must fit one transfer of ours; with it,
 * our MaxSPDMmsgSize.
 */
export function portionLimit(c: Connection, opts: RequesterOptions, maxMessageSize: number, large: boolean): number {
  const ours = ourMessageLimits(opts, maxMessageSize);
  const header = large ? 16 : 8;
  if (c.version < 0x12) return Math.min(0xffff, maxMessageSize - header);
  const limit = bothChunk(c, opts) ? ours.maxSpdmMsgSize : Math.min(ours.dataTransferSize, maxMessageSize);
  return Math.min(large ? 0xffffffff : 0xffff, limit - header);
}

/** DELIVER_ENCAPSULATED_RESPONSE's own header, before the encapsulated response it carries. */
const DELIVER_HEADER = 4;

/**
 * The largest encapsulated response we can hand the device in one DELIVER_ENCAPSULATED_RESPONSE:
 * with chunking its MaxSPDMmsgSize (the request then goes in CHUNK_SEND pieces), else, from 1.2,
 * its DataTransferSize (libspdm's responder takes nothing larger into its receive buffer). 1.0 and
 * 1.1 announce no size: the transport's.
 */
export function encapsulatedResponseLimit(c: ChunkingPeer, opts: RequesterOptions, maxMessageSize: number): number {
  if (c.version < 0x12) return maxMessageSize - DELIVER_HEADER;
  const peer = bothChunk(c, opts) ? c.capabilities.maxSpdmMsgSize : c.capabilities.dataTransferSize;
  return Math.min(peer, maxMessageSize) - DELIVER_HEADER;
}
