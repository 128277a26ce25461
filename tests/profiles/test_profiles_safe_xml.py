"""profiles.safe_fromstring: the DTD pre-pass reads the prolog only (up to the root start tag);
each case here is also run through a pre-pass over the whole document, which must agree."""

from __future__ import annotations

from typing import Any, NoReturn
from xml.etree.ElementTree import Element, ParseError, tostring
from xml.etree.ElementTree import fromstring as c_fromstring
from xml.parsers import expat

import pytest

from profiles import DTDForbidden, safe_fromstring

LAUGHS = b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'


def _refuse(*_args: Any) -> NoReturn:
    raise DTDForbidden(None, None, None)


def whole_document_pre_pass(raw: bytes) -> Element:
    """The reference: the same refusal with a pre-pass that reads the whole document."""
    scan = expat.ParserCreate()
    scan.StartDoctypeDeclHandler = scan.EntityDeclHandler = scan.ExternalEntityRefHandler = _refuse
    try:
        scan.Parse(raw, True)
    except expat.ExpatError:
        pass
    return c_fromstring(raw)


def outcome(parse: Any, raw: bytes) -> str:
    try:
        return tostring(parse(raw)).decode()
    except DTDForbidden:
        return "DTDForbidden"
    except (ParseError, ValueError, LookupError) as exc:
        return type(exc).__name__


REFUSED = {
    "dtd-after-comment": b'<!-- a comment --><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>',
    "dtd-after-pi": b'<?xml version="1.0"?><?app data?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>',
    "dtd-after-comment-and-pi": b'<?xml version="1.0"?>\n<!-- c -->\n<?pi?>\n<!DOCTYPE x><x/>',
    "dtd-utf16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "é">]><x>&e;</x>'.encode("utf-16"),
    "dtd-utf16-no-declaration": '<!DOCTYPE x><x/>'.encode("utf-16"),
    "dtd-latin1": '<?xml version="1.0" encoding="ISO-8859-1"?><!-- é --><!DOCTYPE x [<!ENTITY e "é">]><x>&e;</x>'
                  .encode("latin-1"),
    "dtd-cp1252": '<?xml version="1.0" encoding="windows-1252"?><!-- € --><!DOCTYPE x><x/>'.encode("cp1252"),
    "billion-laughs": LAUGHS,
    "external-entity": b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>',
    "parameter-entity": b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://example.invalid/p.dtd"> %p;]><x/>',
    "dtd-without-root": b"<!DOCTYPE x>",
}
MALFORMED = {
    "entity-without-dtd": b"<x>&e;</x>",
    "entity-without-dtd-in-attribute": b'<x a="&e;"/>',
    "dtd-after-root": b"<x/><!DOCTYPE x>",
    "dtd-inside-root": b'<x><!DOCTYPE x [<!ENTITY e "e">]></x>',
    "text-before-root": b"junk<x/>",
    "unclosed": b"<x><y></x>",
    "empty": b"",
    "unknown-encoding": b'<?xml version="1.0" encoding="x-no-such-encoding"?><x/>',
}
READ = {
    "tree": b'<a xmlns="urn:x"><b k="v"/><c>t</c><!-- after --><d><e/></d></a>',
    "predefined-and-char-entities": b"<x>&amp;&lt;&#233;&#x20AC;</x>",
    "utf16": '<?xml version="1.0" encoding="UTF-16"?><x>é€</x>'.encode("utf-16"),
    "latin1": '<?xml version="1.0" encoding="ISO-8859-1"?><x>é</x>'.encode("latin-1"),
    "pi-and-comment-first": b'<?xml version="1.0"?><!-- c --><?pi?><x><y/></x><!-- trailing -->',
}


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_dtd_in_the_prolog_is_refused(raw: bytes) -> None:
    with pytest.raises(DTDForbidden):
        safe_fromstring(raw)


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_or_undeclared_entities_are_parse_errors(raw: bytes) -> None:
    with pytest.raises((ParseError, LookupError)):
        safe_fromstring(raw)


@pytest.mark.parametrize("raw", READ.values(), ids=READ.keys())
def test_documents_without_dtd_are_read_whole(raw: bytes) -> None:
    assert tostring(safe_fromstring(raw)) == tostring(c_fromstring(raw))


@pytest.mark.parametrize("raw", [*REFUSED.values(), *MALFORMED.values(), *READ.values()],
                         ids=[*REFUSED, *MALFORMED, *READ])
def test_same_outcome_as_a_whole_document_pre_pass(raw: bytes) -> None:
    assert outcome(safe_fromstring, raw) == outcome(whole_document_pre_pass, raw)
