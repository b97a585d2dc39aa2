export * from './transport.js';
export * from './clock.js';
export * from './loopback.js';
