"""``serve --workers N`` and the change counter that keeps the workers' caches in step."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import wait

import httpx

from sandbox.changes import ChangeCounter, Changes, FreshCache
from sandbox.credentials import read_operator_key
from sandbox.db import Database
from sandbox.faults import FaultRegistry, FaultSpec
from sandbox.pki import CertKind, TestPKI
from sandbox.server import bind
from sandbox.testing import RunningSandbox, free_port, fresh_database, spare_mail_ports
from sandbox.workers import Dispatcher

CLI = [sys.executable, "-c", "from sandbox.cli import main; main()"]
TOKEN = "/psc/realms/esante-wallet/protocol/openid-connect/token"


def test_change_counter_is_shared_through_its_file(tmp_path) -> None:
    a, b = ChangeCounter(tmp_path / "run" / "changes"), ChangeCounter(tmp_path / "run" / "changes")
    before = b.value()
    a.bump()
    assert b.value() == before + 1
    b.bump()
    assert a.value() == before + 2
    a.close()
    b.close()


def test_fresh_cache_loads_only_what_is_missing_until_a_change(tmp_path) -> None:
    counter = ChangeCounter(tmp_path / "run" / "changes")
    cache = FreshCache(60, Changes(counter))
    loads: list[list[str]] = []

    async def load(keys: list[str]) -> dict[str, str]:
        loads.append(keys)
        return {k: k.upper() for k in keys if k != "absent"}

    async def scenario() -> list[dict]:
        return [await cache.get_many(["a", "absent"], load), await cache.get_many(["a", "b", "absent"], load)]

    first, second = asyncio.run(scenario())
    assert first == {"a": "A", "absent": None} and second == {"a": "A", "b": "B", "absent": None}
    assert loads == [["a", "absent"], ["b"]]  # a miss is remembered too
    counter.bump()  # another process recorded a change
    assert asyncio.run(cache.get_many(["a"], load)) == {"a": "A"} and loads[-1] == ["a"]
    counter.close()


def test_a_fault_scripted_through_another_process_fires_on_the_next_call(sandbox: RunningSandbox,
                                                                        workspace: str) -> None:
    """Two databases on one database and one data folder behave as two worker processes (or, on
    PostgreSQL, two nodes): nobody tells the first registry that the second wrote a fault."""
    ctx = sandbox.ctx

    async def scenario() -> tuple:
        other_db = Database(ctx.db.url, changes_file=sandbox.settings.data_dir / "run" / "changes")
        other = FaultRegistry(other_db, ctx.services)
        try:
            before = await ctx.faults.take(workspace, "dmp", "iti-65")  # remembers: nothing armed
            await other.add(workspace, FaultSpec(service="dmp", kind="unavailable", times=1))
            return before, await ctx.faults.take(workspace, "dmp", "iti-65")
        finally:
            await other_db.dispose()

    before, after = sandbox.call(scenario)
    assert before is None
    assert after is not None and after.kind == "unavailable"


def _fresh(method: str, url: str, key: str = "", **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(timeout=30, headers=headers) as c:  # a new connection each time: any worker may take it
        return c.request(method, url, **kw)


def test_serve_with_two_workers(tmp_path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    https_port = free_port()
    with fresh_database(tmp_path) as url:
        env = {**os.environ, "MES_SANDBOX_DATA_DIR": str(tmp_path), "MES_SANDBOX_DATABASE_URL": url,
               "MES_SANDBOX_PORT": str(port), "MES_SANDBOX_HTTPS_PORT": str(https_port),
               **spare_mail_ports(named=True)}
        proc = subprocess.Popen([*CLI, "serve", "--workers", "2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    key = read_operator_key(tmp_path) or ""
                    _fresh("GET", base + "/sandbox/api/workspaces", key).raise_for_status()
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
                    time.sleep(0.1)
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            assert len(children) >= 2
            ws = "workers"
            assert _fresh("POST", base + "/sandbox/api/workspaces", key, json={"name": ws}).status_code == 201
            r = _fresh("POST", f"{base}/sandbox/api/workspaces/{ws}/psc/clients", key,
                       json={"client_id": "m2m-workers", "grant_types": ["client_credentials"]})
            assert r.status_code == 201, r.text
            secret = r.json()["client_secret"]
            for _ in range(6):  # whichever worker takes each call, the fault fires on the next one only
                r = _fresh("POST", f"{base}/sandbox/api/workspaces/{ws}/faults", key,
                           json={"service": "psc", "kind": "server_error", "operation": "token"})
                assert r.status_code == 201, r.text
                r = _fresh("POST", base + TOKEN, data={"grant_type": "client_credentials"},
                           auth=("m2m-workers", secret))
                assert r.status_code == 500 and r.json()["error"] == "server_error"
                r = _fresh("POST", base + TOKEN, data={"grant_type": "client_credentials"},
                           auth=("m2m-workers", secret))
                assert r.status_code == 200, r.text
            # TLS over handed-over connections, the client certificate seen by the worker
            pki = TestPKI(tmp_path / "pki")
            cert = pki.issue(CertKind.ORGANISATION, "INSI-AUTO", tmp_path / "org", identifier="0B0193488")
            for n in range(4):
                corr = f"workers-tls-{n}"
                with httpx.Client(verify=pki.client_context(cert), timeout=30) as tls:
                    r = tls.get(f"https://127.0.0.1:{https_port}/sandbox/api/workspaces",
                                headers={"X-Correlation-ID": corr, "Authorization": f"Bearer {key}"})
                assert r.status_code == 200, r.text
                deadline = time.monotonic() + 10
                while not (found := _fresh("GET", base + "/sandbox/api/exchanges", key,
                                           params={"correlation_id": corr}).json()["exchanges"]):
                    assert time.monotonic() < deadline, "exchange not recorded"
                    time.sleep(0.1)
                assert found[0]["actor"].startswith("cert:") and "INSI-AUTO" in found[0]["actor"], found
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
            assert "2 processus de travail" in out  # the banner speaks French by default
            deadline = time.monotonic() + 10  # the workers (and multiprocessing's helper) are gone
            while any(os.path.exists(f"/proc/{pid}") for pid in children):
                assert time.monotonic() < deadline, "a worker outlived serve"
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_the_supervisor_hands_connections_to_ready_workers_in_turn() -> None:
    """Eight connections opened at once go four to each of two workers (the kernel, left to
    itself, gave them all to whichever worker woke first)."""
    listener = bind("127.0.0.1", 0)
    pairs = [socket.socketpair() for _ in range(2)]
    dispatcher = Dispatcher([listener], [p for p, _ in pairs])
    assert dispatcher.watched() == [p for p, _ in pairs]  # nobody ready: connections wait
    for _, worker_end in pairs:
        worker_end.send(b"R")
    for obj in wait(dispatcher.watched(), timeout=5):
        dispatcher.on_ready(obj)
    assert sorted(dispatcher.ready) == [0, 1]
    clients = [socket.create_connection(listener.getsockname()) for _ in range(8)]
    received: list[list[int]] = [[], []]
    deadline = time.monotonic() + 5
    while sum(map(len, received)) < 8 and time.monotonic() < deadline:
        for obj in wait([listener], timeout=0.5):
            dispatcher.on_ready(obj)
        for n, (_, worker_end) in enumerate(pairs):
            worker_end.setblocking(False)
            try:
                while True:
                    tag, fds, _flags, _addr = socket.recv_fds(worker_end, 1, 1)
                    assert tag == b"\x00"  # the plain HTTP listener
                    received[n] += fds
            except BlockingIOError:
                pass
    assert [len(r) for r in received] == [4, 4]
    # what a worker gets is the connection itself
    peer = socket.socket(fileno=received[0][0])
    peer.sendall(b"hello")
    [client] = [c for c in clients if c.getsockname() == peer.getpeername()]
    assert client.recv(5) == b"hello"
    for fd in received[0][1:] + received[1]:
        os.close(fd)
    for s in [peer, listener, *clients, *(x for pair in pairs for x in pair)]:
        s.close()
