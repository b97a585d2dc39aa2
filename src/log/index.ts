/** The signature log: public API. */
export * from './entry.js';
export * from './merkle.js';
export * from './sth.js';
export { LOG_FORMAT, ENTRY_COLUMNS, type LogStore } from './store/store.js';
export {
  describePublicKey,
  loadPublicKeyFile,
  publicKeyFromPem,
  publicKeyFromSpki,
  publicKeyPem,
  type LogPublicKey,
} from './log-key.js';
export * from './log.js';
export * from './verify.js';
export { entryFromJson, entryToJson, type ImportOptions, type ImportResult } from './jsonl.js';
