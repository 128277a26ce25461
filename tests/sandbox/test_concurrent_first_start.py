"""Several nodes starting at once on one empty database all come up (issue 19): migrations run
once (PostgreSQL advisory lock, SQLite write lock), the default workspace and its seeded world
are created once, and the losers of each race carry on."""

from __future__ import annotations

import tempfile
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sandbox.testing import RunningSandbox, fresh_database, running_sandbox

NODES = 5
SHARED_URL = "http://sandbox.test"  # every node of a deployment announces one address


def test_five_nodes_start_at_once_on_one_empty_database() -> None:
    with tempfile.TemporaryDirectory(prefix="mes-sandbox-nodes-") as tmp, fresh_database(Path(tmp)) as url:
        barrier = threading.Barrier(NODES)
        started: list[tuple[AbstractContextManager[RunningSandbox], RunningSandbox]] = []
        failures: list[BaseException] = []
        lock = threading.Lock()

        def node() -> None:
            cm = running_sandbox(database_url=url, public_base_url=SHARED_URL)
            barrier.wait()
            try:
                sb = cm.__enter__()
            except BaseException as exc:  # reported below with the others
                with lock:
                    failures.append(exc)
                return
            with lock:
                started.append((cm, sb))

        threads = [threading.Thread(target=node) for _ in range(NODES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        try:
            assert not failures, failures
            assert len(started) == NODES
            seen: list[Any] = []
            for _, sb in started:
                with sb.client() as c:
                    names = [w["name"] for w in c.get("/sandbox/api/workspaces").json()["workspaces"]]
                    assert names.count("default") == 1
                    seen.append(c.get("/sandbox/api/personas", params={"kind": "patient", "limit": 5}).json())
            assert all(s == seen[0] for s in seen)  # one seeded world, the same through every node
        finally:
            for cm, _ in started:
                cm.__exit__(None, None, None)
