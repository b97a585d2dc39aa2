/** Hostile devices: the fault wrapper, its transcript mirror, socket and DOE faults, and the case table. */
export { FaultyResponder, type Fault, type FaultContext, type FaultReply } from './wrapper.js';
export { TranscriptMirror, type MirrorNegotiation, type SignOptions, type SignedKind } from './mirror.js';
export {
  HostileEmuServer,
  FLOOD_FRAMES,
  DRIP_INTERVAL_MS,
  type SocketFault,
  type HostileServerOptions,
} from './socket.js';
export { openFaultyDoe, DOE_FAULT_TIMING, DOE_FAULT_MAX_RESPONSE_DW, type DoeFault, type DoeRig } from './doe.js';
export { misbehaviorFault, misbehaving, type Misbehavior } from './misbehavior.js';
export { HOSTILE_CASES, findHostileCase, faultyDevice } from './cases.js';
export { hostileIdentity, HOSTILE_PCI, HOSTILE_ASYM, HOSTILE_HASH, type HostileIdentity } from './identities.js';
export {
  expectationText,
  isErrorExpectation,
  type Expectation,
  type ErrorExpectation,
  type VerdictExpectation,
  type HostileCase,
  type HandlerCase,
  type SocketCase,
  type DoeCase,
  type HostileCategory,
  type HostileDevice,
  type HostileRequesterOptions,
  type HostileAuthenticateOptions,
} from './case-types.js';
