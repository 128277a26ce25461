"""Conformance runner: test model, client-testing engine, requirements, signed reports
(DESIGN "The conformance runner"; FACTS §6 for the référencement model it mirrors).

Public API (suites and simulators import only these names)."""

from conformance.context import PendingStep, TestContext
from conformance.drive import DriveError, Driver
from conformance.model import (
    Group,
    InputSpec,
    ModelError,
    PresetError,
    Suite,
    Test,
    TestRef,
    UnknownIdError,
    load_preset,
    test,
)
from conformance.outcome import PRECEDENCE, Outcome, roll_up, roll_up_results
from conformance.query import EvidenceQuery
from conformance.results import Finding, TestResult
from conformance.text import Message, Text
from sandbox.evidence import Exchange

__all__ = [
    "PRECEDENCE", "DriveError", "Driver", "EvidenceQuery", "Exchange", "Finding", "Group", "InputSpec",
    "Message", "ModelError", "Outcome", "PendingStep", "PresetError", "Suite", "Test", "TestContext",
    "TestRef", "TestResult", "Text", "UnknownIdError", "load_preset", "roll_up", "roll_up_results", "test",
]
