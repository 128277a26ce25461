"""Reading the vendor's exchanges for suite ``dpi-ldl``: the queries its tests wait on, the
"find it or ask for it" steps several tests share (the first login, the first discharge letter),
and small parsers of recorded bodies (form, SOAP, FHIR)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from defusedxml import ElementTree as ET  # noqa: N817 - the usual alias

from conformance import EvidenceQuery, Exchange, TestContext, Text
from conformance.suites.dpi_ldl.messages import NO_LETTER

SOAP_NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "ins": "http://www.cnamts.fr/INSiRecSans",
           "wsa": "http://www.w3.org/2005/08/addressing", "ctxbam": "urn:siram:bam:ctxbam",
           "ctxlps": "urn:siram:lps:ctxlps"}
DMP_SEARCH_OPS = ("dmp.iti-67", "dmp.documentreference.read")


def query_params(ex: Exchange) -> dict[str, list[str]]:
    return parse_qs(str((ex.summary or {}).get("query", "")), keep_blank_values=True)


def form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def grant(ex: Exchange, grant_type: str) -> bool:
    return ex.operation == "psc.token" and (ex.summary or {}).get("grant_type") == grant_type


def ordered(exchanges: Iterable[Exchange]) -> list[Exchange]:
    return sorted(exchanges, key=lambda e: (e.started_at, e.id))


def since(exchanges: Iterable[Exchange], start: datetime) -> list[Exchange]:
    return [e for e in ordered(exchanges) if e.started_at >= start]


def now() -> datetime:
    return datetime.now(UTC)


async def settle(ctx: TestContext, start: datetime, query: EvidenceQuery) -> list[Exchange]:
    """Exchanges matching ``query`` since ``start``, after letting the step's trailing calls land
    (the run's quiet window: :meth:`conformance.TestContext.quiet`)."""
    return await ctx.quiet(query, start)


def patient_text(p: dict[str, Any]) -> str:
    return f"{' '.join(p['first_names'])} {p['birth_name']} ({p['sex']}, {p['birth_date']}, {p.get('birth_place', '')})"


def patient_params(p: dict[str, Any]) -> dict[str, Any]:
    return {"patient": dict(p)}


async def ins_returned(ctx: TestContext) -> dict[str, str]:
    """INS value → OID, for every INS INSi returned in the run."""
    out: dict[str, str] = {}
    for ex in await ctx.find(EvidenceQuery(service="ins", protocol="soap")):
        s = ex.summary or {}
        if s.get("cr") == "00" and s.get("ins"):
            out[str(s["ins"])] = str(s.get("oid") or "")
    return out


# -- shared steps ---------------------------------------------------------------------------------
LOGIN_PROMPT = Text(
    "Connectez le professionnel {professional} avec Pro Santé Connect depuis le logiciel (flux code "
    "d'autorisation, carte CPS ou e-CPS), puis affichez son identité.",
    "Log professional {professional} in with Pro Santé Connect from the software (authorization code flow, "
    "CPS card or e-CPS), then display their identity.")


async def first_login(ctx: TestContext) -> list[Exchange]:
    """The PSC exchanges of the run's first successful login (up to its authorization-code token),
    asking for a login when the run has none yet."""
    tokens = await ctx.find(EvidenceQuery(service="psc", operation="psc.token", status="200",
                                          where=lambda e: grant(e, "authorization_code")))
    if not tokens:
        pro = ctx.inputs["professional"]
        await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.token", status="200",
                                         where=lambda e: grant(e, "authorization_code"),
                                         label="PSC token (authorization_code)"),
                           prompt=LOGIN_PROMPT.format(professional=pro), action="psc.login",
                           params={"professional": pro})
        tokens = await ctx.find(EvidenceQuery(service="psc", operation="psc.token", status="200",
                                              where=lambda e: grant(e, "authorization_code")))
    token = ordered(tokens)[0]
    before = [e for e in await ctx.find(EvidenceQuery(service="psc")) if e.started_at <= token.started_at]
    return ordered(before)


def is_letter(bundle: Any, patient: dict[str, Any]) -> bool:
    """A first letter (no ``relatesTo``) about ``patient``: its contained patient has the birth name
    and date of the input traits (the INS itself may be what a test finds wrong)."""
    doc = document_reference(bundle)
    if doc is None or doc.get("relatesTo"):
        return False
    pat = contained(doc, (doc.get("context") or {}).get("sourcePatientInfo")) or contained(doc, doc.get("subject"))
    if pat is None:
        return True
    names = [n.get("family") for n in pat.get("name") or [] if isinstance(n, dict)]
    return pat.get("birthDate") == patient.get("birth_date") and (not names or patient.get("birth_name") in names)


async def letter(ctx: TestContext) -> tuple[Exchange, dict[str, Any]]:
    """The run's first discharge letter (an ITI-65 without ``relatesTo``, not answered 503) and its
    Bundle, asking for one when the run has none yet."""
    for attempt in range(2):
        for ex in ordered(await ctx.find(EvidenceQuery(service="dmp", operation="dmp.iti-65"))):
            if ex.status == "503":
                continue
            bundle = await ctx.request_json(ex)
            if is_letter(bundle, ctx.inputs["patient"]):
                return ex, bundle
        if attempt == 0:
            p = ctx.inputs["patient"]
            await ctx.wait_for(EvidenceQuery(service="dmp", operation="dmp.iti-65", label="DMP ITI-65"),
                               prompt=FEED_PROMPT.format(patient=patient_text(p)), action="dmp.feed",
                               params=patient_params(p))
    ctx.fail(NO_LETTER)


FEED_PROMPT = Text(
    "Envoyez au DMP la lettre de liaison à la sortie (CDA LDL-SES) du patient {patient}.",
    "Send the discharge letter (CDA LDL-SES) of patient {patient} to the DMP.")

# -- FHIR ---------------------------------------------------------------------------------------
def entries(bundle: Any) -> list[dict[str, Any]]:
    return [e for e in (bundle.get("entry") or []) if isinstance(e, dict)] if isinstance(bundle, dict) else []


def resources(bundle: Any, rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in entries(bundle)
            if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == rtype]


def document_reference(bundle: Any) -> dict[str, Any] | None:
    docs = resources(bundle, "DocumentReference")
    return docs[0] if docs else None


def codings(concept: Any) -> list[dict[str, Any]]:
    return [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict)] if isinstance(concept, dict) else []


def contained(resource: dict[str, Any], ref: Any) -> dict[str, Any] | None:
    target = (ref or {}).get("reference", "") if isinstance(ref, dict) else ""
    if not target.startswith("#"):
        return None
    return next((c for c in resource.get("contained") or [] if isinstance(c, dict) and c.get("id") == target[1:]),
                None)


def subject_identifier(doc: dict[str, Any]) -> tuple[str, str]:
    """(system, value) of the patient of a DocumentReference: the conditional reference
    ``Patient?identifier=system|value`` or the contained patient's identifier."""
    ref = str((doc.get("subject") or {}).get("reference", ""))
    m = re.match(r"^Patient\?identifier=(.*)\|(.*)$", unquote_plus(ref))
    if m:
        return m.group(1), m.group(2)
    pat = contained(doc, doc.get("subject")) or contained(doc, (doc.get("context") or {}).get("sourcePatientInfo"))
    ids = (pat or {}).get("identifier") or []
    first = ids[0] if ids and isinstance(ids[0], dict) else {}
    return str(first.get("system", "")), str(first.get("value", ""))


def binary_data(bundle: Any, url: str) -> bytes:
    for e in entries(bundle):
        res = e.get("resource") or {}
        if e.get("fullUrl") == url and res.get("resourceType") == "Binary":
            try:
                return base64.b64decode(res.get("data", ""))
            except ValueError:
                return b""
    return b""


# -- SOAP -----------------------------------------------------------------------------------------
def soap_request(body: bytes) -> dict[str, Any]:
    """The INSi request fields a test judges (empty strings when absent)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    rec = root.find(".//ins:RECSANSVITALE", SOAP_NS)

    def text(path: str, node: Any = root) -> str:
        return (node.findtext(path, default="", namespaces=SOAP_NS) or "") if node is not None else ""

    bam = root.find(".//ctxbam:ContexteBAM", SOAP_NS)
    lps = root.find(".//ctxlps:ContexteLPS", SOAP_NS)
    return {
        "action": text(".//wsa:Action").strip(), "message_id": text(".//wsa:MessageID").strip(),
        "bam_version": bam.get("Version", "") if bam is not None else "",
        "lps_version": lps.get("Version", "") if lps is not None else "",
        "idam": text(".//ctxlps:LPS/ctxlps:IDAM").strip(), "lps_name": text(".//ctxlps:LPS/ctxlps:Nom").strip(),
        "birth_name": text("ins:NomNaissance", rec),
        "first_names": [p.text or "" for p in rec.findall("ins:Prenom", SOAP_NS)] if rec is not None else [],
        "sex": text("ins:Sexe", rec), "birth_date": text("ins:DateNaissance", rec),
        "birth_place": text("ins:LieuNaissance", rec),
    }


def gap_seconds(before: Exchange, after: Exchange) -> float:
    return (after.started_at - before.ended_at) / timedelta(seconds=1)
