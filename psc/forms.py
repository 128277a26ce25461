"""Strict parsing of OAuth parameters (RFC 6749 §3.1, §3.2, appendix B).

Parameters appear at most once; a parameter sent without a value is treated as omitted; the token
and introspection endpoints take ``application/x-www-form-urlencoded`` bodies only; sizes are
bounded so an oversized request gets a clear ``invalid_request`` rather than a crash.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from psc.errors import InvalidRequest

MAX_FORM_BYTES = 64 * 1024
MAX_QUERY_BYTES = 8 * 1024
MAX_FIELDS = 64
MAX_VALUE = 4096
FORM_TYPE = "application/x-www-form-urlencoded"


def parse_params(raw: str, *, limit: int) -> dict[str, str]:
    if len(raw) > limit:
        raise InvalidRequest(f"request parameters larger than {limit} bytes")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise InvalidRequest(f"more than {MAX_FIELDS} parameters or malformed encoding") from None
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise InvalidRequest(f"parameter {name!r} is repeated (RFC 6749 §3.1)")
        if len(value) > MAX_VALUE:
            raise InvalidRequest(f"parameter {name!r} is longer than {MAX_VALUE} characters")
        if value != "":
            out[name] = value
        else:
            out.setdefault(name, "")
    return {k: v for k, v in out.items() if v != ""}


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """A token/introspection request body."""
    if not (content_type or "").split(";")[0].strip().lower() == FORM_TYPE:
        raise InvalidRequest(f"the request body must be {FORM_TYPE}")
    if len(body) > MAX_FORM_BYTES:
        raise InvalidRequest(f"request body larger than {MAX_FORM_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not UTF-8") from None
    return parse_params(text, limit=MAX_FORM_BYTES)
