"""The sandbox's report-signing key (Ed25519) and the detached JWS over a report (DESIGN
"Reports"; RFC 7515 Appendix F for detached content, RFC 9864 for the ``Ed25519`` algorithm name).

The key is created once in the test PKI folder (``<data_dir>/pki/conformance-signing-key.pem``,
mode 0600) and its public half is served as a JWK at ``/conformance/api/signing-key`` and printed by
``mes-sandbox pki show``. Its ``kid`` is the RFC 7638 thumbprint, so anyone can recompute it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

ALG = "Ed25519"
KEY_FILE = "conformance-signing-key.pem"


class SignatureError(ValueError):
    """A detached JWS that does not verify with the trusted key."""


def key_path(pki_dir: Path) -> Path:
    return pki_dir / KEY_FILE


def load_or_create(pki_dir: Path) -> OKPKey:
    """The signing key of the sandbox whose PKI folder is ``pki_dir`` (created on first use)."""
    path = key_path(pki_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)  # atomic: two processes starting together end with one key
    return OKPKey.import_key(path.read_bytes())


def public_jwk(key: OKPKey) -> dict[str, Any]:
    """The public key as a JWK with its ``kid``, ``alg`` and ``use``."""
    jwk = key.as_dict(private=False)
    return {**jwk, "kid": key.thumbprint(), "alg": ALG, "use": "sig"}


def import_public(data: dict[str, Any] | bytes) -> OKPKey:
    """A trusted public key from a JWK (dict or JSON bytes) or a PEM file's bytes."""
    if isinstance(data, dict):
        return OKPKey.import_key({k: v for k, v in data.items() if k in ("kty", "crv", "x")})
    return OKPKey.import_key(data)


def sign_detached(payload: bytes, key: OKPKey) -> str:
    """``<protected>..<signature>``: a compact JWS with the payload left out."""
    token = jws.serialize_compact({"alg": ALG, "kid": key.thumbprint()}, payload, key, algorithms=[ALG])
    head, _, sig = token.split(".")
    return f"{head}..{sig}"


def header_of(detached: str) -> dict[str, Any]:
    head = detached.split(".")[0]
    try:
        data = json.loads(urlsafe_b64decode(head.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise SignatureError(f"the signature's header is not base64url JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SignatureError("the signature's header is not a JSON object")
    return data


def _attach(detached: str, payload: bytes) -> str:
    parts = detached.split(".")
    if len(parts) != 3 or parts[1]:
        raise SignatureError("the signature is not a detached compact JWS (<header>..<signature>)")
    return f"{parts[0]}.{urlsafe_b64encode(payload).decode()}.{parts[2]}"


def _strict_b64(segment: str) -> None:
    """base64url has several spellings of one value (the unused low bits of the last character);
    only the canonical one is accepted, so no byte of a signed file can change unnoticed."""
    try:
        canonical = urlsafe_b64encode(urlsafe_b64decode(segment.encode("ascii"))).decode()
    except (ValueError, UnicodeError):
        raise SignatureError("a JWS segment is not base64url") from None
    if canonical != segment:
        raise SignatureError("a JWS segment is not in canonical base64url form")


def verify_detached(detached: str, payload: bytes, key: OKPKey) -> None:
    """Raise :class:`SignatureError` unless ``detached`` signs ``payload`` with ``key``."""
    for segment in detached.split(".")[::2]:
        _strict_b64(segment)
    try:
        jws.deserialize_compact(_attach(detached, payload), key, algorithms=[ALG])
    except (JoseError, ValueError) as exc:
        raise SignatureError(str(exc) or type(exc).__name__) from None
