"""The mail store writes concurrent deliveries in one transaction (group commit, mss/store.py):
each is answered after its commit, UIDs stay distinct and increasing, and a delivery that fails
fails alone (the shared transaction is retried one delivery at a time)."""

from __future__ import annotations

import asyncio
import uuid

from mss_helpers import PRO_ID, persona

from mss import delivery
from mss.store import INBOX, Delivery


def test_concurrent_deliveries_share_commits_and_a_bad_one_fails_alone(mss) -> None:
    me = persona(mss, "professional", PRO_ID)["mailbox"]
    st = delivery.store(mss.ctx)
    tag = uuid.uuid4().hex[:8]

    def one(n: int, workspace: str = "default") -> Delivery:
        raw = f"Subject: lot {tag} {n}\r\nMessage-ID: <{tag}.{n}@sandbox.invalid>\r\n\r\ncorps {n}\r\n".encode()
        return Delivery(raw=raw, targets=[(me, INBOX)], sender=me, recipients=[me], subject=f"lot {tag} {n}")

    async def run() -> list:
        jobs = [st.deliver("default", one(n)) for n in range(12)]
        jobs.insert(5, st.deliver("no-such-workspace", one(99, "no-such-workspace")))  # foreign key: refused
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = mss.call(run)
    failed = [r for r in results if isinstance(r, BaseException)]
    stored = [r[0] for r in results if not isinstance(r, BaseException)]
    assert len(failed) == 1 and len(stored) == 12
    assert len({m.uid for m in stored}) == 12 and all(m.id > 0 for m in stored)
    listed = mss.call(st.list, "default", mailbox=me, folder=INBOX, limit=1000)
    mine = [m for m in listed if m.subject.startswith(f"lot {tag} ")]
    assert sorted(m.subject for m in mine) == sorted(f"lot {tag} {n}" for n in range(12))
    assert [m.uid for m in sorted(mine, key=lambda m: m.id)] == sorted(m.uid for m in mine)
