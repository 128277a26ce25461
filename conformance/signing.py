"""The sandbox's report-signing key (Ed25519) and the detached JWS over a report (DESIGN
"Reports"; RFC 7515 Appendix F for detached content, RFC 9864 for the ``Ed25519`` algorithm name).

One key for the deployment: it lives in the database beside the test PKI (table ``pki_material``,
row ``report-signing``, the private key sealed with the PKI secret every node shares, see
:mod:`sandbox.pki_store`), so a report verifies with the key of whichever node is asked. The first
node to start creates it (race-safe); a key file of an older version
(``<data_dir>/pki/conformance-signing-key.pem``) is imported on that first start, so the reports it
signed still verify. Each node exports the public half to ``<data_dir>/pki/conformance-signing-key.pub.pem``
for ``mes-sandbox conformance verify``; the public key is served as a JWK at
``/conformance/api/signing-key`` and printed by ``mes-sandbox pki show``. Its ``kid`` is the RFC 7638
thumbprint, so anyone can recompute it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from sandbox import pki_store
from sandbox.files import write_atomically

if TYPE_CHECKING:
    from sandbox.db import Database
    from sandbox.settings import Settings

ALG = "Ed25519"
#: the row of ``pki_material`` holding the key
ROW = "report-signing"
#: the key file of versions that kept the key per node, imported once
LEGACY_KEY_FILE = "conformance-signing-key.pem"
PUBLIC_FILE = "conformance-signing-key.pub.pem"


class SignatureError(ValueError):
    """A detached JWS that does not verify with the trusted key."""


def generate() -> OKPKey:
    """A new Ed25519 signing key."""
    return OKPKey.generate_key("Ed25519")


def _pems(private: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return public, private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())


def _proposal(pki_dir: Path) -> tuple[bytes, bytes]:
    """This node's candidate: the key file an older version left (its reports keep verifying), or a new key."""
    legacy = pki_dir / LEGACY_KEY_FILE
    if legacy.exists():
        key = serialization.load_pem_private_key(legacy.read_bytes(), None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{legacy} is not an Ed25519 private key")
        return _pems(key)
    return _pems(Ed25519PrivateKey.generate())


async def load_shared(db: Database, pki_dir: Path, secret_path: Path) -> OKPKey:
    """The deployment's signing key from ``db`` (created, or imported from ``pki_dir``'s old key
    file, by the first node), its public half exported to ``pki_dir``."""
    public, private = await pki_store.shared_key(db, secret_path, ROW, lambda: _proposal(pki_dir))
    path = pki_dir / PUBLIC_FILE
    if not path.exists() or path.read_bytes() != public:
        # a public key, readable by the auditor's account; workers of one data folder write the same bytes
        write_atomically(path, public, mode=0o644)
    return OKPKey.import_key(private)


def for_settings(settings: Settings) -> OKPKey:
    """For commands: the deployment's key in the settings' database (migrated and its PKI synced
    first, as by :func:`sandbox.pki_store.synced`)."""
    import asyncio

    from sandbox.db import Database

    async def _run() -> OKPKey:
        db = Database(settings.database_url)
        try:
            return await load_shared(db, settings.pki_dir, settings.pki_secret_path)
        finally:
            await db.dispose()

    return asyncio.run(_run())


def local_public(pki_dir: Path) -> OKPKey | None:
    """Offline: the public key a node of this data folder exported (or the older version's key
    file when no node of this version has started here yet); ``None`` when there is neither."""
    for name in (PUBLIC_FILE, LEGACY_KEY_FILE):
        path = pki_dir / name
        if path.exists():
            return import_public(path.read_bytes())
    return None


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
