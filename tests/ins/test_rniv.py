"""RNIV statuses and transitions as a pure function (FACTS §1.4, Appendix B)."""

from __future__ import annotations

import pytest

from ins.messages import MsgId
from ins.rniv import Event, Status, check_transition, criteria, may_transmit_ins, status_of, transition


def test_paths_to_qualified():
    assert transition(Status.PROV, Event.INSI_SUCCESS) is Status.RECUP
    assert transition(Status.RECUP, Event.DOCUMENT_CHECKED) is Status.QUAL
    assert transition(Status.PROV, Event.DOCUMENT_CHECKED) is Status.VALI
    assert transition(Status.VALI, Event.INSI_SUCCESS) is Status.QUAL


@pytest.mark.parametrize(("status", "expected"), [
    (Status.QUAL, Status.VALI), (Status.RECUP, Status.PROV), (Status.VALI, Status.VALI),
    (Status.PROV, Status.PROV),
])
def test_losing_the_insi_criterion(status, expected):
    assert transition(status, Event.INSI_LOST) is expected


def test_idempotent_events_are_reported():
    assert transition(Status.QUAL, Event.INSI_SUCCESS) is Status.QUAL
    (problem,) = check_transition(Status.VALI, Event.DOCUMENT_CHECKED)
    assert problem.msg_id is MsgId.RNIV_TRANSITION
    assert check_transition(Status.PROV, Event.INSI_SUCCESS) == []


def test_criteria_table_is_a_bijection():
    assert {status_of(*criteria(s)) for s in Status} == set(Status)
    assert criteria(Status.RECUP) == (True, False) and criteria(Status.VALI) == (False, True)


def test_only_qualified_transmits_the_ins():
    assert [s for s in Status if may_transmit_ins(s)] == [Status.QUAL]


def test_transition_accepts_plain_strings():
    assert transition("PROV", Event.INSI_SUCCESS) is Status.RECUP
