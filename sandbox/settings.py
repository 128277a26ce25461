"""Typed settings, read once from ``MES_SANDBOX_*`` environment variables (STYLE §12).

Build one :class:`Settings` and hand it to :func:`sandbox.app.create_app`; nothing reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the sandbox. Environment variable = ``MES_SANDBOX_`` + field name, upper case."""

    model_config = SettingsConfigDict(env_prefix="MES_SANDBOX_", extra="ignore")

    data_dir: Path = Field(
        Path(".mes-sandbox"),
        description="Folder for the embedded database, the test PKI and other generated state.",
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy async URL. Empty = SQLite file `<data_dir>/sandbox.db` (aiosqlite). "
            "PostgreSQL: `postgresql+asyncpg://user@host:5432/db`."
        ),
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
        30, ge=0, description="Exchanges older than this are purged at start-up (0 = keep forever)."
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

    @model_validator(mode="after")
    def _derive(self) -> Settings:
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
