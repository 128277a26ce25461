"""The one place where ``mes-sandbox`` commands build their HTTP client to a running sandbox.

Every command that talks to a sandbox over HTTP (``psc token``, ``dmp provide``, ``insi search``,
``exchanges``, ``faults``...) calls :func:`client` and :func:`check`, so that what every such call
needs (base URL from the settings or ``--url``, headers a shared sandbox will ask for, one clean
line instead of a traceback when nothing listens) is decided here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from sandbox.cli_messages import CliMsg, say

if TYPE_CHECKING:
    import httpx

#: the option every HTTP command takes (typer reads its help from here)
URL_HELP = "Base URL of the running sandbox (default: MES_SANDBOX_PUBLIC_BASE_URL, else http://<host>:<port>)."
WORKSPACE_HELP = "Workspace to act in."


def base_url(url: str | None) -> str:
    """``url`` when given, else the base URL the settings describe (what ``serve`` listens on)."""
    if url:
        return url.rstrip("/")
    from sandbox.settings import Settings

    return Settings().base_url


def _trust() -> Any:
    """The test CA of the settings' data folder when it exists (HTTPS endpoints of the sandbox are
    signed by it), else the system's trust store."""
    import ssl

    from sandbox.settings import Settings

    bundle = Settings().pki_dir / "ca-bundle.pem"
    return ssl.create_default_context(cafile=str(bundle)) if bundle.is_file() else True


def fail(text: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and leave with ``code``."""
    typer.echo(text, err=True)
    raise typer.Exit(code)


@contextmanager
def client(url: str | None = None, *, workspace: str | None = None, **kw: Any) -> Iterator[httpx.Client]:
    """An :class:`httpx.Client` on the sandbox at ``url``; a refused connection ends the command with
    one line saying how to start the sandbox."""
    import httpx

    base = base_url(url)
    headers = {"X-Sandbox-Workspace": workspace} if workspace else {}
    kw.setdefault("verify", _trust())
    try:
        with httpx.Client(base_url=base, timeout=60, headers=headers, **kw) as c:
            yield c
    except httpx.TransportError as exc:
        fail(say(CliMsg.NOT_RUNNING, url=base, reason=type(exc).__name__), 2)


def check(r: httpx.Response, *ok: int) -> httpx.Response:
    """``r`` when its status is in ``ok`` (default: any 2xx); else one line with the server's own
    explanation (problem ``detail``, OperationOutcome diagnostics, OAuth ``error_description``)."""
    if (r.status_code in ok) if ok else r.is_success:
        return r
    fail(say(CliMsg.HTTP_ERROR, method=r.request.method, url=r.request.url, status=r.status_code,
             detail=explain(r)))


def explain(r: httpx.Response) -> str:
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
