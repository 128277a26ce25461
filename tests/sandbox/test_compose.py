"""``docker-compose.yml`` and the ``Dockerfile`` match what the sandbox serves: every published
port is one the settings serve, every served port is published, every ``MES_SANDBOX_*`` variable
is a setting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from sandbox.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def served_ports(s: Settings) -> set[int]:
    """The ports ``serve`` listens on with these settings (HTTP, HTTPS, MSSanté's SMTP and IMAP)."""
    return ({s.port} | ({s.https_port} if s.https_enabled else set())
            | {s.smtp_port, s.smtps_port, s.imap_port, s.imaps_port})


def _settings_of(environment: dict[str, str], tmp_path: Path) -> Settings:
    values = {k.removeprefix("MES_SANDBOX_").lower(): v for k, v in environment.items()
              if k.startswith("MES_SANDBOX_")}
    values["data_dir"] = tmp_path  # the container's /data
    return Settings(**values)


def test_compose_publishes_what_is_served(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    sandbox = compose["services"]["sandbox"]
    env = {k: str(v) for k, v in sandbox["environment"].items()}
    unknown = [k for k in env if k.startswith("MES_SANDBOX_")
               and k.removeprefix("MES_SANDBOX_").lower() not in Settings.model_fields]
    assert not unknown, f"not settings: {unknown}"
    s = _settings_of(env, tmp_path)
    assert s.host == "0.0.0.0"  # reachable through the published ports  # noqa: S104
    published = {int(p.split(":")[-1]) for p in sandbox["ports"]}
    assert published == served_ports(s)
    host_side = {int(p.split(":")[-2]) for p in sandbox["ports"]}
    assert str(s.port) in s.base_url and s.port in host_side  # the public base URL is the published one
    assert s.database_url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in s.database_url


def test_dockerfile_exposes_what_is_served(tmp_path: Path) -> None:
    text = (ROOT / "Dockerfile").read_text()
    exposed = {int(p) for p in re.search(r"^EXPOSE (.+)$", text, re.MULTILINE).group(1).split()}
    assert exposed == served_ports(Settings(data_dir=tmp_path))
