"""Reading the headers of a stored message (RFC 5322, RFC 2047 encoded words)."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any


def parse(raw: bytes) -> Message:
    """The header block of ``raw`` (the body is not parsed)."""
    return BytesHeaderParser(policy=compat32).parsebytes(raw)


def text(value: Any) -> str:
    """A header value as readable text: encoded words decoded, malformed ones kept as they are."""
    if value is None:
        return ""
    raw = str(value)
    try:
        return str(make_header(decode_header(raw))).strip()
    except (ValueError, LookupError, UnicodeDecodeError):
        return raw.strip()
