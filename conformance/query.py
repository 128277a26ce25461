"""What a test waits for or looks up: a query over the evidence store (DESIGN "The conformance
runner", *engine*).

The store is asked for what it can filter (workspace, protocol, service, correlation id, time
window); the remaining filters are applied here on the recorded exchange, so a filter never
silently does nothing. Identity filters (client id, persona, patient INS) match either the
summary key the service recorded or a whole token of the recorded actor (``"demo / 899700218896"``,
``"professional:899700218896"``), never a substring: ``8997`` does not match ``899700218896``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from sandbox.evidence import Exchange

_SPLIT = re.compile(r"[\s/|,;]+")

#: summary keys a service may record each identity under
CLIENT_KEYS = ("client_id", "azp")
PERSONA_KEYS = ("persona", "actor", "rpps", "idnps", "login_hint")
PATIENT_KEYS = ("patient_ins", "ins", "patient")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(str(v) for v in value)
    return (str(value),)


def actor_tokens(actor: str) -> set[str]:
    """Whole tokens of a recorded actor, with the value after ``kind:`` / ``key=`` prefixes."""
    out: set[str] = set()
    for tok in _SPLIT.split(actor):
        if not tok:
            continue
        out.add(tok)
        for sep in (":", "="):
            if sep in tok:
                out.add(tok.rsplit(sep, 1)[1])
    return out


@dataclass(frozen=True)
class EvidenceQuery:
    """Filters over recorded exchanges; every given filter must hold (tuples mean any of)."""

    service: str | None = None
    protocol: str | None = None
    operation: str | tuple[str, ...] | None = None
    method: str | None = None
    path_prefix: str | None = None
    status: int | str | tuple[int | str, ...] | None = None
    client_id: str | None = None
    persona: str | None = None
    patient_ins: str | None = None
    actor: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: a last word for what the fields cannot say (e.g. "the body is a transaction Bundle");
    #: sees only the exchange's metadata, not its bodies
    where: Callable[[Exchange], bool] | None = field(default=None, compare=False)
    #: how the prompt and the timeout message name what is awaited (defaults to the filters)
    label: str = ""

    def with_since(self, since: datetime) -> EvidenceQuery:
        """The same query from ``since`` on (a given later ``since`` is kept)."""
        if self.since is not None and self.since >= since:
            return self
        return replace(self, since=since)

    def matches(self, ex: Exchange) -> bool:
        if self.service and ex.service != self.service:
            return False
        if self.protocol and str(ex.protocol) != self.protocol:
            return False
        ops = _as_tuple(self.operation)
        if ops and ex.operation not in ops:
            return False
        summary = ex.summary or {}
        if self.method and str(summary.get("method", "")).upper() != self.method.upper():
            return False
        if self.path_prefix and not str(summary.get("path", "")).startswith(self.path_prefix):
            return False
        statuses = _as_tuple(self.status)
        if statuses and str(ex.status) not in statuses:
            return False
        if self.correlation_id and ex.correlation_id != self.correlation_id:
            return False
        if self.since and ex.started_at < self.since:
            return False
        if self.until and ex.started_at > self.until:
            return False
        tokens = actor_tokens(ex.actor)
        if self.actor and self.actor not in tokens and self.actor != ex.actor:
            return False
        if self.client_id and not _identity(self.client_id, summary, CLIENT_KEYS, tokens):
            return False
        if self.persona and not _identity(self.persona, summary, PERSONA_KEYS, tokens):
            return False
        if self.patient_ins and not _patient(self.patient_ins, summary, tokens):
            return False
        return self.where is None or bool(self.where(ex))

    def describe(self) -> str:
        """A short human form of the filters (used in prompts and timeout messages)."""
        if self.label:
            return self.label
        parts = []
        for name in ("service", "protocol", "operation", "method", "path_prefix", "status", "client_id",
                     "persona", "patient_ins", "actor", "correlation_id"):
            value = getattr(self, name)
            if value not in (None, "", ()):
                shown = "|".join(_as_tuple(value))
                parts.append(f"{name}={shown}")
        return ", ".join(parts) or "any exchange"


def _identity(value: str, summary: dict[str, Any], keys: tuple[str, ...], tokens: set[str]) -> bool:
    return value in tokens or any(str(summary.get(k, "")) == value for k in keys)


def _patient(ins: str, summary: dict[str, Any], tokens: set[str]) -> bool:
    if _identity(ins, summary, PATIENT_KEYS, tokens):
        return True
    # ITI-67 and TD0.2 carry the INS in the query: patient.identifier=urn:oid:…|<INS>
    query = unquote_plus(str(summary.get("query", "")))
    return any(part.rsplit("|", 1)[-1] == ins for part in re.split(r"[&=]", query))
