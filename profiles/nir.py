"""NIR / matricule INS key check (FACTS §1.3, §8 item 3).

Matricule = 13 characters + 2-digit key. Key = 97 − (N mod 97), N being the 13 characters read
as a number after replacing the Corsican department ``2A`` by ``19`` and ``2B`` by ``18``.
Applied to identifiers whose system is an INS OID (FACTS §1.1: ``.8`` NIR, ``.9`` NIA, ``.10``
TEST, ``.11`` DEMO).
"""

from __future__ import annotations

import re
from typing import Any

from ins import INS_SYSTEMS, nir_key
from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId

#: the INS systems and the key rule have one home: ``ins``'s public API
INS_OIDS = frozenset(INS_SYSTEMS)
_FORMAT = re.compile(r"^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")
expected_key = nir_key


def check_value(value: str) -> tuple[bool, int | None]:
    """(format ok, expected key or None when the format is wrong)."""
    if not _FORMAT.match(value):
        return False, None
    return True, expected_key(value[:13])


def check(ctx: Ctx, identifier: Any, loc: str) -> None:
    if not isinstance(identifier, dict) or not isinstance(identifier.get("system"), str) \
            or identifier["system"] not in INS_OIDS:
        return
    value = identifier.get("value")
    if not isinstance(value, str):
        return
    ok, exp = check_value(value)
    at = f"{loc}.value"
    if not ok or exp is None:
        ctx.error(IssueType.VALUE, at, MsgId.NIR_FORMAT, value=value)
        return
    found = int(value[13:])
    if found != exp:
        ctx.error(IssueType.BUSINESS_RULE, at, MsgId.NIR_KEY, value=value, found=f"{found:02d}",
                  expected=f"{exp:02d}")
