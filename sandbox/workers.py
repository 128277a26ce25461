"""``mes-sandbox serve --workers N``: several processes behind one pair of listening sockets.

One Python process runs one event loop on one core. On a machine with more cores, N worker
processes share the HTTP and HTTPS sockets (bound once, here; the kernel hands each new connection
to one worker). Everything a request needs is in the database, so any worker can answer any call;
the per-process caches follow changes made through other workers (:mod:`sandbox.changes`).

First-start work (test PKI, migrations, the default workspace and its seeded world, each service's
start-up hook such as PSC's signing keys) runs once, in this supervising process, before any worker
starts, so workers never race to create the same row or file. A worker that dies stops the whole
sandbox (exit code 1) rather than leaving it half-served; SIGINT/SIGTERM stop the workers cleanly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import socket
from multiprocessing.connection import wait
from typing import Any

from sandbox.settings import Settings

STOP_GRACE = 15.0


def prepare(settings: Settings) -> None:
    """Run the app's start-up (and shutdown) once, in this process."""
    from sandbox.app import create_app

    app = create_app(settings)

    async def once() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(once())


def _worker(overrides: dict[str, Any], http_socket: socket.socket, https_socket: socket.socket | None,
            log_level: str) -> None:
    from sandbox.app import create_app
    from sandbox.server import Servers, run

    servers = Servers(create_app(Settings(**overrides)), http_socket, https_socket, log_level=log_level)
    run(servers.serve())


def run_workers(overrides: dict[str, Any], http_socket: socket.socket, https_socket: socket.socket | None,
                count: int, log_level: str = "info") -> int:
    """Serve with ``count`` worker processes until a signal or a worker's death; the exit code."""
    prepare(Settings(**overrides))
    spawn = multiprocessing.get_context("spawn")
    procs = [spawn.Process(target=_worker, args=(overrides, http_socket, https_socket, log_level),
                           name=f"mes-sandbox-worker-{n}") for n in range(count)]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for p in procs:
            p.start()
        while not stopping and all(p.is_alive() for p in procs):
            wait([p.sentinel for p in procs], timeout=0.5)
        failed = not stopping
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(STOP_GRACE)
            if p.is_alive():
                p.kill()
                p.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if failed else 0
