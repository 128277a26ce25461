"""The operator key as the CLI sends it (:mod:`sandbox.cli_http` adds it to calls of the sandbox's own APIs)."""

from __future__ import annotations

from sandbox.credentials import read_operator_key
from sandbox.settings import Settings


def cli_api_headers(settings: Settings | None = None) -> dict[str, str]:
    """``Authorization`` for ``/sandbox/api`` calls of a CLI command (empty when no key exists yet)."""
    if settings is None:
        from sandbox.settings import from_environment

        settings = from_environment()
    key = read_operator_key(settings.data_dir, settings.operator_key)
    return {"Authorization": f"Bearer {key}"} if key else {}
