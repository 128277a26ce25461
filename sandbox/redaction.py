"""Secrets out of the evidence (DESIGN "Shared sandbox: who may do what").

Before an exchange is written, every live secret in its bodies and summary is replaced by
``redacted:<16 hex>``: the HMAC-SHA256 of the secret under a salt kept once per deployment (table
``deployment_secrets``), cut to 64 bits. The same secret gives the same mark everywhere, so a
runner still correlates "the code issued here is the code redeemed there", and the mark is useless
to replay. What is a secret:

- JSON members named like OAuth/OIDC credentials (RFC 6749 §5.1 ``access_token``,
  ``refresh_token``; OIDC Core §3.1.3.3 ``id_token``; RFC 7591 ``client_secret``; RFC 7636
  ``code_verifier``; ``password``; the sandbox's ``api_key``; RFC 7523 ``client_assertion``);
- the same names, plus ``code`` and ``token`` (RFC 7662), as form or query parameters;
- anything shaped like a JWS/JWE compact serialisation (``eyJ…``), wherever it appears (HTML
  pages, SOAP, logs);
- the sandbox's opaque credentials by their prefix (authorization codes, refresh tokens, API keys);
- PEM private keys.

Headers are not stored as evidence (``Authorization``, cookies and client certificates never reach
the database); the summary's query string goes through the same rules as a form body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

JSON_SECRET_NAMES = ("access_token", "refresh_token", "id_token", "client_secret", "code_verifier",
                     "password", "api_key", "client_assertion", "subject_token", "actor_token")
FORM_SECRET_NAMES = (*JSON_SECRET_NAMES, "code", "token", "assertion", "id_token_hint")
OPAQUE_PREFIXES = ("psc-ac", "psc-rt", "msbo", r"msbw\.[a-z0-9_-]{1,64}")

_JSON_MEMBER = re.compile(
    rb'("(?:' + b"|".join(n.encode() for n in JSON_SECRET_NAMES) + rb')"\s*:\s*")((?:[^"\\]|\\.)*)(")')
_FORM_PARAM = re.compile(
    rb"((?:^|[&?;\s])(?:" + b"|".join(n.encode() for n in FORM_SECRET_NAMES) + rb")=)([^&#\s\"'<]+)")
_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,4}")
_OPAQUE = re.compile(rb"\b(?:" + b"|".join(p.encode() for p in OPAQUE_PREFIXES) + rb")\.[A-Za-z0-9_-]{20,}")
_PEM_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)
_JSON_HINTS = tuple(f'{n}"'.encode() for n in JSON_SECRET_NAMES)
_OPAQUE_HINTS = (b"psc-ac.", b"psc-rt.", b"msbo.", b"msbw.")
#: the literal every form-parameter match holds: the regex runs only where one of them is (on a
#: 10 kB ITI-65 bundle or a mail, whose base64 holds "=", it was most of the evidence writer's time)
_FORM_HINTS = tuple(f"{n}=".encode() for n in FORM_SECRET_NAMES)
#: one scan for every hint above: a short value without any needs none of the rules
_ANY_HINT = re.compile(b"|".join(re.escape(h) for h in (b"eyJ", *_OPAQUE_HINTS, *_JSON_HINTS, b"=",
                                                         b"PRIVATE KEY-----")))
#: up to this size one regex scan is cheaper than the rules' substring tests (Python calls), beyond
#: it dearer (an alternation is tried at each byte, a substring test runs at memchr speed)
ONE_SCAN_BELOW = 4096
MARK = b"redacted:"


def _nothing_to_redact(data: bytes) -> bool:
    """True for a short value holding no hint of any rule (one scan, :data:`ONE_SCAN_BELOW`)."""
    return len(data) < ONE_SCAN_BELOW and _ANY_HINT.search(data) is None


class Redactor:
    """Replaces live secrets by salted marks (see the module docstring)."""

    def __init__(self, salt: bytes) -> None:
        self.salt = salt

    def mark(self, secret: bytes) -> bytes:
        if secret.startswith(MARK):
            return secret
        return MARK + hmac.new(self.salt, secret, hashlib.sha256).hexdigest()[:16].encode()

    def mark_text(self, secret: str) -> str:
        return self.mark(secret.encode("utf-8")).decode()

    def body(self, data: bytes, content_type: str = "") -> bytes:
        """``data`` with every secret replaced (fast paths: each rule runs only if its hint is there)."""
        if _nothing_to_redact(data):
            return data
        if b"eyJ" in data:
            data = _JWT.sub(lambda m: self.mark(m.group(0)), data)
        if any(h in data for h in _OPAQUE_HINTS):
            data = _OPAQUE.sub(lambda m: self.mark(m.group(0)), data)
        if any(h in data for h in _JSON_HINTS):
            data = _JSON_MEMBER.sub(lambda m: m.group(1) + self.mark(m.group(2)) + m.group(3), data)
        if (len(data) < 65536 or "form" in content_type) and any(h in data for h in _FORM_HINTS):
            data = _FORM_PARAM.sub(lambda m: m.group(1) + self.mark(m.group(2)), data)
        if b"PRIVATE KEY-----" in data:
            data = _PEM_KEY.sub(lambda m: self.mark(m.group(0)), data)
        return data

    def text(self, value: str) -> str:
        data = value.encode("utf-8", "surrogateescape")
        if _nothing_to_redact(data):
            return value
        return self.body(data).decode("utf-8", "surrogateescape")

    def summary(self, value: Any) -> Any:
        """A summary dict (or any JSON value) with secrets replaced, keys named as secrets included."""
        if isinstance(value, dict):
            return {k: (self.mark_text(str(v)) if k in JSON_SECRET_NAMES and v else self.summary(v))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.summary(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
