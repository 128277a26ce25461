"""Datatype limits that hold whatever the profile (FHIR R4 §2.24 datatypes).

- ``Attachment.size`` is the number of bytes of the content and ``Attachment.hash`` its SHA-1 in
  base64 (R4 §2.24.0.11 Attachment): when ``data`` is present, both are compared with the decoded
  data.
- A ``string`` SHALL NOT exceed 1 MB (R4 §2.24.0.1 "string": 1024 × 1024 characters). Checked on
  every string of the resource except ``data`` (base64Binary content of Attachment and Binary) and
  the narrative ``div`` (xhtml, not a string).

Both are looked for only when the serialised resource can hold them (its size, a ``"data"`` key),
so a resource without attachments or long strings costs one substring search.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId

STRING_LIMIT = 1024 * 1024
_NOT_STRINGS = frozenset(("data", "div"))


def check_limits(ctx: Ctx, res: dict[str, Any], loc: str, raw: bytes) -> None:
    """``raw`` is ``res`` serialised (to decide cheaply whether to walk at all)."""
    long = len(raw) > STRING_LIMIT
    if long or b'"data"' in raw:
        _walk(ctx, res, loc, long, True)


def _walk(ctx: Ctx, node: Any, loc: str, long: bool, top: bool) -> None:
    if isinstance(node, dict):
        if not top and node.get("resourceType") is not None and isinstance(node.get("resourceType"), str):
            return  # contained / entry resources are checked on their own
        data = node.get("data")
        if isinstance(data, str) and ("size" in node or "hash" in node):
            _attachment(ctx, node, data, loc)
        for k, v in node.items():
            if isinstance(v, str):
                if long and len(v) > STRING_LIMIT and k not in _NOT_STRINGS:
                    ctx.error(IssueType.VALUE, f"{loc}.{k}", MsgId.STRING_TOO_LONG, length=len(v))
            elif isinstance(v, dict):
                _walk(ctx, v, f"{loc}.{k}", long, False)
            elif isinstance(v, list):
                for i, x in enumerate(v):
                    if isinstance(x, str):
                        if long and len(x) > STRING_LIMIT and k not in _NOT_STRINGS:
                            ctx.error(IssueType.VALUE, f"{loc}.{k}[{i}]", MsgId.STRING_TOO_LONG, length=len(x))
                    elif isinstance(x, (dict, list)):
                        _walk(ctx, x, f"{loc}.{k}[{i}]", long, False)


def _attachment(ctx: Ctx, att: dict[str, Any], data: str, loc: str) -> None:
    try:
        content = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return  # the base walker reports malformed base64
    size = att.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != len(content):
        ctx.error(IssueType.VALUE, f"{loc}.size", MsgId.ATTACHMENT_SIZE, found=size, expected=len(content))
    digest = att.get("hash")
    if isinstance(digest, str):
        expected = base64.b64encode(hashlib.sha1(content).digest()).decode()  # noqa: S324 - R4 names SHA-1
        if digest != expected:
            ctx.error(IssueType.VALUE, f"{loc}.hash", MsgId.ATTACHMENT_HASH, found=digest, expected=expected)
