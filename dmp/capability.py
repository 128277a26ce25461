"""CapabilityStatement of the sandbox DMP: PDSm "Gestionnaire de partage de documents" role
(FACTS §3.2 CapabilityStatements) stating exactly what this server implements."""

from __future__ import annotations

from typing import Any

from dmp.fhir import PDSM

ITI67_PARAMS = [
    ("patient", "reference"), ("patient.identifier", "token"), ("status", "token"), ("identifier", "token"),
    ("type", "token"), ("category", "token"), ("facility", "token"), ("setting", "token"), ("format", "token"),
    ("security-label", "token"), ("event", "token"), ("related", "token"), ("relatesTo", "reference"),
    ("date", "date"), ("creation", "date"), ("period", "date"), ("period-start", "date"), ("period-end", "date"),
    ("isArchived", "token"), ("author.family", "string"), ("author.given", "string"),
]
ITI66_PARAMS = [("patient", "reference"), ("patient.identifier", "token"), ("code", "token"), ("status", "token"),
                ("date", "date"), ("identifier", "token"), ("designationType", "token"), ("source", "reference")]


def _params(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "type": t} for n, t in items]


def capability_statement(base_url: str, version: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "id": "mes-sandbox-dmp",
        "url": f"{base_url}/dmp/fhir/metadata",
        "name": "MesSandboxDMP",
        "title": "DMP du bac à sable — gestionnaire de partage de documents (PDSm / IHE MHD)",
        "status": "active",
        "experimental": True,
        "date": "2026-11-22",
        "publisher": "mes-sandbox",
        "kind": "instance",
        "instantiates": [f"{PDSM}/CapabilityStatement/PDSm-GestionnaireDePartageDeDocuments"],
        "software": {"name": "mes-sandbox dmp", "version": version},
        "implementation": {"description": "DMP simulé (données synthétiques)", "url": f"{base_url}/dmp/fhir"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Jeton PSC (Bearer) obligatoire ; mode d'accès dans l'en-tête X-DMP-Access-Mode "
                             "(normal | bris_de_glace | centre_15).",
            "security": {"service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                                  "code": "OAuth"}]}],
                         "description": "Pro Santé Connect (professionnels) ; jeton patient du bac à sable "
                                        "(Mon Espace Santé)."},
            "resource": [
                {"type": "DocumentReference",
                 "profile": f"{PDSM}/StructureDefinition/pdsm-comprehensive-document-reference",
                 "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "patch"}],
                 "conditionalUpdate": False, "conditionalDelete": "not-supported",
                 "searchParam": _params(ITI67_PARAMS)},
                {"type": "List", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": _params(ITI66_PARAMS)},
                {"type": "Binary", "interaction": [{"code": "read"}]},
                {"type": "Patient", "interaction": [{"code": "search-type"}],
                 "documentation": "TD0.2 : existence et statut du DMP",
                 "searchParam": [{"name": "identifier", "type": "token"}]},
                {"type": "AuditEvent", "interaction": [{"code": "search-type"}],
                 "searchParam": [{"name": "patient", "type": "reference"}, {"name": "_count", "type": "number"}]},
            ],
            "interaction": [{"code": "transaction", "documentation": "ITI-65 Provide Document Bundle"}],
        }],
    }
