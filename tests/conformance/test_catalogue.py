"""The requirements catalogue and coverage: well-formed data, and the rule that every SHALL
requirement in a registered suite's scope is verified by a test or says why it is not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from runner_example import EXAMPLE

from conformance import Group, Suite, Text, test
from conformance.catalogue import FOLDER, Level, coverage, load_catalogue
from conformance.registry import SuiteRegistry

ID_STYLES = {
    "psc": r"^PSC\.OIDC/\d{2}$",
    "ins": r"^INS\.(INSI|RNIV)/\d{2}$",
    "pdsm-mhd": r"^PDSM\.(ITI-6[5-8]|PATCH|TD02|VIS)/\d{2}$",
    "cisis-documents": r"^CISIS\.[A-Z0-9]+/\d{2}$",
    "mssante-ref2": r"^(ECO\.\d\.\d\.\d+|SC\.MSS/(CONF|UX)\.\d+|LGC\.MSS/UX\.\d+|MSS\.MDN/\d{2})$",
}


def test_catalogue_files_are_well_formed() -> None:
    cat = load_catalogue()
    assert set(cat.sources) == set(ID_STYLES)
    for req in cat.requirements.values():
        assert re.match(ID_STYLES[req.source], req.id), req.id
        assert req.level in Level and req.section and len(req.text_fr) > 30 and req.actor
        if req.not_tested:
            assert req.not_tested.fr and req.not_tested.en
    for path in FOLDER.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["source"] == path.stem and data["title"]["fr"] and data["reference"]


def test_registered_suites_cover_every_shall_requirement_in_their_scope() -> None:
    cat = load_catalogue()
    for suite in SuiteRegistry.discover().all():
        cov = coverage(suite, cat)
        assert not cov.unknown, f"{suite.id} verifies requirements the catalogue does not know: {cov.unknown}"
        gaps = [row.requirement.id for row in cov.gaps()]
        assert not gaps, f"{suite.id}: SHALL requirements with neither a test nor a not-tested reason: {gaps}"


def test_the_coverage_rule_catches_gaps_and_unknown_ids() -> None:
    cat = load_catalogue()
    cov = coverage(EXAMPLE, cat)
    status = {row.requirement.id: row.status for row in cov.rows}
    assert status["INS.INSI/04"] == "tested" and status["INS.INSI/06"] == "not-tested"
    assert "PSC.OIDC/02" in [r.requirement.id for r in cov.gaps()]
    assert all(r.requirement.source in ("ins", "psc") for r in cov.rows)

    @test("01", title=Text("t", "t"), verifies=("NOPE/01",))
    async def bogus(ctx) -> None:  # noqa: ANN001
        return None

    odd = Suite("odd", Text("o", "o"), Text("", ""), "1", (), (Group("g", Text("g", "g"), Text("", ""), (bogus,)),))
    assert coverage(odd, cat).unknown == (("odd.g.01", "NOPE/01"),)


def test_scope_with_an_actor_adds_that_family(monkeypatch: pytest.MonkeyPatch) -> None:
    cat = load_catalogue()
    dpi = Suite("d", Text("d", "d"), Text("", ""), "1", (), (), scope=("cisis-documents:DPI",))
    ids = {r.id for r in cat.in_scope(dpi)}
    assert "CISIS.LDL/01" in ids and "CISIS.DOC/01" in ids and "CISIS.BIO/01" not in ids


def test_registry_refuses_duplicates_and_names_unknown_suites() -> None:
    from conformance import ModelError, UnknownIdError

    reg = SuiteRegistry([EXAMPLE])
    with pytest.raises(ModelError):
        reg.add(EXAMPLE)
    with pytest.raises(UnknownIdError) as e:
        reg.get("nope")
    assert e.value.known == ["example"]
    assert Path(FOLDER).is_dir()
