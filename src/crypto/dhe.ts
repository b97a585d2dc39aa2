/**
 * The DHE groups of SPDM (ALGORITHMS AlgStruct 2, "DHENamedGroup"; shared/spec/messages.md §5.5)
 * through node:crypto: an ephemeral key pair, the ExchangeData SPDM carries, a strict decode of the
 * peer's ExchangeData, and the shared secret the key schedule takes as its IKM.
 *
 * - ECDHE (secp256r1/384r1/521r1): ExchangeData = X ‖ Y, each big-endian and zero-padded to the
 *   field size (32/48/66), without SEC1's 0x04 prefix. The shared secret is the X coordinate of
 *   the shared point, field-size bytes (SEC1 §3.3.1).
 * - FFDHE (RFC 7919 ffdhe2048/3072/4096, generator 2): ExchangeData = the public value
 *   big-endian, zero-padded to the size of p; the shared secret is padded the same way.
 *
 * A peer's ExchangeData is untrusted: it must have the group's exact length, a point must lie on
 * the curve with coordinates below p (so the point at infinity, which X ‖ Y cannot express, is
 * out too), and an FFDHE value must satisfy 1 < y < p − 1 (RFC 7919 §5.1: this excludes the
 * small subgroups of a safe prime). Anything else is a DecodeError naming the field. SM2_P256 is
 * an SPDM group node:crypto cannot run: asking for it is UNSUPPORTED_ALGORITHM, like an unknown
 * group. Node 20 has no ffdhe named groups, so the RFC 7919 primes are spelled out here.
 */
import { createDiffieHellman, createECDH, type DiffieHellman, type ECDH } from 'node:crypto';
import { DecodeError, SpdmError } from '../wire/errors.js';
import { systemRandom, type RandomSource } from './random.js';

export const DheGroup = {
  FFDHE2048: 0x01,
  FFDHE3072: 0x02,
  FFDHE4096: 0x04,
  SECP256R1: 0x08,
  SECP384R1: 0x10,
  SECP521R1: 0x20,
  SM2_P256: 0x40,
} as const;
export type DheGroup = (typeof DheGroup)[keyof typeof DheGroup];

export interface DheGroupInfo {
  readonly id: number;
  readonly name: string;
  readonly kind: 'ecdhe' | 'ffdhe' | 'sm2';
  /** ExchangeData size D, both directions. */
  readonly exchangeSize: number;
  /** Size of the shared secret (the X coordinate, or |p|). */
  readonly secretSize: number;
  /** OpenSSL curve name (ECDHE). */
  readonly curve?: string;
  /** False when node:crypto cannot run it (SM2). */
  readonly supported: boolean;
}

const GROUPS: readonly DheGroupInfo[] = [
  { id: DheGroup.FFDHE2048, name: 'ffdhe2048', kind: 'ffdhe', exchangeSize: 256, secretSize: 256, supported: true },
  { id: DheGroup.FFDHE3072, name: 'ffdhe3072', kind: 'ffdhe', exchangeSize: 384, secretSize: 384, supported: true },
  { id: DheGroup.FFDHE4096, name: 'ffdhe4096', kind: 'ffdhe', exchangeSize: 512, secretSize: 512, supported: true },
  {
    id: DheGroup.SECP256R1,
    name: 'secp256r1',
    kind: 'ecdhe',
    exchangeSize: 64,
    secretSize: 32,
    curve: 'prime256v1',
    supported: true,
  },
  {
    id: DheGroup.SECP384R1,
    name: 'secp384r1',
    kind: 'ecdhe',
    exchangeSize: 96,
    secretSize: 48,
    curve: 'secp384r1',
    supported: true,
  },
  {
    id: DheGroup.SECP521R1,
    name: 'secp521r1',
    kind: 'ecdhe',
    exchangeSize: 132,
    secretSize: 66,
    curve: 'secp521r1',
    supported: true,
  },
  { id: DheGroup.SM2_P256, name: 'SM2_P256', kind: 'sm2', exchangeSize: 64, secretSize: 32, supported: false },
];

/** RFC 7919 Appendix A primes (generator 2). */
const FFDHE_PRIMES: ReadonlyMap<number, bigint> = new Map([
  [
    DheGroup.FFDHE2048,
    BigInt(
      '0x' +
        'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
        'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
        'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
        '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
        'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
        'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
        '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
        'C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF',
    ),
  ],
  [
    DheGroup.FFDHE3072,
    BigInt(
      '0x' +
        'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
        'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
        'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
        '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
        'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
        'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
        '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
        'C58EF1837D1683B2C6F34A26C1B2EFFA886B4238611FCFDCDE355B3B6519035B' +
        'BC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C' +
        'AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF' +
        '5CAE82AB9C9DF69EE86D2BC522363A0DABC521979B0DEADA1DBF9A42D5C4484E' +
        '0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF',
    ),
  ],
  [
    DheGroup.FFDHE4096,
    BigInt(
      '0x' +
        'FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695' +
        'A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A' +
        'D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935' +
        '984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A' +
        'BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4' +
        'AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61' +
        '9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005' +
        'C58EF1837D1683B2C6F34A26C1B2EFFA886B4238611FCFDCDE355B3B6519035B' +
        'BC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C' +
        'AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF' +
        '5CAE82AB9C9DF69EE86D2BC522363A0DABC521979B0DEADA1DBF9A42D5C4484E' +
        '0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB' +
        '7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A' +
        '7135C886EFB4318AED6A1E012D9E6832A907600A918130C46DC778F971AD0038' +
        '092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF' +
        '8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E655F6AFFFFFFFFFFFFFFFF',
    ),
  ],
]);

/**
 * Field prime p, group order n and coefficient b of the NIST curves y² = x³ − 3x + b (FIPS 186-4
 * D.1.2 / SEC 2).
 */
const CURVES: ReadonlyMap<number, { readonly p: bigint; readonly n: bigint; readonly b: bigint }> = new Map([
  [
    DheGroup.SECP256R1,
    {
      p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
      n: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
      b: BigInt('0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b'),
    },
  ],
  [
    DheGroup.SECP384R1,
    {
      p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
      n: BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
      b: BigInt('0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef'),
    },
  ],
  [
    DheGroup.SECP521R1,
    {
      p: 2n ** 521n - 1n,
      n: BigInt(
        '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
      ),
      b: BigInt(
        '0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00',
      ),
    },
  ],
]);

export function dheInfo(id: number): DheGroupInfo | undefined {
  return GROUPS.find((g) => g.id === id);
}

export function allDheGroups(): readonly DheGroupInfo[] {
  return GROUPS;
}

export function isDheSupported(id: number): boolean {
  return dheInfo(id)?.supported === true;
}

/** The group, or SpdmError UNSUPPORTED_ALGORITHM for SM2 and unknown bits (a question of configuration). */
export function requireDhe(id: number): DheGroupInfo {
  const g = dheInfo(id);
  if (!g?.supported) {
    const what = g
      ? `DHE group ${g.name} (0x${id.toString(16)}) is not available in node:crypto`
      : `DHE group 0x${id.toString(16)} is unknown`;
    throw new SpdmError('UNSUPPORTED_ALGORITHM', what, { dhe: id });
  }
  return g;
}

/** The RFC 7919 prime of an FFDHE group (for tests and checks). */
export function ffdhePrime(id: number): bigint | undefined {
  return FFDHE_PRIMES.get(id);
}

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

function fromBig(v: bigint, size: number): Uint8Array {
  const hex = v.toString(16);
  if (hex.length > size * 2) throw new RangeError('value wider than its field');
  return new Uint8Array(Buffer.from(hex.padStart(size * 2, '0'), 'hex'));
}

/** Left-pads big-endian bytes to `size` (OpenSSL drops leading zero bytes). */
function pad(b: Uint8Array, size: number): Uint8Array {
  if (b.length === size) return new Uint8Array(b);
  const out = new Uint8Array(size);
  out.set(b.subarray(Math.max(0, b.length - size)), Math.max(0, size - b.length));
  return out;
}

/** A private scalar in [lo, hi] from the RandomSource: 8 extra bytes make the modular bias negligible. */
function scalar(random: RandomSource, size: number, lo: bigint, hi: bigint): bigint {
  return (toBig(random(size + 8)) % (hi - lo + 1n)) + lo;
}

const brand = Symbol('DhePeerKey');

/** A peer's ExchangeData that passed every check of its group: the only input `sharedSecret` takes. */
export interface DhePeerKey {
  readonly group: number;
  readonly exchangeData: Uint8Array;
  readonly [brand]: true;
}

export interface DecodeExchangeDataOptions {
  /** The message the ExchangeData came in, for the DecodeError (default 'ExchangeData'). */
  readonly messageName?: string;
  /** Offset of ExchangeData in that message (KEY_EXCHANGE / KEY_EXCHANGE_RSP: 40). */
  readonly offset?: number;
}

/**
 * Checks a peer's ExchangeData for `group`. Throws DecodeError (field ExchangeData, or
 * ExchangeData.X / .Y) for a wrong length, a coordinate not below p, a point off the curve, or an
 * FFDHE value outside 1 < y < p − 1; SpdmError UNSUPPORTED_ALGORITHM for a group we cannot run.
 */
export function decodeDheExchangeData(
  group: number,
  bytes: Uint8Array,
  options: DecodeExchangeDataOptions = {},
): DhePeerKey {
  const g = requireDhe(group);
  const name = options.messageName ?? 'ExchangeData';
  const at = options.offset ?? 0;
  const fail = (field: string, off: number, reason: string): never => {
    throw new DecodeError(name, field, at + off, reason);
  };
  if (bytes.length !== g.exchangeSize)
    fail('ExchangeData', 0, `${g.name} ExchangeData is ${g.exchangeSize} bytes, got ${bytes.length}`);
  if (g.kind === 'ffdhe') {
    const p = FFDHE_PRIMES.get(group) as bigint;
    const y = toBig(bytes);
    if (y <= 1n || y >= p - 1n) fail('ExchangeData', 0, `${g.name} public value must satisfy 1 < y < p-1`);
  } else {
    const { p, b } = CURVES.get(group) as { p: bigint; b: bigint };
    const size = g.secretSize;
    const x = toBig(bytes.subarray(0, size));
    const y = toBig(bytes.subarray(size));
    if (x >= p) fail('ExchangeData.X', 0, `X is not below the field prime of ${g.name}`);
    if (y >= p) fail('ExchangeData.Y', size, `Y is not below the field prime of ${g.name}`);
    // The curve equation itself, with x and y reduced (below p): a few multiplications of
    // field-size integers, where asking OpenSSL (ECDH.convertKey) builds the curve's group first,
    // tens of µs per call. computeSecret decodes the point again and would refuse it too.
    const rhs = (((((x * x) % p) * x) % p) - 3n * x + b) % p;
    if ((y * y) % p !== (rhs < 0n ? rhs + p : rhs)) fail('ExchangeData', 0, `(X, Y) is not a point on ${g.name}`);
  }
  return { group, exchangeData: new Uint8Array(bytes), [brand]: true };
}

function uncompressed(xy: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + xy.length);
  out[0] = 0x04;
  out.set(xy, 1);
  return out;
}

/** One side's ephemeral DHE key pair: its ExchangeData goes on the wire, its secret stays here. */
export class DheKeyPair {
  readonly group: number;
  /** Our ExchangeData: X ‖ Y, or the FFDHE public value padded to |p|. */
  readonly exchangeData: Uint8Array;
  private readonly ecdh: ECDH | undefined;
  private readonly dh: DiffieHellman | undefined;

  private constructor(group: number, exchangeData: Uint8Array, ecdh?: ECDH, dh?: DiffieHellman) {
    this.group = group;
    this.exchangeData = exchangeData;
    this.ecdh = ecdh;
    this.dh = dh;
  }

  /**
   * A fresh key pair for `group`, its private scalar drawn from `random` (default: the OS CSPRNG;
   * for ECDHE with systemRandom, OpenSSL draws it, see below),
   * or given as `privateKey` (big-endian; for known-answer tests).
   * Throws SpdmError UNSUPPORTED_ALGORITHM for SM2 or an unknown group.
   */
  static generate(group: number, options: { random?: RandomSource; privateKey?: Uint8Array } = {}): DheKeyPair {
    const g = requireDhe(group);
    const random = options.random ?? systemRandom;
    if (g.kind === 'ffdhe') {
      const p = FFDHE_PRIMES.get(group) as bigint;
      const x = options.privateKey ? toBig(options.privateKey) : scalar(random, g.secretSize, 2n, p - 2n);
      if (x < 2n || x > p - 2n) throw new TypeError(`${g.name} private key out of range`);
      const dh = createDiffieHellman(fromBig(p, g.exchangeSize), Uint8Array.of(2));
      dh.setPrivateKey(fromBig(x, g.exchangeSize));
      // With the private key set, generateKeys() only computes the public value from it.
      const pub = dh.generateKeys();
      return new DheKeyPair(group, pad(pub, g.exchangeSize), undefined, dh);
    }
    if (!options.privateKey && random === systemRandom) {
      // The OS CSPRNG either way: OpenSSL draws the scalar in [1, n − 1] from its own DRBG (seeded
      // from the OS) and computes the public point in the same call, where a scalar of ours costs
      // the BigInt reduction, setPrivateKey's checks and a second call for the point (about 50 µs
      // of a P-256 key pair's 95). An injected RandomSource (tests, replay) still picks the scalar.
      const ecdh = createECDH(g.curve as string);
      const pub = ecdh.generateKeys();
      return new DheKeyPair(group, new Uint8Array(pub.subarray(1)), ecdh);
    }
    const { n } = CURVES.get(group) as { n: bigint };
    const d = options.privateKey ? toBig(options.privateKey) : scalar(random, g.secretSize, 1n, n - 1n);
    if (d < 1n || d > n - 1n) throw new TypeError(`${g.name} private key out of range`);
    const ecdh = createECDH(g.curve as string);
    ecdh.setPrivateKey(fromBig(d, g.secretSize));
    const pub = ecdh.getPublicKey(null, 'uncompressed');
    return new DheKeyPair(group, new Uint8Array(pub.subarray(1)), ecdh);
  }

  /** The shared secret with a decoded peer key of the same group: the X coordinate, or g^xy padded to |p|. */
  sharedSecret(peer: DhePeerKey): Uint8Array {
    // Mixing groups is the caller's mistake: the peer key was decoded for the group negotiated.
    if (peer.group !== this.group) throw new TypeError('DHE peer key is of another group');
    const g = requireDhe(this.group);
    if (this.ecdh) return pad(this.ecdh.computeSecret(uncompressed(peer.exchangeData)), g.secretSize);
    if (this.dh) return pad(this.dh.computeSecret(peer.exchangeData), g.secretSize);
    throw new TypeError('DHE key pair without a key');
  }
}
