"""Fair share of one sandbox between vendors: a token bucket per caller, answered 429 with
``Retry-After`` (RFC 6585 §4) in the path's protocol (problem JSON, OperationOutcome, OAuth error).

The caller is the workspace of a workspace API key, else the OAuth client named by HTTP Basic
authentication (RFC 6749 §2.3.1), else the peer address; callers on this machine are not limited
unless ``rate_limit_loopback`` says so. Each request costs one token; a request
refused for its credentials (401) costs ``FAILURE_COST`` more, so guessing a client secret or an
API key is throttled long before ordinary traffic is. Buckets live in each process (with
``--workers N`` a caller gets up to N times the rate): a guard against floods and guessing, not
billing.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.credentials import workspace_of_key
from sandbox.errors import Wire
from sandbox.settings import is_loopback

FAILURE_COST = 50.0
BURST_SECONDS = 4.0
MAX_BUCKETS = 100_000  # beyond, every bucket starts afresh (memory stays bounded under address floods)


@dataclass
class Bucket:
    tokens: float
    at: float


def caller_key(scope: Scope) -> str:
    for k, v in scope.get("headers", ()):
        if k == b"authorization":
            scheme, _, value = v.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                ws = workspace_of_key(value.strip())
                if ws:
                    return "ws:" + ws
            elif scheme.lower() == "basic":
                try:
                    return "client:" + base64.b64decode(value.strip()).decode("utf-8").partition(":")[0][:200]
                except ValueError:
                    pass
    client = scope.get("client")
    return "peer:" + (client[0] if client else "")


class RateLimit:
    def __init__(self, app: ASGIApp, *, rate: float, loopback: bool,
                 render: Callable[[str, int, str, dict[str, str]], Wire]) -> None:
        self.app = app
        self.rate = rate
        self.loopback = loopback
        self.burst = max(1.0, rate * BURST_SECONDS)
        self.render = render
        self.buckets: dict[str, Bucket] = {}

    def _take(self, key: str, cost: float) -> float:
        """Take ``cost`` tokens; 0 when allowed, else the seconds until it would be."""
        now = time.monotonic()
        b = self.buckets.get(key)
        if b is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self.buckets.clear()
            b = self.buckets[key] = Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.at) * self.rate)
        b.at = now
        if b.tokens < 1.0:
            return (1.0 - b.tokens) / self.rate
        b.tokens -= cost
        return 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or self.rate <= 0 or (
                not self.loopback and client and is_loopback(client[0])):
            await self.app(scope, receive, send)
            return
        key = caller_key(scope)
        wait = self._take(key, 1.0)
        if wait:
            retry = str(max(1, math.ceil(wait)))
            wire = self.render(scope["path"], 429, f"too many requests from this caller; retry in {retry} s",
                               {"Retry-After": retry})
            headers = [(b"content-type", wire.media_type.encode()), (b"retry-after", retry.encode()),
                       (b"content-length", str(len(wire.body)).encode())]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": wire.body})
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self._take(key, FAILURE_COST)
            await send(message)

        await self.app(scope, receive, counting)
