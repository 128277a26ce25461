"""Helpers of the shared-sandbox tests."""

from __future__ import annotations

import uuid
from pathlib import Path

INSI_TEMPLATE = Path(__file__).parents[1] / "ins" / "fixtures" / "rechercherInsAvecTraitsIdentite.xml"
SOAP12 = "application/soap+xml; charset=utf-8"


def insi_request() -> str:
    """The INSi A.1 request with its placeholders filled."""
    out = INSI_TEMPLATE.read_text(encoding="utf-8")
    while "{uuid}" in out:
        out = out.replace("{uuid}", str(uuid.uuid4()), 1)
    for key, value in {"iso-datetime": "2026-11-22T10:15:00.000+01:00", "emitter": "TESTLPS",
                       "n° autorisation CNDA": "AM-TEST-0001", "v": "1.0", "name": "TESTLPS"}.items():
        out = out.replace("{" + key + "}", value)
    return out
