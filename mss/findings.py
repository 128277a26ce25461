"""Findings on an MSSanté message: stable ids, French and English texts, MDN error codes.

A :class:`Finding` is what the message checks (:mod:`mss.checks`, :mod:`mss.xdm`) record about a
message; it never names internal documents. Each catalogue entry may carry the application error
code (900–906, HL7 ``applicationErrorCondition``) that an integrating mailbox answers in an error
MDN (``processed/Error: <code>^<label>``, FACTS §2.5 and A.4). An entry without a code does not
stop integration (it is reported, the document is still usable).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"

#: application error codes of an MSSanté error MDN and their labels (FACTS §2.5, HL7V2-MSS)
MDN_ERROR_LABELS: dict[int, str] = {
    900: "Version incorrecte",
    901: "Auteur non autorisé",
    902: "Identifiant de patient inconnu",
    903: "INS absent du CDA",
    904: "INS ne correspond pas exactement",
    905: "INS incomplet (traits manquants)",
    906: "Autre",
}


@dataclass(frozen=True)
class Finding:
    """One observation about a message. ``location`` says where: ``header:Subject``,
    ``mime``, ``IHE_XDM.ZIP``, ``IHE_XDM/SUBSET01/METADATA.XML``, ``IHE_XDM/SUBSET01/DOC0001.XML#...``."""

    id: str
    severity: str  # "error" | "warning" | "info"
    text_fr: str
    text_en: str
    location: str
    #: application error code (900–906) an error MDN carries for this finding, if it blocks integration
    mdn_code: int | None = None

    def text(self, lang: str = "fr") -> str:
        return self.text_en if lang == "en" else self.text_fr

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "severity": self.severity, "location": self.location,
                             "text_fr": self.text_fr, "text_en": self.text_en}
        if self.mdn_code is not None:
            d["mdn_code"] = self.mdn_code
        if self.id in REQUIREMENTS:
            d["requirements"] = list(REQUIREMENTS[self.id])
        return d


class M(StrEnum):
    """Stable message ids (reports, suppressions and tests refer to these, never to texts)."""

    MIME_MALFORMED = "MSS-MIME-MALFORMED"
    HEADER_MISSING = "MSS-HEADER-MISSING"
    HEADER_DUPLICATE = "MSS-HEADER-DUPLICATE"
    SUBJECT_FORMAT = "MSS-SUBJECT-FORMAT"
    SUBJECT_PATIENT = "MSS-SUBJECT-PATIENT"
    REPLACE_NO_THREAD = "MSS-REPLACE-NO-THREAD"
    REPLACE_NO_PARENT = "MSS-REPLACE-NO-PARENT"
    THREAD_MESSAGE_ID = "MSS-THREAD-MESSAGE-ID"
    THREAD_IN_REPLY_TO = "MSS-THREAD-IN-REPLY-TO"
    THREAD_REFERENCES = "MSS-THREAD-REFERENCES"
    NIL_MISSING = "MSS-NIL-MISSING"
    NIL_FORMAT = "MSS-NIL-FORMAT"
    MES_VALUE = "MSS-MES-VALUE"
    MES_NOT_PATIENT = "MSS-MES-NOT-PATIENT"
    CODECDA_MISSING = "MSS-CODECDA-MISSING"
    CODECDA_MISMATCH = "MSS-CODECDA-MISMATCH"
    CODECDA_UNEXPECTED = "MSS-CODECDA-UNEXPECTED"
    INS_HEADER_MISSING = "MSS-INS-HEADER-MISSING"
    INS_HEADER_VALUE = "MSS-INS-HEADER-VALUE"
    INS_HEADER_MISMATCH = "MSS-INS-HEADER-MISMATCH"
    INS_HEADER_UNEXPECTED = "MSS-INS-HEADER-UNEXPECTED"
    XDM_MISSING = "MSS-XDM-MISSING"
    XDM_MULTIPLE = "MSS-XDM-MULTIPLE"
    XDM_NAME = "MSS-XDM-NAME"
    PDF_MISSING = "MSS-PDF-MISSING"
    ZIP_INVALID = "MSS-ZIP-INVALID"
    ZIP_TOO_LARGE = "MSS-ZIP-TOO-LARGE"
    ZIP_TOO_MANY_ENTRIES = "MSS-ZIP-TOO-MANY-ENTRIES"
    ZIP_BOMB_RATIO = "MSS-ZIP-BOMB-RATIO"
    ZIP_PATH_TRAVERSAL = "MSS-ZIP-PATH-TRAVERSAL"
    ZIP_NESTED = "MSS-ZIP-NESTED"
    ZIP_ENCRYPTED = "MSS-ZIP-ENCRYPTED"
    XDM_INDEX_MISSING = "MSS-XDM-INDEX-MISSING"
    XDM_README_MISSING = "MSS-XDM-README-MISSING"
    XDM_METADATA_MISSING = "MSS-XDM-METADATA-MISSING"
    XDM_METADATA_XML = "MSS-XDM-METADATA-XML"
    XDM_METADATA_DTD = "MSS-XDM-METADATA-DTD"
    XDM_METADATA_STRUCTURE = "MSS-XDM-METADATA-STRUCTURE"
    XDM_SUBMISSION_SET = "MSS-XDM-SUBMISSION-SET"
    XDM_NO_DOCUMENT = "MSS-XDM-NO-DOCUMENT"
    XDM_DOC_URI = "MSS-XDM-DOC-URI"
    XDM_DOC_FILE_MISSING = "MSS-XDM-DOC-FILE-MISSING"
    XDM_HASH_MISSING = "MSS-XDM-HASH-MISSING"
    XDM_HASH_MISMATCH = "MSS-XDM-HASH-MISMATCH"
    XDM_SIZE_MISSING = "MSS-XDM-SIZE-MISSING"
    XDM_SIZE_MISMATCH = "MSS-XDM-SIZE-MISMATCH"
    XDM_CODE_MISSING = "MSS-XDM-CODE-MISSING"
    XDM_CODE_UNKNOWN = "MSS-XDM-CODE-UNKNOWN"
    XDM_CODE_SCHEME = "MSS-XDM-CODE-SCHEME"
    XDM_PATIENT_ID = "MSS-XDM-PATIENT-ID"
    XDM_UNREFERENCED_FILE = "MSS-XDM-UNREFERENCED-FILE"
    XDM_MIME_TYPE = "MSS-XDM-MIME-TYPE"
    FHIR_UNREADABLE = "MSS-FHIR-UNREADABLE"
    FHIR_INVALID = "MSS-FHIR-INVALID"
    FHIR_NOT_DOCUMENT = "MSS-FHIR-NOT-DOCUMENT"
    PATIENT_MULTIPLE = "MSS-PATIENT-MULTIPLE"
    PATIENT_INS_ABSENT = "MSS-PATIENT-INS-ABSENT"
    PATIENT_UNKNOWN = "MSS-PATIENT-UNKNOWN"
    PATIENT_INS_MISMATCH = "MSS-PATIENT-INS-MISMATCH"
    PATIENT_TRAITS = "MSS-PATIENT-TRAITS"
    PATIENT_RECIPIENT_MISMATCH = "MSS-PATIENT-RECIPIENT-MISMATCH"


@dataclass(frozen=True)
class _Entry:
    severity: str
    fr: str
    en: str
    mdn: int | None = None


CATALOGUE: dict[M, _Entry] = {
    M.MIME_MALFORMED: _Entry(ERROR, "Message MIME illisible ou mal formé : {detail}",
                             "Unreadable or malformed MIME message: {detail}", 906),
    M.HEADER_MISSING: _Entry(ERROR, "En-tête obligatoire absent : {header}", "Required header missing: {header}"),
    M.HEADER_DUPLICATE: _Entry(ERROR, "En-tête présent plusieurs fois : {header}",
                               "Header present more than once: {header}"),
    M.SUBJECT_FORMAT: _Entry(ERROR, "Objet non conforme : un message avec documents a pour objet "
                             "« XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA> » (trouvé : « {subject} »)",
                             "Subject does not follow the convention: a message with documents has the subject "
                             "'XDM/1.0/DDM+<label> <NAME> <given> <DD/MM/YYYY>' (found: '{subject}')"),
    M.SUBJECT_PATIENT: _Entry(WARNING, "L'objet ne reprend pas le patient des documents ({expected})",
                              "The subject does not name the documents' patient ({expected})"),
    M.REPLACE_NO_THREAD: _Entry(WARNING, "Message « Annule et remplace » sans In-Reply-To ni References vers le "
                                "message remplacé", "'Annule et remplace' message without In-Reply-To or "
                                "References to the replaced message"),
    M.REPLACE_NO_PARENT: _Entry(ERROR, "Message « Annule et remplace » dont aucun document ne désigne le document "
                                "remplacé (relatedDocument RPLC, relatesTo replaces ou association RPLC)",
                                "'Annule et remplace' message where no document names the document it replaces "
                                "(relatedDocument RPLC, relatesTo replaces or RPLC association)", 900),
    M.THREAD_MESSAGE_ID: _Entry(ERROR, "Message-ID absent ou mal formé (attendu <id@domaine>) : « {value} »",
                                "Message-ID missing or malformed (expected <id@domain>): '{value}'"),
    M.THREAD_IN_REPLY_TO: _Entry(ERROR, "In-Reply-To mal formé (attendu <id@domaine>) : « {value} »",
                                 "Malformed In-Reply-To (expected <id@domain>): '{value}'"),
    M.THREAD_REFERENCES: _Entry(WARNING, "References ne contient pas le message cité par In-Reply-To ({value})",
                                "References does not contain the message named by In-Reply-To ({value})"),
    M.NIL_MISSING: _Entry(ERROR, "En-tête X-MSS-NIL absent : il est obligatoire sur tous les messages "
                          "(numéro de référencement du logiciel)", "X-MSS-NIL header missing: it is required "
                          "on every message (the software's listing number)"),
    M.NIL_FORMAT: _Entry(WARNING, "X-MSS-NIL vide ou mal formé : « {value} »",
                         "X-MSS-NIL empty or malformed: '{value}'"),
    M.MES_VALUE: _Entry(ERROR, "X-MSS-MES n'admet que la valeur « FIN » (trouvé : « {value} »)",
                        "X-MSS-MES only allows the value 'FIN' (found: '{value}')"),
    M.MES_NOT_PATIENT: _Entry(WARNING, "X-MSS-MES est réservé aux messages adressés à un patient",
                              "X-MSS-MES is meant for messages sent to a patient"),
    M.CODECDA_MISSING: _Entry(ERROR, "X-MSS-CODECDA absent alors que le message contient un document CDA ({codes})",
                              "X-MSS-CODECDA missing although the message carries a CDA document ({codes})"),
    M.CODECDA_MISMATCH: _Entry(ERROR, "X-MSS-CODECDA « {found} » ne correspond pas aux codes des CDA ({expected})",
                               "X-MSS-CODECDA '{found}' does not match the CDA codes ({expected})"),
    M.CODECDA_UNEXPECTED: _Entry(ERROR, "X-MSS-CODECDA présent alors que le message ne contient aucun CDA",
                                 "X-MSS-CODECDA present although the message carries no CDA"),
    M.INS_HEADER_MISSING: _Entry(ERROR, "X-MSS-INS absent alors que le message contient un document CDA",
                                 "X-MSS-INS missing although the message carries a CDA document"),
    M.INS_HEADER_VALUE: _Entry(ERROR, "X-MSS-INS vaut « O » ou « N » (trouvé : « {value} »)",
                               "X-MSS-INS is 'O' or 'N' (found: '{value}')"),
    M.INS_HEADER_MISMATCH: _Entry(ERROR, "X-MSS-INS vaut « {found} » mais les CDA donnent « {expected} » "
                                  "(O = INS qualifiée : matricule, OID et traits)",
                                  "X-MSS-INS is '{found}' but the CDA documents give '{expected}' "
                                  "(O = qualified INS: number, OID and traits)"),
    M.INS_HEADER_UNEXPECTED: _Entry(ERROR, "X-MSS-INS présent alors que le message ne contient aucun CDA",
                                    "X-MSS-INS present although the message carries no CDA"),
    M.XDM_MISSING: _Entry(ERROR, "Documents envoyés sans pièce jointe IHE_XDM.ZIP ({detail})",
                          "Documents sent without an IHE_XDM.ZIP attachment ({detail})", 906),
    M.XDM_MULTIPLE: _Entry(ERROR, "Plusieurs pièces jointes IHE_XDM.ZIP ({count})",
                           "Several IHE_XDM.ZIP attachments ({count})", 906),
    M.XDM_NAME: _Entry(WARNING, "La pièce jointe XDM s'appelle « {name} » au lieu de « IHE_XDM.ZIP »",
                       "The XDM attachment is named '{name}' instead of 'IHE_XDM.ZIP'"),
    M.PDF_MISSING: _Entry(WARNING, "Pas de version PDF lisible jointe au message à côté de IHE_XDM.ZIP",
                          "No human-readable PDF attached beside IHE_XDM.ZIP"),
    M.ZIP_INVALID: _Entry(ERROR, "IHE_XDM.ZIP n'est pas une archive ZIP lisible : {detail}",
                          "IHE_XDM.ZIP is not a readable ZIP archive: {detail}", 906),
    M.ZIP_TOO_LARGE: _Entry(ERROR, "Archive refusée : taille décompressée {size} octets au-delà de la limite "
                            "{limit}", "Archive refused: uncompressed size {size} bytes beyond the limit {limit}", 906),
    M.ZIP_TOO_MANY_ENTRIES: _Entry(ERROR, "Archive refusée : {count} fichiers (limite {limit})",
                                   "Archive refused: {count} files (limit {limit})", 906),
    M.ZIP_BOMB_RATIO: _Entry(ERROR, "Archive refusée : taux de compression {ratio} pour « {name} » (limite {limit}), "
                             "bombe de décompression probable", "Archive refused: compression ratio {ratio} for "
                             "'{name}' (limit {limit}), probable decompression bomb", 906),
    M.ZIP_PATH_TRAVERSAL: _Entry(ERROR, "Chemin interdit dans l'archive : « {name} » (absolu ou sortant de l'archive)",
                                 "Forbidden path in the archive: '{name}' (absolute or escaping the archive)", 906),
    M.ZIP_NESTED: _Entry(ERROR, "Archive imbriquée refusée : « {name} »", "Nested archive refused: '{name}'", 906),
    M.ZIP_ENCRYPTED: _Entry(ERROR, "Fichier chiffré dans l'archive : « {name} »",
                            "Encrypted file in the archive: '{name}'", 906),
    M.XDM_INDEX_MISSING: _Entry(ERROR, "INDEX.HTM absent à la racine de l'archive XDM",
                                "INDEX.HTM missing at the root of the XDM archive"),
    M.XDM_README_MISSING: _Entry(ERROR, "README.TXT absent à la racine de l'archive XDM",
                                 "README.TXT missing at the root of the XDM archive"),
    M.XDM_METADATA_MISSING: _Entry(ERROR, "IHE_XDM/SUBSET01/METADATA.XML absent de l'archive",
                                   "IHE_XDM/SUBSET01/METADATA.XML missing from the archive", 906),
    M.XDM_METADATA_XML: _Entry(ERROR, "METADATA.XML n'est pas un XML bien formé : {detail}",
                               "METADATA.XML is not well-formed XML: {detail}", 906),
    M.XDM_METADATA_DTD: _Entry(ERROR, "METADATA.XML contient une DTD ou des entités, refusées",
                               "METADATA.XML contains a DTD or entities, refused", 906),
    M.XDM_METADATA_STRUCTURE: _Entry(ERROR, "METADATA.XML n'est pas un SubmitObjectsRequest ebRIM : {detail}",
                                     "METADATA.XML is not an ebRIM SubmitObjectsRequest: {detail}", 906),
    M.XDM_SUBMISSION_SET: _Entry(ERROR, "Lot de soumission (SubmissionSet) : {detail}", "Submission set: {detail}"),
    M.XDM_NO_DOCUMENT: _Entry(ERROR, "METADATA.XML ne décrit aucun document (ExtrinsicObject)",
                              "METADATA.XML describes no document (ExtrinsicObject)", 906),
    M.XDM_DOC_URI: _Entry(ERROR, "Fiche document {entry} sans slot URI vers son fichier",
                          "Document entry {entry} without a URI slot naming its file", 906),
    M.XDM_DOC_FILE_MISSING: _Entry(ERROR, "Le fichier « {uri} » cité par METADATA.XML est absent de l'archive",
                                   "File '{uri}' named by METADATA.XML is missing from the archive", 906),
    M.XDM_HASH_MISSING: _Entry(ERROR, "Fiche document {entry} sans empreinte SHA-1 (slot hash)",
                               "Document entry {entry} without a SHA-1 hash slot"),
    M.XDM_HASH_MISMATCH: _Entry(ERROR, "Empreinte SHA-1 de « {uri} » : {found} dans METADATA.XML, {actual} calculée",
                                "SHA-1 hash of '{uri}': {found} in METADATA.XML, {actual} computed", 906),
    M.XDM_SIZE_MISSING: _Entry(ERROR, "Fiche document {entry} sans taille (slot size)",
                               "Document entry {entry} without a size slot"),
    M.XDM_SIZE_MISMATCH: _Entry(ERROR, "Taille de « {uri} » : {found} dans METADATA.XML, {actual} octets réels",
                                "Size of '{uri}': {found} in METADATA.XML, {actual} actual bytes", 906),
    M.XDM_CODE_MISSING: _Entry(ERROR, "Fiche {entry} : métadonnée {name} absente",
                               "Entry {entry}: metadata {name} missing"),
    M.XDM_CODE_UNKNOWN: _Entry(ERROR, "Fiche {entry} : {name} « {code} » hors du jeu de valeurs {value_set}",
                               "Entry {entry}: {name} '{code}' not in value set {value_set}"),
    M.XDM_CODE_SCHEME: _Entry(ERROR, "Fiche {entry} : {name} « {code} » avec le codingScheme « {found} » au lieu de "
                              "« {expected} »", "Entry {entry}: {name} '{code}' with codingScheme '{found}' instead of "
                              "'{expected}'"),
    M.XDM_PATIENT_ID: _Entry(ERROR, "Fiche {entry} : identifiant patient absent ou mal formé (« {value} »)",
                             "Entry {entry}: patient identifier missing or malformed ('{value}')", 903),
    M.XDM_UNREFERENCED_FILE: _Entry(WARNING, "Fichier « {name} » présent dans l'archive mais décrit par aucune fiche",
                                    "File '{name}' in the archive but described by no entry"),
    M.XDM_MIME_TYPE: _Entry(WARNING, "Fiche {entry} : type MIME « {declared} » alors que le contenu semble {actual}",
                            "Entry {entry}: MIME type '{declared}' but the content looks like {actual}"),
    M.FHIR_UNREADABLE: _Entry(ERROR, "Document FHIR illisible : {detail}", "Unreadable FHIR document: {detail}", 906),
    M.FHIR_INVALID: _Entry(ERROR, "Document FHIR non conforme ({expression}) : {detail}",
                           "Non-conformant FHIR document ({expression}): {detail}", 906),
    M.FHIR_NOT_DOCUMENT: _Entry(ERROR, "Le fichier FHIR n'est pas un Bundle de type document (trouvé : {found})",
                                "The FHIR file is not a Bundle of type document (found: {found})", 906),
    M.PATIENT_MULTIPLE: _Entry(ERROR, "Un message ne concerne qu'un patient ; {count} patients trouvés ({ids})",
                               "A message concerns one patient only; {count} patients found ({ids})", 906),
    M.PATIENT_INS_ABSENT: _Entry(ERROR, "INS absente du document", "INS missing from the document", 903),
    M.PATIENT_UNKNOWN: _Entry(ERROR, "Patient inconnu : INS {ins}", "Unknown patient: INS {ins}", 902),
    M.PATIENT_INS_MISMATCH: _Entry(ERROR, "L'INS {found} ne correspond pas exactement à {expected}",
                                   "INS {found} does not match {expected} exactly", 904),
    M.PATIENT_TRAITS: _Entry(ERROR, "INS incomplète : traits manquants ({missing})",
                             "Incomplete INS: missing traits ({missing})", 905),
    M.PATIENT_RECIPIENT_MISMATCH: _Entry(ERROR, "Adresse patient {address} pour un document sur l'INS {ins}",
                                         "Patient address {address} for a document about INS {ins}", 904),
}


#: Référentiel #2 (clients de messagerie) requirement ids each finding bears on (FACTS §2.3), for reports
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    **{m.value: ("ECO.2.1.1",) for m in (M.XDM_MISSING, M.XDM_MULTIPLE, M.XDM_NAME, M.PDF_MISSING,
                                         M.PATIENT_MULTIPLE, M.PATIENT_RECIPIENT_MISMATCH)},
    **{m.value: ("ECO.2.1.3",) for m in (M.SUBJECT_FORMAT, M.SUBJECT_PATIENT)},
    **{m.value: ("ECO.2.2.1", "ECO.2.2.2") for m in (M.THREAD_MESSAGE_ID, M.THREAD_IN_REPLY_TO,
                                                     M.THREAD_REFERENCES, M.REPLACE_NO_THREAD)},
    **{m.value: ("ECO.2.2.8",) for m in (M.MES_VALUE, M.MES_NOT_PATIENT)},
    **{m.value: ("ECO.2.4.1",) for m in (M.CODECDA_MISSING, M.CODECDA_MISMATCH, M.CODECDA_UNEXPECTED)},
    **{m.value: ("ECO.2.4.2",) for m in (M.INS_HEADER_MISSING, M.INS_HEADER_VALUE, M.INS_HEADER_MISMATCH,
                                         M.INS_HEADER_UNEXPECTED)},
    **{m.value: ("ECO.2.4.3",) for m in (M.NIL_MISSING, M.NIL_FORMAT)},
}


def finding(msg: M, location: str, *, severity: str | None = None, **args: Any) -> Finding:
    """Build the finding ``msg`` at ``location``, its texts filled with ``args``."""
    e = CATALOGUE[msg]
    return Finding(msg.value, severity or e.severity, e.fr.format(**args), e.en.format(**args), location,
                   e.mdn if (severity or e.severity) == ERROR else None)


def mdn_error(findings: list[Finding]) -> tuple[int, str] | None:
    """The application error code an error MDN carries: the most specific code among the blocking
    findings (900–905 before 906 "other"), or ``None`` when the message integrates."""
    codes = [f.mdn_code for f in findings if f.severity == ERROR and f.mdn_code is not None]
    if not codes:
        return None
    code = min(codes)
    return code, MDN_ERROR_LABELS[code]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for f in sorted(findings, key=lambda f: (order.get(f.severity, 3), f.location, f.id, f.text_en)):
        key = (f.id, f.location, f.text_en)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
