"""The report as one HTML page an auditor can read (Jinja2; French by default, English on
request): verdict per requirement, findings with fix hints, bounded evidence excerpts, versions and
workspace options. Render only: every verdict comes from the canonical report."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_LABELS = {
    "fr": {"title": "Rapport de conformité", "verdict": "Verdict", "run": "Exécution", "rerun_of": "reprise de",
           "workspace": "Espace de travail", "dates": "Dates", "versions": "Versions",
           "options": "Options de tolérance actives", "none": "aucune", "inputs": "Entrées", "totals": "Totaux",
           "signature": "Signature", "requirements": "Exigences", "requirement": "Exigence", "level": "Niveau",
           "text": "Texte", "tests": "Tests", "not_tested": "non testée", "gap": "non couverte",
           "optional": "facultatif", "verifies": "vérifie", "carried": "résultat repris de l'exécution précédente",
           "hint": "Correction", "drive": "Action du banc", "exchange": "Échange", "request": "Requête",
           "response": "Réponse", "bytes": "octets", "excerpt": "extrait",
           "footer": "Rapport produit par mes-sandbox ; le fichier JSON signé fait foi (mes-sandbox conformance "
                     "verify)."},
    "en": {"title": "Conformance report", "verdict": "Verdict", "run": "Run", "rerun_of": "re-run of",
           "workspace": "Workspace", "dates": "Dates", "versions": "Versions", "options": "Leniency options on",
           "none": "none", "inputs": "Inputs", "totals": "Totals", "signature": "Signature",
           "requirements": "Requirements", "requirement": "Requirement", "level": "Level", "text": "Text",
           "tests": "Tests", "not_tested": "not tested", "gap": "not covered", "optional": "optional",
           "verifies": "verifies", "carried": "result carried over from the previous run", "hint": "Fix",
           "drive": "Runner action", "exchange": "Exchange", "request": "Request", "response": "Response",
           "bytes": "bytes", "excerpt": "excerpt",
           "footer": "Report produced by mes-sandbox; the signed JSON file is authoritative (mes-sandbox "
                     "conformance verify)."},
}
_OUTCOMES = {
    "fr": {"pass": "réussi", "fail": "échec", "error": "erreur", "skip": "non jugé", "omit": "sans objet",
           "wait": "en attente", "cancel": "annulé"},
    "en": {"pass": "pass", "fail": "fail", "error": "error", "skip": "skip", "omit": "omit", "wait": "wait",
           "cancel": "cancel"},
}


def _env() -> Environment:
    return Environment(loader=PackageLoader("conformance", "templates"), autoescape=select_autoescape(["j2", "html"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(report: dict[str, Any], lang: str = "fr", kid: str = "") -> bytes:
    lang = "en" if lang == "en" else "fr"

    def t(d: dict[str, str] | None) -> str:
        return (d or {}).get(lang) or (d or {}).get("fr", "")

    page = _env().get_template("report.html.j2").render(
        r=report, lang=lang, L=_LABELS[lang], O=_OUTCOMES[lang], t=t, kid=kid,
        tests={x["id"]: x for x in report["tests"]})
    return page.encode("utf-8")
