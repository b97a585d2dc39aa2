#!/usr/bin/env python3
"""An EAR (draft-ietf-rats-ear) JWT verifier written from RFC 7515/7518/7638/8037, independent of
jose and of spdmkit: it splits the compact JWS, checks the protected header (typ eat+jwt, an alg
this verifier knows, a kid naming a key of the JWKS whose RFC 7638 thumbprint it is), verifies the
signature with `cryptography`, and prints the claims-set as JSON.

Usage: ear_verify.py TOKEN_FILE JWKS_FILE
Exit 0 and the claims JSON on stdout when the token verifies; exit 1 and the reason on stderr when not.
"""
import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

EAR_PROFILE = "tag:ietf.org,2026:rats/ear#04"

# RFC 7518 section 3.4: the curve, its hash, and the byte length of each of r and s.
EC_ALGS = {
    "ES256": (ec.SECP256R1(), hashes.SHA256(), 32, "P-256"),
    "ES384": (ec.SECP384R1(), hashes.SHA384(), 48, "P-384"),
}


class Refused(Exception):
    pass


def b64url_decode(part):
    # Base64url without padding (RFC 7515 section 2); anything outside the alphabet is refused.
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in part):
        raise Refused("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk):
    # RFC 7638 section 3.2: the required members only, lexicographic order, no whitespace.
    if jwk["kty"] == "EC":
        members = {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}
    elif jwk["kty"] == "OKP":
        members = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
    else:
        raise Refused("unsupported kty " + str(jwk["kty"]))
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


def verify(token, jwks):
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise Refused("not a compact JWS")
    header = json.loads(b64url_decode(parts[0]))
    if header.get("typ") != "eat+jwt":
        raise Refused("typ is " + repr(header.get("typ")))
    alg = header.get("alg")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise Refused("no kid")
    candidates = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if len(candidates) != 1:
        raise Refused("no single JWKS key has kid " + kid)
    jwk = candidates[0]
    if thumbprint(jwk) != kid:
        raise Refused("the kid is not the key's RFC 7638 thumbprint")
    if jwk.get("alg") not in (None, alg):
        raise Refused("the key is for " + str(jwk.get("alg")) + ", the header says " + str(alg))
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    signature = b64url_decode(parts[2])
    if alg in EC_ALGS:
        curve, digest, size, crv = EC_ALGS[alg]
        if jwk.get("kty") != "EC" or jwk.get("crv") != crv:
            raise Refused("the key is not " + crv)
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        public = ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
        # JWS carries R || S as fixed-width big-endian integers (RFC 7518 section 3.4); cryptography wants DER.
        if len(signature) != 2 * size:
            raise Refused("the signature is not %d bytes" % (2 * size))
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            public.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
        except InvalidSignature:
            raise Refused("the signature does not verify")
    elif alg == "EdDSA":
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise Refused("the key is not Ed25519")
        public = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        try:
            public.verify(signature, signing_input)
        except InvalidSignature:
            raise Refused("the signature does not verify")
    else:
        raise Refused("alg " + repr(alg) + " is not accepted")
    claims = json.loads(b64url_decode(parts[1]))
    if claims.get("eat_profile") != EAR_PROFILE:
        raise Refused("eat_profile is " + repr(claims.get("eat_profile")))
    if not isinstance(claims.get("iat"), int):
        raise Refused("iat is not an integer")
    return claims


def main(argv):
    if len(argv) != 3:
        print("usage: ear_verify.py TOKEN_FILE JWKS_FILE", file=sys.stderr)
        return 2
    with open(argv[1], encoding="ascii") as f:
        token = f.read()
    with open(argv[2], encoding="utf-8") as f:
        jwks = json.load(f)
    try:
        claims = verify(token, jwks)
    except (Refused, ValueError, KeyError, TypeError) as e:
        print("refused: " + str(e), file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
