"""Running the app: plain HTTP on ``port`` and HTTPS (test PKI, optional client certificates)
on ``https_port``, in one event loop. Used by ``mes-sandbox serve`` and the testing kit."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

from sandbox.tls import REGISTRY_KEY, PeerRegistry


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


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # TCP; without it every keep-alive response stalls ~40 ms on Nagle + delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


@dataclass
class Servers:
    """Both listeners of one app; ``serve()`` runs until ``stop()``."""

    app: FastAPI
    http_socket: socket.socket
    https_socket: socket.socket | None
    log_level: str = "warning"
    servers: list[uvicorn.Server] = field(default_factory=list)

    def __post_init__(self) -> None:
        ctx = self.app.state.ctx
        plain = uvicorn.Config(self.app, log_level=self.log_level, access_log=False, proxy_headers=False,
                               lifespan="on")
        self.servers.append(uvicorn.Server(plain))
        if self.https_socket is not None:
            registry = PeerRegistry()
            ctx.state[REGISTRY_KEY] = registry
            pki = ctx.pki
            pki.ensure()
            secure = uvicorn.Config(
                self.app, log_level=self.log_level, access_log=False, proxy_headers=False, lifespan="off",
                http=registry.protocol_class(), ssl_certfile=str(pki.server_chain),
                ssl_keyfile=str(pki.server_key), ssl_ca_certs=str(pki.ca_bundle),
                ssl_cert_reqs=ssl.CERT_OPTIONAL,
            )
            self.servers.append(uvicorn.Server(secure))

    @property
    def started(self) -> bool:
        return all(s.started for s in self.servers)

    async def serve(self) -> None:
        main = self.servers[0]
        main_task = asyncio.create_task(main.serve(sockets=[self.http_socket]))
        if len(self.servers) > 1:
            # the TLS listener starts once the app's lifespan (migrations, seeding) is done
            while not main.started and not main_task.done():
                await asyncio.sleep(0.01)
            if main.started:
                secure_task = asyncio.create_task(self.servers[1].serve(sockets=[self.https_socket]))
                await main_task
                self.servers[1].should_exit = True
                await secure_task
                return
        await main_task

    def stop(self) -> None:
        for s in self.servers:
            s.should_exit = True
