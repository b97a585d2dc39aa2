export * from './algorithms.js';
export * from './hash.js';
export * from './signature.js';
export * from './random.js';
export * from './kdf.js';
export * from './aead.js';
export * from './dhe.js';
