"""Where the reference DPI points and who it is (:class:`SimulatorConfig`): the sandbox's base URL
and workspace, the PSC client, the professional, INSi's endpoint and TLS material, the MSSanté
listeners, the key of the sandbox's own API, the vendor mistakes to copy."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.simulators.dpi.mail import MailEndpoints
from sandbox.operator_key import cli_api_headers


@dataclass
class SimulatorConfig:
    """Where the vendor's product points and who it is."""

    base_url: str
    workspace: str = "default"
    client_id: str = ""
    client_secret: str = ""  # default: read from the sandbox with api_key (demo secrets are random per workspace)
    redirect_uri: str = "http://127.0.0.1:8000/callback"
    post_logout_redirect_uri: str = "http://127.0.0.1:8000/"
    professional: str = "899700218896"
    faults: tuple[str, ...] = ()
    issuer: str = ""  # default: the workspace's own PSC realm if the sandbox has one, else the shared realm
    insi_url: str = ""  # default: <base_url>/ins/insi (plain HTTP with api_key); an https URL for mutual TLS
    cert: tuple[str, str] | None = None  # client certificate and key (PEM) for INSi over mutual TLS
    verify: str | bool = True  # CA bundle of the sandbox's test PKI for https
    timeout: float = 30.0
    #: key of the sandbox's own API (fault scripting, reading the demo client's secret) and of INSi
    #: over plain HTTP: the operator key or the workspace's key; default: the operator key of this
    #: machine's sandbox data dir
    api_key: str = ""
    mailbox: str = ""  # the professional's MSSanté address; default: read from the sandbox with api_key
    mail: MailEndpoints | None = None  # default: the SMTP/IMAP ports and CA of this machine's sandbox

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.api_key:
            self.api_key = cli_api_headers().get("Authorization", "").removeprefix("Bearer ")
        if not self.client_id:
            self.client_id = "sandbox-demo" if self.workspace == "default" else f"sandbox-demo-{self.workspace}"
        if not self.insi_url:
            self.insi_url = self.base_url + "/ins/insi"
