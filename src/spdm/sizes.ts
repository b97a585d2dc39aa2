/**
 * Wire sizes that depend on negotiated algorithms: DHE ExchangeData (ALGORITHMS AlgStruct 2,
 * shared/spec/messages.md §5.5; the groups themselves are crypto/dhe.ts's), and what the crypto
 * layer does not describe: 1.4 ML-KEM encapsulation key / ciphertext (AlgStruct 7) and 1.4 PQC
 * signature sizes (PQCAsymAlgo, AlgStruct 6). The KEM and PQC figures are libspdm's
 * (libspdm_crypt_pqc_kem.c, libspdm_crypt_pqc_asym.c).
 */
import { asymInfo } from '../crypto/algorithms.js';
import { dheInfo } from '../crypto/dhe.js';

export { DheGroup } from '../crypto/dhe.js';

/** ExchangeData size D of a DHE group (one AlgSupported bit), both directions (crypto/dhe.ts holds the groups). */
export function dheExchangeSize(group: number): number | undefined {
  return dheInfo(group)?.exchangeSize;
}

export const KemAlgo = { ML_KEM_512: 0x01, ML_KEM_768: 0x02, ML_KEM_1024: 0x04 } as const;

const KEM_SIZES: ReadonlyMap<number, { readonly encapsulationKey: number; readonly ciphertext: number }> = new Map([
  [KemAlgo.ML_KEM_512, { encapsulationKey: 800, ciphertext: 768 }],
  [KemAlgo.ML_KEM_768, { encapsulationKey: 1184, ciphertext: 1088 }],
  [KemAlgo.ML_KEM_1024, { encapsulationKey: 1568, ciphertext: 1568 }],
]);

/** 1.4 ML-KEM: KEY_EXCHANGE carries the encapsulation key, KEY_EXCHANGE_RSP the ciphertext. */
export function kemSizes(kem: number): { readonly encapsulationKey: number; readonly ciphertext: number } | undefined {
  return KEM_SIZES.get(kem);
}

export const PqcAsymAlgo = {
  ML_DSA_44: 0x0001,
  ML_DSA_65: 0x0002,
  ML_DSA_87: 0x0004,
  SLH_DSA_SHA2_128S: 0x0008,
  SLH_DSA_SHAKE_128S: 0x0010,
  SLH_DSA_SHA2_128F: 0x0020,
  SLH_DSA_SHAKE_128F: 0x0040,
  SLH_DSA_SHA2_192S: 0x0080,
  SLH_DSA_SHAKE_192S: 0x0100,
  SLH_DSA_SHA2_192F: 0x0200,
  SLH_DSA_SHAKE_192F: 0x0400,
  SLH_DSA_SHA2_256S: 0x0800,
  SLH_DSA_SHAKE_256S: 0x1000,
  SLH_DSA_SHA2_256F: 0x2000,
  SLH_DSA_SHAKE_256F: 0x4000,
} as const;

const PQC_SIG_SIZES: ReadonlyMap<number, number> = new Map([
  [PqcAsymAlgo.ML_DSA_44, 2420],
  [PqcAsymAlgo.ML_DSA_65, 3309],
  [PqcAsymAlgo.ML_DSA_87, 4627],
  [PqcAsymAlgo.SLH_DSA_SHA2_128S, 7856],
  [PqcAsymAlgo.SLH_DSA_SHAKE_128S, 7856],
  [PqcAsymAlgo.SLH_DSA_SHA2_128F, 17088],
  [PqcAsymAlgo.SLH_DSA_SHAKE_128F, 17088],
  [PqcAsymAlgo.SLH_DSA_SHA2_192S, 16224],
  [PqcAsymAlgo.SLH_DSA_SHAKE_192S, 16224],
  [PqcAsymAlgo.SLH_DSA_SHA2_192F, 35664],
  [PqcAsymAlgo.SLH_DSA_SHAKE_192F, 35664],
  [PqcAsymAlgo.SLH_DSA_SHA2_256S, 29792],
  [PqcAsymAlgo.SLH_DSA_SHAKE_256S, 29792],
  [PqcAsymAlgo.SLH_DSA_SHA2_256F, 49856],
  [PqcAsymAlgo.SLH_DSA_SHAKE_256F, 49856],
]);

export function pqcSignatureSize(alg: number): number | undefined {
  return PQC_SIG_SIZES.get(alg);
}

/**
 * Signature size for a (BaseAsym / ReqBaseAsymAlg, PQCAsym / ReqPqcAsymAlg) selection: libspdm
 * uses the PQC algorithm whenever one was selected (1.4), the traditional one otherwise.
 */
export function signatureSizeOf(baseAsym: number | undefined, pqcAsym: number | undefined): number | undefined {
  if (pqcAsym !== undefined && pqcAsym !== 0) return pqcSignatureSize(pqcAsym);
  return baseAsym === undefined ? undefined : asymInfo(baseAsym)?.sigSize;
}

/**
 * ExchangeData sizes of KEY_EXCHANGE (request) and KEY_EXCHANGE_RSP (response): an ML-KEM
 * selection (1.4) wins over DHE, as in libspdm's responder.
 */
export function exchangeDataSizes(
  dheGroup: number | undefined,
  kem: number | undefined,
): { readonly request: number; readonly response: number } | undefined {
  if (kem !== undefined && kem !== 0) {
    const k = kemSizes(kem);
    return k ? { request: k.encapsulationKey, response: k.ciphertext } : undefined;
  }
  const d = dheGroup === undefined ? undefined : dheExchangeSize(dheGroup);
  return d === undefined ? undefined : { request: d, response: d };
}
