"""INS traits: normalisation as INSi expects them, validation, and matching (FACTS §1.1, §1.2, A.2).

- Normalisation: upper case, accents and ligatures removed (``É``→``E``, ``Œ``→``OE``), typographic
  apostrophes and dashes folded to ``'`` and ``-``, runs of spaces collapsed.
- Allowed characters (FACTS §1.2, INSi client validation [V-3p]): birth name ``^[A-Z\\-' ]+$``, each
  first name ``^[A-Z\\-']+$``, sex ``^[FM]$``, strict ``YYYY-MM-DD`` date, birth place = COG of 5
  characters (5 digits, ``2A``/``2B`` + 3 digits, ``99`` + country code).
- Strict mode (the SOAP face): a value that is not already normalised is refused with the
  normalised form in the message, as CNAM expects the software to normalise before calling.
  Lenient mode (FHIR search, verification): values are normalised first, then checked.
- Match (FACTS A.2): birth name + one of the requested first names among the person's first names +
  sex + birth date (+ birth place when given).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from ins.messages import MsgId, Problem

NAME_MAX = 100  # sandbox limit [U]: the INSi schema length is not in FACTS

BIRTH_NAME_EXTRA = "-' "  # ^[A-Z\-' ]+$
FIRST_NAME_EXTRA = "-'"  # ^[A-Z\-']+$
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COG_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_FOLD = str.maketrans({
    "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-",
    "Œ": "OE", "œ": "OE", "Æ": "AE", "æ": "AE", "ß": "SS", "Ø": "O", "ø": "O", "Ð": "D", "ð": "D",
})


class Trait(StrEnum):
    """Trait names, spelled as the INSi request elements (FACTS §1.2)."""

    BIRTH_NAME = "NomNaissance"
    FIRST_NAME = "Prenom"
    SEX = "Sexe"
    BIRTH_DATE = "DateNaissance"
    BIRTH_PLACE = "LieuNaissance"


def normalise(value: str) -> str:
    """Upper case, no accents or ligatures, single spaces (what INSi compares)."""
    folded = unicodedata.normalize("NFKD", value.translate(_FOLD))
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(bare.upper().split())


@dataclass(frozen=True)
class Traits:
    """The five INS traits of a person (first names in birth-register order)."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str
    birth_place: str

    @property
    def first_name_list(self) -> str:
        """INSi ``ListePrenom``: all first names, space-separated."""
        return " ".join(self.first_names)


@dataclass(frozen=True)
class TraitsQuery:
    """Traits a search gives: at least one first name; birth place optional."""

    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str
    birth_place: str | None = None


def _check_name(value: str | None, trait: Trait, extra: str, allowed: str,
                strict: bool, problems: list[Problem]) -> str | None:
    if value is None or not value.strip():
        problems.append(Problem(MsgId.TRAIT_MISSING, trait.value))
        return None
    norm = normalise(value)
    if strict and norm != value:
        problems.append(Problem(MsgId.NAME_NOT_NORMALISED, trait.value,
                                {"value": value, "normalised": norm}))
        return None
    if len(norm) > NAME_MAX:
        problems.append(Problem(MsgId.NAME_TOO_LONG, trait.value, {"max": NAME_MAX}))
        return None
    bad = next((ch for ch in norm if not ("A" <= ch <= "Z" or ch in extra)), None)
    if bad is not None:
        problems.append(Problem(MsgId.NAME_CHARACTERS, trait.value, {"char": bad, "allowed": allowed}))
        return None
    return norm


def check_sex(value: str | None, problems: list[Problem]) -> str | None:
    if value is None or not value.strip():
        problems.append(Problem(MsgId.TRAIT_MISSING, Trait.SEX.value))
        return None
    if value not in ("M", "F"):
        problems.append(Problem(MsgId.SEX_INVALID, Trait.SEX.value, {"value": value}))
        return None
    return value


def check_date(value: str | None, problems: list[Problem], *, today: date | None = None) -> str | None:
    if value is None or not value.strip():
        problems.append(Problem(MsgId.TRAIT_MISSING, Trait.BIRTH_DATE.value))
        return None
    if not _DATE_RE.match(value):
        problems.append(Problem(MsgId.DATE_FORMAT, Trait.BIRTH_DATE.value, {"value": value}))
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(MsgId.DATE_IMPOSSIBLE, Trait.BIRTH_DATE.value, {"value": value}))
        return None
    if parsed > (today or date.today()):
        problems.append(Problem(MsgId.DATE_FUTURE, Trait.BIRTH_DATE.value, {"value": value}))
        return None
    return value


def check_cog(value: str | None, problems: list[Problem], *, field: str = Trait.BIRTH_PLACE.value,
              strict: bool = True) -> str | None:
    """Optional COG: ``None``/empty is fine; otherwise 5 characters as FACTS §1.5 describes."""
    if value is None or value == "":
        return None
    candidate = value if strict else value.strip().upper()
    if not _COG_RE.match(candidate):
        problems.append(Problem(MsgId.COG_FORMAT, field, {"value": value}))
        return None
    return candidate


def check_query(birth_name: str | None, first_names: list[str] | tuple[str, ...], sex: str | None,
                birth_date: str | None, birth_place: str | None = None, *,
                strict: bool = True) -> tuple[TraitsQuery | None, list[Problem]]:
    """Validate search traits; return the normalised query, or ``None`` and every problem."""
    problems: list[Problem] = []
    name = _check_name(birth_name, Trait.BIRTH_NAME, BIRTH_NAME_EXTRA, "A-Z, ' ', '-', \"'\"", strict, problems)
    firsts: list[str] = []
    if not first_names:
        problems.append(Problem(MsgId.TRAIT_MISSING, Trait.FIRST_NAME.value))
    for fn in first_names:
        ok = _check_name(fn, Trait.FIRST_NAME, FIRST_NAME_EXTRA, "A-Z, '-', \"'\"", strict, problems)
        if ok:
            firsts.append(ok)
    sx = check_sex(sex if strict or sex is None else sex.strip().upper(), problems)
    bd = check_date(birth_date, problems)
    bp = check_cog(birth_place, problems, strict=strict)
    if problems:
        return None, problems
    assert name is not None and sx is not None and bd is not None
    return TraitsQuery(name, tuple(firsts), sx, bd, bp), []


def matches(person: Traits, query: TraitsQuery) -> bool:
    """FACTS A.2 step 2: name + one first name + sex + birth date (+ birth place if given)."""
    if person.birth_name != query.birth_name or person.sex != query.sex:
        return False
    if person.birth_date != query.birth_date:
        return False
    if query.birth_place and person.birth_place != query.birth_place:
        return False
    return any(fn in person.first_names for fn in query.first_names)


def differences(stored: Traits, reference: Traits) -> list[Trait]:
    """Traits whose values differ between what a client stored and the reference identity
    (the birth place only when the client stored one)."""
    out = []
    if stored.birth_name != reference.birth_name:
        out.append(Trait.BIRTH_NAME)
    if stored.first_names != reference.first_names:
        out.append(Trait.FIRST_NAME)
    if stored.sex != reference.sex:
        out.append(Trait.SEX)
    if stored.birth_date != reference.birth_date:
        out.append(Trait.BIRTH_DATE)
    if stored.birth_place and stored.birth_place != reference.birth_place:
        out.append(Trait.BIRTH_PLACE)
    return out
