"""Typed settings, read once from ``MES_SANDBOX_*`` environment variables (STYLE §12).

Build one :class:`Settings` and hand it to :func:`sandbox.app.create_app`; nothing reads the
environment at import time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def user_data_dir() -> Path:
    """The platform's per-user data folder for mes-sandbox: ``$XDG_DATA_HOME/mes-sandbox`` (default
    ``~/.local/share/mes-sandbox``) on Linux and other Unixes, ``~/Library/Application Support/mes-sandbox``
    on macOS, ``%LOCALAPPDATA%\\mes-sandbox`` on Windows. The same folder whatever the current
    directory, so every command of one user finds the same sandbox."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "mes-sandbox"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "mes-sandbox"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "mes-sandbox"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or a Host header name) only reaches this machine."""
    host = host.strip("[]").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


class Settings(BaseSettings):
    """Every knob of the sandbox. Environment variable = ``MES_SANDBOX_`` + field name, upper case."""

    model_config = SettingsConfigDict(env_prefix="MES_SANDBOX_", extra="ignore")

    data_dir: Path = Field(
        default_factory=user_data_dir,
        description="Folder for the embedded database, the test PKI and other generated state. Default: the "
        "user's data folder (`~/.local/share/mes-sandbox` on Linux, `~/Library/Application Support/mes-sandbox` "
        "on macOS, `%LOCALAPPDATA%\\mes-sandbox` on Windows), whatever the current directory.",
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy async URL. Empty = SQLite file `<data_dir>/sandbox.db` (aiosqlite). "
            "PostgreSQL: `postgresql+asyncpg://user@host:5432/db`."
        ),
    )
    database_connections: int = Field(
        20, ge=4, le=1000,
        description="PostgreSQL connections one sandbox process may open, all included: the engine's pool, "
        "the statement pool and the one LISTEN connection (`sandbox/db.py`). `serve --workers N` opens up to N "
        "times this; keep the sum over every node below the server's `max_connections`.",
    )
    host: str = Field("127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port (0 = any free port).")
    https_port: int = Field(
        8443, ge=0, le=65535,
        description="HTTPS port: test PKI server certificate, client certificates verified when sent "
        "(mutual TLS for INSi). 0 = any free port.",
    )
    https_enabled: bool = Field(True, description="Serve the HTTPS listener beside plain HTTP.")
    public_base_url: str = Field(
        "",
        description=(
            "Base URL clients use to reach the sandbox (issuer, links, locations). "
            "Empty = `http://<host>:<port>`."
        ),
    )
    take_over_public_base_url: bool = Field(
        False,
        description="Start even if the database records another public base URL, and record this node's "
        "instead (every node of a deployment shares one; see docs/scale.md).",
    )
    smtp_port: int = Field(2525, ge=0, le=65535, description="SMTP with STARTTLS.")
    smtps_port: int = Field(2465, ge=0, le=65535, description="SMTP over implicit TLS.")
    imap_port: int = Field(2143, ge=0, le=65535, description="IMAP with STARTTLS.")
    imaps_port: int = Field(2993, ge=0, le=65535, description="IMAP over implicit TLS.")
    world_seed: int = Field(
        20240101, description="Seed of the synthetic world: same seed, byte-identical personas."
    )
    language: Literal["fr", "en"] = Field(
        "fr", description="Language of messages a vendor or auditor reads (reports, validation, console)."
    )
    evidence_retention_days: int = Field(
        30, ge=0, description="Exchanges older than this are purged, at start-up and while running (0 = keep forever)."
    )
    evidence_body_limit: int = Field(
        1_048_576, ge=0, description="Bytes of each request/response body kept as evidence (rest cut)."
    )
    max_request_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, description="Largest HTTP request body accepted (413 beyond)."
    )
    default_workspace: str = Field("default", description="Workspace used when a request names none.")
    workers: int = Field(
        1, ge=1, le=64,
        description="Worker processes of `serve` sharing the listeners (one core each; first-start work "
        "runs once before they start).",
    )

    open_api: bool = Field(
        False,
        description="Single-user laptop only (`serve --open`): `/sandbox/api` needs no key. Refused unless "
        "the server binds a loopback address.",
    )
    operator_key: str = Field(
        "",
        description="The operator key (all workspaces). Empty = generated on first start into "
        "`<data_dir>/operator-key` (0600); set it to share one key between several nodes.",
    )
    # --- dur (issue 19): the test PKI lives in the database, its private keys sealed with this secret
    pki_secret_file: Path | None = Field(
        None,
        description="File holding the secret that seals the test PKI's private keys in the database "
        "(AES-256-GCM). Empty = `<data_dir>/pki-secret`, generated (0600) by the node that creates the "
        "CA. Every node of one database needs the same file (see docs/scale.md).",
    )
    # --- end dur
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host header values accepted (DNS-rebinding guard), besides the loopback names and the "
        "host of the public base URL. `*` accepts any.",
    )
    workspace_rate_per_second: float = Field(
        200.0, ge=0,
        description="Requests per second one caller (workspace key, OAuth client or peer address) may send on "
        "average (burst = 4 seconds' worth; a 401 costs 50 requests); beyond: 429 with Retry-After. 0 = no limit.",
    )
    rate_limit_loopback: bool = Field(
        False, description="Apply the rate limit to callers on this machine too (off: a laptop's own tests and "
        "benchmarks run unthrottled; a shared sandbox's vendors arrive from other addresses).",
    )
    evidence_quota_bytes: int = Field(
        2 * 1024 * 1024 * 1024, ge=0,
        description="Evidence bodies kept per workspace; beyond, the oldest exchanges are purged while "
        "running. 0 = no quota.",
    )
    evidence_housekeeping_seconds: float = Field(
        60.0, gt=0, description="How often a running sandbox applies evidence retention and the quota.",
    )
    anonymous_body_limit: int = Field(
        4096, ge=0, description="Bytes of each body kept as evidence for requests no credential tied to a "
        "workspace (workspace `anonymous`): an anonymous flood cannot fill the disk.",
    )
    cpu_workers: int = Field(
        2, ge=1, le=64,
        description="Threads for CPU-heavy work (FHIR validation, large SOAP parsing) off the event loop.",
    )

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if self.open_api and not is_loopback(self.host):
            raise ValueError(f"open_api (serve --open) needs a loopback bind, not {self.host!r}: "
                             "a shared sandbox needs its keys")
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'sandbox.db').as_posix()}"
        return self

    @property
    def base_url(self) -> str:
        """Public base URL without a trailing slash."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def pki_secret_path(self) -> Path:
        return self.pki_secret_file or self.data_dir / "pki-secret"


def from_environment(**overrides: Any) -> Settings:
    """The settings the ``MES_SANDBOX_*`` variables describe, with ``overrides`` on top (what the
    command line builds; the app factory is handed its settings)."""
    return Settings(**overrides)
