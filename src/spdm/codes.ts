/** SPDM request/response codes (DSP0274 table "SPDM request and response codes"). */
export const RequestCode = {
  GET_DIGESTS: 0x81,
  GET_CERTIFICATE: 0x82,
  CHALLENGE: 0x83,
  GET_VERSION: 0x84,
  CHUNK_SEND: 0x85,
  CHUNK_GET: 0x86,
  GET_ENDPOINT_INFO: 0x87,
  SLOT_MANAGEMENT: 0x88,
  GET_MEASUREMENTS: 0xe0,
  GET_CAPABILITIES: 0xe1,
  GET_SUPPORTED_EVENT_TYPES: 0xe2,
  NEGOTIATE_ALGORITHMS: 0xe3,
  KEY_EXCHANGE: 0xe4,
  FINISH: 0xe5,
  PSK_EXCHANGE: 0xe6,
  PSK_FINISH: 0xe7,
  HEARTBEAT: 0xe8,
  KEY_UPDATE: 0xe9,
  GET_ENCAPSULATED_REQUEST: 0xea,
  DELIVER_ENCAPSULATED_RESPONSE: 0xeb,
  END_SESSION: 0xec,
  GET_CSR: 0xed,
  SET_CERTIFICATE: 0xee,
  GET_MEASUREMENT_EXTENSION_LOG: 0xef,
  SUBSCRIBE_EVENT_TYPES: 0xf0,
  SEND_EVENT: 0xf1,
  GET_KEY_PAIR_INFO: 0xfc,
  SET_KEY_PAIR_INFO: 0xfd,
  VENDOR_DEFINED_REQUEST: 0xfe,
  RESPOND_IF_READY: 0xff,
} as const;

export const ResponseCode = {
  DIGESTS: 0x01,
  CERTIFICATE: 0x02,
  CHALLENGE_AUTH: 0x03,
  VERSION: 0x04,
  CHUNK_SEND_ACK: 0x05,
  CHUNK_RESPONSE: 0x06,
  ENDPOINT_INFO: 0x07,
  SLOT_MANAGEMENT_RESP: 0x08,
  MEASUREMENTS: 0x60,
  CAPABILITIES: 0x61,
  SUPPORTED_EVENT_TYPES: 0x62,
  ALGORITHMS: 0x63,
  KEY_EXCHANGE_RSP: 0x64,
  FINISH_RSP: 0x65,
  PSK_EXCHANGE_RSP: 0x66,
  PSK_FINISH_RSP: 0x67,
  HEARTBEAT_ACK: 0x68,
  KEY_UPDATE_ACK: 0x69,
  ENCAPSULATED_REQUEST: 0x6a,
  ENCAPSULATED_RESPONSE_ACK: 0x6b,
  END_SESSION_ACK: 0x6c,
  CSR: 0x6d,
  SET_CERTIFICATE_RSP: 0x6e,
  MEASUREMENT_EXTENSION_LOG: 0x6f,
  SUBSCRIBE_EVENT_TYPES_ACK: 0x70,
  EVENT_ACK: 0x71,
  KEY_PAIR_INFO: 0x7c,
  SET_KEY_PAIR_INFO_ACK: 0x7d,
  VENDOR_DEFINED_RESPONSE: 0x7e,
  ERROR: 0x7f,
} as const;

const NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(RequestCode)) NAMES.set(v, k);
for (const [k, v] of Object.entries(ResponseCode)) NAMES.set(v, k);

export function codeName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_0x${code.toString(16).padStart(2, '0')}`;
}

export function isRequestCode(code: number): boolean {
  return (code & 0x80) !== 0;
}

/** SPDM versions this library speaks, as the header byte (major << 4 | minor). */
export const SpdmVersion = { V10: 0x10, V11: 0x11, V12: 0x12, V13: 0x13, V14: 0x14 } as const;
/**
 * Versions the requester and the emulator can speak. 1.4 covers the authentication flow (VCA,
 * digests, 4-byte chain length and large chains, challenge, measurements); its session changes
 * come with the sessions work, so it is only used when asked for.
 */
export const SUPPORTED_VERSIONS: readonly number[] = [0x10, 0x11, 0x12, 0x13, 0x14];
/** Versions negotiated unless the caller asks otherwise. */
export const DEFAULT_VERSIONS: readonly number[] = [0x10, 0x11, 0x12, 0x13];
/** Versions whose message layouts we can decode (1.4 is decoded, not yet negotiated). */
export const DECODABLE_VERSIONS: readonly number[] = [0x10, 0x11, 0x12, 0x13, 0x14];

export function versionString(v: number): string {
  return `${v >> 4}.${v & 0xf}`;
}
