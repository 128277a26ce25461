"""profiles.read_cda_header: what it reads and the French header rules it checks (FACTS §5)."""

from __future__ import annotations

import pytest

import profiles
from mss.samples_docs import DEFAULT_PATIENT, cda_n1, pdf_bytes

INS = "297022A02077878"


def cda(**kw) -> bytes:
    kw.setdefault("code", "11502-2")
    kw.setdefault("display", "CR d'examens biologiques")
    kw.setdefault("title", "CR")
    kw.setdefault("pdf", pdf_bytes("resultats"))
    return cda_n1(INS, DEFAULT_PATIENT, **kw)


def issue_ids(xml: bytes) -> set[str]:
    return {i.id for i in profiles.read_cda_header(xml).issues}


def test_reads_n1_header() -> None:
    h = profiles.read_cda_header(cda(replaces="1.2.3.4"))
    assert h.issues == [] and h.ok
    assert h.level == "N1" and h.media_type == "application/pdf" and h.embedded.startswith(b"%PDF-")
    assert (h.code, h.code_system) == ("11502-2", "2.16.840.1.113883.6.1")
    assert "1.2.250.1.213.1.1.1.1" in h.template_ids
    assert (h.patient_ins, h.patient_ins_oid, h.patient_ins_kind) == (INS, "1.2.250.1.213.1.4.8", "NIR")
    assert (h.birth_name, h.given, h.sex, h.birth_date) == ("ADRTROIS", ["DOMINIQUE"], "F", "19970226")
    assert h.ins_qualified
    assert h.authors[0].id_extension == "899700427885" and h.confidentiality == "N"
    assert h.effective_time == "20260115100000+0100" and h.replaces == ["1.2.3.4"]
    assert h.to_json()["embedded_size"] == len(h.embedded)


def test_reads_n3_body() -> None:
    xml = cda().replace(b'<component><nonXMLBody><text mediaType="application/pdf" representation="B64">',
                        b"<component><structuredBody/><!--").replace(b"</text></nonXMLBody></component>",
                                                                       b"--></component>")
    h = profiles.read_cda_header(xml.replace(b'<templateId root="1.3.6.1.4.1.19376.1.2.20"/>', b""))
    assert h.level == "N3" and h.issues == []


@pytest.mark.parametrize(("change", "rule"), [
    ((b'<realmCode code="FR"/>', b""), "CDA-REALM"),
    ((b'extension="POCD_HD000040"', b'extension="X"'), "CDA-TYPEID"),
    ((b'<templateId root="1.2.250.1.213.1.1.1.1"/>', b""), "CDA-TEMPLATE-FR"),
    ((b'codeSystem="2.16.840.1.113883.6.1"', b'codeSystem="1.2.3"'), "CDA-CODE"),
    ((b'<effectiveTime value="20260115100000+0100"/>', b'<effectiveTime value="20260115"/>'), "CDA-EFFECTIVE-TIME"),
    ((b'<confidentialityCode code="N"', b'<confidentialityCode code="X"'), "CDA-CONFIDENTIALITY"),
    ((b'<versionNumber value="1"/>', b""), "CDA-VERSION"),
    ((b'root="1.2.250.1.213.1.4.8"', b'root="1.2.250.1.999"'), "CDA-INS-ABSENT"),
    ((b'extension="297022A02077878"', b'extension="297022A02077800"'), "CDA-INS-KEY"),
    ((b'extension="297022A02077878"', b'extension="2970"'), "CDA-INS-FORMAT"),
    ((b'<birthTime value="19970226"/>', b""), "CDA-INS-TRAITS"),
    ((b'<id root="1.2.250.1.71.4.2.1" extension="899700427885"/>', b""), "CDA-AUTHOR"),
    ((b"<custodian>", b"<custodianX>"), "CDA-CUSTODIAN"),
    ((b'mediaType="application/pdf"', b'mediaType="application/msword"'), "CDA-N1-MEDIA"),
    ((b'<templateId root="1.3.6.1.4.1.19376.1.2.20"/>', b""), "CDA-N1-TEMPLATE"),
    ((b'<languageCode code="fr-FR"/>', b'<languageCode code="en-US"/>'), "CDA-LANGUAGE"),
])
def test_rules(change: tuple[bytes, bytes], rule: str) -> None:
    xml = cda().replace(*change)
    if rule == "CDA-CUSTODIAN":
        xml = xml.replace(b"</custodian>", b"</custodianX>")
    assert rule in issue_ids(xml)


def test_template_implies_code() -> None:
    fr = b'<templateId root="1.2.250.1.213.1.1.1.1"/>'
    xml = cda(code="11488-4").replace(fr, fr + b'<templateId root="1.2.250.1.213.1.1.1.55"/>')
    assert "CDA-CODE-TEMPLATE" in issue_ids(xml)


def test_n1_body_not_pdf() -> None:
    assert "CDA-N1-PDF" in issue_ids(cda(pdf=b"not a pdf"))


def test_missing_traits_make_the_ins_unqualified() -> None:
    h = profiles.read_cda_header(cda(with_traits=False))
    assert not h.ins_qualified and "CDA-INS-TRAITS" in {i.id for i in h.issues}


@pytest.mark.parametrize("xml", [
    b"",
    b"not xml",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>'
    b'<ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>',
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>',
    b"<ClinicalDocument/>",
])
def test_unreadable_or_hostile_xml(xml: bytes) -> None:
    h = profiles.read_cda_header(xml)
    assert len(h.issues) == 1 and h.issues[0].id in ("CDA-XML", "CDA-ROOT")
    assert not h.ok and h.patient_ins == ""


def test_first_is_element_path_find() -> None:
    """profiles.cda_header._first gives what ``find("a/b/c")`` gives, on trees where the first ``a``
    or ``b`` holds no match and a later one does."""
    import random
    from xml.etree.ElementTree import Element, SubElement

    from profiles.cda_header import _first

    rnd = random.Random(17)
    tags = ["{urn:x}a", "{urn:x}b", "{urn:x}c"]

    def grow(el: Element, depth: int) -> None:
        for _ in range(rnd.randint(0, 3) if depth else 0):
            grow(SubElement(el, rnd.choice(tags)), depth - 1)

    for _ in range(300):
        root = Element("r")
        grow(root, 4)
        for path in (tags[:1], tags[:2], tags, [tags[1], tags[0]], [tags[2], tags[2], tags[1]]):
            assert _first(root, *path) is root.find("/".join(path))
