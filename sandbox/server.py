"""Running the app: plain HTTP on ``port`` and HTTPS (test PKI, optional client certificates)
on ``https_port``, in one event loop, plus the services' own listeners (SMTP, IMAP: DESIGN
"Listeners"). Used by ``mes-sandbox serve``, each worker of ``serve --workers`` and the testing kit."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

from sandbox.services import Listener
from sandbox.tls import REGISTRY_KEY, PeerRegistry, PkiTLSConfig

LISTENERS_KEY = "listeners"  # ctx.state: listener name -> port bound


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed (``uvicorn[standard]`` brings it on Linux and macOS: a faster event
    loop for uvicorn and asyncpg alike), else asyncio's own. The servers and the testing kit both
    use it, so the tests run on the loop production runs on."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` to completion on :func:`new_event_loop`."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main)


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to ``host:port``. ``reuse_port``: several processes bind the same port
    and the kernel spreads new connections over them (the mail listeners under ``--workers``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # TCP; without it every keep-alive response stalls ~40 ms on Nagle + delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Until ``server`` serves, or its task ended (a failed start)."""
    while not server.started and not task.done():
        await asyncio.sleep(0.01)


@dataclass
class Servers:
    """Both listeners of one app; ``serve()`` runs until ``stop()``.

    Connections come from the listening sockets, or — for a worker of ``serve --workers`` — from
    ``handoff``: a Unix socket on which the supervisor passes each accepted connection (one tag
    byte, ``0`` plain or ``1`` TLS, with its file descriptor; :mod:`sandbox.workers`). The worker
    writes one byte back once it serves.
    """

    app: FastAPI
    http_socket: socket.socket | None
    https_socket: socket.socket | None
    log_level: str = "warning"
    handoff: socket.socket | None = None
    handoff_tls: bool = False
    servers: list[uvicorn.Server] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    listeners_started: bool = False

    def __post_init__(self) -> None:
        ctx = self.app.state.ctx
        plain = uvicorn.Config(self.app, log_level=self.log_level, access_log=False, proxy_headers=False,
                               lifespan="on")
        self.servers.append(uvicorn.Server(plain))
        if self.https_socket is not None or self.handoff_tls:
            registry = PeerRegistry()
            ctx.state[REGISTRY_KEY] = registry
            pki = ctx.pki  # its files are written by the app's start-up, before this listener loads them
            secure = PkiTLSConfig(  # dur: both server chains (ECDSA, RSA), TLS ≥ 1.2 (sandbox.tls)
                self.app, pki=pki, log_level=self.log_level, access_log=False, proxy_headers=False,
                lifespan="off", http=registry.protocol_class(),
            )
            self.servers.append(uvicorn.Server(secure))

    @property
    def started(self) -> bool:
        return all(s.started for s in self.servers) and self.listeners_started

    async def _start_listeners(self) -> None:
        """Each service's listeners, once the app's lifespan (migrations, seeding) is done. A
        listener that cannot start (port taken) stops the whole server: a sandbox without the
        mail it announces would fail a vendor's test for the wrong reason."""
        ctx = self.app.state.ctx
        ports: dict[str, int] = ctx.state.setdefault(LISTENERS_KEY, {})
        try:
            for svc in ctx.services:
                if svc.listeners is not None:
                    for listener in await svc.listeners(ctx):
                        self.listeners.append(listener)
                        ports[listener.name] = listener.port
        except BaseException:
            await self._close_listeners()
            self.stop()
            raise
        self.listeners_started = True

    async def _close_listeners(self) -> None:
        while self.listeners:
            await self.listeners.pop().close()

    def _sockets(self, sock: socket.socket | None) -> list[socket.socket]:
        return [] if self.handoff is not None or sock is None else [sock]

    async def serve(self) -> None:
        main = self.servers[0]
        main_task = asyncio.create_task(main.serve(sockets=self._sockets(self.http_socket)))
        await _started(main, main_task)
        secure_task = None
        if len(self.servers) > 1 and main.started:
            # the TLS listener starts once the app's lifespan (migrations, seeding) is done
            secure = self.servers[1]
            secure_task = asyncio.create_task(secure.serve(sockets=self._sockets(self.https_socket)))
            await _started(secure, secure_task)
        try:
            if main.started:
                await self._start_listeners()
            self._take_handoffs()
        finally:
            await main_task
            await self._close_listeners()
            if secure_task is not None:
                self.servers[1].should_exit = True
                await secure_task

    def _take_handoffs(self) -> None:
        """Serve the connections the supervisor passes on ``handoff``, each with the protocol
        factory uvicorn would use for its own listening socket."""
        channel = self.handoff
        if channel is None or not self.servers[0].started:
            return
        loop = asyncio.get_running_loop()
        channel.setblocking(False)
        adopting: set[asyncio.Task[None]] = set()

        def readable() -> None:
            while True:
                try:
                    tag, fds, _flags, _addr = socket.recv_fds(channel, 1, 1)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    tag, fds = b"", []
                if not tag:  # the supervisor is gone: stop serving
                    for fd in fds:
                        os.close(fd)
                    loop.remove_reader(channel.fileno())
                    self.stop()
                    return
                for fd in fds:
                    conn = socket.socket(fileno=fd)
                    server = self.servers[tag[0]] if tag[0] < len(self.servers) else None
                    if server is None or not server.started:  # e.g. the TLS listener failed to start
                        conn.close()
                        continue
                    task = loop.create_task(self._adopt(server, conn))
                    adopting.add(task)  # the loop keeps only weak references to tasks
                    task.add_done_callback(adopting.discard)

        loop.add_reader(channel.fileno(), readable)
        channel.send(b"R")  # serving: the supervisor may hand connections to this worker

    @staticmethod
    async def _adopt(server: uvicorn.Server, conn: socket.socket) -> None:
        config = server.config
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # see bind()

        def protocol() -> asyncio.Protocol:
            # what uvicorn.Server.startup builds for its listening sockets (uvicorn ≥ 0.30)
            return config.http_protocol_class(config=config, server_state=server.server_state,
                                              app_state=server.lifespan.state)

        try:
            await asyncio.get_running_loop().connect_accepted_socket(protocol, conn, ssl=config.ssl)
        except (TimeoutError, OSError, ssl.SSLError):
            conn.close()  # handshake failed or the client went away: as for a listener

    def stop(self) -> None:
        for s in self.servers:
            s.should_exit = True
