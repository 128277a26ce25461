"""UCUM unit expressions: a parser for the case-sensitive grammar (UCUM §2.1–§2.6, "c/s" syntax).

Grammar (UCUM specification, "The Unified Code for Units of Measure", §2 syntax)::

    mainTerm    := "/" term | term
    term        := component (("." | "/") component)*
    component   := annotatable annotation? | annotation | factor | "(" term ")"
    annotatable := simpleUnit exponent?
    simpleUnit  := prefix? metricAtom | atom
    exponent    := ("+" | "-")? digits
    annotation  := "{" printable ASCII except braces "}"

Atoms and prefixes below are the UCUM codes (facts, not prose) for the units met in clinical
laboratory and imaging results; an atom not in the table is an error, which keeps typos such as
``mmol/l`` (lower-case litre is valid) vs ``mMol/L`` (invalid) apart. Used natively by the
``ucum`` check of our CR-BIO Observation profile (FACTS §5: UCUM quantities).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from profiles.context import Ctx
from profiles.issues import IssueType
from profiles.messages import MsgId

UCUM_SYSTEM = "http://unitsofmeasure.org"

PREFIXES = {
    "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "da", "d", "c", "m", "u", "n", "p", "f", "a", "z", "y",
    "Ki", "Mi", "Gi", "Ti",
}
# metric atoms (accept prefixes)
METRIC = {
    "m", "s", "g", "rad", "K", "C", "cd", "sr", "Hz", "N", "Pa", "J", "W", "A", "V", "F", "Ohm", "S",
    "Wb", "Cel", "T", "H", "lm", "lx", "Bq", "Gy", "Sv", "l", "L", "ar", "t", "bar", "u", "eV", "pc",
    "mol", "kat", "U", "[iU]", "[IU]", "eq", "osm", "gf", "Ci", "R", "RAD", "REM", "b", "Bi", "Mx",
    "G", "Oe", "Gb", "sb", "Lmb", "ph", "St", "P", "dyn", "erg", "cal", "B", "Np", "bit", "By", "Bd",
    "[CFU]", "[PFU]", "[FFU]", "[arb'U]", "[USP'U]", "[GPL'U]", "[MPL'U]", "[APL'U]", "[beth'U]",
    "[anti'Xa'U]", "[todd'U]", "[dye'U]", "[smgy'U]", "[bdsk'U]", "[ka'U]", "[knk'U]", "[mclg'U]",
    "[tb'U]", "[HPF]", "[LPF]", "[ELU]", "[EU]", "[D'ag'U]", "[FEU]", "[Amb'a'1'U]", "[BAU]", "[AU]",
    "[PNU]", "[Lf]", "[IR]", "[hp'_X]", "[kp'_X]", "[pH]", "[S]", "[ppb]",
}
NON_METRIC = {
    "10*", "10^", "[pi]", "%", "[ppth]", "[ppm]", "[pptr]", "gon", "deg", "'", "''", "min", "h", "d",
    "a", "wk", "mo", "a_t", "a_j", "a_g", "mo_s", "mo_j", "mo_g", "AU", "atm", "[ly]", "[in_i]",
    "[ft_i]", "[yd_i]", "[mi_i]", "[lb_av]", "[oz_av]", "[gr]", "[degF]", "[degR]", "[car_m]",
    "mm[Hg]", "cm[H2O]", "m[Hg]", "m[H2O]", "[in_i'Hg]", "[in_i'H2O]", "[drp]", "[hnsf'U]", "[MET]",
    "[HPF]", "[LPF]", "[mesh_i]", "[Ch]", "[diop]", "[p'diop]", "%[slope]", "[S]", "[todd'U]",
    "[pH]", "[CFU]", "[iU]", "[IU]", "[mi_us]", "[gal_us]", "[qt_us]", "[pt_us]", "[foz_us]", "[tsp_us]",
    "[tbs_us]", "[cup_us]", "[lb_tr]", "[oz_tr]", "[sft_i]", "[sin_i]", "[cin_i]", "[cft_i]", "Ao",
    "[lne]", "[pnt]", "[ka'U]", "[knk'U]", "[beth'U]", "[smoot]", "[car_Au]", "[psi]", "[stone_av]",
    "[hp_X]", "[hp_C]", "[kp_X]", "[kp_C]", "[mclg'U]", "[crd_us]", "[bbl_us]",
}
_ATOMS_SORTED = sorted(METRIC | NON_METRIC, key=len, reverse=True)
_PREFIX_SORTED = sorted(PREFIXES, key=len, reverse=True)
_ANNOT = re.compile(r"\{[!-z|~]*\}")
_DIGITS = re.compile(r"\d+")


class UcumError(ValueError):
    pass


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def parse(self) -> None:
        if not self.s:
            raise UcumError("empty")
        if any(c.isspace() for c in self.s):
            raise UcumError("whitespace not allowed")
        if self.s[0] == "/":
            self.i = 1
        self.term()
        if self.i != len(self.s):
            raise UcumError(f"unexpected '{self.s[self.i:]}' at {self.i}")

    def term(self) -> None:
        self.component()
        while self.i < len(self.s) and self.s[self.i] in "./":
            self.i += 1
            self.component()

    def component(self) -> None:
        s, i = self.s, self.i
        if i >= len(s):
            raise UcumError("unit expected at end")
        if s[i] == "(":
            self.i += 1
            self.term()
            if self.i >= len(s) or s[self.i] != ")":
                raise UcumError("missing ')'")
            self.i += 1
            self._exponent()
            self._annotation()
            return
        if s[i] == "{":
            self._annotation(required=True)
            return
        m = _DIGITS.match(s, i)
        if m and not s.startswith("10*", i) and not s.startswith("10^", i):
            self.i = m.end()
            self._annotation()
            return
        self._simple_unit()
        self._exponent()
        self._annotation()

    def _simple_unit(self) -> None:
        s, i = self.s, self.i
        for atom in _ATOMS_SORTED:
            if s.startswith(atom, i) and self._atom_ends(i + len(atom), atom):
                self.i = i + len(atom)
                return
        for p in _PREFIX_SORTED:
            if s.startswith(p, i):
                for atom in _ATOMS_SORTED:
                    j = i + len(p)
                    if atom in METRIC and s.startswith(atom, j) and self._atom_ends(j + len(atom), atom):
                        self.i = i + len(p) + len(atom)
                        return
        end = i
        while end < len(s) and s[end] not in "./(){}" and not s[end].isdigit():
            end += 1
        raise UcumError(f"unknown unit '{s[i:end] or s[i:]}'")

    def _atom_ends(self, j: int, atom: str) -> bool:
        s = self.s
        if atom in ("10*", "10^"):
            return j < len(s) and (s[j].isdigit() or s[j] in "+-")
        return j == len(s) or s[j] in "./(){}+-" or s[j].isdigit()

    def _exponent(self) -> None:
        s = self.s
        j = self.i
        if j < len(s) and s[j] in "+-":
            j += 1
        m = _DIGITS.match(s, j)
        if m:
            self.i = m.end()
        elif j != self.i:
            raise UcumError("exponent digits expected")

    def _annotation(self, required: bool = False) -> None:
        m = _ANNOT.match(self.s, self.i)
        if m:
            self.i = m.end()
        elif required or (self.i < len(self.s) and self.s[self.i] == "{"):
            raise UcumError("malformed annotation")


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> str | None:
    try:
        _Parser(text).parse()
    except UcumError as exc:
        return str(exc)
    return None


def parse(text: str) -> None:
    """Raise :class:`UcumError` when ``text`` is not a valid UCUM c/s expression.

    Results are memoised per expression (a pure function of the text; units form a small
    vocabulary in practice)."""
    err = _parse_cached(text)
    if err is not None:
        raise UcumError(err)


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except UcumError:
        return False
    return True


def check_quantity(ctx: Ctx, value: Any, loc: str) -> None:
    """A Quantity with a unit code must use UCUM and a valid UCUM expression."""
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return
    system = value.get("system")
    if system != UCUM_SYSTEM:
        ctx.error(IssueType.CODE_INVALID, f"{loc}.system" if system else loc, MsgId.UCUM_SYSTEM, system=system)
        return
    try:
        parse(value["code"])
    except UcumError as exc:
        ctx.error(IssueType.CODE_INVALID, f"{loc}.code", MsgId.UCUM_INVALID, code=value["code"], reason=str(exc))
