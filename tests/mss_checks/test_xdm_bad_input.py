"""read_xdm on hostile and broken packages: findings, never exceptions (issue #17 "Bad input")."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

import pytest
from mss_checks_util import ids, message, replace_xdm, unzip, xdm_of, zip_of

from mss.checks import check_message
from mss.findings import M
from mss.xdm import XdmDocumentInput, XdmLimits, build_xdm, read_xdm
from mss.xdm_build import SubmissionMetadata

META = "IHE_XDM/SUBSET01/METADATA.XML"


def good_files() -> dict[str, bytes]:
    return unzip(xdm_of(message("cr-bio")))


def test_good_package() -> None:
    pkg = read_xdm(xdm_of(message("cr-bio")))
    assert pkg.findings == [] and pkg.ok
    assert pkg.files == ["IHE_XDM/SUBSET01/DOC0001.XML", META, "INDEX.HTM", "README.TXT"]
    doc = pkg.documents[0]
    assert doc.kind == "cda" and doc.code("typeCode") == "11502-2" and doc.patient_ins == "297022A02077878"
    assert doc.hash == hashlib.sha1(doc.content).hexdigest()
    assert pkg.submission_set["patient_ins"] == "297022A02077878"
    assert pkg.to_json()["documents"][0]["content_size"] == len(doc.content)


def test_zip_bomb_ratio() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0002.XML"] = b"\0" * (20 * 1024 * 1024)  # ~20 KB compressed: ratio ~1000
    pkg = read_xdm(zip_of(files))
    assert M.ZIP_BOMB_RATIO in ids(pkg) and not pkg.documents
    res = check_message(replace_xdm(message("cr-bio"), lambda f: f.update(files)))
    assert M.ZIP_BOMB_RATIO in ids(res) and res.mdn_error == (906, "Autre")


def test_zip_absolute_limit() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0002.PDF"] = os.urandom(300_000)  # incompressible: ratio ~1
    pkg = read_xdm(zip_of(files), limits=XdmLimits(max_total_uncompressed=200_000))
    assert M.ZIP_TOO_LARGE in ids(pkg) and M.ZIP_BOMB_RATIO not in ids(pkg)


def test_zip_declared_total_over_several_entries() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0002.PDF"] = os.urandom(150_000)
    files["IHE_XDM/SUBSET01/DOC0003.PDF"] = os.urandom(150_000)
    pkg = read_xdm(zip_of(files), limits=XdmLimits(max_total_uncompressed=250_000))
    assert M.ZIP_TOO_LARGE in ids(pkg)


def test_zip_bomb_behind_lying_sizes_is_not_inflated() -> None:
    """A bomb whose headers declare a tiny size: the inflater stops at the declared size and the CRC
    check refuses the entry; nothing beyond the declared bytes is produced."""
    data = bytearray(zip_of({"IHE_XDM/SUBSET01/DOC0001.XML": b"\0" * (50 * 1024 * 1024)}))
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22:local + 26] = (100).to_bytes(4, "little")
    data[central + 24:central + 28] = (100).to_bytes(4, "little")
    pkg = read_xdm(bytes(data))
    assert M.ZIP_INVALID in ids(pkg) and not pkg.documents


def test_too_many_entries() -> None:
    files = {f"IHE_XDM/SUBSET01/F{i}.TXT": b"x" for i in range(30)}
    assert M.ZIP_TOO_MANY_ENTRIES in ids(read_xdm(zip_of(files), limits=XdmLimits(max_entries=20)))


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "IHE_XDM/../../x", "C:\\x.txt", "a\\..\\..\\b"])
def test_path_traversal(name: str) -> None:
    files = good_files()
    files[name] = b"x"
    pkg = read_xdm(zip_of(files))
    assert M.ZIP_PATH_TRAVERSAL in ids(pkg) and not pkg.documents


def test_uri_escaping_the_subset_is_refused() -> None:
    files = good_files()
    files[META] = files[META].replace(b"<rim:Value>DOC0001.XML</rim:Value>", b"<rim:Value>../../README.TXT</rim:Value>")
    assert M.XDM_DOC_FILE_MISSING in ids(read_xdm(zip_of(files)))


def test_nested_zip() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/INNER.ZIP"] = zip_of({"a.txt": b"a"})
    assert M.ZIP_NESTED in ids(read_xdm(zip_of(files)))
    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0002.BIN"] = zip_of({"a.txt": b"a"})  # by magic, whatever the name
    assert M.ZIP_NESTED in ids(read_xdm(zip_of(files)))


def test_not_a_zip_and_truncated_zip() -> None:
    assert M.ZIP_INVALID in ids(read_xdm(b"not a zip at all"))
    data = xdm_of(message("ldl"))
    assert M.ZIP_INVALID in ids(read_xdm(data[: len(data) // 2]))


def test_encrypted_entry() -> None:
    data = bytearray(zip_of({"INDEX.HTM": b"x"}))
    # set the "encrypted" general-purpose flag bit in the local and central headers
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(sig)
        off = at + (6 if sig == b"PK\x03\x04" else 8)
        data[off] |= 0x1
    assert M.ZIP_ENCRYPTED in ids(read_xdm(bytes(data)))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&lol2;</SubmitObjectsRequest>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&xxe;</SubmitObjectsRequest>"""
DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE SubmitObjectsRequest SYSTEM "http://example.invalid/ebrim.dtd">
<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>"""


@pytest.mark.parametrize("metadata", [BILLION_LAUGHS, XXE, DTD_ONLY])
def test_metadata_with_dtd_or_entities(metadata: bytes) -> None:
    files = good_files()
    files[META] = metadata
    pkg = read_xdm(zip_of(files))
    assert M.XDM_METADATA_DTD in ids(pkg)
    assert not pkg.documents


def test_metadata_dtd_in_utf16_is_refused_too() -> None:
    """The DTD check reads the declared encoding as the parser does (expat both times)."""
    files = good_files()
    files[META] = BILLION_LAUGHS.replace(b'version="1.0"', b'version="1.0" encoding="UTF-16"').decode().encode("utf-16")
    assert M.XDM_METADATA_DTD in ids(read_xdm(zip_of(files)))


def test_metadata_entity_without_dtd_is_malformed_xml() -> None:
    files = good_files()
    files[META] = (b'<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">'
                   b"&xxe;</SubmitObjectsRequest>")
    found = ids(read_xdm(zip_of(files)))
    assert M.XDM_METADATA_XML in found and M.XDM_METADATA_DTD not in found


def test_metadata_not_xml_or_not_ebrim() -> None:
    files = good_files()
    files[META] = b"<unclosed"
    assert M.XDM_METADATA_XML in ids(read_xdm(zip_of(files)))
    files[META] = b"<html/>"
    assert M.XDM_METADATA_STRUCTURE in ids(read_xdm(zip_of(files)))


def test_missing_metadata() -> None:
    files = good_files()
    del files[META]
    pkg = read_xdm(zip_of(files))
    assert M.XDM_METADATA_MISSING in ids(pkg)
    res = check_message(replace_xdm(message("cr-bio"), lambda f: f.pop(META)))
    assert M.XDM_METADATA_MISSING in ids(res) and res.mdn_error == (906, "Autre")


def test_layout_index_and_readme() -> None:
    files = good_files()
    del files["INDEX.HTM"], files["README.TXT"]
    assert {M.XDM_INDEX_MISSING, M.XDM_README_MISSING} <= ids(read_xdm(zip_of(files)))


def test_hash_and_size_mismatch() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0001.XML"] += b"<!-- changed -->"
    pkg = read_xdm(zip_of(files))
    assert {M.XDM_HASH_MISMATCH, M.XDM_SIZE_MISMATCH} <= ids(pkg)
    f = next(f for f in pkg.findings if f.id == M.XDM_HASH_MISMATCH)
    assert f.location == META and "SHA-1" in f.text_fr and f.mdn_code == 906


def test_missing_file_hash_size_and_codes() -> None:
    files = good_files()
    meta = files[META].decode()
    for slot in ("hash", "size"):
        start = meta.index(f'<rim:Slot name="{slot}">')
        meta = meta[:start] + meta[meta.index("</rim:Slot>", start) + len("</rim:Slot>"):]
    meta = meta.replace('nodeRepresentation="10"', 'nodeRepresentation="99"')
    type_code_scheme = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    meta = meta.replace(type_code_scheme, "urn:uuid:00000000-0000-0000-0000-000000000000")
    files[META] = meta.encode()
    del files["IHE_XDM/SUBSET01/DOC0001.XML"]
    found = ids(read_xdm(zip_of(files)))
    assert {M.XDM_DOC_FILE_MISSING, M.XDM_CODE_UNKNOWN, M.XDM_CODE_MISSING} <= found


def test_unreferenced_file_and_bad_patient_id() -> None:
    files = good_files()
    files["IHE_XDM/SUBSET01/EXTRA.TXT"] = b"x"
    files[META] = files[META].replace(b"^^^&amp;1.2.250.1.213.1.4.8&amp;ISO", b"")
    found = ids(read_xdm(zip_of(files)))
    assert {M.XDM_UNREFERENCED_FILE, M.XDM_PATIENT_ID} <= found


def test_build_xdm_several_documents_and_replacement() -> None:
    loinc = "2.16.840.1.113883.6.1"
    docs = [XdmDocumentInput(b'{"resourceType":"Bundle"}', "application/fhir+json", "A", ("11490-0", loinc, "A")),
            XdmDocumentInput(b"%PDF-1.4 x", "application/pdf", "B", ("11490-0", loinc, "B"),
                             format_code=("urn:ihe:iti:xds-sd:pdf:2008", "1.3.6.1.4.1.19376.1.2.3", "PDF"),
                             replaces="urn:uuid:old")]
    pkg = read_xdm(build_xdm(docs, SubmissionMetadata("297022A02077878")))
    assert pkg.findings == []
    assert [d.kind for d in pkg.documents] == ["fhir", "pdf"]
    assert pkg.documents[1].replaces == ["urn:uuid:old"]
    with zipfile.ZipFile(io.BytesIO(build_xdm(docs, SubmissionMetadata("297022A02077878")))) as zf:
        assert zf.testzip() is None


def test_coding_schemes_of_french_codes() -> None:
    """N/R/V belong to TRE_A08 (2.16.840.1.113883.5.25), masking codes to TRE_A07; typeCode is LOINC."""
    files = good_files()
    meta = files[META].decode()
    meta = meta.replace('nodeRepresentation="N"><rim:Slot name="codingScheme"><rim:ValueList>'
                        '<rim:Value>2.16.840.1.113883.5.25',
                        'nodeRepresentation="N"><rim:Slot name="codingScheme"><rim:ValueList>'
                        '<rim:Value>1.2.250.1.213.1.1.4.13')
    meta = meta.replace("<rim:Value>2.16.840.1.113883.6.1</rim:Value>", "<rim:Value>LOINC</rim:Value>")
    files[META] = meta.encode()
    found = [f for f in read_xdm(zip_of(files)).findings if f.id == M.XDM_CODE_SCHEME]
    assert {f.text_en.split("'")[0] for f in found} == {"Entry Document01: confidentialityCode ",
                                                        "Entry Document01: typeCode "}


_SS_NODE = 'classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"'


@pytest.mark.parametrize("document_first", [True, False])
def test_an_id_shared_by_a_document_and_a_package_names_the_later_one(document_first: bool) -> None:
    """A top-level SubmissionSet classification of a repeated id goes to the later object in document order."""
    from xml.etree.ElementTree import fromstring

    from mss.xdm_ebrim import read_metadata

    doc, pkg = '<rim:ExtrinsicObject id="X"/>', '<rim:RegistryPackage id="X"/>'
    objects = doc + pkg if document_first else pkg + doc
    root = fromstring(f'<rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">{objects}'
                      f'<rim:Classification classifiedObject="X" {_SS_NODE}/></rim:RegistryObjectList>')
    meta = read_metadata(root)
    assert (meta.submission_set is not None) is document_first
    assert meta.documents[0].is_submission_set is not document_first


def test_entry_larger_than_its_declared_size_is_refused() -> None:
    """A header that understates an entry's size (a bomb past the ratio check) never yields the extra bytes."""
    import struct

    files = good_files()
    files["IHE_XDM/SUBSET01/DOC0002.XML"] = b"<x>" + b"\0" * (8 * 1024 * 1024) + b"</x>"
    data = bytearray(zip_of(files))
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size, local and central headers
        at = data.find(sig, data.find(b"IHE_XDM/SUBSET01/DOC0002.XML") - 46 if sig == b"PK\x01\x02" else 0)
        while data[at + (30 if sig == b"PK\x03\x04" else 46):][:28] != b"IHE_XDM/SUBSET01/DOC0002.XML":
            at = data.find(sig, at + 4)
        struct.pack_into("<I", data, at + off, 100)
    pkg = read_xdm(bytes(data))
    assert M.ZIP_INVALID in ids(pkg) and not pkg.documents
