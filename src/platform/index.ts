/** Platforms a CMA layer watches: the simulated one (platform files, injected events) and real Linux (sysfs). */
export * from './platform.js';
export * from './platform-schema.js';
export * from './platform-file.js';
export * from './simulated.js';
export * from './default.js';
export * from './sysfs.js';
export * from './scaled.js';
