"""Outcomes of a conformance test and their one roll-up (STYLE §2 and §3; Inferno's
``result_summarizer`` is the model).

Precedence, strongest first — the roll-up of a set of outcomes is the strongest one present:

    error > fail > wait > cancel > skip > pass > omit

- ``error``: the runner or a test crashed (our bug or a setup problem); says nothing about the
  vendor's software and must never be hidden by a pass or a fail.
- ``fail``: the vendor's software did something wrong (what and where is in the messages).
- ``wait``: still waiting for the vendor's software (only while a run is live; a timeout turns
  the wait into a ``fail`` naming what never arrived).
- ``cancel``: the run was cancelled before the test finished.
- ``skip``: the test could not be judged (a precondition the vendor did not meet): not a pass.
- ``pass``: every check held.
- ``omit``: the test does not apply (e.g. an option the software does not claim); it never
  weakens or strengthens anything, so an empty set rolls up to ``omit``.

Optional tests do not count in a group's verdict unless every test of the group is optional
(:func:`roll_up_results`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    OMIT = "omit"
    ERROR = "error"
    WAIT = "wait"
    CANCEL = "cancel"


#: strongest first; the one written precedence every verdict in a report comes from
PRECEDENCE: tuple[Outcome, ...] = (
    Outcome.ERROR, Outcome.FAIL, Outcome.WAIT, Outcome.CANCEL, Outcome.SKIP, Outcome.PASS, Outcome.OMIT,
)
_RANK = {o: i for i, o in enumerate(PRECEDENCE)}


def roll_up(outcomes: Iterable[Outcome | str]) -> Outcome:
    """The strongest outcome of ``outcomes`` by :data:`PRECEDENCE`; ``omit`` when empty."""
    best = Outcome.OMIT
    for o in outcomes:
        o = Outcome(o)
        if _RANK[o] < _RANK[best]:
            best = o
    return best


def roll_up_results(results: Iterable[tuple[Outcome | str, bool]]) -> Outcome:
    """Roll up ``(outcome, optional)`` pairs: optional ones count only when all are optional."""
    pairs = [(Outcome(o), opt) for o, opt in results]
    required = [o for o, opt in pairs if not opt]
    return roll_up(required if required else [o for o, _ in pairs])
