"""RFC 8785 canonical JSON: the examples of the RFC and the rules a signed report relies on."""

from __future__ import annotations

import json
import math

import pytest

from conformance.canonical import CanonicalError, canonical_bytes


def test_rfc8785_section_3_2_2_example() -> None:
    # RFC 8785 §3.2.2: numbers, literals and string escapes in canonical form
    src = json.loads('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
                     ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
                     ' "literals": [null, true, false]}')
    assert canonical_bytes(src) == ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                                    '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}').encode()


def test_rfc8785_sorting_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3
    src = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
           "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
           "\u00f6": "Latin Small Letter O With Diaeresis"}
    keys = list(json.loads(canonical_bytes(src)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(("value", "text"), [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1e-7, "1e-7"), (1e-6, "0.000001"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    (123456789012345680000.0, "123456789012345680000"), (0.1, "0.1"), (2**53, "9007199254740992"),
])
def test_numbers_in_ecmascript_form(value: float, text: str) -> None:
    assert canonical_bytes(value) == text.encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, {1: "x"}, {"a": object()}, "\ud800"])
def test_values_without_a_canonical_form_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_bytes(bad)
