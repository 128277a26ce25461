"""Matricule rules (FACTS §1.3): key with the Corsica substitution, layout checks, stable ids."""

from __future__ import annotations

import pytest

from ins.messages import MsgId
from ins.nir import MatriculeError, MatriculeKind, check_matricule, explain, nir_key, parse_matricule


@pytest.mark.parametrize(("number", "key"), [
    ("297022A020778", 78), ("2360663220836", 56), ("1090763220834", 89), ("2090763220834", 39),
    ("2090663220123", 55), ("1460263220001", 96), ("2790351215189", 89),
])
def test_keys_verified_in_facts(number, key):
    assert nir_key(number) == key
    assert check_matricule(f"{number}{key:02d}") == []


def test_corsica_2b_is_18():
    assert nir_key("180032B033123") == 97 - int("1800318033123") % 97


def test_nir_key_keeps_its_contract():
    with pytest.raises(ValueError):
        nir_key("123")


def test_parse_parts():
    m = parse_matricule("297022A02077878")
    assert (m.kind, m.sex, m.year, m.month, m.department, m.commune, m.order) == (
        MatriculeKind.NIR, "F", "97", "02", "2A", "020", "778")
    assert m.value == "297022A02077878" and m.oid == "1.2.250.1.213.1.4.8"
    assert not m.born_abroad and not m.incomplete_civil_status


def test_foreign_born_and_incomplete_civil_status():
    number = "1806399109123"
    m = parse_matricule(number + f"{nir_key(number):02d}")
    assert m.born_abroad and m.incomplete_civil_status


@pytest.mark.parametrize("month", ["01", "12", "20", "42", "50", "63", "99"])
def test_months_accepted(month):
    number = f"180{month}75056123"
    assert check_matricule(number, with_key=False) == []


@pytest.mark.parametrize("month", ["00", "13", "19", "43", "49"])
def test_months_refused(month):
    assert [p.msg_id for p in check_matricule(f"180{month}75056123", with_key=False)] == [MsgId.NIR_MONTH]


def test_nia_is_recognised():
    number = "7800199123456"
    m = parse_matricule(number + f"{nir_key(number):02d}")
    assert m.kind is MatriculeKind.NIA and m.oid == "1.2.250.1.213.1.4.9" and m.sex == "M"


@pytest.mark.parametrize(("value", "msg_id"), [
    ("", MsgId.NIR_EMPTY),
    ("29702", MsgId.NIR_LENGTH),
    ("297022C02077878", MsgId.NIR_CHARACTERS),
    ("2970A2002077878", MsgId.NIR_CHARACTERS),
    ("397022A02077878", MsgId.NIR_SEX),
    ("297002A02077878", MsgId.NIR_MONTH),
    ("2970200020778" + "00", MsgId.NIR_DEPARTMENT),
    ("297022A020000" + f"{nir_key('297022A020000'):02d}", MsgId.NIR_ORDER),
    ("297022A02077800", MsgId.NIR_KEY_FORMAT),
    ("297022A02077898", MsgId.NIR_KEY_FORMAT),
    ("297022A02077877", MsgId.NIR_KEY_MISMATCH),
])
def test_each_problem_has_a_stable_id(value, msg_id):
    ids = [p.msg_id for p in check_matricule(value)]
    assert msg_id in ids


def test_wrong_key_message_names_the_right_key_in_both_languages():
    (problem,) = check_matricule("297022A02077877")
    assert "78" in problem.text("fr") and "78" in problem.text("en")
    assert problem.text("fr") != problem.text("en")
    assert problem.to_dict()["id"] == "INS_NIR_KEY_MISMATCH"


def test_official_examples_with_wrong_keys_are_flagged_not_crashing():
    # FACTS §1.3: fr-core and ANS HL7v2 examples carry invalid keys
    for value, true_key in (("123456789012244", "12"), ("288091234567823", "94"),
                            ("246037433000291", "53"), ("267071844923157", "02")):
        problems = check_matricule(value)
        mismatch = [p for p in problems if p.msg_id is MsgId.NIR_KEY_MISMATCH]
        assert mismatch and mismatch[0].params["expected"] == true_key


def test_parse_raises_with_every_problem():
    with pytest.raises(MatriculeError) as err:
        parse_matricule("397002A02077877")
    assert {p.msg_id for p in err.value.problems} >= {MsgId.NIR_SEX, MsgId.NIR_MONTH}


def test_explain_is_empty_for_a_valid_matricule():
    assert explain("236066322083656") == []
    assert explain("236066322083655", "en")[0].startswith("Key '55' is wrong")
