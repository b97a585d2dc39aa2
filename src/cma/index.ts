/** The CMA layer: the device lifecycle service the daemon and the CLI use. */
export * from './api.js';
export { createCma, CMA_LOG_FILE } from './manager.js';
export type { CmaOptions, RetryOptions } from './options.js';
export { CMA_STORE_FILE } from './store/open.js';
