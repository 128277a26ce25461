"""Who may call INSi, and how (FACTS §1.2 "mutual-TLS mode", client certificates).

The real INSi (``*-tlsm`` endpoint) requires an IGC-Santé **organisation** certificate whose CN is
``INSI-AUTO`` (automated calls) or ``INSI-MANU`` (manual calls), issued by ``TEST AC IGC-SANTE
ELEMENTAIRE ORGANISATIONS`` on the test platform. The sandbox applies that rule on its HTTPS
listener. For quick starts, plain HTTP is accepted from loopback clients only
(``MES_SANDBOX_INS_PLAIN_HTTP_LOOPBACK_ONLY``, default true); any other plain-HTTP client gets
``insi_430``. Which workspace a plain-HTTP call may use is not decided here but by its key
(:mod:`ins.http`). Framework-free: the adapter passes what it read from the connection.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from ins.insi_errors import InsiError, InsiFault
from sandbox.pki import ORG_CA_CN

INSI_CNS = ("INSI-AUTO", "INSI-MANU")


@dataclass(frozen=True)
class Caller:
    tls: bool
    client_host: str
    cert_subject: Mapping[str, str] | None = None
    cert_issuer_cn: str | None = None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_caller(caller: Caller, *, plain_http_loopback_only: bool) -> str:
    """Refuse callers INSi would refuse; return the certificate part of the evidence actor."""
    if not caller.tls:
        if plain_http_loopback_only and not is_loopback(caller.client_host):
            raise InsiFault(InsiError.CERTIFICATE_REQUIRED,
                            "HTTP en clair accepté seulement depuis la boucle locale : appelez le "
                            "port HTTPS du bac à sable avec un certificat d'organisation INSI-AUTO.")
        return ""
    if caller.cert_subject is None:
        raise InsiFault(InsiError.CERTIFICATE_REQUIRED)
    cn = caller.cert_subject.get("CN", "")
    if caller.cert_issuer_cn != ORG_CA_CN:
        raise InsiFault(InsiError.CERTIFICATE_REFUSED,
                        f"Certificat émis par « {caller.cert_issuer_cn} » ; « {ORG_CA_CN} » attendu.")
    if cn not in INSI_CNS:
        raise InsiFault(InsiError.CERTIFICATE_REFUSED,
                        f"CN « {cn} » refusé : INSI-AUTO ou INSI-MANU attendu.")
    ou = caller.cert_subject.get("OU", "")
    return f"CN={cn}" + (f",OU={ou}" if ou else "")
