"""Testing kit: a real sandbox on free ports, with guaranteed cleanup (STYLE §14).

    from sandbox.testing import running_sandbox

    with running_sandbox() as sb:            # uvicorn on 127.0.0.1:<free port>, fresh database
        with sb.client() as c:               # carries the operator key on /sandbox/api
            r = c.get("/sandbox/api/personas", params={"kind": "patient"})
        exchanges = sb.exchanges(workspace="default")

``sb.client()`` sends ``Authorization: Bearer <operator key>`` where the sandbox takes its keys — its
own APIs and INS without a client certificate (docs/security.md "Credentials") — never on the DMP,
OIDC or annuaire calls, and never over an ``Authorization`` the call sets itself;
``sb.client(key=<workspace key>)`` sends a workspace's key instead, ``sb.client(key=None)`` none.

The database is a temporary SQLite file, or — when ``MES_SANDBOX_TEST_DATABASE_URL`` names a
PostgreSQL server (``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``) — a fresh database
created on that server for this sandbox and dropped afterwards.

Several nodes of one deployment (docs/scale.md), each a real ``mes-sandbox serve`` process:

    with fresh_database(tmp) as url:
        with running_node(url, public_base_url=lb, operator_key=key) as a, \
             running_node(url, public_base_url=lb, operator_key=key) as b:
            a.client().get("/health")
            a.kill()                 # SIGKILL; a.restart() starts it again on the same data folder
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
from sqlalchemy.engine import make_url

from sandbox.api_auth import PROTECTED_PREFIXES
from sandbox.app import create_app
from sandbox.credentials import read_operator_key
from sandbox.server import Servers, bind, new_event_loop
from sandbox.services import Service
from sandbox.settings import Settings

TEST_DB_ENV = "MES_SANDBOX_TEST_DATABASE_URL"

# anyio imports its file module lazily, at the first static file served (``/docs/assets``). Under
# pytest that import goes through the assertion-rewriting hook (anyio is a pytest plugin), and
# CPython 3.11's compiler fails when two threads compile at once ("AST constructor recursion depth
# mismatch"): the server thread's import raced the tests' own imports and the asset's answer was cut
# off. Importing it here, in the thread that starts the sandbox, leaves nothing to race.
_ = anyio.open_file
_OPERATOR = object()  # "the operator key" default of RunningSandbox.client
#: where the sandbox's keys open a workspace: its own APIs, and INS on plain HTTP (ins/http.py)
KEYED_PREFIXES = (*PROTECTED_PREFIXES, "/ins/insi", "/ins/fhir", "/ins/api")


class ApiKeyAuth(httpx.Auth):
    """``Authorization: Bearer <key>`` where the sandbox takes its keys (:data:`KEYED_PREFIXES`) only."""

    def __init__(self, key: str) -> None:
        self.header = f"Bearer {key}"

    def auth_flow(self, request: httpx.Request):  # noqa: ANN201 - httpx's generator protocol
        if request.url.path.startswith(KEYED_PREFIXES) and "authorization" not in request.headers:
            request.headers["Authorization"] = self.header
        yield request


@dataclass
class RunningSandbox:
    settings: Settings
    base_url: str
    app: Any
    _loop: asyncio.AbstractEventLoop
    https_base_url: str = ""

    @property
    def ctx(self):  # noqa: ANN201 - sandbox.context.SandboxContext
        return self.app.state.ctx

    def url(self, path: str) -> str:
        return self.base_url + path

    def https_url(self, path: str) -> str:
        return self.https_base_url + path

    @property
    def operator_key(self) -> str:
        return read_operator_key(self.settings.data_dir, self.settings.operator_key) or ""

    def _auth(self, key: str | None | object) -> httpx.Auth | None:
        chosen = self.operator_key if key is _OPERATOR else key
        return ApiKeyAuth(chosen) if isinstance(chosen, str) and chosen else None

    def client(self, key: str | None | object = _OPERATOR, **kw: Any) -> httpx.Client:
        """Client for the HTTP listener; ``key``: the operator key by default, a workspace key, or None."""
        return httpx.Client(base_url=self.base_url, timeout=30, auth=self._auth(key), **kw)

    def https_client(self, cert: Any = None, key: str | None | object = _OPERATOR, **kw: Any) -> httpx.Client:
        """Client for the HTTPS listener trusting the test CA; ``cert`` = a :class:`sandbox.pki.Issued`."""
        return httpx.Client(base_url=self.https_base_url, timeout=30, auth=self._auth(key),
                            verify=self.ctx.pki.client_context(cert), **kw)

    def create_workspace(self, name: str, **body: Any) -> str:
        """Create a workspace with the operator key; its API key (shown once)."""
        with self.client() as c:
            r = c.post("/sandbox/api/workspaces", json={"name": name, **body})
            r.raise_for_status()
            return r.json()["api_key"]

    def call(self, coro_fn, *args: Any, **kw: Any) -> Any:  # noqa: ANN001
        """Run ``await coro_fn(*args, **kw)`` on the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro_fn(*args, **kw), self._loop).result(timeout=60)

    def exchanges(self, **filters: Any) -> list[dict[str, Any]]:
        """Recorded exchanges matching ``filters`` (same names as ``/sandbox/api/exchanges``)."""
        with self.client() as c:
            r = c.get("/sandbox/api/exchanges", params={"limit": 1000, **filters})
            r.raise_for_status()
            return r.json()["exchanges"]


def free_port() -> int:
    with bind("127.0.0.1", 0) as s:
        return s.getsockname()[1]


MAIL_LISTENERS = ("SMTP", "SMTPS", "IMAP", "IMAPS")


def spare_mail_ports(*, named: bool = False) -> dict[str, str]:
    """Settings (``MES_SANDBOX_<LISTENER>_PORT``) that keep a ``serve`` process off the default mail
    ports, which the user's own sandbox may hold: ``0`` (any port), or, with ``named``, free ports
    chosen now, for a client that must be told where to connect (the simulator's mail client)."""
    return {f"MES_SANDBOX_{name}_PORT": str(free_port()) if named else "0" for name in MAIL_LISTENERS}


@contextmanager
def fresh_database(data_dir: Path) -> Iterator[str]:
    """A fresh database URL: PostgreSQL when ``MES_SANDBOX_TEST_DATABASE_URL`` says so, else SQLite."""
    server = os.environ.get(TEST_DB_ENV, "")
    if not server.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{(data_dir / 'sandbox.db').as_posix()}"
        return
    name = f"messb_{uuid.uuid4().hex[:12]}"
    admin = make_url(server)

    async def _admin(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(host=admin.host, port=admin.port or 5432, user=admin.username,
                                     password=admin.password, database=admin.database or "postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def running_sandbox(settings: Settings | None = None, *, services: list[Service] | None = None,
                    **overrides: Any) -> Iterator[RunningSandbox]:
    """Start the sandbox on free ports with its own data folder and database; stop and clean up.

    ``settings`` fields set explicitly are kept; ``data_dir``, ``database_url``, ``port`` and the
    public base URL are chosen here unless given in ``overrides``. ``services`` replaces the
    registered services (all of them by default).
    """
    tmp = Path(tempfile.mkdtemp(prefix="mes-sandbox-test-"))
    try:
        with fresh_database(tmp) as db_url:
            sock = bind("127.0.0.1", 0)
            port = sock.getsockname()[1]
            tls_sock = bind("127.0.0.1", 0)
            tls_port = tls_sock.getsockname()[1]
            values = dict(settings.model_dump() if settings else {})
            values.update({
                "data_dir": tmp, "database_url": db_url, "host": "127.0.0.1", "port": port,
                "https_port": tls_port,
                "public_base_url": f"http://127.0.0.1:{port}",
                "smtp_port": 0, "smtps_port": 0, "imap_port": 0, "imaps_port": 0,
            })
            values.update(overrides)
            final = Settings(**values)
            app = create_app(final, services)
            server = Servers(app, sock, tls_sock if final.https_enabled else None)
            loop = new_event_loop()
            errors: list[BaseException] = []

            def _serve() -> None:
                asyncio.set_event_loop(loop)
                try:
                    loop.run_until_complete(server.serve())
                except BaseException as exc:  # surfaced to the caller below
                    errors.append(exc)
                finally:
                    loop.close()

            thread = threading.Thread(target=_serve, name="mes-sandbox-test", daemon=True)
            thread.start()
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError(f"sandbox failed to start: {errors[0] if errors else 'see log'}")
                thread.join(0.02)
            try:
                yield RunningSandbox(final, f"http://127.0.0.1:{port}", app, loop,
                                     f"https://localhost:{tls_port}")
            finally:
                loop.call_soon_threadsafe(server.stop)
                thread.join(30)
                sock.close()
                tls_sock.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class RunningNode:
    """One ``mes-sandbox serve`` process of a deployment (:func:`running_node`)."""

    base_url: str
    data_dir: Path
    operator_key: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return self.base_url + path

    def client(self, key: str | None | object = _OPERATOR, **kw: Any) -> httpx.Client:
        """Client for this node; ``key``: the operator key by default, a workspace key, or None."""
        chosen = self.operator_key if key is _OPERATOR else key
        auth = ApiKeyAuth(chosen) if isinstance(chosen, str) and chosen else None
        return httpx.Client(base_url=self.base_url, timeout=30, auth=auth, **kw)

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing runs on the way out."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self, timeout: float = 90) -> None:
        """Start the node again, same data folder and settings, on a free port."""
        self.stop()
        self.env["MES_SANDBOX_PORT"] = str(free_port())
        self.base_url, self.process = _start_node(self.env, self.data_dir, timeout)


NODE_CLI = [sys.executable, "-c", "from sandbox.cli import main; main()", "serve"]


def _start_node(env: dict[str, str], data_dir: Path, timeout: float) -> tuple[str, subprocess.Popen[bytes]]:
    base = f"http://127.0.0.1:{env['MES_SANDBOX_PORT']}"
    log = open(data_dir / "node.log", "ab")  # noqa: SIM115 - the process writes it while it runs
    proc = subprocess.Popen(NODE_CLI, env=env, stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (data_dir / "node.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"node exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return base, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # start-up poll (readiness), not an assertion
    proc.kill()
    raise RuntimeError(f"node not ready after {timeout}s")


@contextmanager
def running_node(database_url: str, *, public_base_url: str, operator_key: str, timeout: float = 90,
                 **settings: str) -> Iterator[RunningNode]:
    """A real ``mes-sandbox serve`` subprocess on a free port with its own data folder, sharing
    ``database_url``, the deployment's ``public_base_url`` and ``operator_key`` with the other
    nodes; stopped and cleaned up afterwards. ``settings``: more ``MES_SANDBOX_<NAME>`` values by
    field name (``database_connections="8"``). Plain HTTP only; no mail listeners."""
    tmp = Path(tempfile.mkdtemp(prefix="mes-sandbox-node-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_SANDBOX_")}
    env.update({
        "MES_SANDBOX_DATA_DIR": str(tmp), "MES_SANDBOX_DATABASE_URL": database_url,
        "MES_SANDBOX_HOST": "127.0.0.1", "MES_SANDBOX_PORT": str(free_port()),
        "MES_SANDBOX_HTTPS_ENABLED": "false", "MES_SANDBOX_PUBLIC_BASE_URL": public_base_url,
        "MES_SANDBOX_OPERATOR_KEY": operator_key, "MES_SANDBOX_WORKERS": "1",
        **spare_mail_ports(),
        **{f"MES_SANDBOX_{name.upper()}": value for name, value in settings.items()},
    })
    node: RunningNode | None = None
    try:
        base, proc = _start_node(env, tmp, timeout)
        node = RunningNode(base, tmp, operator_key, env, proc)
        yield node
    finally:
        if node is not None:
            node.stop()
        shutil.rmtree(tmp, ignore_errors=True)
