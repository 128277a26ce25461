"""The operator key as the CLI sends it; ``sandbox/cli_http.py`` should call :func:`cli_api_headers`."""

from __future__ import annotations

from sandbox.credentials import read_operator_key
from sandbox.settings import Settings


def cli_api_headers(settings: Settings | None = None) -> dict[str, str]:
    """``Authorization`` for ``/sandbox/api`` calls of a CLI command (empty when no key exists yet)."""
    settings = settings or Settings()  # type: ignore[call-arg]  # fields come from the environment
    key = read_operator_key(settings.data_dir, settings.operator_key)
    return {"Authorization": f"Bearer {key}"} if key else {}
