"""Helpers of the DMP tests (imported by conftest.py and the test modules).

Professional tokens come the way a vendor gets them: PSC authorization-code flow with the
workspace's seeded demo client (PKCE S256) and ``login_hint=<IDNPS>``; patient tokens from the
sandbox endpoint ``/sandbox/api/workspaces/{ws}/dmp/patient-token``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.testing import RunningSandbox

OIDC = "/psc/realms/esante-wallet/protocol/openid-connect"
WALLET_AUTH = "/psc/wallet/auth"  # PSC authorizes on its wallet host (FACTS §4)
CALLBACK = "http://127.0.0.1:8000/callback"
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
FHIR = "application/fhir+json"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
CDA = (b'<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>CR-BIO</title>'
       b"</ClinicalDocument>")


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def sha1(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - FHIR Attachment.hash


def example(rel: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / rel).read_text())


def cr_bio_bundle(ins: str, *, data: bytes = CDA, master: str | None = None, author: str = "899700218896",
                  labels: list[dict[str, Any]] | None = None, replaces: str | None = None,
                  type_code: str = "11502-2", class_code: str = "10",
                  format_code: str = "urn:ihe:lab:xd-lab:2008") -> dict[str, Any]:
    """An ITI-65 transaction Bundle with one CR-BIO document (PDSm comprehensive)."""
    ss, dr, bin_ = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    subject = {"reference": f"Patient?identifier={INS_SYSTEM}|{ins}"}
    author_res = {"resourceType": "Practitioner", "id": "auteur",
                  "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": author}],
                  "name": [{"family": "BIOLOGISTE", "given": ["PAUL"]}]}
    doc: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "meta": {"profile": ["https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/"
                             "pdsm-comprehensive-document-reference"]},
        "contained": [author_res, {"resourceType": "Patient", "id": "patient",
                                   "identifier": [{"system": INS_SYSTEM, "value": ins}]}],
        "masterIdentifier": {"system": "urn:ietf:rfc:3986",
                             "value": master or f"urn:oid:1.2.250.1.999.{uuid.uuid4().int % 10**12}"},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": type_code}]},
        "category": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/"
                                            "TRE-A03-ClasseDocument", "code": class_code}]}],
        "subject": subject, "date": "2026-11-20T10:00:00+01:00",
        "author": [{"reference": "#auteur"}], "custodian": {"display": "LABO"},
        "securityLabel": labels if labels is not None else [
            {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A08-HL7Confidentiality/FHIR/"
                                   "TRE-A08-HL7Confidentiality", "code": "N"}]}],
        "content": [{"attachment": {"contentType": "text/xml", "url": bin_, "size": len(data), "hash": sha1(data),
                                    "title": "Compte rendu de biologie", "creation": "2026-11-20T09:00:00+01:00"},
                     "format": {"system": "https://mos.esante.gouv.fr/NOS/TRE_A06-FormatCodeComplementaire/FHIR/"
                                          "TRE-A06-FormatCodeComplementaire", "code": format_code}}],
        "context": {"period": {"start": "2026-11-19T08:00:00+01:00"},
                    "facilityType": {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/"
                                                           "FHIR/TRE-R02-SecteurActivite", "code": "SA01"}]},
                    "practiceSetting": {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/"
                                                              "FHIR/TRE-A01-CadreExercice", "code": "ETABLISSEMENT"}]},
                    "sourcePatientInfo": {"reference": "#patient"}},
    }
    if replaces:
        doc["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{replaces}"}}]
    sset = {
        "resourceType": "List", "status": "current", "mode": "working",
        "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes",
                             "code": "submissionset"}]},
        "subject": subject, "date": "2026-11-20T10:00:00+01:00",
        "contained": [dict(author_res)],
        "extension": [
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType",
             "valueCodeableConcept": {"coding": [{"system": "https://mos.esante.gouv.fr/NOS/TRE_A00-ProducteurDocNonPS/"
                                                            "FHIR/TRE-A00-ProducteurDocNonPS", "code": "04"}]}},
            {"url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
             "valueIdentifier": {"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1"}}],
        "source": {"reference": "#auteur"},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
        "entry": [{"item": {"reference": dr}}],
    }
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": ss, "resource": sset, "request": {"method": "POST", "url": "List"}},
        {"fullUrl": dr, "resource": doc, "request": {"method": "POST", "url": "DocumentReference"}},
        {"fullUrl": bin_, "resource": {"resourceType": "Binary", "contentType": "text/xml",
                                       "data": base64.b64encode(data).decode()},
         "request": {"method": "POST", "url": "Binary"}},
    ]}


@dataclass
class Dmp:
    sb: RunningSandbox
    workspace: str
    http: httpx.Client
    _tokens: dict[str, str] = field(default_factory=dict)

    def pro_token(self, idnps: str = "899700218896") -> str:
        """A PSC access token for professional ``idnps`` (authorization code + PKCE, demo client)."""
        if idnps not in self._tokens:
            self._tokens[idnps] = self.token_for(f"sandbox-demo-{self.workspace}", self.demo_secret, idnps=idnps)
        return self._tokens[idnps]

    def token_for(self, client_id: str, secret: str, *, scope: str = "openid scope_all",
                  idnps: str = "899700218896") -> str:
        """An access token of any client of the workspace (authorization code + PKCE)."""
        verifier = secrets.token_urlsafe(48)
        r = self.http.get(WALLET_AUTH, params={
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": scope,
            "state": "s", "nonce": "n", "code_challenge": s256(verifier), "code_challenge_method": "S256",
            "acr_values": "eidas1", "login_hint": idnps})
        assert r.status_code == 302, r.text
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        r = self.http.post(OIDC + "/token", data={"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": CALLBACK, "code_verifier": verifier},
                           auth=(client_id, secret))
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    @property
    def demo_secret(self) -> str:
        """The workspace's demo PSC client secret (random per workspace)."""
        if "secret" not in self._tokens:
            r = self.http.get(f"/sandbox/api/workspaces/{self.workspace}/psc/clients/sandbox-demo-{self.workspace}")
            r.raise_for_status()
            self._tokens["secret"] = r.json()["client_secret"]
        return self._tokens["secret"]

    def patient_token(self, patient: str, represents: str = "") -> str:
        r = self.http.post(f"/sandbox/api/workspaces/{self.workspace}/dmp/patient-token",
                           json={"patient": patient, "represents": represents})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def headers(self, token: str | None, **extra: str) -> dict[str, str]:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        h.update(extra)
        return h

    def provide(self, bundle: Any, token: str | None = None, **headers: str) -> httpx.Response:
        return self.http.post("/dmp/fhir", content=json.dumps(bundle),
                              headers={"Content-Type": FHIR, **self.headers(token or self.pro_token()), **headers})

    def find(self, token: str | None = None, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
        return self.http.get("/dmp/fhir/DocumentReference", params=params,
                             headers={**self.headers(token or self.pro_token()), **(headers or {})})

    def patch(self, identifier: str, ops: Any, token: str | None = None,
              content_type: str = "application/json-patch+json", **headers: str) -> httpx.Response:
        return self.http.patch("/dmp/fhir/DocumentReference", params={"identifier": identifier},
                               content=json.dumps(ops), headers={"Content-Type": content_type,
                                                                  **self.headers(token or self.pro_token()), **headers})

    def dmp_state(self, ins: str) -> dict[str, Any]:
        return self.http.get(f"/sandbox/api/workspaces/{self.workspace}/dmp/patients/{ins}").json()

    def set_dmp(self, ins: str, **body: Any) -> dict[str, Any]:
        r = self.http.put(f"/sandbox/api/workspaces/{self.workspace}/dmp/patients/{ins}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def fault(self, kind: str, **spec: Any) -> None:
        r = self.http.post(f"/sandbox/api/workspaces/{self.workspace}/faults",
                           json={"service": "dmp", "kind": kind, **spec})
        assert r.status_code == 201, r.text

    def patients(self) -> list[dict[str, Any]]:
        return self.http.get("/sandbox/api/personas", params={"kind": "patient", "limit": 500},
                             headers={"X-Sandbox-Workspace": self.workspace}).json()["personas"]



#: seeded world (seed 20240101): pat-0001 (index 0) is the public INSi test identity, QUAL, open DMP
QUAL_INS = "297022A02077878"

# seeded world (seed 20240101) and dmp.seed.plan — see dmp/seed.py
PAT1 = "297022A02077878"  # pat-0001, QUAL, open, médecin traitant 899700218896
MT1 = "899700218896"
OTHER_PRO = "899700366240"  # authorized for pat-0001, not its médecin traitant
MINOR = "109076322083489"  # pat-0003, legal representative pat-0004
MINOR_REP = "pat-0004"
ONLY_MT = "292117505646828"  # pat-0005: only its médecin traitant 899700675665 may consult
ONLY_MT_DOCTOR = "899700675665"
BLOCKING = "264083417253279"  # pat-0006 blocked 899700163894
BLOCKED_PRO = "899700163894"
NO_DMP = "139056311365635"  # pat-0008
CLOSED = "139059741175965"  # pat-0009
PROV = "801109966885307"  # pat-0021, identity PROV, open DMP
REGULATOR = "899700999990"  # Dr Samia REGULATRICE, SAMU regulator (centre_15)


def issue_texts(r: Any) -> str:
    return " ".join(f"{i.get('diagnostics', '')} {(i.get('details') or {}).get('text', '')}"
                    for i in r.json().get("issue", []))


def expressions(r: Any) -> list[str]:
    return [e for i in r.json().get("issue", []) for e in i.get("expression", [])]
