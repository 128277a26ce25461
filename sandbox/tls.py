"""The HTTPS listener's view of client certificates (DESIGN "Test PKI"; FACTS §1.2 mutual TLS).

The platform serves the app on a second, TLS port (``https_port``) with the test PKI's server
certificate; client certificates are optional at the TLS layer and verified against the test
CAs when presented. Uvicorn does not put the peer certificate into the ASGI scope, so the
listener's protocol records it per connection (:class:`PeerRegistry`) and
:func:`client_certificate` finds it again from the request's client address.

The listener's TLS context is the test PKI's (:class:`PkiTLSConfig`): TLS ≥ 1.2, both server
certificates (ECDSA and RSA, FACTS §2.2 Ref#2 ECO.1.1.2/1.1.3 suites), not uvicorn's own context,
which loads one chain and restricts ciphers to the TLS 1.0 list (no AES-GCM).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.x509.oid import NameOID
from uvicorn.protocols.http.h11_impl import H11Protocol

_SHORT = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COUNTRY_NAME: "C", NameOID.SERIAL_NUMBER: "serialNumber", NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
}
REGISTRY_KEY = "tls.peers"


@dataclass(frozen=True)
class ClientCertificate:
    """A verified client certificate presented on the HTTPS listener."""

    subject: dict[str, str]
    issuer_cn: str
    serial: int
    der: bytes

    @property
    def display(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.subject.items())


def describe(der: bytes) -> ClientCertificate:
    cert = x509.load_der_x509_certificate(der)
    subject = {_SHORT.get(a.oid, a.oid.dotted_string): str(a.value) for a in cert.subject}
    issuer = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return ClientCertificate(subject, str(issuer[0].value) if issuer else "", cert.serial_number, der)


class PeerRegistry:
    """Client address → certificate of the live TLS connections of one listener."""

    def __init__(self) -> None:
        self._peers: dict[tuple[str, int], ClientCertificate] = {}

    def protocol_class(self) -> type[H11Protocol]:
        registry = self

        class TLSH11Protocol(H11Protocol):
            def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
                super().connection_made(transport)
                ssl_object = transport.get_extra_info("ssl_object")
                der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
                if der and self.client:
                    registry._peers[tuple(self.client)] = describe(der)

            def connection_lost(self, exc: Exception | None) -> None:
                if self.client:
                    registry._peers.pop(tuple(self.client), None)
                super().connection_lost(exc)

        return TLSH11Protocol

    def lookup(self, scope: dict[str, Any]) -> ClientCertificate | None:
        if scope.get("scheme") not in ("https", "wss") or not scope.get("client"):
            return None
        return self._peers.get(tuple(scope["client"]))


def client_certificate(request_or_scope: Any) -> ClientCertificate | None:
    """The verified client certificate of this request, if it came over TLS with one."""
    scope = request_or_scope if isinstance(request_or_scope, dict) else request_or_scope.scope
    app = scope.get("app")
    registry: PeerRegistry | None = app.state.ctx.state.get(REGISTRY_KEY) if app is not None else None
    return registry.lookup(scope) if registry is not None else None


class PkiTLSConfig(uvicorn.Config):
    """Uvicorn settings whose TLS context is ``pki.server_context()`` (both chains), built when
    uvicorn loads its config, i.e. when the listener starts, after the app's start-up wrote the
    database's CA into the PKI folder (:mod:`sandbox.pki_store`)."""

    def __init__(self, app: Any, *, pki: Any, **kw: Any) -> None:
        self.pki = pki  # sandbox.pki.TestPKI
        super().__init__(app, ssl_certfile=str(pki.server_chain), ssl_keyfile=str(pki.server_key), **kw)

    def load(self) -> None:
        super().load()
        self.ssl = self.pki.server_context(client_certs=ssl.CERT_OPTIONAL)
