"""The test model: outcome precedence, ids, selection, inputs and presets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import (
    PRECEDENCE,
    Group,
    InputSpec,
    ModelError,
    Outcome,
    PresetError,
    Suite,
    Text,
    UnknownIdError,
    load_preset,
    roll_up,
    roll_up_results,
    test,
)

T = Text("t", "t")


async def _nothing(ctx) -> None:  # noqa: ANN001
    return None


def _suite() -> Suite:
    a = test("01", title=T)(_nothing)
    b = test("02", title=T, optional=True)(_nothing)
    c = test("01", title=T)(_nothing)
    return Suite("demo", T, T, "1.0", inputs=(InputSpec("client_id", T), InputSpec("retries", T, int, 3),
                                               InputSpec("note", T, optional=True)),
                 groups=(Group("psc", T, T, (a, b)), Group("dmp", T, T, (c,))))


def test_precedence_is_written_once_and_total() -> None:
    assert [str(o) for o in PRECEDENCE] == ["error", "fail", "wait", "cancel", "skip", "pass", "omit"]
    assert set(PRECEDENCE) == set(Outcome)


@pytest.mark.parametrize(("outcomes", "expected"), [
    ([], Outcome.OMIT),
    ([Outcome.PASS, Outcome.OMIT], Outcome.PASS),
    ([Outcome.PASS, Outcome.SKIP], Outcome.SKIP),
    ([Outcome.SKIP, Outcome.CANCEL], Outcome.CANCEL),
    ([Outcome.CANCEL, Outcome.WAIT], Outcome.WAIT),
    ([Outcome.WAIT, Outcome.FAIL, Outcome.PASS], Outcome.FAIL),
    ([Outcome.FAIL, Outcome.ERROR], Outcome.ERROR),
    (["pass", "fail"], Outcome.FAIL),
])
def test_roll_up(outcomes: list[Outcome], expected: Outcome) -> None:
    assert roll_up(outcomes) is expected
    assert roll_up(list(reversed(outcomes))) is expected


def test_optional_results_count_only_when_all_are_optional() -> None:
    assert roll_up_results([(Outcome.PASS, False), (Outcome.FAIL, True)]) is Outcome.PASS
    assert roll_up_results([(Outcome.PASS, True), (Outcome.FAIL, True)]) is Outcome.FAIL


def test_full_ids_and_selection() -> None:
    s = _suite()
    assert s.test_ids() == ["demo.psc.01", "demo.psc.02", "demo.dmp.01"]
    assert [r.full_id for r in s.select(["psc"])] == ["demo.psc.01", "demo.psc.02"]
    assert [r.full_id for r in s.select(["demo.dmp.01", "psc.02"])] == ["demo.psc.02", "demo.dmp.01"]
    with pytest.raises(UnknownIdError) as e:
        s.select(["demo.psc.09"])
    assert "demo.psc.01" in e.value.known


def test_bad_ids_are_refused() -> None:
    with pytest.raises(ModelError):
        test("Bad Id", title=T)(_nothing)
    a = test("01", title=T)(_nothing)
    with pytest.raises(ModelError):
        Group("g", T, T, (a, a))


def test_inputs_are_typed_and_named(tmp_path: Path) -> None:
    s = _suite()
    assert s.resolve_inputs({"client_id": "x"}) == {"client_id": "x", "retries": 3, "note": None}
    with pytest.raises(PresetError) as e:
        s.resolve_inputs({"client_id": "x", "patient": "y"})
    assert e.value.field == "patient" and "patient" in e.value.text.fr
    with pytest.raises(PresetError) as e:
        s.resolve_inputs({"client_id": "x", "retries": "3"})
    assert e.value.field == "retries" and "integer" in e.value.text.en
    with pytest.raises(PresetError) as e:
        s.resolve_inputs({"client_id": "x", "retries": True})
    assert e.value.field == "retries"
    with pytest.raises(PresetError) as e:
        s.resolve_inputs({})
    assert e.value.field == "client_id"
    bad = tmp_path / "p.json"
    bad.write_text("[1, 2]")
    with pytest.raises(PresetError):
        load_preset(bad)
    bad.write_text("{nope")
    with pytest.raises(PresetError):
        load_preset(bad)
    good = tmp_path / "g.json"
    good.write_text(json.dumps({"client_id": "c"}))
    assert s.resolve_inputs(load_preset(good))["client_id"] == "c"
