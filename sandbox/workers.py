"""``mes-sandbox serve --workers N``: several processes behind one pair of listening sockets.

One Python process runs one event loop on one core. On a machine with more cores, N worker
processes serve the HTTP and HTTPS sockets, bound once, here. This supervising process accepts
each connection and passes it to the next worker in turn (round robin, over a Unix socket per
worker), as Node's cluster module does. Left to the kernel, whichever worker woke first accepted
every connection waiting: a client opening its 8 keep-alive connections at once sent all its
calls to one worker while the other idled. Everything a request needs is in the database, so
any worker can answer any call; the per-process caches follow changes made through other workers
(:mod:`sandbox.changes`).

The mail listeners of services (``Service.listeners``: SMTP, IMAP) are not handed over: each
worker binds their ports itself with ``SO_REUSEPORT`` and the kernel spreads new connections over
the workers. Mail sessions are long and few, so the burst imbalance the HTTP hand-over fixes does
not matter there, and it keeps STARTTLS inside the process that owns the session.

First-start work (test PKI, migrations, the default workspace and its seeded world, each service's
start-up hook such as PSC's signing keys) runs once, in this supervising process, before any worker
starts, so workers never race to create the same row or file. A worker that dies is logged and
replaced (its connections in flight are lost, the others go on); only when workers keep dying —
more than ``MAX_RESTARTS`` within ``RESTART_WINDOW`` seconds, e.g. one that cannot start — does the
supervisor give up and exit 1. SIGINT/SIGTERM stop the workers cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Any

from sandbox.settings import Settings

STOP_GRACE = 15.0
BACKLOG = 2048  # uvicorn's default
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0  # seconds

log = logging.getLogger(__name__)


def prepare(settings: Settings) -> None:
    """Run the app's start-up (and shutdown) once, in this process."""
    from sandbox.app import create_app

    app = create_app(settings)

    async def once() -> None:
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(once())


def _worker(overrides: dict[str, Any], channel: socket.socket, tls: bool, log_level: str) -> None:
    from sandbox.app import create_app
    from sandbox.server import Servers, run

    servers = Servers(create_app(Settings(**overrides)), None, None, log_level=log_level,
                      handoff=channel, handoff_tls=tls)
    run(servers.serve())


class Dispatcher:
    """Accepts on the listening sockets and hands each connection to the next ready worker."""

    def __init__(self, listeners: list[socket.socket], channels: list[socket.socket]) -> None:
        self.listeners = listeners  # index = tag byte: 0 plain, 1 TLS
        self.channels = channels
        self.ready: list[int] = []  # workers that said they serve, in turn order
        self.turn = 0
        for sock in listeners:
            sock.listen(BACKLOG)
            sock.setblocking(False)

    def replace(self, index: int, channel: socket.socket) -> None:
        """Worker ``index`` was restarted: hand it nothing until its new process says it serves."""
        self.channels[index] = channel
        if index in self.ready:
            self.ready.remove(index)

    def watched(self) -> list[socket.socket]:
        # connections wait in the kernel's backlog until a worker is ready for them
        return self.channels + (self.listeners if self.ready else [])

    def on_ready(self, obj: object) -> None:
        if obj in self.channels:
            index = self.channels.index(obj)
            try:
                said = obj.recv(16)  # type: ignore[attr-defined]
            except OSError:  # the worker died; the supervisor's loop replaces it
                said = b""
            if said and index not in self.ready:
                self.ready.append(index)
            return
        tag = bytes([self.listeners.index(obj)])  # type: ignore[arg-type]
        for _ in range(64):  # what is waiting now; the next wait() comes back for more
            try:
                conn, _addr = obj.accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. the client reset before accept, or out of descriptors
                return
            with conn:
                self._hand(tag, conn)

    def _hand(self, tag: bytes, conn: socket.socket) -> None:
        while self.ready:
            worker = self.ready[self.turn % len(self.ready)]
            self.turn += 1
            try:
                socket.send_fds(self.channels[worker], [tag], [conn.fileno()])
                return
            except OSError:  # that worker is gone; the supervisor's loop notices and replaces it
                self.ready.remove(worker)


def run_workers(overrides: dict[str, Any], http_socket: socket.socket, https_socket: socket.socket | None,
                count: int, log_level: str = "info") -> int:
    """Serve with ``count`` worker processes until a signal, restarting the workers that die; the exit
    code (1 when workers kept dying)."""
    prepare(Settings(**overrides))
    spawn = multiprocessing.get_context("spawn")

    def start(n: int) -> tuple[multiprocessing.process.BaseProcess, socket.socket]:
        parent, child = socket.socketpair()
        proc = spawn.Process(target=_worker, args=(overrides, child, https_socket is not None, log_level),
                             name=f"mes-sandbox-worker-{n}")
        proc.start()
        child.close()  # the worker has its own copy now
        return proc, parent

    procs: list[multiprocessing.process.BaseProcess] = []
    channels: list[socket.socket] = []
    stopping = failed = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    deaths: deque[float] = deque()
    try:
        for n in range(count):
            proc, channel = start(n)
            procs.append(proc)
            channels.append(channel)
        dispatcher = Dispatcher([s for s in (http_socket, https_socket) if s is not None], list(channels))
        while not stopping:
            watched: list[Any] = [p.sentinel for p in procs]
            for obj in wait(watched + dispatcher.watched(), timeout=0.5):
                if not isinstance(obj, int):
                    dispatcher.on_ready(obj)
            for n, proc in enumerate(procs):
                if proc.is_alive() or stopping:
                    continue
                now = time.monotonic()
                deaths.append(now)
                while deaths and deaths[0] < now - RESTART_WINDOW:
                    deaths.popleft()
                if len(deaths) > MAX_RESTARTS:
                    log.error("worker %d (pid %s) died with exit code %s: %d deaths in %.0f s, giving up",
                              n, proc.pid, proc.exitcode, len(deaths), RESTART_WINDOW)
                    stopping = failed = True
                    break
                log.error("worker %d (pid %s) died with exit code %s; starting a new one",
                          n, proc.pid, proc.exitcode)
                channels[n].close()
                procs[n], channels[n] = start(n)
                dispatcher.replace(n, channels[n])
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
        for channel in channels:
            channel.close()
    return 1 if failed else 0
