#!/usr/bin/env python3
"""Re-verify a spdmkit signature log export with nothing of spdmkit.

Written from docs/log-format.md (sections 1-3 and 6), schemas/log-export.schema.json and DSP0274's
message layouts, as a remote attestation service would: the export file and the pinned log key are
all it has. Standard library, `cryptography` and `jsonschema` only.

    python3 remote_verifier.py EXPORT.jsonl --pubkey LOG.pub [--json] [--schema FILE]

Exit 0 printing "OK <n> entries" when every line checks; exit 1 printing the first problem as
"<where>: <field>: <reason>", where is "header", "chain", "entry <index>" or "sth", each followed by
the 1-based line; exit 2 for a usage error (unreadable file, bad key).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jsonschema import Draft202012Validator

FORMAT = "spdmkit-signature-log/1"
STH_LABEL = b"spdmkit signature log tree head v1"


class Problem(Exception):
    """The first thing wrong with the export: where (line kind and number), which field, why."""

    def __init__(self, field: str, reason: str, where: str | None = None):
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.where = where


def sha256(*parts: bytes) -> bytes:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


# ---------------------------------------------------------------- section 2: the leaf

def u(value: int, width: int) -> bytes:
    return value.to_bytes(width, "big")


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + u(len(value), 4) + value


def utf8(value: str, field: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise Problem(field, f"not valid Unicode ({e.reason})") from None


def iso_ms(value: str, field: str) -> int:
    """ISO 8601 UTC with three fraction digits back to milliseconds; only a real instant that prints back the same."""
    try:
        t = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Problem(field, f"{value!r} is not a real instant") from None
    if t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z" != value:
        raise Problem(field, f"{value!r} is not in the exported form")
    # Exactly, from whole days, seconds and microseconds (no float seconds).
    delta = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
    ms = (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if ms < 0:
        raise Problem(field, f"{value!r} is before 1970: not a u64 of milliseconds")
    return ms


# (tag, JSON name, encoding) in tag order: the table of section 2.
PCI_FIELDS = [
    (0x01, "bdf", "utf8"),
    (0x02, "vendorId", 2),
    (0x03, "deviceId", 2),
    (0x04, "classCode", 4),
    (0x05, "revisionId", 1),
    (0x06, "subsystemVendorId", 2),
    (0x07, "subsystemId", 2),
    (0x08, "serialNumber", "utf8"),
]

LEAF_FIELDS = [
    (0x01, "index", 8),
    (0x02, "evidenceIndex", 8),
    (0x03, "loggedAt", "time"),
    (0x04, "collectedAt", "utf8"),
    (0x05, "device", "utf8"),
    (0x06, "pci", "pci"),
    (0x07, "kind", "utf8"),
    (0x08, "version", 1),
    (0x09, "slot", 1),
    (0x0A, "asymAlgo", 4),
    (0x0B, "hashAlgo", 4),
    (0x0C, "measurementHashAlgo", 4),
    (0x0D, "measurementSpec", 1),
    (0x0E, "otherParams", 4),
    (0x0F, "requesterNonce", "bytes"),
    (0x10, "responderNonce", "bytes"),
    (0x11, "requesterContext", "bytes"),
    (0x12, "context", "utf8"),
    (0x13, "transcript", "bytes"),
    (0x14, "transcriptHash", "bytes"),
    (0x15, "signature", "bytes"),
    (0x16, "measurementSummaryHash", "bytes"),
    (0x17, "chainDigest", "bytes"),
    (0x18, "measurements", "blocks"),
    (0x19, "verified", "bool"),
]


def encode_value(kind, value, field: str) -> bytes:
    if isinstance(kind, int):
        return u(value, kind)
    if kind == "utf8":
        return utf8(value, field)
    if kind == "bytes":
        return bytes.fromhex(value)
    if kind == "bool":
        return b"\x01" if value else b"\x00"
    if kind == "time":
        return u(iso_ms(value, field), 8)
    if kind == "blocks":
        blocks = [bytes.fromhex(b) for b in value]
        return u(len(blocks), 4) + b"".join(u(len(b), 4) + b for b in blocks)
    if kind == "pci":
        # Nested TLV in the same form, without a leading format byte.
        return b"".join(
            tlv(tag, encode_value(k, value[name], f"pci.{name}")) for tag, name, k in PCI_FIELDS if name in value
        )
    raise AssertionError(kind)


def leaf_of(entry: dict) -> bytes:
    """The canonical leaf: format byte 0x01, then every present field as tag, u32 BE length, value."""
    return b"\x01" + b"".join(
        tlv(tag, encode_value(kind, entry[name], name)) for tag, name, kind in LEAF_FIELDS if name in entry
    )


# ---------------------------------------------------------------- section 3: the tree

def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01", left, right)


class Tree:
    """The leaf hashes so far as the perfect subtrees they decompose into (largest first)."""

    def __init__(self):
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []

    def append(self, leaf_hash: bytes) -> None:
        size, h = 1, leaf_hash
        while self.stack and self.stack[-1][0] == size:
            s, left = self.stack.pop()
            size, h = 2 * s, node(left, h)
        self.stack.append((size, h))
        self.size += 1

    def root(self) -> bytes:
        # MTH splits at the largest power of two below n, so the root folds the subtrees from the right.
        if not self.stack:
            return sha256()
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = node(left, h)
        return h


def verify_consistency(m: int, n: int, first: bytes, second: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if m > n:
        return False
    if m == n:
        return not proof and first == second
    if m == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, first)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first and sr == second and sn == 0


def sth_message(log_id: bytes, size: int, timestamp: int, root: bytes) -> bytes:
    return STH_LABEL + b"\x00" + log_id + u(size, 8) + u(timestamp, 8) + root


# ---------------------------------------------------------------- SPDM (DSP0274) pieces

HASHES = {
    0x01: hashes.SHA256,
    0x02: hashes.SHA384,
    0x04: hashes.SHA512,
    0x08: hashes.SHA3_256,
    0x10: hashes.SHA3_384,
    0x20: hashes.SHA3_512,
}
RSASSA = {0x0001, 0x0004, 0x0020}
RSAPSS = {0x0002, 0x0008, 0x0040}
ECDSA = {0x0010: ec.SECP256R1, 0x0080: ec.SECP384R1, 0x0100: ec.SECP521R1}
ED25519, ED448 = 0x0400, 0x0800
# DHE group bit -> ExchangeData size (ffdhe2048/3072/4096, secp256r1/384r1/521r1, SM2-P256).
DHE_SIZE = {0x01: 256, 0x02: 384, 0x04: 512, 0x08: 64, 0x10: 96, 0x20: 132, 0x40: 64}

CONTEXTS = {
    "CHALLENGE_AUTH": "responder-challenge_auth signing",
    "MEASUREMENTS": "responder-measurements signing",
    "KEY_EXCHANGE_RSP": "responder-key_exchange_rsp signing",
    "ENDPOINT_INFO": "responder-endpoint_info signing",
}
RESPONSE_CODE = {"CHALLENGE_AUTH": 0x03, "MEASUREMENTS": 0x60, "KEY_EXCHANGE_RSP": 0x64, "ENDPOINT_INFO": 0x07}

GET_VERSION, VERSION = 0x84, 0x04
GET_CAPABILITIES, CAPABILITIES = 0xE1, 0x61
NEGOTIATE_ALGORITHMS, ALGORITHMS = 0xE3, 0x63
GET_DIGESTS, DIGESTS = 0x81, 0x01
GET_CERTIFICATE, CERTIFICATE = 0x82, 0x02
CHALLENGE, CHALLENGE_AUTH = 0x83, 0x03
GET_MEASUREMENTS, MEASUREMENTS = 0xE0, 0x60
KEY_EXCHANGE, KEY_EXCHANGE_RSP = 0xE4, 0x64
GET_ENDPOINT_INFO, ENDPOINT_INFO = 0x87, 0x07
MULTI_KEY_CONN = 0x10  # NEGOTIATE_ALGORITHMS OtherParamsSupport bit 4 (1.3)


def hash_of(hash_algo: int, data: bytes) -> bytes:
    cls = HASHES.get(hash_algo)
    if cls is None:
        raise Problem("hashAlgo", f"0x{hash_algo:x} is not a hash this verifier knows")
    h = hashes.Hash(cls())
    h.update(data)
    return h.finalize()


def le(b: bytes) -> int:
    return int.from_bytes(b, "little")


class Message:
    def __init__(self, raw: bytes, offset: int):
        self.raw = raw
        self.offset = offset
        self.version, self.code, self.p1, self.p2 = raw[0], raw[1], raw[2], raw[3]


class Transcript:
    """A signed transcript read message by message: each length comes from the message's own fields."""

    def __init__(self, data: bytes, hash_size: int):
        self.data = data
        self.off = 0
        self.hash_size = hash_size
        self.messages: list[Message] = []
        self.caps_flags = 0  # responder CAPABILITIES Flags
        self.algorithms: Message | None = None
        self.multi_key = False
        self.dhe_size: int | None = None

    def need(self, n: int, what: str) -> None:
        if self.off + n > len(self.data):
            raise Problem("transcript", f"{what} at byte {self.off} runs past the end of the transcript")

    def peek_code(self) -> int | None:
        return self.data[self.off + 1] if self.off + 2 <= len(self.data) else None

    def take(self, length: int, what: str) -> Message:
        self.need(length, what)
        m = Message(self.data[self.off : self.off + length], self.off)
        self.off += length
        self.messages.append(m)
        return m

    def header(self, code: int, what: str) -> None:
        self.need(4, what)
        if self.data[self.off + 1] != code:
            raise Problem(
                "transcript",
                f"byte {self.off}: expected {what} (0x{code:02x}), found code 0x{self.data[self.off + 1]:02x}",
            )

    def u16_at(self, rel: int, what: str) -> int:
        self.need(rel + 2, what)
        return le(self.data[self.off + rel : self.off + rel + 2])

    def vca(self) -> None:
        """A = GET_VERSION, VERSION, GET_CAPABILITIES, CAPABILITIES, NEGOTIATE_ALGORITHMS, ALGORITHMS."""
        self.header(GET_VERSION, "GET_VERSION")
        self.take(4, "GET_VERSION")
        self.header(VERSION, "VERSION")
        self.need(6, "VERSION")
        self.take(6 + 2 * self.data[self.off + 5], "VERSION")
        self.header(GET_CAPABILITIES, "GET_CAPABILITIES")
        v = self.data[self.off]
        self.take(4 if v == 0x10 else 12 if v == 0x11 else 20, "GET_CAPABILITIES")
        self.header(CAPABILITIES, "CAPABILITIES")
        v = self.data[self.off]
        length = 12 if v < 0x12 else 20
        self.need(length, "CAPABILITIES")
        if v >= 0x13 and self.data[self.off + 2] & 1:
            # 1.3 supported-algorithms block: ParamCount, Reserved, Length (u16, the whole block).
            length += self.u16_at(22, "CAPABILITIES supported algorithms")
        caps = self.take(length, "CAPABILITIES")
        self.caps_flags = le(caps.raw[8:12])
        self.header(NEGOTIATE_ALGORITHMS, "NEGOTIATE_ALGORITHMS")
        na = self.take(self.u16_at(4, "NEGOTIATE_ALGORITHMS Length"), "NEGOTIATE_ALGORITHMS")
        self.multi_key = na.version >= 0x13 and len(na.raw) > 7 and bool(na.raw[7] & MULTI_KEY_CONN)
        self.header(ALGORITHMS, "ALGORITHMS")
        alg = self.take(self.u16_at(4, "ALGORITHMS Length"), "ALGORITHMS")
        if len(alg.raw) < 36:
            raise Problem("transcript", "ALGORITHMS is shorter than its fixed fields")
        self.algorithms = alg
        # The algorithm structure tables (1.1+): AlgType, AlgCount, AlgSupported, AlgExternal.
        o = 36 + 4 * alg.raw[32] + 4 * alg.raw[33]
        for _ in range(alg.p1 if alg.version >= 0x11 else 0):
            if o + 2 > len(alg.raw):
                raise Problem("transcript", "ALGORITHMS structure table runs past its Length")
            alg_type, count = alg.raw[o], alg.raw[o + 1]
            fixed = count >> 4
            if alg_type == 2 and fixed >= 1:
                self.dhe_size = DHE_SIZE.get(le(alg.raw[o + 2 : o + 2 + fixed]))
            o += 2 + fixed + 4 * (count & 0x0F)

    def meas_cap(self) -> bool:
        return (self.caps_flags >> 3) & 0x03 != 0

    def digests(self) -> Message:
        self.header(DIGESTS, "DIGESTS")
        v, mask = self.data[self.off], self.data[self.off + 3]
        n = bin(mask).count("1")
        return self.take(4 + n * self.hash_size + (4 * n if v >= 0x13 and self.multi_key else 0), "DIGESTS")

    def certificate_exchanges(self) -> None:
        """B: GET_DIGESTS, DIGESTS, GET_CERTIFICATE, CERTIFICATE in any number (none for slot 0xFF)."""
        while True:
            code = self.peek_code()
            if code == GET_DIGESTS:
                self.take(4, "GET_DIGESTS")
            elif code == DIGESTS:
                self.digests()
            elif code == GET_CERTIFICATE:
                self.take(8, "GET_CERTIFICATE")
            elif code == CERTIFICATE:
                self.take(8 + self.u16_at(4, "CERTIFICATE PortionLength"), "CERTIFICATE")
            else:
                return

    def end(self, what: str) -> None:
        if self.off != len(self.data):
            raise Problem("transcript", f"{len(self.data) - self.off} bytes after {what}")


class Signed:
    """What the transcript says about the fields of section 1's table."""

    def __init__(self):
        self.kind = ""
        self.slot = 0
        self.requester_nonce = b""
        self.responder_nonce = b""
        self.requester_context: bytes | None = None
        self.summary_hash: bytes | None = None
        self.chain_hash: bytes | None = None
        self.blocks: list[bytes] = []
        self.transcript: Transcript | None = None


def slot_param(b: int) -> int:
    return 0xFF if b & 0x0F == 0x0F else b & 0x0F


def read_challenge_auth(data: bytes, hash_size: int) -> Signed:
    """M1 = A, B, CHALLENGE, CHALLENGE_AUTH up to its Signature."""
    t = Transcript(data, hash_size)
    t.vca()
    t.certificate_exchanges()
    t.header(CHALLENGE, "CHALLENGE")
    v = t.data[t.off]
    req = t.take(44 if v >= 0x13 else 36, "CHALLENGE")
    t.header(CHALLENGE_AUTH, "CHALLENGE_AUTH")
    rsp = t.take(len(data) - t.off, "CHALLENGE_AUTH")
    h = hash_size
    s = Signed()
    s.kind, s.transcript = "CHALLENGE_AUTH", t
    s.slot = req.p1
    s.requester_nonce = req.raw[4:36]
    if v >= 0x13:
        s.requester_context = req.raw[36:44]
    r = rsp.raw
    o = 4 + h + 32
    if len(r) < o:
        raise Problem("transcript", "CHALLENGE_AUTH is shorter than CertChainHash and Nonce")
    s.chain_hash = r[4 : 4 + h]
    s.responder_nonce = r[4 + h : o]
    # MeasurementSummaryHash is there when CHALLENGE asked for one (Param2) of a device with MEAS_CAP.
    if req.p2 != 0 and t.meas_cap():
        s.summary_hash = r[o : o + h]
        o += h
    if len(r) < o + 2:
        raise Problem("transcript", "CHALLENGE_AUTH ends before OpaqueDataLength")
    o += 2 + le(r[o : o + 2])
    if v >= 0x13:
        o += 8  # RequesterContext, echoed
    if o != len(r):
        raise Problem("transcript", f"CHALLENGE_AUTH is {len(r)} bytes up to its signature, its fields make {o}")
    return s


def read_measurements(data: bytes, hash_size: int, version: int) -> Signed:
    """L1/L2 = [A,] GET_MEASUREMENTS/MEASUREMENTS pairs; the last request asks for the signature."""
    t = Transcript(data, hash_size)
    if version >= 0x12:
        t.vca()
    s = Signed()
    s.kind, s.transcript = "MEASUREMENTS", t
    while True:
        t.header(GET_MEASUREMENTS, "GET_MEASUREMENTS")
        v = t.data[t.off]
        signed = bool(t.data[t.off + 2] & 1)
        req = t.take(4 + (32 + (1 if v >= 0x11 else 0) if signed else 0) + (8 if v >= 0x13 else 0), "GET_MEASUREMENTS")
        t.header(MEASUREMENTS, "MEASUREMENTS")
        t.need(8, "MEASUREMENTS")
        record_len = le(t.data[t.off + 5 : t.off + 8])
        o = 8 + record_len + 32
        opaque = t.u16_at(o, "MEASUREMENTS OpaqueDataLength")
        o += 2 + opaque + (8 if v >= 0x13 else 0)
        rsp = t.take(o, "MEASUREMENTS")
        record = rsp.raw[8 : 8 + record_len]
        p, blocks = 0, []
        while p < len(record):
            if p + 4 > len(record):
                raise Problem("transcript", "a measurement block header runs past the record")
            end = p + 4 + le(record[p + 2 : p + 4])
            if end > len(record):
                raise Problem("transcript", "a measurement block runs past the record")
            blocks.append(record[p:end])
            p = end
        if len(blocks) != rsp.raw[4]:
            raise Problem("transcript", f"MEASUREMENTS NumberOfBlocks {rsp.raw[4]}, its record holds {len(blocks)}")
        s.blocks.extend(blocks)
        if signed:
            t.end("the signed MEASUREMENTS")
            s.requester_nonce = req.raw[4:36]
            s.slot = slot_param(req.raw[36]) if v >= 0x11 else 0
            if v >= 0x13:
                s.requester_context = req.raw[37:45]
            s.responder_nonce = rsp.raw[8 + record_len : 8 + record_len + 32]
            return s
        if t.off >= len(data):
            raise Problem("transcript", "no GET_MEASUREMENTS in it asks for a signature")


def read_key_exchange(data: bytes, hash_size: int) -> Signed:
    """A, [D], Ct, KEY_EXCHANGE, KEY_EXCHANGE_RSP up to its Signature."""
    t = Transcript(data, hash_size)
    t.vca()
    if t.dhe_size is None:
        raise Problem("transcript", "ALGORITHMS selected no DHE group this verifier knows")
    after_vca = t.off
    # D, the first DIGESTS, is there on a 1.3 multi-key connection when the requester read it first.
    attempts = [True, False] if t.multi_key and t.peek_code() == DIGESTS else [False]
    first_error: Problem | None = None
    for with_d in attempts:
        t.off = after_vca
        del t.messages[6:]
        try:
            return _key_exchange_rest(t, with_d)
        except Problem as e:
            first_error = first_error or e
    raise first_error  # type: ignore[misc]


def _key_exchange_rest(t: Transcript, with_d: bool) -> Signed:
    if with_d:
        t.digests()
    t.need(t.hash_size, "Ct")
    ct = t.data[t.off : t.off + t.hash_size]
    t.off += t.hash_size
    t.header(KEY_EXCHANGE, "KEY_EXCHANGE")
    d = t.dhe_size or 0
    req = t.take(40 + d + 2 + t.u16_at(40 + d, "KEY_EXCHANGE OpaqueDataLength"), "KEY_EXCHANGE")
    t.header(KEY_EXCHANGE_RSP, "KEY_EXCHANGE_RSP")
    rsp = t.take(len(t.data) - t.off, "KEY_EXCHANGE_RSP")
    s = Signed()
    s.kind, s.transcript = "KEY_EXCHANGE_RSP", t
    s.slot = req.p2
    s.requester_nonce = req.raw[8:40]
    s.chain_hash = ct
    r = rsp.raw
    o = 40 + d
    if len(r) < o:
        raise Problem("transcript", "KEY_EXCHANGE_RSP is shorter than RandomData and ExchangeData")
    s.responder_nonce = r[8:40]
    if req.p1 != 0 and t.meas_cap():
        s.summary_hash = r[o : o + t.hash_size]
        o += t.hash_size
    if len(r) < o + 2:
        raise Problem("transcript", "KEY_EXCHANGE_RSP ends before OpaqueDataLength")
    o += 2 + le(r[o : o + 2])
    if o != len(r):
        raise Problem("transcript", f"KEY_EXCHANGE_RSP is {len(r)} bytes up to its signature, its fields make {o}")
    return s


def read_endpoint_info(data: bytes, hash_size: int) -> Signed:
    """IL1/IL2 = A, GET_ENDPOINT_INFO, ENDPOINT_INFO up to its Signature; nothing else."""
    t = Transcript(data, hash_size)
    t.vca()
    t.header(GET_ENDPOINT_INFO, "GET_ENDPOINT_INFO")
    t.need(8, "GET_ENDPOINT_INFO")
    if not t.data[t.off + 4] & 1:
        raise Problem("transcript", "GET_ENDPOINT_INFO does not ask for a signature (RequestAttributes bit 0)")
    req = t.take(8 + 32, "GET_ENDPOINT_INFO")
    t.header(ENDPOINT_INFO, "ENDPOINT_INFO")
    # Header, Reserved (4), Nonce (32), EPInfoLength (u32), EPInfo.
    t.need(44, "ENDPOINT_INFO")
    ep_len = le(t.data[t.off + 40 : t.off + 44])
    rsp = t.take(44 + ep_len, "ENDPOINT_INFO")
    t.end("the signed part of ENDPOINT_INFO")
    s = Signed()
    s.kind, s.transcript = "ENDPOINT_INFO", t
    s.slot = slot_param(req.p2)
    if slot_param(rsp.p2) != s.slot:
        raise Problem("slot", f"ENDPOINT_INFO answers for slot {slot_param(rsp.p2)}, GET_ENDPOINT_INFO asked slot {s.slot}")
    s.requester_nonce = req.raw[8:40]
    s.responder_nonce = rsp.raw[8:40]
    return s


READERS = {
    "CHALLENGE_AUTH": lambda d, h, v: read_challenge_auth(d, h),
    "MEASUREMENTS": read_measurements,
    "KEY_EXCHANGE_RSP": lambda d, h, v: read_key_exchange(d, h),
    "ENDPOINT_INFO": lambda d, h, v: read_endpoint_info(d, h),
}


def read_transcript(e: dict, data: bytes, hash_size: int) -> Signed:
    """The transcript as the entry's kind; if it is not one, which kind it is (a relabelled entry)."""
    kind, version = e["kind"], e["version"]
    try:
        return READERS[kind](data, hash_size, version)
    except (Problem, IndexError) as first:
        for other, reader in READERS.items():
            if other == kind:
                continue
            try:
                reader(data, hash_size, version)
            except (Problem, IndexError):
                continue
            raise Problem("kind", f"recorded as {kind}, but the device signed a {other} transcript") from None
        reason = first.reason if isinstance(first, Problem) else "a message runs past the end"
        raise Problem("transcript", f"does not decode as a {kind} transcript: {reason}") from None


def leaf_public_key(chain: bytes, hash_size: int):
    """The last DER certificate of an SPDM certificate chain (after Length, Reserved and RootHash)."""
    o = 4 + hash_size
    last = None
    while o < len(chain):
        if chain[o] != 0x30 or o + 2 > len(chain):
            raise Problem("chainDigest", f"the chain holds no DER SEQUENCE at byte {o}")
        n = chain[o + 1]
        hdr = 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(chain[o + 2 : o + 2 + k], "big")
            hdr = 2 + k
        if o + hdr + n > len(chain):
            raise Problem("chainDigest", f"the certificate at byte {o} runs past the chain")
        last = chain[o : o + hdr + n]
        o += hdr + n
    if last is None:
        raise Problem("chainDigest", "the chain holds no certificate")
    try:
        return x509.load_der_x509_certificate(last).public_key()
    except ValueError as e:
        raise Problem("chainDigest", f"the leaf certificate does not parse: {e}") from None


def signature_ok(e: dict, key, message: bytes, sig: bytes) -> bool:
    asym, hash_cls = e["asymAlgo"], HASHES.get(e["hashAlgo"])
    try:
        if asym == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, message)
        elif asym == ED448 and isinstance(key, ed448.Ed448PublicKey):
            key.verify(sig, message)
        elif asym in ECDSA and isinstance(key, ec.EllipticCurvePublicKey) and hash_cls:
            if key.curve.name != ECDSA[asym].name or len(sig) % 2:
                return False
            half = len(sig) // 2
            der = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
            key.verify(der, message, ec.ECDSA(hash_cls()))
        elif asym in RSASSA and isinstance(key, rsa.RSAPublicKey) and hash_cls:
            key.verify(sig, message, padding.PKCS1v15(), hash_cls())
        elif asym in RSAPSS and isinstance(key, rsa.RSAPublicKey) and hash_cls:
            key.verify(sig, message, padding.PSS(padding.MGF1(hash_cls()), hash_cls.digest_size), hash_cls())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def signed_message(e: dict, transcript: bytes, transcript_hash: bytes) -> bytes:
    """1.2+: M' = "dmtf-spdm-v1.X.*" x4 || context right-aligned in 36 zero-padded bytes || Hash(transcript)."""
    v = e["version"]
    if v < 0x12:
        return transcript
    ctx = utf8(e["context"], "context")
    if len(ctx) > 36:
        raise Problem("context", "longer than the 36 bytes of the signing prefix")
    return (f"dmtf-spdm-v{v >> 4}.{v & 0x0F}.*".encode("ascii") * 4) + b"\x00" * (36 - len(ctx)) + ctx + transcript_hash


# ---------------------------------------------------------------- the checks of section 6

class Verifier:
    def __init__(self, schema: dict, pinned_spki: bytes):
        Draft202012Validator.check_schema(schema)
        self.schema = Draft202012Validator(schema)
        # The $defs entry of each line type on its own, so that a refusal names the member, not the oneOf.
        self.validators = {
            t: Draft202012Validator({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{t}"})
            for t in ("header", "chain", "entry", "sth")
        }
        self.pinned_spki = pinned_spki
        self.log_id = sha256(pinned_spki)
        self.header: dict | None = None
        self.chains: dict[str, bytes] = {}
        self.tree = Tree()
        self.previous: dict | None = None
        self.last_was_head = False
        self.warnings: list[str] = []

    def schema_check(self, o) -> str:
        if not isinstance(o, dict):
            raise Problem("(line)", "not a JSON object")
        t = o.get("type")
        if t not in self.validators:
            raise Problem("type", f"unknown line type {json.dumps(t)}")
        errors = sorted(self.validators[t].iter_errors(o), key=lambda x: [str(p) for p in x.absolute_path])
        if errors:
            err = errors[0]
            path = ".".join(str(p) for p in err.absolute_path)
            field = path or (re.findall(r"'([^']+)'", err.message) or ["(line)"])[0]
            message = err.message if len(err.message) <= 160 else err.message[:157] + "..."
            raise Problem(field, f"schema: {message}")
        if not self.schema.is_valid(o):
            raise Problem("type", "schema: the line matches no line type of the schema")
        return t

    def line(self, o) -> None:
        t = self.schema_check(o)
        if self.header is None:
            if t != "header":
                raise Problem("type", "the first line must be the header", "header")
            self.check_header(o)
            return
        self.last_was_head = False
        if t == "header":
            raise Problem("type", "a second header", "header")
        if t == "chain":
            self.check_chain(o)
        elif t == "entry":
            self.check_entry(o)
        else:
            self.check_sth(o)
            self.last_was_head = True

    def check_header(self, o: dict) -> None:
        self.header = o
        if bytes.fromhex(o["publicKey"]) != self.pinned_spki:
            raise Problem("publicKey", "the export is of another log than the pinned key's", "header")
        if o["logId"] != self.log_id.hex():
            raise Problem("logId", "not the SHA-256 of the pinned key", "header")

    def check_chain(self, o: dict) -> None:
        chain = bytes.fromhex(o["chain"])
        if sha256(chain).hex() != o["digest"]:
            raise Problem("chain", f"chain {o['digest']} does not hash to its digest", "chain")
        self.chains[o["digest"]] = chain

    def check_sth(self, o: dict) -> None:
        size = o["treeSize"]
        where = "sth"
        if "logId" in o and o["logId"] != self.log_id.hex():
            raise Problem("logId", "not the header's log id", where)
        root = bytes.fromhex(o["rootHash"])
        key = ed25519.Ed25519PublicKey.from_public_bytes(self.pinned_spki[-32:])
        try:
            key.verify(bytes.fromhex(o["signature"]), sth_message(self.log_id, size, o["timestamp"], root))
        except InvalidSignature:
            raise Problem("signature", f"the tree head of size {size} is not signed by the pinned log key", where) from None
        if size != self.tree.size:
            raise Problem("treeSize", f"the head covers {size} entries, {self.tree.size} come before it", where)
        if root != self.tree.root():
            raise Problem("rootHash", f"the entries before it have root {self.tree.root().hex()}", where)
        prev = self.previous
        if prev is None:
            if "consistency" in o:
                raise Problem("consistency", "the first head has no head before it to be consistent with", where)
        else:
            if o["timestamp"] < prev["timestamp"]:
                raise Problem("timestamp", f"earlier than the head of size {prev['treeSize']} before it", where)
            if "consistency" not in o:
                raise Problem("consistency", f"missing: no proof from size {prev['treeSize']}", where)
            proof = [bytes.fromhex(x) for x in o["consistency"]]
            if not verify_consistency(prev["treeSize"], size, bytes.fromhex(prev["rootHash"]), root, proof):
                raise Problem(
                    "consistency", f"the proof from size {prev['treeSize']} to {size} does not verify", where
                )
        self.previous = o

    def check_entry(self, e: dict) -> None:
        index = e["index"]
        if index != self.tree.size:
            raise Problem("index", f"expected {self.tree.size} (entries dropped or reordered)")
        leaf_hash = sha256(b"\x00", leaf_of(e))
        if leaf_hash.hex() != e["leafHash"]:
            raise Problem("leafHash", f"the fields hash to {leaf_hash.hex()} (altered)")
        self.check_signed(e)
        self.tree.append(leaf_hash)

    def check_signed(self, e: dict) -> None:
        kind, version = e["kind"], e["version"]
        if kind not in CONTEXTS:
            # Section 1's table names four kinds; anything else cannot be held to its transcript.
            raise Problem("kind", f"{kind!r} is not a signed response this verifier can check")
        if "chainDigest" not in e:
            raise Problem("chainDigest", "absent: the entry records no chain or key, its signature proves nothing")
        chain = self.chains.get(e["chainDigest"])
        if chain is None:
            raise Problem("chainDigest", "no chain line with this digest comes before the entry")
        hash_cls = HASHES.get(e["hashAlgo"])
        if hash_cls is None:
            raise Problem("hashAlgo", f"0x{e['hashAlgo']:x} is not a hash this verifier knows")
        h = hash_cls.digest_size
        transcript = bytes.fromhex(e["transcript"])
        th = hash_of(e["hashAlgo"], transcript)
        if th.hex() != e["transcriptHash"]:
            raise Problem("transcriptHash", "not Hash(transcript)")

        s = read_transcript(e, transcript, h)
        t = s.transcript
        assert t is not None
        # version: every message after VERSION carries it.
        for m in t.messages[2 if t.algorithms else 0 :]:
            if m.version != version:
                raise Problem("version", f"0x{version:02x}, but the message at byte {m.offset} is SPDM 0x{m.version:02x}")
        if s.slot != e["slot"]:
            raise Problem("slot", f"{e['slot']}, but the signed request names slot {s.slot}")
        if t.algorithms is not None:
            a = t.algorithms.raw
            signed = {
                "asymAlgo": le(a[12:16]),
                "hashAlgo": le(a[16:20]),
                "measurementHashAlgo": le(a[8:12]),
                "measurementSpec": a[6],
                "otherParams": a[7] if t.algorithms.version >= 0x12 else 0,
            }
            for name, value in signed.items():
                if e[name] != value:
                    raise Problem(name, f"0x{e[name]:x}, but the signed ALGORITHMS selected 0x{value:x}")
        if bytes.fromhex(e["requesterNonce"]) != s.requester_nonce:
            raise Problem("requesterNonce", "not the nonce of the signed request")
        if bytes.fromhex(e["responderNonce"]) != s.responder_nonce:
            raise Problem("responderNonce", "not the nonce of the signed response")
        if s.requester_context is None:
            if "requesterContext" in e:
                raise Problem("requesterContext", "present, but the signed request carries none")
        elif "requesterContext" not in e:
            raise Problem("requesterContext", "absent, but the signed request carries one")
        elif bytes.fromhex(e["requesterContext"]) != s.requester_context:
            raise Problem("requesterContext", "not the one of the signed request")
        expected_context = CONTEXTS[kind] if version >= 0x12 else ""
        if e["context"] != expected_context:
            raise Problem("context", f"{e['context']!r}, but a {kind} of SPDM 0x{version:02x} is signed with {expected_context!r}")
        msh = bytes.fromhex(e["measurementSummaryHash"]) if "measurementSummaryHash" in e else None
        if msh != s.summary_hash:
            raise Problem("measurementSummaryHash", "not the MeasurementSummaryHash of the signed response")
        if s.chain_hash is not None and s.chain_hash != hash_of(e["hashAlgo"], chain):
            what = "CertChainHash" if kind == "CHALLENGE_AUTH" else "Ct"
            raise Problem("chainDigest", f"the recorded chain does not hash to the signed {what}")
        signed_blocks = set(s.blocks)
        for i, b in enumerate(e["measurements"]):
            if kind != "MEASUREMENTS":
                raise Problem("measurements", f"a {kind} entry signs no measurement blocks")
            if bytes.fromhex(b) not in signed_blocks:
                raise Problem(f"measurements[{i}]", "not a block of a MEASUREMENTS response in the signed transcript")

        key = self.device_key(e, chain, h)
        ok = signature_ok(e, key, signed_message(e, transcript, th), bytes.fromhex(e["signature"]))
        if ok and not e["verified"]:
            raise Problem("verified", "false, but the signature verifies")
        if not ok:
            if e["verified"]:
                raise Problem("signature", "does not verify with the recorded key")
            self.warnings.append(f"entry {e['index']}: signature: did not verify at receipt either (logged as such)")

    @staticmethod
    def device_key(e: dict, chain: bytes, hash_size: int):
        if e["slot"] == 0xFF:
            # Slot 0xFF: what the chain line holds is the provisioned key's DER SubjectPublicKeyInfo.
            try:
                return serialization.load_der_public_key(chain)
            except ValueError as err:
                raise Problem("chainDigest", f"slot 0xFF: not a DER SubjectPublicKeyInfo: {err}") from None
        return leaf_public_key(chain, hash_size)

    def finish(self) -> None:
        if self.header is None:
            raise Problem("(file)", "empty export", "header")
        if not self.last_was_head or self.previous is None:
            raise Problem("(file)", "the export does not end with a signed tree head (cut short?)", "sth")
        if self.previous["treeSize"] != self.header["treeSize"]:
            raise Problem(
                "treeSize",
                f"the last head has size {self.previous['treeSize']}, the header announces {self.header['treeSize']}",
                "sth",
            )


def no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def load_pubkey(path: str) -> bytes:
    """The pinned log key: SPKI PEM (the log's .pub file), or DER."""
    data = Path(path).read_bytes()
    key = serialization.load_pem_public_key(data) if b"-----BEGIN" in data else serialization.load_der_public_key(data)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("the log key must be Ed25519")
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_file(path: str, pinned_spki: bytes, schema: dict) -> tuple[Verifier, Problem | None, int]:
    v = Verifier(schema, pinned_spki)
    line_no = 0
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            o = None
            try:
                try:
                    o = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
                except (UnicodeDecodeError, ValueError) as err:
                    raise Problem("(line)", f"not JSON: {err}") from None
                try:
                    v.line(o)
                except Problem:
                    raise
                except Exception as err:  # noqa: BLE001 - hostile input: anything unforeseen is a refusal, never a pass
                    raise Problem("(line)", f"cannot be checked: {type(err).__name__}: {err}") from None
            except Problem as p:
                if p.where is None:
                    if isinstance(o, dict) and o.get("type") == "entry" and isinstance(o.get("index"), int):
                        p.where = f"entry {o['index']}"
                    else:
                        p.where = o.get("type", "line") if isinstance(o, dict) and isinstance(o.get("type"), str) else "line"
                return v, p, line_no
    try:
        v.finish()
    except Problem as p:
        return v, p, line_no
    return v, None, line_no


def main() -> int:
    ap = argparse.ArgumentParser(description="Re-verify a spdmkit signature log export (docs/log-format.md).")
    ap.add_argument("export")
    ap.add_argument("--pubkey", required=True, help="the pinned log key: SPKI PEM (.pub) or DER")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--schema", default=str(Path(__file__).resolve().parents[2] / "schemas" / "log-export.schema.json"))
    a = ap.parse_args()
    try:
        pinned = load_pubkey(a.pubkey)
        schema = json.loads(Path(a.schema).read_text("utf-8"))
    except (OSError, ValueError) as err:
        print(f"remote_verifier: {err}", file=sys.stderr)
        return 2
    v, problem, line_no = verify_file(a.export, pinned, schema)
    for w in v.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if problem is None:
        if a.json:
            print(json.dumps({"ok": True, "entries": v.tree.size, "rootHash": v.tree.root().hex(), "warnings": v.warnings}))
        else:
            print(f"OK {v.tree.size} entries")
        return 0
    if a.json:
        print(
            json.dumps(
                {"ok": False, "where": problem.where, "field": problem.field, "reason": problem.reason, "line": line_no}
            )
        )
    else:
        print(f"{problem.where}: {problem.field}: {problem.reason} (line {line_no})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
