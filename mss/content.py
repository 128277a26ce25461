"""The one place the transport calls the content checks (``mss.checks.check_message``, FACTS
§2.3–2.5): IHE XDM, CDA header, ``X-MSS-*`` headers, the MDN error code. The checks are
synchronous and CPU-bound, so they run in a thread, off the event loop.

Until the content checks are present in this tree, :func:`inspect` falls back to the envelope
facts only (no findings): the transport keeps working and says so in the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Inspection:
    """What the transport needs from the checks; ``as_json`` is stored with the message."""

    patient_ins: str | None
    patient_count: int
    mdn_error: tuple[int, str] | None
    as_json: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.as_json.get("findings", []))


def _check(raw: bytes, known_ins: Callable[[str], bool] | None, lang: str) -> Inspection:
    try:
        from mss.checks import check_message  # the content checks (issue 17, second half)
    except ImportError:
        return _envelope_only(raw)
    result = check_message(raw, known_ins=known_ins, lang=lang)
    return Inspection(result.patient_ins, result.patient_count, result.mdn_error, result.to_json())


def _envelope_only(_raw: bytes) -> Inspection:
    return Inspection(None, 0, None, {"findings": [], "checks": "unavailable"})


async def inspect(raw: bytes, *, known_ins: Callable[[str], bool] | None = None, lang: str = "fr") -> Inspection:
    """Run the content checks on ``raw`` in a worker thread."""
    return await asyncio.to_thread(_check, raw, known_ins, lang)
