"""NIR / NIA matricule: key computation, parsing and validation (FACTS §1.3).

Layout (15 characters = 13 + 2-digit key): sex (1), year (2), month (2), department (2, ``2A``/``2B``
for Corsica, ``99`` for people born abroad), commune or country (3), order number (3), key (2).

Key = 97 − (N mod 97) where N is the 13-character matricule read as a number, after replacing the
Corsica department codes ``2A`` → ``19`` and ``2B`` → ``18``.

- First character 1/2 = NIR (man/woman); 7/8 = NIA, the temporary number (FACTS §1.3 [U]).
- Month 01–12; 20–42 and 50–99 are accepted for incomplete civil status (FACTS §1.3 [V-3p]).
- Official examples carry wrong keys (FACTS §1.3): :func:`check_matricule` reports, never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ins.identifiers import INS_OIDS, OID_INS_NIA, OID_INS_NIR, OID_INS_NIR_DEMO, OID_INS_NIR_TEST
from ins.messages import MsgId, Problem

__all__ = ["INS_OIDS", "OID_INS_NIA", "OID_INS_NIR", "OID_INS_NIR_DEMO", "OID_INS_NIR_TEST", "MatriculeError",
           "MatriculeKind", "ParsedMatricule", "check_matricule", "explain", "nir_key", "parse_matricule"]

_CORSICA = {"2A": "19", "2B": "18"}


class MatriculeKind(StrEnum):
    NIR = "NIR"
    NIA = "NIA"


def _numeric(first13: str) -> int:
    first13 = first13.upper()
    dept = first13[5:7]
    if dept in _CORSICA:
        first13 = first13[:5] + _CORSICA[dept] + first13[7:]
    return int(first13)


def nir_key(first13: str) -> int:
    """Return the 2-digit key (1..97) of a 13-character matricule."""
    if len(first13) != 13:
        raise ValueError("a matricule has 13 characters before its key")
    return 97 - (_numeric(first13) % 97)


@dataclass(frozen=True)
class ParsedMatricule:
    """A well-formed matricule split into its parts (FACTS §1.3)."""

    number: str  # 13 characters, may hold 2A/2B
    key: str  # 2 digits
    kind: MatriculeKind
    sex: str  # M | F
    year: str
    month: str
    department: str
    commune: str
    order: str

    @property
    def value(self) -> str:
        """15-character form (FHIR, MSSanté addresses)."""
        return self.number + self.key

    @property
    def oid(self) -> str:
        return OID_INS_NIA if self.kind is MatriculeKind.NIA else OID_INS_NIR

    @property
    def born_abroad(self) -> bool:
        return self.department == "99"

    @property
    def incomplete_civil_status(self) -> bool:
        return int(self.month) > 12


class MatriculeError(ValueError):
    """Raised by :func:`parse_matricule`; ``problems`` says what is wrong."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].text("en"))
        self.problems = problems


def _month_ok(month: str) -> bool:
    m = int(month)
    return 1 <= m <= 12 or 20 <= m <= 42 or m >= 50


def check_matricule(value: str, *, with_key: bool = True, field: str = "matricule") -> list[Problem]:
    """Everything wrong with ``value`` (15 characters, or 13 when ``with_key`` is false)."""
    value = (value or "").strip().upper()
    expected = 15 if with_key else 13
    if not value:
        return [Problem(MsgId.NIR_EMPTY, field)]
    if len(value) != expected:
        return [Problem(MsgId.NIR_LENGTH, field, {"expected": expected, "got": len(value)})]
    for i, ch in enumerate(value):
        if ch.isdigit() and ch.isascii():
            continue
        if i == 6 and ch in "AB" and value[5] == "2":
            continue
        return [Problem(MsgId.NIR_CHARACTERS, field, {"char": ch, "position": i + 1})]
    problems: list[Problem] = []
    # positions 8-10 (commune or country code) are any 3 digits
    sex, month, dept, order = value[0], value[3:5], value[5:7], value[10:13]
    nia = sex in "78"
    if sex not in "1278":
        problems.append(Problem(MsgId.NIR_SEX, field, {"value": sex}))
    if not _month_ok(month):
        problems.append(Problem(MsgId.NIR_MONTH, field, {"value": month}))
    if dept == "00":
        problems.append(Problem(MsgId.NIR_DEPARTMENT, field, {"value": dept}))
    if order == "000" and not nia:
        problems.append(Problem(MsgId.NIR_ORDER, field, {"value": order}))
    if with_key:
        key = value[13:]
        if not 1 <= int(key) <= 97:
            problems.append(Problem(MsgId.NIR_KEY_FORMAT, field, {"value": key}))
        else:
            computed = nir_key(value[:13])
            if computed != int(key):
                problems.append(Problem(MsgId.NIR_KEY_MISMATCH, field, {
                    "value": key, "number": value[:13], "expected": f"{computed:02d}"}))
    return problems


def parse_matricule(value: str, *, with_key: bool = True, field: str = "matricule") -> ParsedMatricule:
    """Parse a matricule; raise :class:`MatriculeError` listing every problem found."""
    problems = check_matricule(value, with_key=with_key, field=field)
    if problems:
        raise MatriculeError(problems)
    value = value.strip().upper()
    number = value[:13]
    key = value[13:] if with_key else f"{nir_key(number):02d}"
    return ParsedMatricule(
        number=number, key=key,
        kind=MatriculeKind.NIA if number[0] in "78" else MatriculeKind.NIR,
        sex="M" if number[0] in "17" else "F",
        year=number[1:3], month=number[3:5], department=number[5:7], commune=number[7:10],
        order=number[10:13],
    )


def explain(value: str, lang: str = "fr", *, with_key: bool = True) -> list[str]:
    """Human texts of :func:`check_matricule` (empty when the matricule is valid)."""
    return [p.text(lang) for p in check_matricule(value, with_key=with_key)]
