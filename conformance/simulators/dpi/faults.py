"""The catalogue of vendor mistakes the DPI simulator can copy (data, DESIGN "simulators").

Each fault names the simulator actions it corrupts and the suite tests it must make fail — no
more, no fewer: ``tests/conformance/test_dpi_faults.py`` runs the suite once per fault and
compares, and ``conformance/README.md`` carries the table generated from this catalogue. A fault
corrupts only the actions it names, so its effect is judged by the tests that look at that
behaviour; elsewhere the simulator keeps behaving well (a refused login or identity is redone
correctly when a later action needs it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    fr: str
    en: str
    actions: tuple[str, ...]
    fails: tuple[str, ...]  # full test ids of suite dpi-ldl


def _f(name: str, fr: str, en: str, actions: tuple[str, ...], fails: tuple[str, ...]) -> Fault:
    return Fault(name, fr, en, actions, tuple(f"dpi-ldl.{t}" for t in fails))


FAULTS: tuple[Fault, ...] = (
    _f("standard-discovery", "lit /.well-known/openid-configuration au lieu du document de découverte de PSC",
       "reads /.well-known/openid-configuration instead of PSC's discovery document", ("psc.login",), ("psc.01",)),
    _f("pkce-missing", "demande l'autorisation sans PKCE (code_challenge absent), puis recommence avec",
       "asks for authorization without PKCE (no code_challenge), then again with it", ("psc.login",), ("psc.02",)),
    _f("acr-missing", "n'envoie pas acr_values=eidas1", "does not send acr_values=eidas1", ("psc.login",), ("psc.03",)),
    _f("id-token-not-verified", "ne vérifie pas le jeton d'identité (ne lit jamais le JWKS)",
       "does not verify the ID token (never reads the JWKS)", ("psc.login",), ("psc.04",)),
    _f("no-refresh", "se reconnecte entièrement au lieu d'utiliser le jeton de rafraîchissement",
       "logs in again instead of using the refresh token", ("psc.refresh",), ("psc.05",)),
    _f("replay-revoked-token", "rejoue le jeton refusé (401) au lieu de le renouveler",
       "replays the refused (401) token instead of renewing it", ("dmp.search",), ("psc.06",)),
    _f("token-after-logout", "réutilise le jeton d'accès après la déconnexion",
       "reuses the access token after logout", ("psc.logout",), ("psc.07",)),
    _f("traits-not-normalised", "envoie les traits tels que saisis (minuscules, accents)",
       "sends the traits as typed (lower case, accents)", ("insi.search",), ("insi.01",)),
    _f("cr02-same-request", "sur le code retour 02, renvoie la même requête au lieu d'affiner",
       "on CR 02, sends the same request again instead of refining", ("insi.search",), ("insi.02",)),
    _f("cr01-same-request", "sur le code retour 01, renvoie la même requête au lieu d'essayer un autre prénom",
       "on CR 01, sends the same request again instead of trying another first name", ("insi.search",), ("insi.03",)),
    _f("insi-fault-storm", "sur une faute SOAP d'INSi, relance aussitôt, en rafale",
       "on an INSi SOAP Fault, retries at once, in a burst", ("insi.search",), ("insi.04",)),
    _f("prov-identity-used", "transmet le matricule d'une identité provisoire (PROV) au DMP",
       "sends the matricule of a provisional (PROV) identity to the DMP", ("dmp.feed",), ("insi.05",)),
    _f("gender-not-mapped", "recopie le sexe INSi (F/M) dans Patient.gender au lieu de female/male",
       "copies the INSi sex (F/M) into Patient.gender instead of female/male", ("dmp.feed",), ("insi.06",)),
    _f("no-dmp-check", "verse sans vérifier l'existence du DMP (TD0.2)",
       "feeds without checking that the DMP exists (TD0.2)", ("dmp.feed",), ("dmp.01", "dmp.08")),
    _f("ins-without-key", "envoie le matricule INS sans sa clé (13 caractères)",
       "sends the INS matricule without its key (13 characters)", ("dmp.feed",), ("dmp.02",)),
    _f("ins-test-oid",
       "code le matricule avec l'OID INS-NIR-TEST (1.2.250.1.213.1.4.10) au lieu de celui renvoyé par INSi",
       "codes the matricule with the INS-NIR-TEST OID (1.2.250.1.213.1.4.10) instead of the one INSi returned",
       ("dmp.feed",), ("dmp.02",)),
    _f("wrong-type-code", "code la lettre de liaison avec le type LOINC 11502-2 (CR de biologie)",
       "codes the discharge letter with LOINC type 11502-2 (lab report)", ("dmp.feed",), ("dmp.03",)),
    _f("wrong-class-code", "code la lettre de liaison avec la classe 90 (document déposé par le patient)",
       "codes the discharge letter with class 90 (document uploaded by the patient)", ("dmp.feed",), ("dmp.03",)),
    _f("wrong-format-code", "déclare le formatCode PDF (urn:ihe:iti:xds-sd:pdf:2008) pour un CDA LDL-SES",
       "declares the PDF formatCode (urn:ihe:iti:xds-sd:pdf:2008) for an LDL-SES CDA", ("dmp.feed",), ("dmp.03",)),
    _f("author-not-logged-in-user", "déclare comme auteur un autre professionnel que celui connecté",
       "declares another professional than the logged-in one as author", ("dmp.feed",), ("dmp.04",)),
    _f("replace-without-relatesto", "remplace un document en en versant un nouveau sans relatesTo",
       "replaces a document by feeding a new one without relatesTo", ("dmp.replace",), ("dmp.05",)),
    _f("search-without-status", "recherche les documents (ITI-67) sans le paramètre status",
       "searches documents (ITI-67) without the status parameter", ("dmp.search",), ("dmp.06",)),
    _f("read-instead-of-search", "relit la fiche connue (GET DocumentReference/id) au lieu de rechercher (ITI-67)",
       "reads the known entry (GET DocumentReference/id) instead of searching (ITI-67)", ("dmp.search",), ("dmp.06",)),
    _f("mask-misspelt-system", "masque avec le système mal orthographié TRE_A07-StatusVisibiliteDocument",
       "masks with the misspelt system TRE_A07-StatusVisibiliteDocument", ("dmp.mask",), ("dmp.07",)),
    _f("retry-storm", "sur un 503 du DMP, relance aussitôt sans respecter Retry-After",
       "on a DMP 503, retries at once ignoring Retry-After", ("dmp.feed",), ("dmp.09",)),
    _f("retrieve-guessed-url", "lit le contenu à une adresse devinée au lieu de content.attachment.url",
       "reads the content at a guessed address instead of content.attachment.url", ("dmp.retrieve",), ("dmp.10",)),
    _f("restore-visibility", "remet la visibilité de sa copie locale sur un document que le patient a masqué",
       "puts its local copy's visibility back on a document the patient masked", ("dmp.refresh",), ("dmp.11",)),
    _f("mss-no-xdm", "envoie la lettre par MSSanté en PDF seul, sans IHE_XDM.ZIP ni CDA",
       "sends the letter through MSSanté as a bare PDF, without IHE_XDM.ZIP or CDA", ("mss.send_letter",),
       ("mss.01", "mss.04")),
    _f("mss-wrong-subject", "met un objet libre au lieu de XDM/1.0/DDM+<libellé> <NOM> <prénom> <date>",
       "writes a free subject instead of XDM/1.0/DDM+<label> <NAME> <first name> <date>", ("mss.send_letter",),
       ("mss.02",)),
    _f("mss-ins-header-missing", "omet l'en-tête X-MSS-INS alors qu'un CDA est joint",
       "leaves out the X-MSS-INS header although a CDA is attached", ("mss.send_letter",), ("mss.03",)),
    _f("mss-weak-cipher", "négocie TLS 1.2 avec ChaCha20-Poly1305, suite hors Référentiel #2",
       "negotiates TLS 1.2 with ChaCha20-Poly1305, a suite outside Référentiel #2", ("mss.send_letter",),
       ("mss.05",)),
    _f("mss-two-patients", "adresse le même message aux messageries de deux patients",
       "addresses the same message to two patients' mailboxes (the operator refuses it: 554)", ("mss.send_letter",),
       ("mss.01", "mss.06")),
    _f("mss-fin-missing", "n'envoie pas X-MSS-MES: FIN quand le professionnel bloque les réponses du patient",
       "does not send X-MSS-MES: FIN when the professional blocks the patient's replies", ("mss.send_letter",),
       ("mss.06",)),
    _f("mss-no-receipt-request", "ne demande pas d'accusé de réception (Disposition-Notification-To absent)",
       "does not ask for a receipt (no Disposition-Notification-To)", ("mss.send_letter",), ("mss.07",)),
    _f("mss-no-mdn", "relève le message qui demande un accusé mais n'en renvoie aucun",
       "reads the message asking for a receipt but sends none back", ("mss.receive",), ("mss.08",)),
    _f("mss-reply-not-mdn", "répond « bien reçu » par un courriel ordinaire au lieu d'un accusé MDN",
       "answers \"received\" with a plain mail instead of an MDN", ("mss.receive",), ("mss.08",)),
)

BY_NAME = {f.name: f for f in FAULTS}


def unknown(names: list[str] | tuple[str, ...]) -> list[str]:
    return [n for n in names if n not in BY_NAME]
