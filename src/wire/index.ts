export * from './errors.js';
export * from './reader.js';
export * from './writer.js';
export * from './bytes.js';
export * from './limits.js';
