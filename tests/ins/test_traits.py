"""Traits normalisation, validation and matching (FACTS §1.2, A.2)."""

from __future__ import annotations

import pytest

from ins.messages import MsgId
from ins.traits import Trait, Traits, TraitsQuery, check_query, differences, matches, normalise


@pytest.mark.parametrize(("raw", "norm"), [
    ("Écetinsi", "ECETINSI"), ("  de   la  Fontaine ", "DE LA FONTAINE"), ("Cœur", "COEUR"),
    ("N’Diaye", "N'DIAYE"), ("Jean–Pierre", "JEAN-PIERRE"), ("Ærø", "AERO"), ("Günther", "GUNTHER"),
])
def test_normalise(raw, norm):
    assert normalise(raw) == norm


def test_strict_refuses_unnormalised_with_the_fix():
    q, problems = check_query("Adrtrois", ["DOMINIQUE"], "F", "1997-02-26", strict=True)
    assert q is None
    assert problems[0].msg_id is MsgId.NAME_NOT_NORMALISED
    assert "ADRTROIS" in problems[0].text("fr")
    assert problems[0].field == Trait.BIRTH_NAME.value


def test_lenient_normalises():
    q, problems = check_query("adrtrois", ["dominique"], " f ", "1997-02-26", "2a020", strict=False)
    assert problems == []
    assert q == TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", "2A020")


@pytest.mark.parametrize(("args", "msg_id", "field"), [
    (("ADR TROIS", ["JEAN PIERRE"], "M", "1980-01-01"), MsgId.NAME_CHARACTERS, "Prenom"),
    (("ADR_TROIS", ["JEAN"], "M", "1980-01-01"), MsgId.NAME_CHARACTERS, "NomNaissance"),
    (("A" * 101, ["JEAN"], "M", "1980-01-01"), MsgId.NAME_TOO_LONG, "NomNaissance"),
    (("ADR", ["JEAN"], "U", "1980-01-01"), MsgId.SEX_INVALID, "Sexe"),
    (("ADR", ["JEAN"], "M", "1981-02-29"), MsgId.DATE_IMPOSSIBLE, "DateNaissance"),
    (("ADR", ["JEAN"], "M", "19800101"), MsgId.DATE_FORMAT, "DateNaissance"),
    (("ADR", ["JEAN"], "M", "1980-01-01", "7505"), MsgId.COG_FORMAT, "LieuNaissance"),
    (("ADR", ["JEAN"], "M", "1980-01-01", "750561"), MsgId.COG_FORMAT, "LieuNaissance"),
    (("ADR", [], "M", "1980-01-01"), MsgId.TRAIT_MISSING, "Prenom"),
    ((None, ["JEAN"], "M", "1980-01-01"), MsgId.TRAIT_MISSING, "NomNaissance"),
])
def test_problems(args, msg_id, field):
    _, problems = check_query(*args, strict=True)
    assert (problems[0].msg_id, problems[0].field) == (msg_id, field)


def test_leap_day_and_cogs_accepted():
    for cog in ("75056", "2A020", "2B033", "99109", "97411"):
        q, problems = check_query("O'NEIL-DUPONT", ["JEAN-PIERRE"], "M", "1980-02-29", cog)
        assert problems == [] and q is not None and q.birth_place == cog


PERSON = Traits("TCHITCHI", ("CATARINA", "BELLA"), "F", "1936-06-21", "63220")


@pytest.mark.parametrize(("query", "expected"), [
    (TraitsQuery("TCHITCHI", ("BELLA",), "F", "1936-06-21"), True),
    (TraitsQuery("TCHITCHI", ("OLA", "CATARINA"), "F", "1936-06-21"), True),
    (TraitsQuery("TCHITCHI", ("OLA",), "F", "1936-06-21"), False),
    (TraitsQuery("TCHITCHI", ("BELLA",), "M", "1936-06-21"), False),
    (TraitsQuery("TCHITCHI", ("BELLA",), "F", "1936-06-22"), False),
    (TraitsQuery("TCHITCHI", ("BELLA",), "F", "1936-06-21", "63220"), True),
    (TraitsQuery("TCHITCHI", ("BELLA",), "F", "1936-06-21", "75056"), False),
    (TraitsQuery("TCHITCHY", ("BELLA",), "F", "1936-06-21"), False),
])
def test_match(query, expected):
    assert matches(PERSON, query) is expected


def test_differences():
    stored = Traits("TCHITCHI", ("CATARINA",), "F", "1936-06-21", "")
    assert differences(stored, PERSON) == [Trait.FIRST_NAME]  # no birth place stored: not compared
    stored = Traits("TCHITCHY", ("CATARINA", "BELLA"), "F", "1936-06-21", "75056")
    assert differences(stored, PERSON) == [Trait.BIRTH_NAME, Trait.BIRTH_PLACE]
    assert PERSON.first_name_list == "CATARINA BELLA"
