"""INSi technical errors as SOAP Faults carrying ``siram:Erreur`` (FACTS §1.2 "Technical errors").

Wire shape seen in public third-party fixtures of the real service [V-3p]: HTTP 500, SOAP 1.2
``Fault`` with ``Code/Value`` + ``Subcode/Value`` (``siram_40`` "service temporairement
inaccessible"), ``Reason/Text`` and ``Detail/siram:Erreur`` (namespace ``urn:siram``) with the
attributes ``code`` (``insi_102`` for a technical error), ``messageID`` and ``severite``.

Only ``insi_102``/``siram_40`` are observed codes; every other code below is **sandbox-defined
[U]** (CNAM's catalogue is not public) and stable: vendors' tests may rely on them. WS-Addressing
faults use the subcodes of WS-Addressing 1.0 SOAP Binding §6 (``wsa:ActionNotSupported``,
``wsa:MessageAddressingHeaderRequired``); a SOAP 1.1 envelope gets a SOAP 1.1 ``VersionMismatch``
fault with an ``Upgrade`` header (SOAP 1.2 Part 1 Appendix A). ``messageID`` echoes the request's
``wsa:MessageID`` when it was readable [U: meaning of the attribute not documented publicly].
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

from ins.messages import Problem
from sandbox.errors import Wire

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSA_NS = "http://www.w3.org/2005/08/addressing"
SIRAM_NS = "urn:siram"
SANDBOX_NS = "urn:mes-sandbox:insi"
SOAP12_TYPE = "application/soap+xml; charset=utf-8"
SOAP11_TYPE = "text/xml; charset=utf-8"


class SoapCode(StrEnum):
    SENDER = "Sender"
    RECEIVER = "Receiver"
    VERSION_MISMATCH = "VersionMismatch"
    MUST_UNDERSTAND = "MustUnderstand"


class InsiError(StrEnum):
    TECHNICAL = "insi_102"  # observed [V-3p]
    MALFORMED_XML = "insi_400"
    FORBIDDEN_XML = "insi_401"
    NOT_SOAP = "insi_402"
    VERSION_MISMATCH = "insi_403"
    CONTENT_TYPE = "insi_404"
    MUST_UNDERSTAND = "insi_405"
    CONTEXT_BAM = "insi_410"
    CONTEXT_LPS = "insi_411"
    ACTION_MISSING = "insi_412"
    MESSAGE_ID_MISSING = "insi_413"
    ACTION_UNKNOWN = "insi_414"
    BODY_MISMATCH = "insi_415"
    INVALID_DATA = "insi_420"
    INVALID_MATRICULE = "insi_421"
    CERTIFICATE_REQUIRED = "insi_430"
    CERTIFICATE_REFUSED = "insi_431"
    VITALE_STALE = "insi_440"
    UNKNOWN_WORKSPACE = "insi_490"


@dataclass(frozen=True)
class ErrorSpec:
    soap_code: SoapCode
    subcode: str  # QName written in the Subcode (prefix soap: or wsa:)
    severite: str  # "erreur" (the caller must fix its request) | "fatal" (service side)
    fr: str
    en: str


ERRORS: dict[InsiError, ErrorSpec] = {
    InsiError.TECHNICAL: ErrorSpec(
        SoapCode.RECEIVER, "soap:siram_40", "fatal",
        "Le service est temporairement inaccessible. Veuillez renouveler votre demande ultérieurement.",
        "The service is temporarily unavailable. Please try again later."),
    InsiError.MALFORMED_XML: ErrorSpec(
        SoapCode.SENDER, "soap:siram_10", "erreur",
        "Le message n'est pas un document XML bien formé.", "The message is not well-formed XML."),
    InsiError.FORBIDDEN_XML: ErrorSpec(
        SoapCode.SENDER, "soap:siram_10", "erreur",
        "Les DTD, entités et références externes sont interdites dans un message SOAP.",
        "DTDs, entities and external references are forbidden in a SOAP message."),
    InsiError.NOT_SOAP: ErrorSpec(
        SoapCode.SENDER, "soap:siram_10", "erreur",
        "Le message n'est pas une enveloppe SOAP 1.2 (Envelope et Body attendus).",
        "The message is not a SOAP 1.2 envelope (Envelope and Body expected)."),
    InsiError.VERSION_MISMATCH: ErrorSpec(
        SoapCode.VERSION_MISMATCH, "", "erreur",
        "Enveloppe SOAP 1.1 reçue : le service INSi n'accepte que SOAP 1.2.",
        "SOAP 1.1 envelope received: the INSi service only accepts SOAP 1.2."),
    InsiError.CONTENT_TYPE: ErrorSpec(
        SoapCode.SENDER, "soap:siram_10", "erreur",
        "Content-Type application/soap+xml attendu (liaison HTTP de SOAP 1.2).",
        "Content-Type application/soap+xml expected (SOAP 1.2 HTTP binding)."),
    InsiError.MUST_UNDERSTAND: ErrorSpec(
        SoapCode.MUST_UNDERSTAND, "", "erreur",
        "Un bloc d'en-tête marqué mustUnderstand n'est pas compris par le service.",
        "A header block marked mustUnderstand is not understood by the service."),
    InsiError.CONTEXT_BAM: ErrorSpec(
        SoapCode.SENDER, "soap:siram_20", "erreur",
        "En-tête ctxbam:ContexteBAM absent ou incomplet.", "Header ctxbam:ContexteBAM missing or incomplete."),
    InsiError.CONTEXT_LPS: ErrorSpec(
        SoapCode.SENDER, "soap:siram_20", "erreur",
        "En-tête ctxlps:ContexteLPS absent ou incomplet (LPS/IDAM obligatoire).",
        "Header ctxlps:ContexteLPS missing or incomplete (LPS/IDAM required)."),
    InsiError.ACTION_MISSING: ErrorSpec(
        SoapCode.SENDER, "wsa:MessageAddressingHeaderRequired", "erreur",
        "En-tête wsa:Action absent.", "Header wsa:Action missing."),
    InsiError.MESSAGE_ID_MISSING: ErrorSpec(
        SoapCode.SENDER, "wsa:MessageAddressingHeaderRequired", "erreur",
        "En-tête wsa:MessageID absent ou vide (uuid:<uuid> attendu).",
        "Header wsa:MessageID missing or empty (uuid:<uuid> expected)."),
    InsiError.ACTION_UNKNOWN: ErrorSpec(
        SoapCode.SENDER, "wsa:ActionNotSupported", "erreur",
        "Action inconnue du service INSi.", "Action not supported by the INSi service."),
    InsiError.BODY_MISMATCH: ErrorSpec(
        SoapCode.SENDER, "soap:siram_10", "erreur",
        "Le corps du message ne correspond pas à l'action demandée.",
        "The message body does not match the requested action."),
    InsiError.INVALID_DATA: ErrorSpec(
        SoapCode.SENDER, "soap:siram_30", "erreur",
        "Données de la requête invalides.", "Invalid request data."),
    InsiError.INVALID_MATRICULE: ErrorSpec(
        SoapCode.SENDER, "soap:siram_30", "erreur",
        "Matricule invalide.", "Invalid matricule."),
    InsiError.CERTIFICATE_REQUIRED: ErrorSpec(
        SoapCode.SENDER, "soap:siram_50", "erreur",
        "Authentification mutuelle TLS requise : présentez un certificat d'organisation IGC-Santé.",
        "Mutual TLS required: present an IGC-Santé organisation certificate."),
    InsiError.CERTIFICATE_REFUSED: ErrorSpec(
        SoapCode.SENDER, "soap:siram_50", "erreur",
        "Certificat client refusé : certificat d'organisation (AC ORGANISATIONS) attendu.",
        "Client certificate refused: an organisation certificate (ORGANISATIONS CA) is expected."),
    InsiError.VITALE_STALE: ErrorSpec(
        SoapCode.SENDER, "soap:siram_50", "erreur",
        "Assertion carte Vitale trop ancienne : relisez la carte Vitale.",
        "Carte Vitale assertion too old: read the carte Vitale again."),
    InsiError.UNKNOWN_WORKSPACE: ErrorSpec(
        SoapCode.SENDER, "soap:siram_20", "erreur",
        "Espace de travail du bac à sable inconnu (en-tête X-Sandbox-Workspace).",
        "Unknown sandbox workspace (X-Sandbox-Workspace header)."),
}


class InsiFault(Exception):
    """A technical error answered as a SOAP Fault (HTTP 500, as the real service does)."""

    def __init__(self, error: InsiError, detail: str = "", *, problems: tuple[Problem, ...] = (),
                 message_id: str = "", code: str | None = None, not_understood: str = "") -> None:
        self.error = error
        self.spec = ERRORS[error]
        self.code = code or error.value  # soap_fault injection may choose another code
        self.detail = detail or self.spec.fr
        self.problems = problems
        self.message_id = message_id
        self.not_understood = not_understood
        super().__init__(f"{self.code}: {self.detail}")

    def _erreur(self) -> str:
        return (f'<siram:Erreur xmlns:siram="{SIRAM_NS}" code={quoteattr(self.code)} '
                f'messageID={quoteattr(self.message_id)} severite={quoteattr(self.spec.severite)}>'
                f"{escape(self.detail)}</siram:Erreur>")

    def _problems(self) -> str:
        return "".join(
            f'<sbx:Probleme xmlns:sbx="{SANDBOX_NS}" id={quoteattr(p.msg_id.value)} '
            f"champ={quoteattr(p.field)}>{escape(p.text('fr'))}</sbx:Probleme>" for p in self.problems)

    def to_wire(self) -> Wire:
        if self.spec.soap_code is SoapCode.VERSION_MISMATCH:
            return Wire(500, self._soap11(), SOAP11_TYPE)
        subcode = (f"<soap:Subcode><soap:Value>{self.spec.subcode}</soap:Value></soap:Subcode>"
                   if self.spec.subcode else "")
        header = ""
        if self.not_understood:
            header = (f'<soap:Header><soap:NotUnderstood xmlns:nu="{self.not_understood.split("}")[0][1:]}" '
                      f'qname="nu:{self.not_understood.split("}")[1]}"/></soap:Header>')
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:wsa="{WSA_NS}">{header}<soap:Body><soap:Fault>'
            f"<soap:Code><soap:Value>soap:{self.spec.soap_code.value}</soap:Value>{subcode}</soap:Code>"
            f'<soap:Reason><soap:Text xml:lang="fr">{escape(self.spec.fr)}</soap:Text>'
            f'<soap:Text xml:lang="en">{escape(self.spec.en)}</soap:Text></soap:Reason>'
            f"<soap:Detail>{self._erreur()}{self._problems()}</soap:Detail>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        )
        return Wire(500, body.encode(), SOAP12_TYPE)

    def _soap11(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP11_NS}"><SOAP-ENV:Header>'
            f'<upg:Upgrade xmlns:upg="{SOAP12_NS}"><upg:SupportedEnvelope qname="ns1:Envelope" '
            f'xmlns:ns1="{SOAP12_NS}"/></upg:Upgrade></SOAP-ENV:Header><SOAP-ENV:Body><SOAP-ENV:Fault>'
            f"<faultcode>SOAP-ENV:VersionMismatch</faultcode><faultstring>{escape(self.spec.fr)}</faultstring>"
            f"<detail>{self._erreur()}</detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        ).encode()
