"""The one place the transport calls the content checks (:func:`mss.checks.check_message`; FACTS
§2.3–2.5): IHE XDM, CDA header, ``X-MSS-*`` headers, the MDN error code. The checks are
synchronous and CPU-bound: a small message (a discharge letter with its ``IHE_XDM.ZIP`` is ~10 KB
and under 1 ms of checks) is checked right on the event loop, a larger one in the process's
bounded CPU pool, so it does not hold the loop for its whole duration (the rule and its reason:
:mod:`sandbox.cpu`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from mss.checks import check_message
from sandbox.cpu import CpuPool


@dataclass(frozen=True)
class Inspection:
    """What the transport needs from the checks; ``as_json`` is stored with the message."""

    patient_ins: str | None
    patient_count: int
    mdn_error: tuple[int, str] | None
    as_json: dict[str, Any] = field(default_factory=dict)
    #: the message's headers as the checks parsed them (None when the message was unreadable)
    headers: Message | None = None

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.as_json.get("findings", []))


def _check(raw: bytes, known_ins: Callable[[str], bool] | None, lang: str) -> Inspection:
    result = check_message(raw, known_ins=known_ins, lang=lang)
    return Inspection(result.patient_ins, result.patient_count, result.mdn_error, result.to_json(), result.message)


async def inspect(raw: bytes, cpu: CpuPool, *, known_ins: Callable[[str], bool] | None = None,
                  lang: str = "fr") -> Inspection:
    """Run the content checks on ``raw``: inline when small, else on a thread of ``cpu``."""
    return await cpu.run(_check, raw, known_ins, lang, size=len(raw))
