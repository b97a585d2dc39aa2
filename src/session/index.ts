export * from './key-schedule.js';
export * from './record.js';
export * from './secured-version.js';
export * from './secure-session.js';
export * from './session-id.js';
