"""RNIV identity trust statuses and their transitions (FACTS §1.4, Appendix B).

Two independent criteria give four mutually exclusive statuses:

============  ========================  ================================
status        INS retrieved via INSi     checked against an ID document
============  ========================  ================================
``PROV``      no                         no
``RECUP``     yes                        no
``VALI``      no                         yes
``QUAL``      yes                        yes
============  ========================  ================================

Transitions: PROV →(INSi success)→ RECUP →(ID document check)→ QUAL; PROV →(ID document check)→
VALI →(INSi success)→ QUAL. A failed INSi verification or a trait change makes the identity lose the
INSi criterion (QUAL → VALI, RECUP → PROV) [U: RNIV wording, not in FACTS]. Only QUAL allows the
matricule INS to be transmitted.
"""

from __future__ import annotations

from enum import StrEnum

from ins.messages import MsgId, Problem


class Status(StrEnum):
    PROV = "PROV"
    RECUP = "RECUP"
    VALI = "VALI"
    QUAL = "QUAL"


class Event(StrEnum):
    INSI_SUCCESS = "insi_success"  # INS retrieved or verified through INSi (CR 00, traits match)
    DOCUMENT_CHECKED = "document_checked"  # identity checked against a high-trust ID document
    INSI_LOST = "insi_lost"  # INSi verification failed / traits changed: INS no longer trusted


_CRITERIA: dict[Status, tuple[bool, bool]] = {
    Status.PROV: (False, False),
    Status.RECUP: (True, False),
    Status.VALI: (False, True),
    Status.QUAL: (True, True),
}
_BY_CRITERIA = {v: k for k, v in _CRITERIA.items()}


def criteria(status: Status) -> tuple[bool, bool]:
    """(INS retrieved via INSi, checked against an ID document)."""
    return _CRITERIA[status]


def status_of(insi: bool, document: bool) -> Status:
    return _BY_CRITERIA[(insi, document)]


def transition(status: Status, event: Event) -> Status:
    """The status after ``event``; unchanged when the event adds nothing (idempotent)."""
    insi, document = _CRITERIA[Status(status)]
    if event is Event.INSI_SUCCESS:
        insi = True
    elif event is Event.DOCUMENT_CHECKED:
        document = True
    elif event is Event.INSI_LOST:
        insi = False
    return status_of(insi, document)


def check_transition(status: Status, event: Event) -> list[Problem]:
    """A problem when ``event`` does not move ``status`` (e.g. a second document check on VALI)."""
    if transition(status, event) == status:
        return [Problem(MsgId.RNIV_TRANSITION, "identityStatus",
                        {"status": status.value, "event": event.value})]
    return []


def may_transmit_ins(status: Status) -> bool:
    """Only a qualified identity may carry its matricule INS in documents and messages."""
    return status is Status.QUAL
