/**
 * Object identifiers the SPDM / PCIe CMA certificate rules refer to. DMTF arc: id-DMTF
 * 1.3.6.1.4.1.412, id-DMTF-spdm = .274 (libspdm include/industry_standard/spdm.h).
 */

/** otherName type-id in subjectAltName; value UTF8String "Manufacturer:Product:SerialNumber". */
export const OID_DMTF_DEVICE_INFO = '1.3.6.1.4.1.412.274.1';
/** Listed inside the SPDM extension: the certificate binds a hardware identity (DeviceCert model). */
export const OID_DMTF_HARDWARE_IDENTITY = '1.3.6.1.4.1.412.274.2';
/** EKU purpose: SPDM Responder authentication. */
export const OID_DMTF_EKU_RESPONDER_AUTH = '1.3.6.1.4.1.412.274.3';
/** EKU purpose: SPDM Requester authentication. */
export const OID_DMTF_EKU_REQUESTER_AUTH = '1.3.6.1.4.1.412.274.4';
/** SPDM extension entry: the certificate may be replaced (e.g. an alias certificate). */
export const OID_DMTF_MUTABLE_CERTIFICATE = '1.3.6.1.4.1.412.274.5';
/** X.509 extension whose value is `SEQUENCE SIZE(1..MAX) OF SEQUENCE { OID, data OPTIONAL }`. */
export const OID_DMTF_SPDM_EXTENSION = '1.3.6.1.4.1.412.274.6';

/** PCI-SIG CMA otherName type-id (PCIe r6.1 sec 6.31.3, value `[0] EXPLICIT UTF8String`). */
export const OID_PCIE_CMA = '2.23.147';

// RFC 5280 extensions this layer interprets.
export const OID_CE_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_CE_KEY_USAGE = '2.5.29.15';
export const OID_CE_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_CE_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_CE_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
export const OID_CE_EXT_KEY_USAGE = '2.5.29.37';

export const OID_KP_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_KP_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

// Signature algorithms.
export const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
export const OID_SHA384_WITH_RSA = '1.2.840.113549.1.1.12';
export const OID_SHA512_WITH_RSA = '1.2.840.113549.1.1.13';
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const OID_MGF1 = '1.2.840.113549.1.1.8';
export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
export const OID_ECDSA_WITH_SHA512 = '1.2.840.10045.4.3.4';
export const OID_ED25519 = '1.3.101.112';
export const OID_ED448 = '1.3.101.113';

// Hash algorithms (RSASSA-PSS parameters).
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3';
