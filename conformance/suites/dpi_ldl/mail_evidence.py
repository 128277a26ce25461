"""Reading the vendor's MSSanté exchanges for suite ``dpi-ldl`` (FACTS §2.2–§2.5, A.4): the shared
"find the letter or ask for it" step, and safe parsers of what the SMTP evidence recorded — the
raw message (stdlib ``email``), its ``IHE_XDM.ZIP`` (bounded: no member is read beyond the limits
below, so a zip bomb cannot hurt the runner), ``METADATA.XML`` (defusedxml) and its documents.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from defusedxml import ElementTree as ET  # noqa: N817 - the usual alias

from conformance import EvidenceQuery, Exchange, TestContext, Text
from conformance.suites.dpi_ldl.evidence import ordered, patient_text, settle

PATIENT_DOMAIN = "patient.mssante.fr"
RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
MAX_MEMBER = 20 * 1024 * 1024  # bytes of one zip member read at most (MSSanté's limit is 25 MB a message)
MAX_MEMBERS = 200
XDM_LAYOUT = ("INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML")

SEND_PROMPT = Text(
    "Envoyez par MSSanté la lettre de liaison du patient {patient} à son correspondant {correspondent} et à la "
    "messagerie Mon espace santé du patient, en un seul message, avec accusé de réception et sans possibilité de "
    "réponse du patient.",
    "Send the discharge letter of patient {patient} through MSSanté to their correspondent {correspondent} and to "
    "the patient's Mon espace santé mailbox, in one message, asking for a receipt and blocking the patient's "
    "replies.")


@dataclass
class Xdm:
    """What an ``IHE_XDM.ZIP`` holds (``problems`` says what could not be read)."""

    names: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict[str, str]] = field(default_factory=list)  # URI, hash, size, mimeType of each entry
    problems: list[str] = field(default_factory=list)


@dataclass
class Letter:
    """One message of the vendor carrying (or meant to carry) the letter."""

    ex: Exchange
    msg: Message
    xdm: Xdm | None
    pdfs: list[bytes]

    @property
    def recipients(self) -> list[str]:
        return [str(a).lower() for a in (self.ex.summary or {}).get("to") or []]

    def documents(self, media: tuple[str, ...]) -> list[tuple[str, bytes]]:
        """(file, bytes) of the XDM documents whose entry declares one of ``media``."""
        if self.xdm is None:
            return []
        return [(e["URI"], self.xdm.files.get(f"IHE_XDM/SUBSET01/{e['URI']}", b"")) for e in self.xdm.entries
                if e.get("mimeType") in media]


def parse_message(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)


def header(msg: Message, name: str) -> str | None:
    value = msg.get(name)
    return None if value is None else str(value).strip()


def read_xdm(data: bytes) -> Xdm:
    out = Xdm()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()[:MAX_MEMBERS]
        out.names = [i.filename for i in infos]
        for info in infos:
            if info.file_size > MAX_MEMBER:
                out.problems.append(f"{info.filename}: {info.file_size} octets / bytes")
                continue
            with zf.open(info) as f:
                out.files[info.filename] = f.read(MAX_MEMBER + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError) as exc:
        out.problems.append(f"zip illisible / unreadable zip: {exc}")
        return out
    meta = out.files.get("IHE_XDM/SUBSET01/METADATA.XML")
    if meta is None:
        return out
    try:
        root = ET.fromstring(meta, forbid_dtd=True)
    except (ET.ParseError, ValueError) as exc:
        out.problems.append(f"METADATA.XML illisible / unreadable: {exc}")
        return out
    for eo in root.iter(f"{RIM}ExtrinsicObject"):
        entry = {"mimeType": eo.get("mimeType", "")}
        for slot in eo.findall(f"{RIM}Slot"):
            entry[slot.get("name", "")] = slot.findtext(f"{RIM}ValueList/{RIM}Value", default="")
        out.entries.append(entry)
    return out


def xdm_problems(x: Xdm) -> list[str]:
    """Layout and integrity of an XDM package (FACTS §2.4): the three fixed files, and for each
    document entry a file at its ``URI`` with the SHA-1 and size METADATA.XML declares."""
    problems = list(x.problems)
    problems += [f"{name} absent" for name in XDM_LAYOUT if name not in x.names]
    if "IHE_XDM/SUBSET01/METADATA.XML" in x.names and not x.entries:
        problems.append("METADATA.XML sans fiche de document / without document entry")
    for e in x.entries:
        data = x.files.get(f"IHE_XDM/SUBSET01/{e.get('URI', '')}")
        if data is None:
            problems.append(f"URI {e.get('URI')!r} : fichier absent / file missing")
            continue
        if e.get("hash", "").lower() != hashlib.sha1(data).hexdigest():  # noqa: S324 - XDS mandates SHA-1
            problems.append(f"{e['URI']} : hash SHA-1 différent / SHA-1 differs")
        if e.get("size") != str(len(data)):
            problems.append(f"{e['URI']} : taille {e.get('size')} au lieu de / instead of {len(data)}")
    return problems


def letter_of(ex: Exchange, raw: bytes) -> Letter:
    msg = parse_message(raw)
    xdm: Xdm | None = None
    pdfs: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = (part.get_filename() or "").upper()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if name == "IHE_XDM.ZIP":
            xdm = read_xdm(data)
        elif part.get_content_type() == "application/pdf":
            pdfs.append(data)
    return Letter(ex, msg, xdm, pdfs)


def is_receipt(msg: Message) -> bool:
    return msg.get_content_type() == "multipart/report"


async def sent_by_vendor(ctx: TestContext, where: Any = None) -> list[Exchange]:
    return ordered(await ctx.find(EvidenceQuery(service="mss", operation="smtp-message",
                                                persona=ctx.inputs["professional"], where=where)))


def _to_letter_recipients(ctx: TestContext) -> Any:
    gp = str(ctx.inputs["correspondent"]).lower()

    def where(e: Exchange) -> bool:
        to = [str(a).lower() for a in (e.summary or {}).get("to") or []]
        return gp in to or any(a.endswith("@" + PATIENT_DOMAIN) for a in to)
    return where


async def letters(ctx: TestContext) -> list[Letter]:
    """The vendor's letter message(s) of the run (to the correspondent or to a patient, not a
    receipt), asking for them when the run has none yet."""
    where = _to_letter_recipients(ctx)
    found = await _letters(ctx, await sent_by_vendor(ctx, where))
    if found:
        return found
    pro_query = EvidenceQuery(service="mss", operation="smtp-message", persona=ctx.inputs["professional"],
                              where=where, label="SMTP message (lettre de liaison)")
    start = (await ctx.wait_for(
        pro_query, prompt=SEND_PROMPT.format(patient=patient_text(ctx.inputs["patient"]),
                                             correspondent=ctx.inputs["correspondent"]),
        action="mss.send_letter", params={"patient": dict(ctx.inputs["patient"]),
                                          "correspondent": ctx.inputs["correspondent"]}))[0].started_at
    return await _letters(ctx, await settle(ctx, start, pro_query))  # a second message may follow the first


async def _letters(ctx: TestContext, exchanges: list[Exchange]) -> list[Letter]:
    out = []
    for ex in exchanges:
        letter = letter_of(ex, await ctx.request_body(ex))
        if not is_receipt(letter.msg):
            out.append(letter)
    return out


def subject_pattern(patient: dict[str, Any]) -> re.Pattern[str]:
    """``XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>`` for ``patient`` (FACTS §2.3, ECO.2.1.3)."""
    y, m, d = str(patient["birth_date"]).split("-")
    return re.compile(rf"^XDM/1\.0/DDM\+\S.* {re.escape(str(patient['birth_name']))} "
                      rf"{re.escape(str(patient['first_names'][0]))} {d}/{m}/{y}$", re.IGNORECASE)


def rcpt_attempts(session: Exchange) -> list[str]:
    """Every ``RCPT TO`` address the client sent in an SMTP session (accepted or not)."""
    out = []
    for line in (session.summary or {}).get("transcript") or []:
        m = re.match(r"^C: RCPT TO:\s*<?([^>\s]+)>?", str(line), re.IGNORECASE)
        if m:
            out.append(m.group(1).lower())
    return out


def notification_fields(msg: Message) -> dict[str, str]:
    """The fields of a receipt's ``message/disposition-notification`` part (lower-case names)."""
    for part in msg.walk():
        if part.get_content_type() == "message/disposition-notification":
            payload = part.get_payload()
            blocks = ([p for p in payload if isinstance(p, Message)] if isinstance(payload, list)
                      else [email.message_from_string(str(payload), policy=email.policy.default)])
            # the parser unfolds long fields (an Original-Message-ID is often folded)
            return {str(k).lower(): " ".join(str(v).split()) for block in blocks for k, v in block.items()}
    return {}
