/**
 * `spdmkit/emulator`: the SPDM device emulator. A Responder built from a device profile answers
 * requests in process (LoopbackTransport) or over the spdm-emu socket protocol (EmuSocketServer).
 */
export { Responder, type ResponderOptions } from './responder/responder.js';
export * from './responder/profile.js';
export * from './responder/profiles.js';
export * from './transport/emu-socket.js';
