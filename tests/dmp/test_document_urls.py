"""Stored DMP document URLs are relative to the FHIR base and rendered with the deployment's public
base URL (issue 19, dmp/document_urls.py): a document stored through one address reads back with
another, and rows an older version stored with an absolute URL are rewritten when read."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dmp_helpers import CDA, INS_SYSTEM, QUAL_INS, Dmp, cr_bio_bundle
from sqlalchemy import select, update

from dmp.models import DmpDocumentRow
from sandbox.testing import RunningSandbox, fresh_database, running_sandbox

A = "http://sandbox-a.test"
B = "https://sandbox-b.test/mes"
WS = "urls"


def _stored(sb: RunningSandbox, doc_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        async with sb.ctx.db.session() as s:
            return (await s.scalars(select(DmpDocumentRow.resource).where(DmpDocumentRow.id == doc_id))).one()
    return sb.call(read)


def _urls(d: Dmp, doc_id: str) -> tuple[str, str]:
    """(attachment URL read by id, the same found by ITI-67 search)."""
    read = d.http.get(f"/dmp/fhir/DocumentReference/{doc_id}", headers=d.headers(d.pro_token()))
    assert read.status_code == 200, read.text
    found = d.find(**{"patient.identifier": f"{INS_SYSTEM}|{QUAL_INS}", "status": "current"}).json()
    entry = next(e["resource"] for e in found["entry"] if e["resource"]["id"] == doc_id)
    return read.json()["content"][0]["attachment"]["url"], entry["content"][0]["attachment"]["url"]


def test_a_document_stored_through_one_base_url_reads_back_with_another() -> None:
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-urls-") as tmp, fresh_database(Path(tmp)) as url:
        with running_sandbox(database_url=url, public_base_url=A) as a, a.client(follow_redirects=False) as http:
            a.create_workspace(WS)
            d = Dmp(a, WS, http)
            ids = []
            for _ in range(2):
                r = d.provide(cr_bio_bundle(QUAL_INS))
                assert r.status_code == 200, r.text
                ids.append(r.json()["entry"][1]["response"]["location"].split("/")[1])
            fresh, legacy = ids
            stored = _stored(a, fresh)["content"][0]["attachment"]["url"]
            assert stored.startswith("Binary/")  # no address in the database
            binary = stored.split("/", 1)[1]
            assert _urls(d, fresh) == (f"{A}/dmp/fhir/Binary/{binary}",) * 2

            # a row as an older version stored it: the absolute URL of the node that took it
            old = _stored(a, legacy)
            legacy_binary = old["content"][0]["attachment"]["url"].split("/", 1)[1]
            old["content"][0]["attachment"]["url"] = f"http://old-node:8080/dmp/fhir/Binary/{legacy_binary}"

            async def rewrite() -> None:
                async with a.ctx.db.session() as s:
                    await s.execute(update(DmpDocumentRow).where(DmpDocumentRow.id == legacy).values(resource=old))
            a.call(rewrite)
            assert _urls(d, legacy) == (f"{A}/dmp/fhir/Binary/{legacy_binary}",) * 2

        # the deployment moves to another address (a take-over): the same rows read with the new one
        with running_sandbox(database_url=url, public_base_url=B, take_over_public_base_url=True) as b, \
                b.client(follow_redirects=False) as http:
            d = Dmp(b, WS, http)
            assert _urls(d, fresh) == (f"{B}/dmp/fhir/Binary/{binary}",) * 2
            assert _urls(d, legacy) == (f"{B}/dmp/fhir/Binary/{legacy_binary}",) * 2
            # the rendered URL is the document's address on this deployment: its path serves the bytes
            path = urlsplit(_urls(d, fresh)[0]).path.removeprefix("/mes")
            got = http.get(path, headers=d.headers(d.pro_token()))
            assert got.status_code == 200 and got.content == CDA
