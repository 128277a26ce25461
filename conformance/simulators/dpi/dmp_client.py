"""A DPI's DMP calls, FHIR JSON over httpx with the PSC access token as Bearer (FACTS §3.2, §3.3,
§8 item 13): TD0.2 existence, ITI-65 feed (503 handled by a bounded retry honouring
``Retry-After``), ITI-67 search with ``status``, ITI-68 retrieval at ``content.attachment.url``,
PDSm PATCH masking with the canonical TRE_A07 system."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

FHIR = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
INS_NIR_OID = "1.2.250.1.213.1.4.8"
TRE_A07 = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument"
TRE_A07_MISSPELT = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument"
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 5.0  # seconds a DPI is willing to wait before giving up for now


class TokenRefused(RuntimeError):
    """401 from the DMP: the access token is no longer accepted."""


@dataclass
class DmpClient:
    http: httpx.Client
    base: str  # .../dmp/fhir
    workspace: str
    token: Callable[[], str]

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}", "X-Sandbox-Workspace": self.workspace,
                "Accept": FHIR, **(extra or {})}

    def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, url, **kw)
        if r.status_code == 401:
            raise TokenRefused(r.headers.get("www-authenticate", ""))
        return r

    def existence(self, ins: str, oid: str = INS_NIR_OID) -> httpx.Response:
        """TD0.2: ``Patient?identifier=urn:oid:<oid>|<INS>``."""
        return self._send("GET", f"{self.base}/Patient", params={"identifier": f"urn:oid:{oid}|{ins}"},
                          headers=self._headers())

    def provide(self, bundle: dict[str, Any], *, honour_retry_after: bool = True) -> httpx.Response:
        """ITI-65 with a bounded retry on 503: at most :data:`MAX_ATTEMPTS` attempts, each after the
        announced ``Retry-After`` (capped), never a burst."""
        body = json.dumps(bundle).encode()
        r = self._send("POST", self.base, content=body, headers=self._headers({"Content-Type": FHIR}))
        attempts = 1
        limit = MAX_ATTEMPTS if honour_retry_after else 10
        while r.status_code == 503 and attempts < limit:
            if honour_retry_after:
                try:
                    wait = float(r.headers.get("retry-after", "1"))
                except ValueError:
                    wait = 1.0
                if wait > MAX_RETRY_AFTER:
                    break
                time.sleep(max(wait, 0.2 * 2 ** (attempts - 1)))
            r = self._send("POST", self.base, content=body, headers=self._headers({"Content-Type": FHIR}))
            attempts += 1
        return r

    def search(self, ins: str, *, with_status: bool = True, oid: str = INS_NIR_OID) -> httpx.Response:
        params = {"patient.identifier": f"urn:oid:{oid}|{ins}"}
        if with_status:
            params["status"] = "current"
        return self._send("GET", f"{self.base}/DocumentReference", params=params, headers=self._headers())

    def read(self, doc_id: str) -> httpx.Response:
        return self._send("GET", f"{self.base}/DocumentReference/{doc_id}", headers=self._headers())

    def retrieve(self, url: str) -> httpx.Response:
        """ITI-68: the attachment URL as the entry gives it (absolute, or relative to the base)."""
        target = url if url.startswith("http") else f"{self.base}/{url.lstrip('/')}"
        return self._send("GET", target, headers=self._headers({"Accept": "*/*"}))

    def mask(self, system: str, value: str, *, label_system: str = TRE_A07) -> httpx.Response:
        """PDSm PATCH (Flux 03, PDSm4DMP TD3.3a): add ``MASQUE_PS`` to the securityLabel."""
        ops = [{"op": "add", "path": "/securityLabel/-",
                "value": {"coding": [{"system": label_system, "code": "MASQUE_PS"}]}}]
        return self._send("PATCH", f"{self.base}/DocumentReference", params={"identifier": f"{system}|{value}"},
                          content=json.dumps(ops).encode(), headers=self._headers({"Content-Type": JSON_PATCH}))

    def set_labels(self, system: str, value: str, labels: list[dict[str, Any]]) -> httpx.Response:
        """PDSm PATCH replacing the whole securityLabel (what a DPI re-asserting its local state sends)."""
        ops = [{"op": "replace", "path": "/securityLabel", "value": labels}]
        return self._send("PATCH", f"{self.base}/DocumentReference", params={"identifier": f"{system}|{value}"},
                          content=json.dumps(ops).encode(), headers=self._headers({"Content-Type": JSON_PATCH}))


def dmp_is_open(r: httpx.Response) -> bool:
    """An empty TD0.2 searchset = no DMP; ``Patient.active`` false = closed (PDSm4DMP TD0.2)."""
    if r.status_code != 200:
        return False
    entries = r.json().get("entry") or []
    return bool(entries) and entries[0].get("resource", {}).get("active") is not False
