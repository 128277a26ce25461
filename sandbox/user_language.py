"""The language of the texts a user reads in error answers of the sandbox's own APIs (issue #14:
French by default, English on request, consistently).

Per request: ``Accept-Language`` (RFC 9110 §12.5.4; the best-weighted of ``fr`` and ``en``), else
the ``language`` setting (``MES_SANDBOX_LANGUAGE``, ``fr`` by default). :class:`RequestLanguage`
(outermost ASGI middleware) puts it in a context variable that the error renderers read, so a
handler raising a :class:`Text` needs no request at hand. The answer says which language it used
(``Content-Language``). The ``language`` setting is per app, in a context variable too: several
apps in one process (the tests run several) each answer in their own. Protocol texts of the
national services (OperationOutcome diagnostics, SOAP Fault reasons, OAuth errors) follow their own
rules and are not handled here.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LANGUAGES = ("fr", "en")
_current: ContextVar[str | None] = ContextVar("mes_sandbox_language", default=None)
#: the ``language`` setting of the app serving this context's request. Set by every request and left
#: set after it: what renders outside the middleware (Starlette's last-resort 500 handler, around
#: it) still reads the app's setting. Each app sets it before anything of its own reads it, so apps
#: sharing a process (or, in-process ASGI, one context) never read another's.
_default: ContextVar[str] = ContextVar("mes_sandbox_default_language", default="fr")


def current() -> str:
    """The language of the request being served (outside one: the app's setting, ``fr`` if none)."""
    return _current.get() or _default.get()


def negotiate(accept_language: str, default: str) -> str:
    """``fr`` or ``en`` from an ``Accept-Language`` value (highest weight wins; ties: first listed)."""
    best, best_q = default, -1.0
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q and q > 0:
            best, best_q = primary, q
    return best


class Text(str):
    """A user-facing text in both languages; as a plain ``str`` it is the French one.

    ``Text("aucun espace {name!r}", "no workspace {name!r}", name=n)`` formats both templates.
    """

    en: str

    def __new__(cls, fr: str, en: str, **args: Any) -> Text:
        obj = super().__new__(cls, fr.format(**args) if args else fr)
        obj.en = en.format(**args) if args else en
        return obj

    def in_language(self, lang: str) -> str:
        return self.en if lang == "en" else str(self)

    def both(self) -> str:
        """``"<French> / <English>"``, for wire formats that carry one text and no language choice."""
        return f"{self} / {self.en}"


def localise(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the request's) when it is a :class:`Text`; as is otherwise."""
    return text.in_language(lang or current()) if isinstance(text, Text) else text


class RequestLanguage:
    """Sets the request's language and answers it in ``Content-Language`` on the sandbox's own APIs."""

    def __init__(self, app: ASGIApp, *, default: str = "fr",
                 prefixes: tuple[str, ...] = ("/sandbox/api", "/mss/api", "/conformance/api")) -> None:
        self.app = app
        self.default = default if default in LANGUAGES else "fr"
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = ""
        for k, v in scope.get("headers", ()):
            if k == b"accept-language":
                accept = v.decode("latin-1")
                break
        lang = negotiate(accept, self.default)
        _default.set(self.default)
        token = _current.set(lang)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"content-language"]
                message = {**message, "headers": [*headers, (b"content-language", lang.encode())]}
            await send(message)

        # only the sandbox's own APIs say their language; the national-service paths (the hot ones)
        # keep the server's send as it is
        ours = scope["path"].startswith(self.prefixes)
        try:
            await self.app(scope, receive, send_with_language if ours else send)
        finally:
            _current.reset(token)
