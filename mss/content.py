"""The one place the transport calls the content checks (:func:`mss.checks.check_message`; FACTS
§2.3–2.5): IHE XDM, CDA header, ``X-MSS-*`` headers, the MDN error code. The checks are
synchronous and CPU-bound, so they run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mss.checks import check_message


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
    result = check_message(raw, known_ins=known_ins, lang=lang)
    return Inspection(result.patient_ins, result.patient_count, result.mdn_error, result.to_json())


async def inspect(raw: bytes, *, known_ins: Callable[[str], bool] | None = None, lang: str = "fr") -> Inspection:
    """Run the content checks on ``raw`` in a worker thread."""
    return await asyncio.to_thread(_check, raw, known_ins, lang)
