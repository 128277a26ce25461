"""enableWhen evaluation of :mod:`profiles.questionnaires` (R4 §19.1.0.4): True/False when the
response decides it, None when it cannot (then the item is neither required nor refused)."""

from __future__ import annotations

from profiles.questionnaires import enabled


def _item(*conditions: dict, behavior: str | None = None) -> dict:
    item: dict = {"linkId": "x", "type": "string", "enableWhen": list(conditions)}
    if behavior:
        item["enableBehavior"] = behavior
    return item


def test_exists_and_equality() -> None:
    answers = {"a": [{"valueBoolean": True}], "c": [{"valueCoding": {"system": "s", "code": "1"}}]}
    assert enabled(_item({"question": "a", "operator": "exists", "answerBoolean": True}), answers) is True
    assert enabled(_item({"question": "b", "operator": "exists", "answerBoolean": True}), answers) is False
    assert enabled(_item({"question": "b", "operator": "exists", "answerBoolean": False}), answers) is True
    assert enabled(_item({"question": "a", "operator": "=", "answerBoolean": False}), answers) is False
    coding = {"question": "c", "operator": "=", "answerCoding": {"system": "s", "code": "1"}}
    assert enabled(_item(coding), answers) is True
    assert enabled(_item({**coding, "operator": "!="}), answers) is False


def test_order_operators_and_undecidable_conditions() -> None:
    answers = {"n": [{"valueInteger": 5}], "d": [{"valueDate": "2020-01-01"}], "s": [{"valueString": "x"}]}
    assert enabled(_item({"question": "n", "operator": ">", "answerInteger": 3}), answers) is True
    assert enabled(_item({"question": "n", "operator": "<=", "answerInteger": 3}), answers) is False
    assert enabled(_item({"question": "d", "operator": "<", "answerDate": "2021-06-01"}), answers) is True
    # a date of another precision, another answer type, != on an unanswered question: undecided
    assert enabled(_item({"question": "d", "operator": "<", "answerDate": "2021"}), answers) is None
    assert enabled(_item({"question": "s", "operator": "=", "answerInteger": 1}), answers) is None
    assert enabled(_item({"question": "z", "operator": "!=", "answerInteger": 1}), answers) is None


def test_enable_behavior_all_and_any() -> None:
    answers = {"n": [{"valueInteger": 5}]}
    yes = {"question": "n", "operator": "=", "answerInteger": 5}
    no = {"question": "n", "operator": "=", "answerInteger": 6}
    maybe = {"question": "n", "operator": "=", "answerString": "5"}
    assert enabled(_item(yes, no, behavior="all"), answers) is False
    assert enabled(_item(yes, no, behavior="any"), answers) is True
    assert enabled(_item(yes, maybe, behavior="all"), answers) is None
    assert enabled(_item(no, maybe, behavior="any"), answers) is None
    assert enabled({"linkId": "x", "type": "string"}, answers) is True
