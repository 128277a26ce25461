"""PKCE (RFC 7636): only the ``S256`` method; ``plain`` is refused (RFC 9700 §2.1.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # §4.1
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9\-_]{43}$")  # base64url(SHA-256) without padding
METHODS = ("S256",)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_challenge(challenge: str | None, method: str | None) -> str | None:
    """Why the authorization request's PKCE parameters are wrong, or None."""
    if challenge is None:
        return "code_challenge_method without code_challenge" if method else None
    if (method or "plain") not in METHODS:
        return f"code_challenge_method {method or 'plain'!r} not supported: use S256"
    if not CHALLENGE_RE.match(challenge):
        return "code_challenge must be the base64url SHA-256 of the verifier (43 characters)"
    return None


def verifier_matches(verifier: str, challenge: str) -> bool:
    return bool(VERIFIER_RE.match(verifier)) and hmac.compare_digest(s256(verifier), challenge)
