"""A lean HTTP/1.1 load generator for the throughput benchmarks (bench only).

On a 2-core machine the load generator shares the CPU with the server under test: httpx costs
≈ 3.5 ms of CPU per request, which the server then lacks. This client writes pre-built requests on
keep-alive connections and reads the status line, the headers it needs and the body: ≈ 0.1 ms per
request. It speaks only what the benchmarks need (``Content-Length`` or chunked responses), checks
every status, and hands back bodies for the caller to verify.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit


def build(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """Raw request bytes for ``url`` (absolute: its host goes in ``Host``)."""
    u = urlsplit(url)
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        u = urlsplit(url)
        reader, writer = await asyncio.open_connection(u.hostname, u.port or 80, limit=2**22)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; (status, body)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(parts)
            parts.append(data[:-2])

    def close(self) -> None:
        self.writer.close()


async def drive(url: str, requests: Iterator[bytes], concurrency: int,
                check: Callable[[int, bytes], None]) -> tuple[int, float]:
    """Send every request of ``requests`` over ``concurrency`` keep-alive connections to ``url``'s
    server, passing each answer to ``check`` (which raises on a bad one); (count, wall seconds)."""
    conns = [await Connection.open(url) for _ in range(concurrency)]
    done = 0

    async def worker(conn: Connection) -> None:
        nonlocal done
        for raw in requests:
            status, body = await conn.send(raw)
            check(status, body)
            done += 1

    t = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            c.close()
    return done, time.perf_counter() - t
