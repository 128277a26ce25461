"""The deployment's default language is per app (sandbox/user_language.py): two apps of different
``language`` settings in one process each answer in their own, whichever was built or called last,
including for what renders outside the language middleware (Starlette's last-resort 500 handler)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.errors import problem_renderer
from sandbox.testing import running_sandbox
from sandbox.user_language import RequestLanguage


def test_two_sandboxes_of_different_languages_in_one_process_answer_in_their_own() -> None:
    with running_sandbox(language="en") as en, running_sandbox(language="fr") as fr, \
            en.client(key=None) as to_en, fr.client(key=None) as to_fr:
        for _ in range(2):  # interleaved: neither app's setting leaks into the other's answers
            english, french = to_en.get("/sandbox/api/workspaces"), to_fr.get("/sandbox/api/workspaces")
            assert english.status_code == french.status_code == 401
            assert "needs" in english.json()["detail"] and english.headers["content-language"] == "en"
            assert "demande" in french.json()["detail"] and french.headers["content-language"] == "fr"


def _crashing_app(default: str) -> Starlette:
    """A route that crashes, under the sandbox's language middleware, and a last-resort handler
    (outside that middleware, as the sandbox's ``_crash``) rendering the sandbox's problem JSON."""

    async def ok(_: Request) -> Response:
        return Response("ok")

    async def crash(_: Request) -> Response:
        raise RuntimeError("boom")

    async def last_resort(_: Request, __: Exception) -> Response:
        body, media_type = problem_renderer(500, "internal error; the sandbox log has the details")
        return JSONResponse(body, status_code=500, media_type=media_type)

    return Starlette(routes=[Route("/ok", ok), Route("/crash", crash)],
                     middleware=[Middleware(RequestLanguage, default=default, prefixes=("/",))],
                     exception_handlers={Exception: last_resort})


def test_the_last_resort_500_speaks_its_own_app_s_language_after_another_app_served() -> None:
    async def run() -> tuple[str, str]:
        english, french = _crashing_app("en"), _crashing_app("fr")
        transport = {"raise_app_exceptions": False}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(english, **transport), base_url="http://en") as a, \
                httpx.AsyncClient(transport=httpx.ASGITransport(french, **transport), base_url="http://fr") as b:
            assert (await a.get("/ok")).status_code == 200
            assert (await b.get("/ok")).status_code == 200  # the French app served last
            crash_en, crash_fr = await a.get("/crash"), await b.get("/crash")
        assert crash_en.status_code == crash_fr.status_code == 500
        return crash_en.json()["detail"], crash_fr.json()["detail"]

    english, french = asyncio.run(run())
    assert "internal error" in english
    assert "erreur interne" in french
