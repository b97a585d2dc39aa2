/** `spdmkit/capture`: pcap files, decoded SPDM capture dumps, and the signatures found in them. */
export {
  CaptureDecoder,
  dumpCapture,
  formatDump,
  formatDumpHeader,
  formatPacketLines,
  formatDumpFooter,
  parsePskArgument,
  type Dump,
  type DumpedPacket,
  type DumpOptions,
  type SecuredRecordInfo,
  type Direction,
} from './dump.js';
export { dumpFile, type DumpFileOptions } from './dump-file.js';
export * from './pcap.js';
export * from './signatures.js';
export * from './session-tracker.js';
