"""Narrative XHTML checks, constraints txt-1 and txt-2 (FHIR R4 §2.15 Narrative: the ``div`` is
well-formed XHTML in the XHTML namespace, without active content, and not empty).

:func:`html_checks` is the native implementation of the official ``htmlChecks()``; the common
narrative shapes are decided by :func:`html_fast` without building a parser.
"""

from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

_XHTML = "http://www.w3.org/1999/xhtml"
_FORBIDDEN = frozenset(("script", "form", "object", "embed", "iframe", "applet", "base", "link", "meta",
                        "input", "button", "select", "textarea", "frame", "frameset", "style"))


class _HtmlReject(Exception):
    pass


# Fast path of txt-1/txt-2 for the common narrative: the XHTML root div without other attributes,
# attribute-free elements of a safe list, text of valid XML characters and the five predefined
# entities. Such a div is well formed exactly when its tags nest, so a tag stack decides; any
# other input (attributes, img, character references, CDATA, comments...) goes to expat.
_ROOT_OPEN = '<div xmlns="http://www.w3.org/1999/xhtml">'
_SAFE_TAGS = frozenset((
    "a", "abbr", "b", "big", "blockquote", "br", "caption", "cite", "code", "dd", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "samp",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt",
    "u", "ul", "var",
))
_BAD_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITY_TEXT = re.compile(r"(?:[^&]|&(?:amp|lt|gt|quot|apos);)*")
_TAG = re.compile(r"<([^>]*)>")


def html_fast(value: str) -> bool | None:
    """txt-1/txt-2 verdict for the simple shapes described above; None when expat must decide."""
    if not value.startswith(_ROOT_OPEN) or not value.endswith("</div>"):
        return None
    # printable text holds no character XML forbids (controls, surrogates, U+FFFE/U+FFFF)
    if not value.isprintable() and _BAD_XML_CHAR.search(value) is not None:
        return None
    # text, tag, text, ..., text: a tag runs from a "<" to the next ">"; a "<" left in the last
    # text has no ">" after it
    parts = _TAG.split(value[len(_ROOT_OPEN):-6])
    texts = "".join(parts[0::2])
    if "<" in parts[-1] or ">" in texts:
        return None
    if "&" in texts and any(_ENTITY_TEXT.fullmatch(text) is None for text in parts[0::2]):
        return None
    stack: list[str] = []
    for tag in parts[1::2]:
        if tag[:1] == "/":
            if not stack or stack.pop() != tag[1:]:
                return None
        elif tag[-1:] == "/":
            if tag[:-1] not in _SAFE_TAGS:
                return None
        elif tag in _SAFE_TAGS:
            stack.append(tag)
        else:
            return None
    if stack:
        return None
    return texts != "" and not texts.isspace()


def html_checks(node: Any, _r: dict[str, Any], _root: dict[str, Any]) -> bool:
    """txt-1/txt-2: well-formed XHTML ``div`` in the XHTML namespace, no active content, not empty.

    Uses expat directly (C parser); DOCTYPE and entity declarations are refused, which keeps the
    entity-expansion attacks defusedxml guards against out."""
    if not isinstance(node, str):
        return True
    fast = html_fast(node)
    if fast is not None:
        return fast
    state = {"depth": 0, "content": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(" ")
        if state["depth"] == 0 and (ns != _XHTML or local != "div"):
            raise _HtmlReject
        if local in _FORBIDDEN or any(a.rpartition(" ")[2].lower().startswith("on") for a in attrs):
            raise _HtmlReject
        if local == "img":
            state["content"] = True
        state["depth"] += 1

    def text(data: str) -> None:
        if not state["content"] and not data.isspace():
            state["content"] = True

    def refuse(*_args: Any) -> None:
        raise _HtmlReject

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    # HTML named entities (&nbsp; ...) are tolerated as the HL7 validator does: an (empty) foreign
    # DTD makes undefined entities skipped instead of fatal
    parser.UseForeignDTD(True)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(node, True)
    except (_HtmlReject, expat.ExpatError):
        return False
    return state["content"]
