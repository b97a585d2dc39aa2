/**
 * `spdmkit/codecs`: the byte level. Wire readers and writers, every SPDM message codec with the
 * transcript and conversation helpers, and the framings SPDM travels in (MCTP, PCI DOE, the DSP0287
 * TCP binding, the spdm-emu socket frame).
 */
export * from './wire/index.js';
export * from './spdm/index.js';
export * from './transport/mctp.js';
export * from './transport/tcp-binding.js';
export * from './transport/doe.js';
export * from './transport/emu-frame.js';
