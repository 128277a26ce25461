"""An ITI-65 submission's exchange is written in the submission's own transaction
(sandbox.http_evidence.written_with_change): one exchange per request, never two, holding the very
answer the client received; a submission that fails records its refusal instead, once."""

from __future__ import annotations

import hashlib

from dmp_helpers import PAT1, cr_bio_bundle


def _one(dmp, correlation: str) -> dict:  # noqa: ANN001
    found = dmp.sb.exchanges(correlation_id=correlation)
    assert len(found) == 1, [(e["operation"], e["status"]) for e in found]
    return found[0]


def test_the_answer_and_its_exchange_commit_together(dmp) -> None:  # noqa: ANN001
    bundle = cr_bio_bundle(PAT1)
    r = dmp.provide(bundle, **{"X-Correlation-ID": "iti65-in-transaction-ok"})
    assert r.status_code == 200, r.text
    ex = _one(dmp, "iti65-in-transaction-ok")
    assert (ex["operation"], ex["status"], ex["workspace"]) == ("dmp.iti-65", "200", dmp.workspace)
    # the summary holds what the handler annotated inside the transaction
    assert ex["summary"]["response"] == [e["response"]["status"] for e in r.json()["entry"]]
    assert ex["summary"]["emergency"] is False and "validation" in ex["summary"]
    assert ex["response_body"]["sha256"] == hashlib.sha256(r.content).hexdigest()
    with dmp.sb.client() as c:
        body = c.get(f"/sandbox/api/exchanges/{ex['id']}/response-body")
    assert body.status_code == 200 and body.content == r.content

    # the same submission again: refused (duplicate masterIdentifier), its transaction rolled back,
    # and the refusal recorded once by the middleware
    again = dmp.provide(bundle, **{"X-Correlation-ID": "iti65-in-transaction-dup"})
    assert again.status_code == 409, again.text
    refused = _one(dmp, "iti65-in-transaction-dup")
    assert refused["status"] == "409"
    assert "response" not in refused["summary"] and "emergency" not in refused["summary"]
    assert refused["response_body"]["sha256"] == hashlib.sha256(again.content).hexdigest()
