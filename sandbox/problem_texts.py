"""French and English texts of the problem answers (RFC 9457 ``detail``) of the sandbox's own APIs
(``/sandbox/api``, ``/mss/api``, ``/conformance/api``), for the errors raised with a plain string.

Code that raises a problem should give both languages itself (:class:`sandbox.user_language.Text`).
Raise sites written with one plain string are translated here by problem *kind* (the last segment of
the ``type`` URI): ``(fr, en)`` templates formatted with the problem's extension members, and
``{detail}`` for the original text; ``None`` keeps the original, already in that language. The
framework's own errors (unknown route, invalid body, limits) are matched by their English text in
:data:`GENERIC`. ``tests/sandbox/test_problem_language.py`` checks that every kind raised in the
code base has its two languages.
"""

from __future__ import annotations

import re
from typing import Any

Template = tuple[str | None, str | None]

BY_KIND: dict[str, Template] = {
    # sandbox platform
    "reserved-workspace-name": (
        "{name!r} est réservé : il reçoit la preuve des appels non authentifiés", None),
    "invalid-workspace-name": (
        "un nom d'espace de travail a 1 à 64 caractères : minuscules, chiffres, '-' ou '_', "
        "commençant par une lettre ou un chiffre", None),
    "unknown-workspace": ("aucun espace de travail nommé {name!r}", "no workspace named {name!r}"),
    "workspace-exists": ("un espace de travail nommé {name!r} existe déjà", None),
    "default-workspace": ("l'espace de travail par défaut peut être réinitialisé, pas supprimé", None),
    "unknown-fault-service": ("ce service n'accepte pas d'injection de pannes ; services possibles : "
                              "{valid_services}", None),
    "unknown-fault-kind": ("type de panne inconnu pour ce service ; types possibles : {valid_kinds}", None),
    "unknown-fault-operation": ("ce type de panne ne s'applique pas à cette opération ; opérations "
                                "possibles : {valid_operations}", None),
    "invalid-fault": ("panne mal décrite : {detail}", None),
    "other-workspace": ("cette clé n'ouvre pas cet espace de travail", None),
    "certificate-refused": ("certificat client refusé : {detail}", None),
    # PSC client registry
    "invalid-client-metadata": ("métadonnées de client refusées : {detail}", None),
    "client-exists": ("un client d'identifiant {client_id!r} existe déjà", None),
    "unknown-client": ("aucun client {client_id!r} dans cet espace de travail", None),
    # DMP administration and the patient's view (written in French)
    "unknown-patient": (None, "no such patient in this workspace"),
    "no-dmp": (None, "patient {ins} has no DMP"),
    "not-a-legal-representative": (None, "this persona is not the legal representative of that patient"),
    # MSSanté API (its texts carry both languages, "fr / en")
    "unknown-mailbox": ("BAL {value!r} inconnue dans cet espace de travail", "no mailbox {value!r} in this workspace"),
    "unknown-message": ("message {value!r} inconnu dans cet espace de travail",
                        "no message {value!r} in this workspace"),
    "outside-trust-space": ("destinataire hors de l'espace de confiance MSSanté",
                            "recipient outside the MSSanté trust space"),
    "one-patient": ("un seul patient par message", "one patient per message"),
    "replies-blocked": ("le professionnel a bloqué les réponses (X-MSS-MES: FIN)",
                        "the sender blocked replies (X-MSS-MES: FIN)"),
    "invalid-raw": ("'raw' n'est pas du base64", "'raw' is not base64"),
    "message-refused": ("message refusé (code SMTP {smtp_code}) : {detail}",
                        "message refused (SMTP code {smtp_code}): {detail}"),
    # conformance runner
    "unknown-suite": ("suite inconnue {given!r}", None),
    "unknown-group": ("groupe de tests inconnu {given!r}", None),
    "unknown-test": ("test inconnu {given!r}", None),
    "unknown-run": ("exécution de conformité inconnue", None),
    "report-not-ready": ("le rapport n'est pas encore prêt (état {state})", None),
    "unknown-report-format": ("format de rapport inconnu ; formats possibles : {formats}", None),
    "invalid-step-timeout": ("step_timeout hors des bornes : {detail}", None),
    "invalid-language": ("lang vaut 'fr' ou 'en'", None),
    "nothing-to-rerun": ("nommez les tests ou groupes à relancer", None),
    "run-in-progress": ("une exécution de conformité est déjà en cours dans l'espace {workspace!r}", None),
    "invalid-inputs": ("{detail_fr}", None),
    "invalid-quiet": ("quiet hors des bornes : {detail}", None),
    "invalid-done": ("done=true demande until=step", None),
    # INS verification API
    "method-not-allowed": ("l'INSi s'appelle en POST ; GET /ins/insi?wsdl renvoie le WSDL", None),
}

# English texts of the framework's own errors (sandbox/app.py, the middlewares) → French
GENERIC: list[tuple[re.Pattern[str], str]] = [(re.compile(p), fr) for p, fr in [
    (r"^no such endpoint: (.+)$", r"point d'accès inconnu : \1"),
    (r"^method (\S+) is not allowed on (.+)$", r"méthode \1 non permise sur \2"),
    (r"^the request body is not well-formed JSON$", "le corps de la requête n'est pas un JSON bien formé"),
    (r"^internal error; the sandbox log has the details$",
     "erreur interne ; le journal du bac à sable donne les détails"),
    (r"^too many requests from this caller; retry in (\d+) s$",
     r"trop de requêtes de cet appelant ; réessayez dans \1 s"),
    (r"^invalid request$", "requête invalide"),
    (r"^host (.+) is not served here \(set MES_SANDBOX_ALLOWED_HOSTS\)$",
     r"l'hôte \1 n'est pas servi ici (voir MES_SANDBOX_ALLOWED_HOSTS)"),
    (r"^cross-site request refused: a page of another site cannot change the sandbox$",
     "requête intersite refusée : une page d'un autre site ne peut pas modifier le bac à sable"),
    (r"^request body larger than (.+)$", r"corps de requête plus grand que \1"),
]]
# pydantic's messages inside "loc: msg; loc: msg" validation details
PYDANTIC: list[tuple[re.Pattern[str], str]] = [(re.compile(p), fr) for p, fr in [
    (r"Field required", "champ obligatoire"),
    (r"Extra inputs are not permitted", "champ inconnu"),
    (r"Input should be a valid (\w+)", r"doit être du type \1"),
    (r"String should have at most (\d+) characters?", r"au plus \1 caractères"),
    (r"String should have at least (\d+) characters?", r"au moins \1 caractères"),
    (r"String should match pattern '(.*)'", r"doit suivre le motif '\1'"),
    (r"List should have at most (\d+) items?.*", r"au plus \1 éléments"),
    (r"Input should be less than or equal to (\S+)", r"doit être au plus \1"),
    (r"Input should be greater than or equal to (\S+)", r"doit être au moins \1"),
    (r"Input should be greater than (\S+)", r"doit être supérieur à \1"),
    (r"Input should be less than (\S+)", r"doit être inférieur à \1"),
    (r"Input should be (.+)", r"doit valoir \1"),
    (r"Value error, ", "valeur refusée : "),
]]


def by_kind(kind: str, detail: str, extensions: dict[str, Any], lang: str) -> str:
    """``detail`` of a problem of ``kind`` in ``lang``, from :data:`BY_KIND` when listed."""
    entry = BY_KIND.get(kind)
    if entry is None:
        return detail
    template = entry[0] if lang == "fr" else entry[1]
    if template is None:
        return detail
    try:
        return template.format(detail=detail, **extensions)
    except (KeyError, IndexError, ValueError):  # an extension this raise site does not give
        return detail


def generic(detail: str, lang: str) -> str:
    """A framework error's English ``detail`` in ``lang``."""
    if lang != "fr":
        return detail
    for pattern, fr in GENERIC:
        if pattern.match(detail):
            return pattern.sub(fr, detail)
    if ": " in detail:  # "loc: message; loc: message" of a request validation error
        parts = []
        for part in detail.split("; "):
            loc, sep, msg = part.partition(": ")
            for pattern, fr in PYDANTIC:
                msg = pattern.sub(fr, msg)
            parts.append(loc + sep + msg)
        return "; ".join(parts)
    return detail
