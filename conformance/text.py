"""Bilingual texts and stable messages: everything a vendor or auditor reads is French by
default, English on request, and keyed by an id that reports and CI refer to (STYLE §1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Text:
    """A text in French and English."""

    fr: str
    en: str

    def get(self, lang: str = "fr") -> str:
        return self.en if lang == "en" else self.fr

    def format(self, **fmt: Any) -> Text:
        return Text(_fill(self.fr, fmt), _fill(self.en, fmt))

    def to_dict(self) -> dict[str, str]:
        return {"fr": self.fr, "en": self.en}


@dataclass(frozen=True)
class Message:
    """A finding's text, with a stable ``id`` (e.g. ``dmp.iti65.type-code``) and a fix hint.

    Texts are ``str.format`` templates filled with the keyword arguments given to
    :meth:`conformance.TestContext.check`."""

    id: str
    fr: str
    en: str
    hint_fr: str = ""
    hint_en: str = ""

    def text(self, **fmt: Any) -> Text:
        return Text(_fill(self.fr, fmt), _fill(self.en, fmt))

    def hint(self, **fmt: Any) -> Text:
        return Text(_fill(self.hint_fr, fmt), _fill(self.hint_en, fmt))


class _Keep(dict):  # type: ignore[type-arg]
    """Leaves ``{name}`` as is when a message is filled without ``name``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, fmt: dict[str, Any]) -> str:
    if not fmt or not template:
        return template
    try:
        return template.format_map(_Keep(fmt))
    except (IndexError, ValueError):  # a literal brace in a template: show it unfilled
        return template
