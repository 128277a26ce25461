"""INSi SOAP 1.2 wire format: parse a request, build a ``RESULTAT`` response (FACTS §1.2, A.1).

Framework-free: bytes in, typed request or :class:`ins.insi_errors.InsiFault` out; result in,
bytes out. XML is parsed with ``defusedxml`` (DTDs, entities and external references forbidden;
no network access), so billion-laughs and XXE payloads are refused as ``insi_401``.

Checked, in order: well-formed XML → SOAP 1.2 envelope (SOAP 1.1 → ``VersionMismatch``) →
``Content-Type: application/soap+xml`` → ``mustUnderstand`` header blocks → ``wsa:Action`` (registry
of operations) → ``wsa:MessageID`` → ``ctxbam:ContexteBAM`` → ``ctxlps:ContexteLPS`` with ``IDAM``
→ body root matching the action → traits (strict INSi client rules, :mod:`ins.traits`).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

from ins.identities import InsNumber, VitaleQuery
from ins.insi_errors import SOAP11_NS, SOAP12_NS, WSA_NS, InsiError, InsiFault
from ins.insi_service import InsiResult
from ins.messages import MsgId, Problem
from ins.nir import check_matricule, nir_key
from ins.traits import TraitsQuery, check_date, check_query, normalise

CTXBAM_NS = "urn:siram:bam:ctxbam"
CTXLPS_NS = "urn:siram:lps:ctxlps"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
RECSANS_NS = "http://www.cnamts.fr/INSiRecSans"
RECVIT_NS = "http://www.cnamts.fr/INSiRecVit"
RESULTAT_NS = "http://www.cnamts.fr/INSiResultat"
ACTION_PREFIX = "urn:ServiceIdentiteCertifiee:1.0.0:"


class Operation(StrEnum):
    TRAITS = "rechercherInsAvecTraitsIdentite"
    VITALE = "rechercherInsAvecCarteVitale"

    @property
    def action(self) -> str:
        return ACTION_PREFIX + self.value


@dataclass(frozen=True)
class SoapHeader:
    action: str
    message_id: str
    idam: str
    lps_name: str
    lps_version: str
    emitter: str
    has_security: bool  # wsse:Security present (CPx mode: CPS / Vitale assertions)


@dataclass(frozen=True)
class InsiRequest:
    operation: Operation
    header: SoapHeader
    traits: TraitsQuery | None = None
    vitale: VitaleQuery | None = None


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _text(parent: ET.Element | None, *path: str) -> str | None:
    """Text of the first descendant path by local names (namespace-tolerant for children)."""
    node = parent
    for name in path:
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == name), None)
    if node is None:
        return None
    return (node.text or "").strip()


def _all_text(parent: ET.Element, name: str) -> list[str]:
    return [(c.text or "").strip() for c in parent if _local(c.tag) == name]


def parse_xml(body: bytes) -> ET.Element:
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise InsiFault(InsiError.FORBIDDEN_XML, f"Construction XML interdite : {type(exc).__name__}.") from None
    except (ET.ParseError, ValueError) as exc:
        raise InsiFault(InsiError.MALFORMED_XML, f"XML mal formé : {exc}.") from None


_KNOWN_HEADERS = {CTXBAM_NS, CTXLPS_NS, WSA_NS, WSSE_NS}


def _header(env: ET.Element) -> SoapHeader:
    header = env.find(_q(SOAP12_NS, "Header"))
    blocks = list(header) if header is not None else []
    for block in blocks:
        mu = block.get(_q(SOAP12_NS, "mustUnderstand"), "false").strip()
        if mu in ("1", "true") and _ns(block.tag) not in _KNOWN_HEADERS:
            raise InsiFault(InsiError.MUST_UNDERSTAND, f"Bloc d'en-tête non compris : {block.tag}.",
                            not_understood=block.tag)
    by_tag = {b.tag: b for b in blocks}
    action_el = by_tag.get(_q(WSA_NS, "Action"))
    action = (action_el.text or "").strip() if action_el is not None else ""
    if not action:
        raise InsiFault(InsiError.ACTION_MISSING)
    mid_el = by_tag.get(_q(WSA_NS, "MessageID"))
    message_id = (mid_el.text or "").strip()[:200] if mid_el is not None else ""
    if action not in OPERATIONS:
        raise InsiFault(InsiError.ACTION_UNKNOWN, f"Action inconnue : {action[:200]}.", message_id=message_id)
    if not message_id:
        raise InsiFault(InsiError.MESSAGE_ID_MISSING)
    bam = by_tag.get(_q(CTXBAM_NS, "ContexteBAM"))
    if bam is None or not _text(bam, "Id") or not _text(bam, "Temps"):
        raise InsiFault(InsiError.CONTEXT_BAM, "ctxbam:ContexteBAM absent ou sans Id/Temps.",
                        message_id=message_id)
    lps = by_tag.get(_q(CTXLPS_NS, "ContexteLPS"))
    if lps is None:
        raise InsiFault(InsiError.CONTEXT_LPS, "ctxlps:ContexteLPS absent.", message_id=message_id)
    idam = _text(lps, "LPS", "IDAM")
    if not idam:
        raise InsiFault(InsiError.CONTEXT_LPS, "ctxlps:ContexteLPS/LPS/IDAM absent ou vide.",
                        message_id=message_id)
    return SoapHeader(
        action=action, message_id=message_id, idam=idam[:100],
        lps_name=(_text(lps, "LPS", "Nom") or "")[:200], lps_version=(_text(lps, "LPS", "Version") or "")[:50],
        emitter=(_text(lps, "Emetteur") or _text(bam, "Emetteur") or "")[:200],
        has_security=_q(WSSE_NS, "Security") in by_tag,
    )


def _traits(root: ET.Element, header: SoapHeader) -> InsiRequest:
    query, problems = check_query(
        _text(root, "NomNaissance"), _all_text(root, "Prenom"), _text(root, "Sexe"),
        _text(root, "DateNaissance"), _text(root, "LieuNaissance"), strict=True)
    if problems:
        raise InsiFault(InsiError.INVALID_DATA, "; ".join(p.text("fr") for p in problems),
                        problems=tuple(problems), message_id=header.message_id)
    return InsiRequest(Operation.TRAITS, header, traits=query)


def _matricule_13(root: ET.Element, name: str, field: str, problems: list[Problem]) -> str | None:
    """``<name>/NumIdentifiant`` (13, or 15 with the key) and optional ``<name>/Cle``."""
    num = _text(root, name, "NumIdentifiant")
    if num is None:
        return None
    key = _text(root, name, "Cle")
    value = num + key if key and len(num) == 13 else num
    found = check_matricule(value, with_key=len(value) != 13, field=field)
    problems.extend(found)
    return None if found else value[:13].upper()


def _vitale(root: ET.Element, header: SoapHeader) -> InsiRequest:
    problems: list[Problem] = []
    matricule_problems: list[Problem] = []
    od = _matricule_13(root, "MatriculeOD", "MatriculeOD", matricule_problems)
    if od is None and not matricule_problems:
        problems.append(Problem(MsgId.TRAIT_MISSING, "MatriculeOD"))
    individu = _matricule_13(root, "MatriculeIndividu", "MatriculeIndividu", matricule_problems)
    birth_date = check_date(_text(root, "DateNaissance"), problems)
    rank_text = _text(root, "RangNaissance")
    rank = int(rank_text) if rank_text and rank_text.isdigit() and 1 <= int(rank_text) <= 9 else None
    if rank is None:
        problems.append(Problem(MsgId.RANK_INVALID, "RangNaissance", {"value": rank_text or ""}))
    name = _text(root, "NomNaissance")
    if name and normalise(name) != name:
        problems.append(Problem(MsgId.NAME_NOT_NORMALISED, "NomNaissance",
                                {"value": name, "normalised": normalise(name)}))
    if matricule_problems:
        raise InsiFault(InsiError.INVALID_MATRICULE, "; ".join(p.text("fr") for p in matricule_problems),
                        problems=tuple(matricule_problems + problems), message_id=header.message_id)
    if problems:
        raise InsiFault(InsiError.INVALID_DATA, "; ".join(p.text("fr") for p in problems),
                        problems=tuple(problems), message_id=header.message_id)
    assert od is not None and birth_date is not None and rank is not None
    query = VitaleQuery(matricule_od=od + f"{nir_key(od):02d}", birth_date=birth_date, rank=rank,
                        matricule_individu=individu, birth_name=name or None)
    return InsiRequest(Operation.VITALE, header, vitale=query)


#: wsa:Action -> (operation, body root QName, body parser): a new operation is one line here
OPERATIONS: dict[str, tuple[Operation, str, Callable[[ET.Element, SoapHeader], InsiRequest]]] = {
    Operation.TRAITS.action: (Operation.TRAITS, _q(RECSANS_NS, "RECSANSVITALE"), _traits),
    Operation.VITALE.action: (Operation.VITALE, _q(RECVIT_NS, "RECVITALE"), _vitale),
}


def parse_request(body: bytes, content_type: str) -> InsiRequest:
    """Parse and check an INSi request; raise :class:`InsiFault` on the first problem class."""
    env = parse_xml(body)
    if env.tag == _q(SOAP11_NS, "Envelope"):
        raise InsiFault(InsiError.VERSION_MISMATCH)
    if env.tag != _q(SOAP12_NS, "Envelope"):
        raise InsiFault(InsiError.NOT_SOAP, f"Élément racine {env.tag[:200]} au lieu de soap:Envelope.")
    body_el = env.find(_q(SOAP12_NS, "Body"))
    if body_el is None:
        raise InsiFault(InsiError.NOT_SOAP, "soap:Body absent.")
    if content_type.split(";", 1)[0].strip().lower() != "application/soap+xml":
        raise InsiFault(InsiError.CONTENT_TYPE, f"Content-Type reçu : {content_type[:100] or '(aucun)'}.")
    header = _header(env)
    operation, root_tag, parser = OPERATIONS[header.action]
    children = list(body_el)
    if len(children) != 1 or children[0].tag != root_tag:
        got = children[0].tag if children else "(vide)"
        raise InsiFault(InsiError.BODY_MISMATCH,
                        f"{operation.value} attend {root_tag} dans soap:Body, reçu {got[:200]}.",
                        message_id=header.message_id)
    return parser(children[0], header)


def peek_message_id(body: bytes) -> str:
    """Best-effort ``wsa:MessageID`` of a request that failed later checks (for fault echo)."""
    try:
        env = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception:  # noqa: BLE001 - any parse failure just means "unknown"
        return ""
    el = env.find(f"{_q(SOAP12_NS, 'Header')}/{_q(WSA_NS, 'MessageID')}")
    return (el.text or "").strip()[:200] if el is not None else ""


# -- response ------------------------------------------------------------------------------
def _id_individu(n: InsNumber) -> str:
    return (f"<IdIndividu><NumIdentifiant>{escape(n.number)}</NumIdentifiant><Cle>{escape(n.key)}</Cle>"
            f"</IdIndividu><OID>{escape(n.oid)}</OID>")


def resultat_xml(result: InsiResult) -> str:
    """The ``RESULTAT`` element exactly as FACTS A.1 shows it."""
    out = [f'<RESULTAT xmlns="{RESULTAT_NS}"><CR><CodeCR>{result.cr.value}</CodeCR>'
           f"<LibelleCR>{escape(result.libelle)}</LibelleCR></CR>"]
    ident = result.identity
    if ident is not None:
        t = ident.traits
        out.append(f"<INDIVIDU><INSACTIF>{_id_individu(ident.ins)}</INSACTIF>")
        for h in ident.history:
            dates = (f"<DateDeb>{escape(h.start)}</DateDeb>" if h.start else "") + (
                f"<DateFin>{escape(h.end)}</DateFin>" if h.end else "")
            out.append(f"<INSHISTO>{_id_individu(h)}{dates}</INSHISTO>")
        out.append(
            f"<TIQ><NomNaissance>{escape(t.birth_name)}</NomNaissance>"
            f"<ListePrenom>{escape(t.first_name_list)}</ListePrenom><Sexe>{t.sex}</Sexe>"
            f"<DateNaissance>{t.birth_date}</DateNaissance><LieuNaissance>{escape(t.birth_place)}</LieuNaissance>"
            "</TIQ></INDIVIDU>")
    out.append("</RESULTAT>")
    return "".join(out)


def build_response(request: InsiRequest, result: InsiResult) -> bytes:
    """SOAP 1.2 envelope answering ``request`` (response action = request action + ``Response`` [U])."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:wsa="{WSA_NS}"><soap:Header>'
        f"<wsa:Action>{request.operation.action}Response</wsa:Action>"
        f"<wsa:MessageID>uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:RelatesTo>{escape(request.header.message_id)}</wsa:RelatesTo>"
        f"</soap:Header><soap:Body>{resultat_xml(result)}</soap:Body></soap:Envelope>"
    ).encode()
