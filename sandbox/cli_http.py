"""The one place where ``mes-sandbox`` commands build their HTTP client to a running sandbox.

Every command that talks to a sandbox over HTTP (``psc token``, ``dmp provide``, ``insi search``,
``exchanges``, ``faults``...) calls :func:`client` and :func:`check`, so that what every such call
needs (base URL from the settings or ``--url``, headers a shared sandbox will ask for, trust of the
test CA, one clean line instead of a traceback when nothing listens) is decided here once.

The client is a small one on the standard library (``urllib.request``), not httpx: importing httpx
(and the command-line tool it brings) costs more than the whole budget of a command that makes
two requests (issue 14: ≤ 0.5 s). It never follows redirects: the callers read them (OAuth).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer

from sandbox.cli_messages import CliMsg, say

#: the option every HTTP command takes (typer reads its help from here)
URL_HELP = "Base URL of the running sandbox (default: MES_SANDBOX_PUBLIC_BASE_URL, else http://<host>:<port>)."
WORKSPACE_HELP = "Workspace to act in."
#: the sandbox's own APIs, which need the operator key (relative URLs of :class:`Client`)
API_PREFIXES = ("/sandbox/api", "/mss/api", "/conformance/api")


class TransportError(Exception):
    """Nothing answered (connection refused, reset, timeout, TLS handshake failed)."""


@dataclass(frozen=True)
class Request:
    method: str
    url: str


@dataclass
class Response:
    """What an HTTP exchange answered (the subset of httpx's Response the commands use)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    request: Request

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers


@dataclass
class Client:
    """Requests to ``base_url`` (relative URLs) or anywhere (absolute ones), with default headers."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    ssl_context: Any = None
    #: sent only to the sandbox's own APIs (``/sandbox/api``, ``/mss/api``, ``/conformance/api``):
    #: the operator key never travels to the national-service endpoints unless a command passes it
    #: on itself (``insi search``: plain-HTTP INSi takes the sandbox's keys)
    api_headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                content: bytes | None = None, json: Any = None, data: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None, auth: tuple[str, str] | None = None) -> Response:
        import base64
        import urllib.error
        import urllib.request
        from urllib.parse import urlencode

        full = url if "://" in url else self.base_url + url
        if params:
            full += ("&" if "?" in full else "?") + urlencode({k: str(v) for k, v in params.items()})
        sent = {**self.headers, **(headers or {})}
        if url.startswith(API_PREFIXES):
            sent = {**self.api_headers, **sent}
        if json is not None:
            content = jsonlib.dumps(json).encode()
            sent.setdefault("Content-Type", "application/json")
        elif data is not None:
            content = urlencode(data).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req = urllib.request.Request(full, data=content, headers=sent, method=method)
        opener = urllib.request.build_opener(_redirect_handler()(),
                                             urllib.request.HTTPSHandler(context=self.ssl_context))
        try:
            with opener.open(req, timeout=self.timeout) as r:
                return Response(r.status, _Headers(r.headers.items()), r.read(), Request(method, full))
        except urllib.error.HTTPError as exc:  # an answer, whatever its status
            return Response(exc.code, _Headers(exc.headers.items()), exc.read(), Request(method, full))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(str(reason)) from None

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> Response:
        return self.request("DELETE", url, **kw)


class _Headers(dict[str, str]):
    """Response headers, looked up case-insensitively (names stored lower case)."""

    def __init__(self, items: Any) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


def _redirect_handler() -> Any:
    """A handler class that hands 3xx answers back instead of following them (built on first use:
    ``urllib.request`` is not free to import)."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kw: Any) -> None:
            return None  # the 3xx reaches the caller as an HTTPError, read as a Response

    return NoRedirect


def base_url(url: str | None) -> str:
    """``url`` when given, else the base URL the settings describe (what ``serve`` listens on)."""
    if url:
        return url.rstrip("/")
    from sandbox.settings import from_environment

    return from_environment().base_url


def _trust() -> Any:
    """The test CA of the settings' data folder when it exists (HTTPS endpoints of the sandbox are
    signed by it), else the system's trust store."""
    import ssl

    from sandbox.settings import from_environment

    bundle = from_environment().pki_dir / "ca-bundle.pem"
    return ssl.create_default_context(cafile=str(bundle) if bundle.is_file() else None)


def fail(text: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and leave with ``code``."""
    typer.echo(text, err=True)
    raise typer.Exit(code)


@contextmanager
def client(url: str | None = None, *, workspace: str | None = None) -> Iterator[Client]:
    """A :class:`Client` on the sandbox at ``url``; a refused connection ends the command with one
    line saying how to start the sandbox."""
    from sandbox.operator_key import cli_api_headers
    from sandbox.settings import from_environment

    base = base_url(url)
    settings = from_environment()
    # the server's error texts in the language of the command's own messages (MES_SANDBOX_LANGUAGE)
    headers: dict[str, str] = {"Accept-Language": settings.language}
    if workspace:
        headers["X-Sandbox-Workspace"] = workspace
    try:
        yield Client(base, headers, ssl_context=_trust() if base.startswith("https") else None,
                     api_headers=cli_api_headers(settings))
    except TransportError as exc:
        fail(say(CliMsg.NOT_RUNNING, url=base, reason=exc), 2)


def check(r: Response, *ok: int) -> Response:
    """``r`` when its status is in ``ok`` (default: any 2xx); else one line with the server's own
    explanation (problem ``detail``, OperationOutcome diagnostics, OAuth ``error_description``)."""
    if (r.status_code in ok) if ok else r.is_success:
        return r
    fail(say(CliMsg.HTTP_ERROR, method=r.request.method, url=r.request.url, status=r.status_code,
             detail=explain(r)))


def explain(r: Response) -> str:
    """The human part of an error body, whatever protocol shaped it."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:300]
    if isinstance(body, dict):
        if body.get("resourceType") == "OperationOutcome":
            issues = [i for i in body.get("issue", []) if isinstance(i, dict)]
            errors = [i for i in issues if i.get("severity") in ("error", "fatal")] or issues
            return "; ".join(f"{(i.get('expression') or [''])[0]} {i.get('diagnostics', '')}".strip()
                             for i in errors[:10])
        for key in ("detail", "error_description", "error", "title"):
            if body.get(key):
                return str(body[key])
    return r.text[:300]
