"""What a test run produces: one :class:`TestResult` per test, with its findings, the exchanges it
judged (by id and SHA-256 of their bodies, with a bounded excerpt) and the driving steps it took
(STYLE §6). Plain data: the engine fills them, the report serializes them, nothing re-derives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.outcome import Outcome
from conformance.text import Text

#: bytes of each cited body copied into a report (the SHA-256 covers the whole body)
EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Finding:
    """A message attached to a result: a failed check, a failure, a skip reason or a note."""

    id: str
    text: Text
    hint: Text = Text("", "")
    at: str | None = None
    exchanges: tuple[str, ...] = ()
    #: "fail" for a failed check or failure, "error" for a crash, "info" for a note or skip reason
    level: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "level": self.level, "text": self.text.to_dict()}
        if self.hint.fr or self.hint.en:
            out["hint"] = self.hint.to_dict()
        if self.at:
            out["at"] = self.at
        out["exchanges"] = list(self.exchanges)
        return out


@dataclass(frozen=True)
class BodyCitation:
    sha256: str
    size: int
    #: the excerpt is only the start of the body
    truncated: bool
    content_type: str
    excerpt: str
    #: the sandbox kept only the start of the body (``evidence_body_limit``)
    cut_in_store: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "truncated": self.truncated,
                "content_type": self.content_type, "excerpt": self.excerpt, "cut_in_store": self.cut_in_store}


@dataclass
class CitedExchange:
    id: str
    service: str
    protocol: str
    operation: str
    status: str
    actor: str
    correlation_id: str
    started_at: str
    request: BodyCitation | None = None
    response: BodyCitation | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "protocol": self.protocol, "operation": self.operation,
                "status": self.status, "actor": self.actor, "correlation_id": self.correlation_id,
                "started_at": self.started_at,
                "request_body": self.request.to_dict() if self.request else None,
                "response_body": self.response.to_dict() if self.response else None}


@dataclass(frozen=True)
class DriveRecord:
    """A step the runner itself took in the sandbox (scripted fault, admin call)."""

    action: str
    detail: dict[str, Any]
    at: str

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "detail": self.detail, "at": self.at}


@dataclass
class TestResult:
    __test__ = False

    test_id: str
    title: Text
    verifies: tuple[str, ...]
    optional: bool
    outcome: Outcome = Outcome.WAIT
    findings: list[Finding] = field(default_factory=list)
    exchanges: list[CitedExchange] = field(default_factory=list)
    drives: list[DriveRecord] = field(default_factory=list)
    checks: int = 0
    started_at: str = ""
    ended_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.test_id, "title": self.title.to_dict(), "verifies": list(self.verifies),
            "optional": self.optional, "outcome": str(self.outcome), "checks": self.checks,
            "findings": [f.to_dict() for f in self.findings],
            "exchanges": [e.to_dict() for e in self.exchanges],
            "drives": [d.to_dict() for d in self.drives],
            "started_at": self.started_at, "ended_at": self.ended_at,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TestResult:
        def body(b: dict[str, Any] | None) -> BodyCitation | None:
            return BodyCitation(b["sha256"], b["size"], b["truncated"], b["content_type"], b["excerpt"],
                                b.get("cut_in_store", False)) if b else None

        return cls(
            test_id=d["id"], title=Text(**d["title"]), verifies=tuple(d["verifies"]), optional=d["optional"],
            outcome=Outcome(d["outcome"]), checks=d.get("checks", 0),
            findings=[Finding(f["id"], Text(**f["text"]), Text(**f.get("hint", {"fr": "", "en": ""})),
                              f.get("at"), tuple(f.get("exchanges", ())), f.get("level", "fail"))
                      for f in d["findings"]],
            exchanges=[CitedExchange(e["id"], e["service"], e["protocol"], e["operation"], e["status"], e["actor"],
                                     e["correlation_id"], e["started_at"], body(e["request_body"]),
                                     body(e["response_body"])) for e in d["exchanges"]],
            drives=[DriveRecord(x["action"], x["detail"], x["at"]) for x in d["drives"]],
            started_at=d.get("started_at", ""), ended_at=d.get("ended_at", ""),
        )
