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


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _node_settings(compose: dict, tmp_path: Path) -> tuple[dict[str, str], Settings]:
    env = {k: str(v) for k, v in compose["services"]["sandbox"]["environment"].items()}
    unknown = [k for k in env if k.startswith("MES_SANDBOX_")
               and k.removeprefix("MES_SANDBOX_").lower() not in Settings.model_fields]
    assert not unknown, f"not settings: {unknown}"
    return env, _settings_of(env, tmp_path)


def test_compose_runs_replicas_sharing_what_nodes_must_share(tmp_path: Path) -> None:
    """Issue 19: N stateless nodes, restart policies, the settings every node must share."""
    compose = _compose()
    sandbox = compose["services"]["sandbox"]
    env, s = _node_settings(compose, tmp_path)
    assert sandbox["deploy"]["replicas"] >= 2
    assert all(svc.get("restart") in ("unless-stopped", "always") for svc in compose["services"].values())
    assert s.host == "0.0.0.0"  # reachable by the proxy  # noqa: S104
    assert s.database_url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in s.database_url
    assert s.public_base_url  # one issuer and base for the whole deployment, not each node's own
    # one operator key for every node, required from the operator's environment (no default)
    assert re.fullmatch(r"\$\{MES_SANDBOX_OPERATOR_KEY:\?[^}]+\}", env["MES_SANDBOX_OPERATOR_KEY"])
    # the PKI secret on a volume every node mounts (sandbox.pki_store): the same for all of them
    secret = Path(env["MES_SANDBOX_PKI_SECRET_FILE"])
    mounts = {m.split(":")[1]: m.split(":")[0] for m in sandbox["volumes"]}
    assert str(secret.parent) in mounts and mounts[str(secret.parent)] in compose["volumes"]
    assert not str(s.pki_secret_path).startswith(str(s.data_dir))
    assert "ports" not in sandbox  # only the proxy publishes: every call goes through it
    check = " ".join(sandbox["healthcheck"]["test"])
    assert f"127.0.0.1:{s.port}/health" in check  # the health endpoint needs no key


def test_proxy_publishes_what_is_served_and_reaches_every_node(tmp_path: Path) -> None:
    compose = _compose()
    _, s = _node_settings(compose, tmp_path)
    proxy = compose["services"]["proxy"]
    assert proxy["image"].split(":")[0] == "nginx"  # the official image, configured from the repository
    conf_mount = next(v for v in proxy["volumes"] if v.endswith("/etc/nginx/nginx.conf:ro"))
    conf = (ROOT / conf_mount.split(":")[0]).read_text()
    published = {int(p.split(":")[-1]) for p in proxy["ports"]}
    assert published == served_ports(s)
    host_side = {int(p.split(":")[-2]) for p in proxy["ports"]}
    assert str(s.port) in s.base_url and s.port in host_side  # the public base URL is the proxy's
    listens = {int(p) for p in re.findall(r"^\s*(?:server \{ )?listen (\d+);", conf, re.MULTILINE)}
    assert listens == served_ports(s)
    targets = {int(p) for p in re.findall(r"server sandbox:(\d+) resolve;", conf)}
    assert targets == served_ports(s)  # each port goes to the same port of the nodes
    assert "resolver 127.0.0.11" in conf  # replicas found through Docker's DNS, re-resolved
    assert {"sandbox": {"condition": "service_healthy"}}.items() <= proxy["depends_on"].items()


def test_dockerfile_exposes_what_is_served(tmp_path: Path) -> None:
    text = (ROOT / "Dockerfile").read_text()
    exposed = {int(p) for p in re.search(r"^EXPOSE (.+)$", text, re.MULTILINE).group(1).split()}
    assert exposed == served_ports(Settings(data_dir=tmp_path))
