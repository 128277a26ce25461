"""Attachment limits that hold whatever the profile (FHIR R4 §2.24.0.11 Attachment).

``Attachment.size`` is the number of bytes of the content and ``Attachment.hash`` its SHA-1 in
base64: when ``data`` is present, both are compared with the decoded data. The base walker
collects the Attachments it meets (``ctx.attachments``), so nothing is walked again. The 1 MB
limit of ``string`` (R4 §2.24.0.1) is a primitive check (:mod:`profiles.primitives`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId


def check_attachments(ctx: Ctx) -> None:
    for att, loc in ctx.attachments:
        data = att.get("data")
        if isinstance(data, str) and ("size" in att or "hash" in att):
            _attachment(ctx, att, data, loc)


def _attachment(ctx: Ctx, att: dict[str, Any], data: str, loc: str) -> None:
    try:
        content = base64.b64decode("".join(data.split()), validate=True)
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
