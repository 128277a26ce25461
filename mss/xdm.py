"""Safe reading of an IHE XDM package (``IHE_XDM.ZIP``, ITI-32 Distribute Document Set on Media)
as MSSanté messages carry it (FACTS §2.3, §2.4, §3.4).

:func:`read_xdm` never raises on content: every problem is a :class:`~mss.findings.Finding`.
Safety first, before anything is decompressed: number of entries, declared uncompressed total,
per-entry compression ratio (zip bomb), absolute or escaping paths, encrypted entries, nested
archives; then each entry is read in one bounded call, ``read(declared size + 1)`` (the declared
size bounds the inflater, ZipExtFile stops there and checks the CRC, and the running total is
checked again). Why one call: reading 64 KiB chunks until an empty read cost a second trip through
ZipExtFile per entry for the small files of an XDM package (a CR-BIO's four entries: 79 → 74 µs).
``METADATA.XML`` is parsed as defusedxml would (no DTD, no entities, no network:
:func:`profiles.safe_fromstring`). Then the XDM layout (``INDEX.HTM``, ``README.TXT``,
``IHE_XDM/SUBSET01/METADATA.XML``), the submission set, each document entry (URI → file, SHA-1
hash and size against the bytes, French codes against the bundled value sets through
``profiles.value_set_codes``).
:func:`build_xdm` (in :mod:`mss.xdm_build`) writes a package these checks accept.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

import profiles
from mss.findings import Finding, M, finding
from mss.xdm_build import SubmissionMetadata, XdmDocumentInput, build_xdm
from mss.xdm_ebrim import (
    CODING_SCHEMES,
    DE_PATIENT_ID,
    DE_UNIQUE_ID,
    FRENCH_VALUE_SETS,
    HAS_MEMBER,
    REQUIRED_DE_CODES,
    RPLC,
    SS_PATIENT_ID,
    SS_SOURCE_ID,
    SS_UNIQUE_ID,
    EbEntry,
    EbMetadata,
    parse_cx,
    read_metadata,
)

INS_OIDS = frozenset({"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"})
ZIP_NAME = "IHE_XDM.ZIP"

__all__ = ["SubmissionMetadata", "XdmDocument", "XdmDocumentInput", "XdmLimits", "XdmPackage", "build_xdm", "read_xdm"]


@dataclass(frozen=True)
class XdmLimits:
    """Bounds applied before and while decompressing (all inclusive)."""

    max_entries: int = 500
    #: total uncompressed bytes of all entries (MSSanté bounces messages beyond ~25 MB, FACTS §2.7)
    max_total_uncompressed: int = 64 * 1024 * 1024
    #: uncompressed / compressed ratio above which an entry is a bomb (checked from ``ratio_from`` bytes)
    max_ratio: float = 100.0
    ratio_from: int = 1024 * 1024


@dataclass
class XdmDocument:
    """One document entry of METADATA.XML and its file."""

    entry_id: str
    uri: str
    path: str  # path inside the ZIP ("" when the file is missing)
    mime_type: str
    title: str = ""
    hash: str = ""
    size: str = ""
    creation_time: str = ""
    unique_id: str = ""
    patient_id: str = ""  # CX as written: <id>^^^&<oid>&ISO
    patient_ins: str = ""
    patient_oid: str = ""
    codes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # name -> (code, scheme, display)
    replaces: list[str] = field(default_factory=list)  # entry ids this one replaces (RPLC association)
    content: bytes = b""

    @property
    def kind(self) -> str:
        """``cda``, ``fhir``, ``pdf`` or ``other``, from the bytes first (a wrong declared MIME type must
        not hide a document from its checks), then from the declared MIME type."""
        sniffed = _sniff(self.content)
        if sniffed == "JSON":
            return "fhir"
        if sniffed == "PDF":
            return "pdf"
        if sniffed == "XML":
            return "cda" if b"ClinicalDocument" in self.content[:4096] else "other"
        return {"application/fhir+json": "fhir", "application/pdf": "pdf"}.get(self.mime_type, "other")

    def code(self, name: str) -> str:
        values = self.codes.get(name) or []
        return values[0][0] if values else ""

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "uri": self.uri, "path": self.path, "mime_type": self.mime_type,
                "kind": self.kind, "title": self.title, "hash": self.hash, "size": self.size,
                "creation_time": self.creation_time, "unique_id": self.unique_id, "patient_id": self.patient_id,
                "patient_ins": self.patient_ins, "patient_oid": self.patient_oid,
                "codes": {k: [list(c) for c in v] for k, v in self.codes.items()}, "replaces": self.replaces,
                "content_size": len(self.content)}


@dataclass
class XdmPackage:
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    documents: list[XdmDocument] = field(default_factory=list)
    submission_set: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def patient_ids(self) -> set[str]:
        ids = {d.patient_ins or d.patient_id for d in self.documents if d.patient_ins or d.patient_id}
        ss = self.submission_set.get("patient_ins") or self.submission_set.get("patient_id")
        return ids | ({ss} if ss else set())

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": self.files, "submission_set": self.submission_set,
                "documents": [d.to_json() for d in self.documents],
                "findings": [f.to_json() for f in self.findings]}


def _unsafe_path(name: str) -> bool:
    if name.startswith(("/", "\\")) or "\\" in name or (len(name) > 1 and name[1] == ":") or "\x00" in name:
        return True
    norm = posixpath.normpath(name)
    return norm.startswith("../") or norm == ".." or "/../" in f"/{name}/"


def _open_zip(data: bytes, where: str, limits: XdmLimits, out: XdmPackage) -> dict[str, bytes] | None:
    """The entries' bytes by name, or None when the archive is refused (findings say why)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ValueError, OSError, EOFError,
            NotImplementedError) as exc:
        out.findings.append(finding(M.ZIP_INVALID, where, detail=str(exc) or type(exc).__name__))
        return None
    if len(infos) > limits.max_entries:
        out.findings.append(finding(M.ZIP_TOO_MANY_ENTRIES, where, count=len(infos), limit=limits.max_entries))
        return None
    refused = False
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        total += info.file_size
        if _unsafe_path(name):
            out.findings.append(finding(M.ZIP_PATH_TRAVERSAL, where, name=name))
            refused = True
        if info.flag_bits & 0x1:
            out.findings.append(finding(M.ZIP_ENCRYPTED, where, name=name))
            refused = True
        if info.file_size >= limits.ratio_from and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            out.findings.append(finding(M.ZIP_BOMB_RATIO, where, name=name, limit=limits.max_ratio,
                                        ratio=round(info.file_size / max(info.compress_size, 1))))
            refused = True
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            out.findings.append(finding(M.ZIP_INVALID, where, detail=f"{name}: méthode de compression "
                                        f"{info.compress_type} non admise (stockage ou deflate) / compression method "
                                        "not allowed (stored or deflate)"))
            refused = True
        if name.upper() in seen:
            out.findings.append(finding(M.ZIP_INVALID, where, detail=f"entrée en double / duplicate entry {name}"))
            refused = True
        seen.add(name.upper())
    if total > limits.max_total_uncompressed:
        out.findings.append(finding(M.ZIP_TOO_LARGE, where, size=total, limit=limits.max_total_uncompressed))
        refused = True
    if refused:
        return None
    files: dict[str, bytes] = {}
    read_total = 0
    for info in infos:
        if info.is_dir():
            continue
        try:
            with zf.open(info) as fh:
                # one bounded read: the inflater's output is capped at the declared size plus one byte
                # (ZipExtFile stops at the declared size and checks the CRC there)
                content = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, OSError, EOFError,
                RuntimeError) as exc:
            out.findings.append(finding(M.ZIP_INVALID, where, detail=f"{info.filename}: {exc}"))
            return None
        read_total += len(content)
        if read_total > limits.max_total_uncompressed:
            out.findings.append(finding(M.ZIP_TOO_LARGE, where, size=read_total, limit=limits.max_total_uncompressed))
            return None
        if info.filename.upper().endswith((".ZIP", ".JAR", ".GZ", ".7Z", ".RAR")) or content[:4] == b"PK\x03\x04":
            out.findings.append(finding(M.ZIP_NESTED, where, name=info.filename))
            return None
        files[info.filename] = content
    return files


def read_xdm(zip_bytes: bytes, *, limits: XdmLimits | None = None, location: str = ZIP_NAME) -> XdmPackage:
    """Read and check an XDM package; see the module docstring. Never raises on content."""
    limits = limits or XdmLimits()
    out = XdmPackage()
    try:
        files = _open_zip(zip_bytes, location, limits, out)
        if files is None:
            return out
        out.files = sorted(files)
        _check_layout(files, out)
    except RecursionError:  # pathological XML nesting: refused, not a crash
        out.findings.append(finding(M.XDM_METADATA_XML, location, detail="nesting too deep"))
    return out


def _check_layout(files: dict[str, bytes], out: XdmPackage) -> None:
    upper = {name.upper(): name for name in files}
    if "INDEX.HTM" not in upper:
        out.findings.append(finding(M.XDM_INDEX_MISSING, "INDEX.HTM"))
    if "README.TXT" not in upper:
        out.findings.append(finding(M.XDM_README_MISSING, "README.TXT"))
    subsets = sorted({n.rsplit("/", 1)[0] for n in upper if n.startswith("IHE_XDM/") and n.endswith("/METADATA.XML")})
    if not subsets:
        out.findings.append(finding(M.XDM_METADATA_MISSING, "IHE_XDM/SUBSET01/METADATA.XML"))
        return
    referenced: set[str] = set()
    for subset in subsets:
        path = upper[f"{subset}/METADATA.XML"]
        meta = _parse_metadata(files[path], path, out)
        if meta is not None:
            _check_metadata(meta, subset, upper, files, path, out, referenced)
    for name in sorted(upper):
        if name.startswith("IHE_XDM/") and not name.endswith("/METADATA.XML") and name not in referenced \
                and not name.endswith("/"):
            out.findings.append(finding(M.XDM_UNREFERENCED_FILE, upper[name], name=upper[name]))


def _parse_metadata(raw: bytes, path: str, out: XdmPackage) -> EbMetadata | None:
    try:
        root = profiles.safe_fromstring(raw)
    except DefusedXmlException:
        out.findings.append(finding(M.XDM_METADATA_DTD, path))
        return None
    except (ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown declared encoding
        out.findings.append(finding(M.XDM_METADATA_XML, path, detail=str(exc)))
        return None
    local = root.tag.rsplit("}", 1)[-1]
    if local not in ("SubmitObjectsRequest", "ProvideAndRegisterDocumentSetRequest", "RegistryObjectList"):
        out.findings.append(finding(M.XDM_METADATA_STRUCTURE, path, detail=f"racine/root {local}"))
        return None
    return read_metadata(root)


def _check_metadata(meta: EbMetadata, subset: str, upper: dict[str, str], files: dict[str, bytes], path: str,
                    out: XdmPackage, referenced: set[str]) -> None:
    ss = meta.submission_set
    if ss is None:
        out.findings.append(finding(M.XDM_SUBMISSION_SET, path, detail="absent (RegistryPackage classé "
                                    "SubmissionSet) / missing (RegistryPackage classified SubmissionSet)"))
    else:
        out.submission_set = _submission_set(ss, path, out)
    if not meta.documents:
        out.findings.append(finding(M.XDM_NO_DOCUMENT, path))
    replaced: dict[str, list[str]] = {}
    members = {t for kind, s, t in meta.associations if kind == HAS_MEMBER and ss is not None and s == ss.id}
    for kind, source, target in meta.associations:
        if kind == RPLC:
            replaced.setdefault(source, []).append(target)
    for entry in meta.documents:
        doc = _document(entry, subset, upper, files, path, out, referenced)
        doc.replaces = replaced.get(entry.id, [])
        if ss is not None and entry.id not in members:
            out.findings.append(finding(M.XDM_SUBMISSION_SET, path, severity="warning",
                                        detail=f"{entry.id} n'est pas membre du lot / is not a member of the set"))
        out.documents.append(doc)


def _submission_set(ss: EbEntry, path: str, out: XdmPackage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": ss.id, "title": ss.title, "unique_id": ss.identifiers.get(SS_UNIQUE_ID, ""),
        "source_id": ss.identifiers.get(SS_SOURCE_ID, ""), "patient_id": ss.identifiers.get(SS_PATIENT_ID, ""),
        "submission_time": ss.slot("submissionTime"), "intended_recipients": ss.slots.get("intendedRecipient", []),
        "content_type_code": [(c.code, c.scheme, c.display) for c in ss.codes.get("contentTypeCode", [])],
        "authors": ss.authors,
    }
    for key, label in (("unique_id", "uniqueId"), ("source_id", "sourceId"), ("submission_time", "submissionTime")):
        if not data[key]:
            out.findings.append(finding(M.XDM_SUBMISSION_SET, path, detail=f"{label} absent / missing"))
    cx = parse_cx(data["patient_id"])
    if cx is None:
        out.findings.append(finding(M.XDM_PATIENT_ID, path, entry=ss.id, value=data["patient_id"]))
    elif cx[1] in INS_OIDS:
        data["patient_ins"], data["patient_oid"] = cx
    return data


def _document(entry: EbEntry, subset: str, upper: dict[str, str], files: dict[str, bytes], path: str,
              out: XdmPackage, referenced: set[str]) -> XdmDocument:
    uri = entry.slot("URI")
    doc = XdmDocument(entry_id=entry.id, uri=uri, path="", mime_type=entry.mime_type, title=entry.title,
                      hash=entry.slot("hash").lower(), size=entry.slot("size"),
                      creation_time=entry.slot("creationTime"), unique_id=entry.identifiers.get(DE_UNIQUE_ID, ""),
                      patient_id=entry.identifiers.get(DE_PATIENT_ID, ""),
                      codes={k: [(c.code, c.scheme, c.display) for c in v] for k, v in entry.codes.items()})
    cx = parse_cx(doc.patient_id)
    if cx is None:
        out.findings.append(finding(M.XDM_PATIENT_ID, path, entry=entry.id, value=doc.patient_id))
    elif cx[1] in INS_OIDS:
        doc.patient_ins, doc.patient_oid = cx
    _check_codes(entry, path, out)
    if not uri:
        out.findings.append(finding(M.XDM_DOC_URI, path, entry=entry.id))
        return doc
    candidates = [f"{subset}/{uri}".upper(), uri.upper()]
    found = next((upper[c] for c in candidates if c in upper), None)
    if found is None or _unsafe_path(uri):
        out.findings.append(finding(M.XDM_DOC_FILE_MISSING, path, uri=uri))
        return doc
    referenced.add(found.upper())
    doc.path, doc.content = found, files[found]
    if not doc.hash:
        out.findings.append(finding(M.XDM_HASH_MISSING, path, entry=entry.id))
    else:
        actual = hashlib.sha1(doc.content).hexdigest()  # noqa: S324 - XDS mandates SHA-1 (ITI TF-3 4.2.3.2.10)
        if actual != doc.hash:
            out.findings.append(finding(M.XDM_HASH_MISMATCH, path, uri=uri, found=doc.hash, actual=actual))
    if not doc.size:
        out.findings.append(finding(M.XDM_SIZE_MISSING, path, entry=entry.id))
    elif doc.size != str(len(doc.content)):
        out.findings.append(finding(M.XDM_SIZE_MISMATCH, path, uri=uri, found=doc.size, actual=len(doc.content)))
    if not doc.mime_type:
        out.findings.append(finding(M.XDM_CODE_MISSING, path, entry=entry.id, name="mimeType"))
    else:
        declared, actual = _MIME_FAMILY.get(doc.mime_type, ""), _sniff(doc.content)
        if declared and actual and declared != actual:
            out.findings.append(finding(M.XDM_MIME_TYPE, path, entry=entry.id, declared=doc.mime_type, actual=actual))
    return doc


#: declared MIME type -> what the bytes should look like
_MIME_FAMILY = {"application/pdf": "PDF", "text/xml": "XML", "application/xml": "XML", "application/hl7-v3+xml": "XML",
                "application/fhir+json": "JSON", "application/json": "JSON", "application/fhir+xml": "XML"}


def _sniff(content: bytes) -> str:
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"<"):
        return "XML"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return ""


def _check_codes(entry: EbEntry, path: str, out: XdmPackage) -> None:
    for name in REQUIRED_DE_CODES:
        if not entry.codes.get(name):
            out.findings.append(finding(M.XDM_CODE_MISSING, path, entry=entry.id, name=name))
    for name, codes in entry.codes.items():
        vs = FRENCH_VALUE_SETS.get(name)
        allowed = profiles.value_set_codes(vs) if vs else frozenset()
        if not allowed:  # value set not enumerable offline (whole NOS tables): not checked
            continue
        for c in codes:
            if c.code not in allowed:
                out.findings.append(finding(M.XDM_CODE_UNKNOWN, path, entry=entry.id, name=name, code=c.code,
                                            value_set=vs.rsplit("/", 1)[-1] if vs else ""))
                continue
            schemes = CODING_SCHEMES.get((name, c.code)) or CODING_SCHEMES.get((name, "*"))
            if schemes and c.scheme not in schemes:
                out.findings.append(finding(M.XDM_CODE_SCHEME, path, entry=entry.id, name=name, code=c.code,
                                            found=c.scheme, expected=" | ".join(schemes)))


