/** spdmkit public API. */
export * from './wire/index.js';
export * from './crypto/index.js';
export * from './spdm/index.js';
export * from './x509/index.js';
export * from './transport/index.js';
export * from './evidence/evidence.js';
export * from './requester/options.js';
export { Requester, type Connection, type AuthenticateOptions, type MeasurementRequestOptions } from './requester/requester.js';
export { Responder, type ResponderOptions } from './responder/responder.js';
export * from './responder/profile.js';
export * from './responder/profiles.js';
export * from './evidence/reverify.js';
