"""No 500 for bad input (each cause found by the hostile-input campaign, docs/security.md), and a
bug answers a protocol-shaped 500 on a connection that stays open."""

from __future__ import annotations

import socket

from dmp_helpers import PAT1, Dmp, cr_bio_bundle
from fastapi import APIRouter

from sandbox.services import Service
from sandbox.testing import running_sandbox


def test_year_9999_in_iti67_and_iti66_searches(dmp: Dmp) -> None:
    assert dmp.provide(cr_bio_bundle(PAT1)).status_code == 200
    for value in ("9999", "9999-12", "9999-12-31", "gt9999-12-31", "le9999-12-31T23:59:59Z",
                  "9999-12-31T23:00:00-05:00", "lt0001-01-01T00:00:00+01:00"):
        for path, extra in (("/dmp/fhir/DocumentReference", {"period": value}),
                            ("/dmp/fhir/DocumentReference", {"date": value}),
                            ("/dmp/fhir/List", {"date": value, "code": "submissionset"})):
            r = dmp.http.get(path, params={"patient": f"Patient/{PAT1}", "status": "current", **extra},
                             headers=dmp.headers(dmp.pro_token()))
            assert r.status_code in (200, 400), (path, value, r.text)
            assert r.json()["resourceType"] in ("Bundle", "OperationOutcome")


def test_thousands_of_repeated_search_parameters_and_huge_values(dmp: Dmp) -> None:
    many = [("patient", f"Patient/{PAT1}"), ("status", "current")] + [("type", f"http://loinc.org|{n}")
                                                                       for n in range(1500)]
    r = dmp.http.get("/dmp/fhir/DocumentReference", params=many, headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome", r.text[:300]
    commas = {"patient": f"Patient/{PAT1}", "status": "current", "type": ",".join(str(n) for n in range(1500))}
    r = dmp.http.get("/dmp/fhir/DocumentReference", params=commas, headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 400, r.text[:300]
    for name in ("identifier", "patient.identifier", "author.given"):
        params = {"patient": f"Patient/{PAT1}", "status": "current", name: "x" * 60_000}
        r = dmp.http.get("/dmp/fhir/DocumentReference", params=params, headers=dmp.headers(dmp.pro_token()))
        assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome", (name, r.text[:300])
    r = dmp.http.get("/dmp/fhir/List", params={"patient": f"Patient/{PAT1}", "identifier": "x" * 60_000},
                     headers=dmp.headers(dmp.pro_token()))
    assert r.status_code == 400, r.text[:300]


def _crashing() -> Service:
    def routers(_ctx):  # noqa: ANN001, ANN202
        router = APIRouter()

        @router.get("/sandbox/api/crash")
        async def crash_api() -> None:
            raise RuntimeError("a bug")

        @router.get("/dmp/fhir/crash")
        async def crash_fhir() -> None:
            raise KeyError("a bug")

        return [router]

    return Service(name="crash", title="crash", routers=routers)


def _exchange(sock: socket.socket, path: str, key: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_bug_answers_a_protocol_shaped_500_and_keeps_the_connection() -> None:
    from sandbox.services import discover

    services = [s for s in discover() if s.name in ("sandbox", "dmp", "psc")] + [_crashing()]
    with running_sandbox(services=services) as sb:
        with socket.create_connection(("127.0.0.1", sb.settings.port), timeout=10) as sock:
            first = _exchange(sock, "/sandbox/api/crash", sb.operator_key)
            assert first.startswith(b"HTTP/1.1 500") and b"application/problem+json" in first
            assert b"a bug" not in first and b"Traceback" not in first
            second = _exchange(sock, "/dmp/fhir/crash", sb.operator_key)  # same connection
            assert second.startswith(b"HTTP/1.1 500") and b"OperationOutcome" in second
            third = _exchange(sock, "/sandbox/api/workspaces", sb.operator_key)
            assert third.startswith(b"HTTP/1.1 200")
