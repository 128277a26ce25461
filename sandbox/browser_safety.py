"""What a web page in the vendor's browser must not be able to do to a sandbox (docs/security.md).

- **Host allow-list** (DNS rebinding): a page on ``evil.example`` whose name is re-pointed at
  127.0.0.1 reaches the sandbox with ``Host: evil.example``; only the loopback names, the host of
  the public base URL and ``allowed_hosts`` are served (``*`` serves any). Answered 421
  Misdirected Request (RFC 9110 §15.5.20) in the path's protocol.
- **Cross-site requests** (CSRF): a state-changing method (POST, PUT, PATCH, DELETE) on a path
  that a browser's ambient state could authorise — the sandbox's own APIs, the console, the PSC
  login pages and demo — is refused with 403 when the browser says it comes from another site
  (``Sec-Fetch-Site: cross-site``, or an ``Origin`` whose host is not allowed). Endpoints that
  authenticate every call with a credential a page cannot attach (OAuth token endpoints with
  client authentication, FHIR with a bearer token, SOAP with a client certificate) are not
  concerned: cross-origin calls to them are what browser-based clients do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.errors import Wire
from sandbox.settings import is_loopback

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AMBIENT_PREFIXES = ("/sandbox/api", "/mss/api", "/conformance/api", "/console", "/psc/")
#: under /psc/: endpoints authenticated by the client itself (RFC 6749 §2.3, RFC 7662 §2.1)
CLIENT_AUTHENTICATED_SUFFIXES = ("/token", "/token/introspect", "/revoke")


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8080
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class BrowserSafety:
    def __init__(self, app: ASGIApp, *, public_base_url: str, allowed_hosts: Iterable[str],
                 render: Callable[[str, int, str], Wire]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = {_host_name(h) for h in allowed_hosts if h != "*"}
        public = urlsplit(public_base_url).hostname
        if public:
            self.hosts.add(public.lower())
        self.render = render  # (path, status, detail) -> wire in the path's protocol

    def host_allowed(self, host: str) -> bool:
        name = _host_name(host)
        return self.any_host or is_loopback(name) or name in self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k: v.decode("latin-1") for k, v in scope.get("headers", ()) if k in
                   (b"host", b"origin", b"sec-fetch-site")}
        path: str = scope["path"]
        refusal = None
        host = headers.get(b"host", "")
        if host and not self.host_allowed(host):
            refusal = (421, f"host {host[:100]!r} is not served here (set MES_SANDBOX_ALLOWED_HOSTS)")
        elif scope["method"] in UNSAFE_METHODS and path.startswith(AMBIENT_PREFIXES) \
                and not path.endswith(CLIENT_AUTHENTICATED_SUFFIXES):
            origin = headers.get(b"origin")
            if headers.get(b"sec-fetch-site") == "cross-site" or (
                    origin is not None and not self.host_allowed(urlsplit(origin).netloc or origin)):
                refusal = (403, "cross-site request refused: a page of another site cannot change the sandbox")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        wire = self.render(path, *refusal)
        await send({"type": "http.response.start", "status": wire.status,
                    "headers": [(b"content-type", wire.media_type.encode()),
                                (b"content-length", str(len(wire.body)).encode())]})
        await send({"type": "http.response.body", "body": wire.body})
