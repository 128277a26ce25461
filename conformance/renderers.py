"""The report renderers, registered by format (STYLE §9: a new format is a new module plus one
line here). Each takes the canonical report (the ``report`` member of the signed file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from conformance.render_html import render_html
from conformance.render_junit import render_junit
from conformance.render_sarif import render_sarif


@dataclass(frozen=True)
class Renderer:
    name: str
    suffix: str
    media_type: str
    render: Callable[[dict[str, Any], str, str], bytes]  # (report, lang, kid)


RENDERERS: dict[str, Renderer] = {
    "html": Renderer("html", "report.html", "text/html; charset=utf-8", lambda r, lang, kid: render_html(r, lang, kid)),
    "junit": Renderer("junit", "report.junit.xml", "application/xml", lambda r, lang, kid: render_junit(r, lang)),
    "sarif": Renderer("sarif", "report.sarif", "application/sarif+json", lambda r, lang, kid: render_sarif(r, lang)),
}


def split_signed(data: bytes) -> tuple[dict[str, Any], str]:
    """(report, kid) from a signed report file produced by this sandbox."""
    doc = orjson.loads(data)
    return doc["report"], str(doc.get("signature", {}).get("kid", ""))
