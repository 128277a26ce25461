"""``GET /health`` answers without credentials (a container health check or a load balancer has
none), says nothing about workspaces, and is what docker-compose.yml probes."""

from __future__ import annotations

from pathlib import Path

import yaml

from sandbox.testing import RunningSandbox

ROOT = Path(__file__).resolve().parents[2]


def test_health_needs_no_key_and_names_no_workspace(sandbox: RunningSandbox) -> None:
    with sandbox.client(key=None) as c:
        r = c.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert "workspace" not in r.text
        assert c.get("/sandbox/api/workspaces").status_code == 401  # the APIs still need a key


def test_compose_probes_the_health_endpoint() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    probe = " ".join(compose["services"]["sandbox"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8080/health" in probe
