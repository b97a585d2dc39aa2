/**
 * Provisioning the emulated device (SPDM 1.2/1.3): GET_CSR (a PKCS#10 request over one of its
 * keys), SET_CERTIFICATE (a new chain for a slot, or 1.3 erase), GET_KEY_PAIR_INFO and
 * SET_KEY_PAIR_INFO. What is provisioned is kept for the life of the process — a GET_VERSION
 * starts a new connection, not a new device — and DIGESTS, CERTIFICATE and every signature answer
 * with it. The profile's slots are where it starts.
 */
import type { KeyObject } from 'node:crypto';
import { SpdmError } from '../wire/errors.js';
import { digestOf } from '../x509/certificate-digest.js';
import { keyMatchesAlgorithm } from '../crypto/signature.js';
import { ErrorCode } from '../spdm/messages/error.js';
import { RequestCode } from '../spdm/codes.js';
import { CapabilityFlag } from '../spdm/messages/capabilities.js';
import { decodeGetCsr, encodeCsr } from '../spdm/messages/csr.js';
import { decodeSetCertificate, encodeSetCertificateRsp } from '../spdm/messages/set-certificate.js';
import {
  decodeGetKeyPairInfo,
  decodeSetKeyPairInfo,
  encodeKeyPairInfo,
  encodeSetKeyPairInfoAck,
  KeyUsage,
} from '../spdm/messages/key-pair-info.js';
import { chainForSlot } from '../x509/slot-chain.js';
import { SPDM_MAX_CERT_CHAIN_SIZE_V13 } from '../x509/spdm-chain.js';
import { LIMITS } from '../wire/limits.js';
import { parseCertificate } from '../x509/certificate.js';
import { verifyCertSignature } from '../x509/signature.js';
import { buildCsr, commonNameSubject, parseRequesterInfo } from '../x509/csr.js';
import { equalBytes } from '../wire/bytes.js';
import { ErrorReply } from './error-reply.js';
import { KeyPairStore, type KeyPairRecord } from './key-pairs.js';
import type { DeviceProfile, SlotIdentity } from './profile.js';

/** KeyUsageMask of a slot whose profile names none: ChallengeUse | MeasurementUse, and EndpointInfoUse with EP_INFO_CAP (signed). */
export function defaultKeyUsage(flags: number): number {
  return (
    KeyUsage.CHALLENGE |
    KeyUsage.MEASUREMENT |
    ((flags & CapabilityFlag.EP_INFO_SIG) !== 0 ? KeyUsage.ENDPOINT_INFO : 0)
  );
}

/** What a provisioning handler needs of the connection (the responder's negotiated state has it). */
export interface ProvisioningConnection {
  readonly version: number;
  readonly hashId: number;
  readonly asymId: number;
  readonly multiKeyConn: boolean;
}

/** Where a provisioning request arrived: a secure session, or the clear channel. */
export interface RequestChannel {
  readonly inSession: boolean;
}

/** CertModel values (CertificateInfo bits 2:0): DeviceCert, AliasCert, GenericCert. */
const CERT_MODEL_MAX = 3;

export class DeviceProvisioning {
  private current: SlotIdentity[];
  readonly keyPairs: KeyPairStore;
  private readonly flags: number;

  constructor(private readonly profile: DeviceProfile) {
    this.flags = profile.capabilities.flags;
    this.keyPairs = new KeyPairStore(profile.slots, (s) => s.keyUsage ?? defaultKeyUsage(this.flags));
    // Each slot remembers its key pair: a later GenerateKeyPair gives the key pair a new key, not the slot.
    this.current = profile.slots.map((s) => ({
      ...s,
      keyPairId: s.keyPairId ?? this.keyPairs.forPublicKey(s.privateKey)?.id ?? s.slot + 1,
    }));
  }

  /** The provisioned slots now (profile slots, then what SET_CERTIFICATE changed), by slot number. */
  get slots(): readonly SlotIdentity[] {
    return this.current;
  }

  keyUsageOf(slot: SlotIdentity): number {
    return slot.keyUsage ?? defaultKeyUsage(this.flags);
  }

  /** DIGESTS' KeyPairID of a slot: the key pair its key belongs to. */
  keyPairIdOf(slot: SlotIdentity): number {
    return slot.keyPairId ?? slot.slot + 1;
  }

  private requireCap(flag: number, code: number): void {
    if ((this.flags & flag) === 0) throw new ErrorReply(ErrorCode.UnsupportedRequest, code);
  }

  /** The key a CSR is made with: the named key pair's on a multi-key connection, else the negotiated algorithm's first slot's. */
  private csrKey(c: ProvisioningConnection, keyPairId: number): { key: KeyObject; asymId: number; kp?: KeyPairRecord } {
    if (c.multiKeyConn) {
      const kp = this.keyPairs.get(keyPairId);
      if (!kp) throw new ErrorReply(ErrorCode.InvalidRequest);
      return { key: kp.privateKey, asymId: kp.asymId, kp };
    }
    if (keyPairId !== 0) throw new ErrorReply(ErrorCode.InvalidRequest);
    const slot = this.current.find((s) => s.asymId === c.asymId);
    if (!slot) throw new ErrorReply(ErrorCode.OperationFailed);
    return { key: slot.privateKey, asymId: slot.asymId };
  }

  onGetCsr(c: ProvisioningConnection, request: Uint8Array): Uint8Array {
    if (c.version < 0x12) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_CSR);
    this.requireCap(CapabilityFlag.CSR, RequestCode.GET_CSR);
    const req = decodeGetCsr(request);
    if (c.version >= 0x13) {
      // Without CERT_INSTALL_RESET_CAP nothing is pending across a reset, so there is nothing to track or overwrite.
      if ((this.flags & CapabilityFlag.CERT_INSTALL_RESET) === 0 && (req.csrTrackingTag !== 0 || req.overwrite))
        throw new ErrorReply(ErrorCode.InvalidRequest);
      if (c.multiKeyConn && (req.certModel === 0 || req.certModel > CERT_MODEL_MAX))
        throw new ErrorReply(ErrorCode.InvalidRequest);
      if (!c.multiKeyConn && req.certModel !== 0) throw new ErrorReply(ErrorCode.InvalidRequest);
    }
    const { key, asymId } = this.csrKey(c, req.keyPairId);
    let subject: Uint8Array;
    let attributes: Uint8Array | undefined;
    if (req.requesterInfo.length > 0) {
      try {
        ({ subject, attributes } = parseRequesterInfo(req.requesterInfo));
      } catch (e) {
        if (e instanceof SpdmError) throw new ErrorReply(ErrorCode.InvalidRequest);
        throw e;
      }
    } else {
      // A re-key keeps the device's name: the subject of the leaf this key certifies now, else the profile's name.
      const leaf = this.current.find((s) => s.privateKey === key)?.certificates.at(-1);
      subject = leaf ? parseCertificate(leaf).subjectDer : commonNameSubject(this.profile.name);
    }
    const csr = buildCsr({ privateKey: key, asymId, subject, ...(attributes ? { attributes } : {}) });
    if (csr.length > 0xffff) throw new ErrorReply(ErrorCode.Unspecified);
    return encodeCsr(c.version, { csr });
  }

  onSetCertificate(c: ProvisioningConnection, request: Uint8Array, channel: RequestChannel): Uint8Array {
    if (c.version < 0x12) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.SET_CERTIFICATE);
    this.requireCap(CapabilityFlag.SET_CERT, RequestCode.SET_CERTIFICATE);
    const req = decodeSetCertificate(request);
    // Slot 0 may be provisioned in the clear (a manufacturing environment); the others only inside a
    // secure session, unless the profile says the device sits in a trusted environment (libspdm's rule).
    if (req.slot !== 0 && !channel.inSession && this.profile.provisioning?.trustedEnvironment !== true)
      throw new ErrorReply(ErrorCode.UnexpectedRequest);
    if (req.erase) {
      this.current = this.current.filter((s) => s.slot !== req.slot);
      this.keyPairs.release(req.slot);
      return encodeSetCertificateRsp(c.version, { slot: req.slot });
    }
    if (c.multiKeyConn && (req.certModel === 0 || req.certModel > CERT_MODEL_MAX))
      throw new ErrorReply(ErrorCode.InvalidRequest);
    // A chain over 64 KiB (1.4's u32 chain Length; it arrived in CHUNK_SEND pieces): only with our
    // LARGE_RESP_CAP, through which it can be read back (libspdm's responder: InvalidRequest), and
    // no more than LIMITS.largeCertChainBytes, what a requester reads.
    if (
      req.certChain.length > SPDM_MAX_CERT_CHAIN_SIZE_V13 &&
      ((this.flags & CapabilityFlag.LARGE_RESP) === 0 || req.certChain.length > LIMITS.largeCertChainBytes)
    )
      throw new ErrorReply(ErrorCode.InvalidRequest);
    const certificates = this.checkedChain(c, req.certChain);
    const leafKey = certificates.leafKey;
    // The device must hold the key the new leaf certifies (the key pair named on a multi-key connection).
    const kp = c.multiKeyConn ? this.keyPairs.get(req.keyPairId) : this.keyPairs.forPublicKey(leafKey);
    if (!kp || !keyMatchesAlgorithm(leafKey, kp.asymId)) throw new ErrorReply(ErrorCode.InvalidRequest);
    if (c.multiKeyConn && this.keyPairs.forPublicKey(leafKey) !== kp) throw new ErrorReply(ErrorCode.InvalidRequest);
    const previous = this.current.find((s) => s.slot === req.slot);
    const slot: SlotIdentity = {
      slot: req.slot,
      certificates: certificates.der,
      privateKey: kp.privateKey,
      asymId: kp.asymId,
      certModel: c.multiKeyConn ? req.certModel : (previous?.certModel ?? 1),
      keyPairId: kp.id,
      keyUsage: previous?.keyUsage ?? (kp.currentKeyUsage || defaultKeyUsage(this.flags)),
    };
    this.current = [...this.current.filter((s) => s.slot !== req.slot), slot].sort((a, b) => a.slot - b.slot);
    this.keyPairs.associate(req.slot, kp);
    return encodeSetCertificateRsp(c.version, { slot: req.slot });
  }

  /**
   * The chain SET_CERTIFICATE carries, checked as a device would before installing it: the SPDM
   * structure (Length, RootHash of the negotiated hash), every certificate parsed, each signed by
   * the one before it, and RootHash naming the first certificate when that one is a root.
   */
  private checkedChain(c: ProvisioningConnection, bytes: Uint8Array): { der: Uint8Array[]; leafKey: KeyObject } {
    let chain;
    try {
      chain = chainForSlot(bytes, { version: c.version, hashId: c.hashId, maxCertificates: 16 });
    } catch (e) {
      if (e instanceof SpdmError) throw new ErrorReply(ErrorCode.InvalidRequest);
      throw e;
    }
    const [first, ...rest] = chain.certificates;
    if (!first) throw new ErrorReply(ErrorCode.InvalidRequest);
    let issuer = first;
    for (const cert of rest) {
      if (!verifyCertSignature(cert, issuer)) throw new ErrorReply(ErrorCode.InvalidRequest);
      issuer = cert;
    }
    const selfSigned = equalBytes(first.subjectDer, first.issuerDer) && verifyCertSignature(first, first);
    if (selfSigned && !equalBytes(chain.rootHash, digestOf(first, c.hashId)))
      throw new ErrorReply(ErrorCode.InvalidRequest);
    return { der: [...chain.chain.certificates], leafKey: chain.leafKey };
  }

  onGetKeyPairInfo(c: ProvisioningConnection, request: Uint8Array): Uint8Array {
    if (c.version < 0x13) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.GET_KEY_PAIR_INFO);
    this.requireCap(CapabilityFlag.GET_KEY_PAIR_INFO, RequestCode.GET_KEY_PAIR_INFO);
    const req = decodeGetKeyPairInfo(request);
    return encodeKeyPairInfo(c.version, this.keyPairs.info(req.keyPairId));
  }

  onSetKeyPairInfo(c: ProvisioningConnection, request: Uint8Array): Uint8Array {
    if (c.version < 0x13) throw new ErrorReply(ErrorCode.UnsupportedRequest, RequestCode.SET_KEY_PAIR_INFO);
    this.requireCap(CapabilityFlag.SET_KEY_PAIR_INFO, RequestCode.SET_KEY_PAIR_INFO);
    this.keyPairs.set(decodeSetKeyPairInfo(request));
    return encodeSetKeyPairInfoAck(c.version);
  }
}
