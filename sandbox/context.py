"""The per-app context handed to services: settings, database, evidence, faults, PKI, world.

Built by :func:`sandbox.app.create_app`; reachable from a request as ``request.app.state.ctx``
(or the :func:`sandbox.api.deps.get_ctx` dependency). Never a module-level singleton.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sandbox.changes import Changes
from sandbox.cpu import CpuPool
from sandbox.credentials import OperatorKey
from sandbox.db import Database
from sandbox.direct_routes import DirectTable
from sandbox.evidence import EvidenceRepository
from sandbox.evidence_recorder import EvidenceRecorder
from sandbox.faults import FaultRegistry
from sandbox.personas.generate import generate_world
from sandbox.personas.model import World
from sandbox.personas.repository import PersonaRepository
from sandbox.pki import TestPKI
from sandbox.services import Service
from sandbox.settings import Settings
from sandbox.workspace_certificates import WorkspaceCertificates
from sandbox.workspaces import WorkspaceService


@dataclass
class SandboxContext:
    settings: Settings
    services: list[Service]
    db: Database = field(init=False)
    evidence: EvidenceRepository = field(init=False)
    recorder: EvidenceRecorder = field(init=False)
    faults: FaultRegistry = field(init=False)
    #: where per-process caches learn of changes (:mod:`sandbox.changes`); the database's
    changes: Changes = field(init=False)
    personas: PersonaRepository = field(init=False)
    pki: TestPKI = field(init=False)
    #: services may keep their own runtime objects here, keyed by service name
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database_url, connections=self.settings.database_connections,
                           changes_file=self.settings.data_dir / "run" / "changes")
        self.evidence = EvidenceRepository(self.db, self.settings.evidence_body_limit)
        self.recorder = EvidenceRecorder(self.evidence)
        self.direct = DirectTable()  # hot endpoints dispatched before FastAPI routing
        self.changes = self.db.changes
        self.faults = FaultRegistry(self.db, self.services)
        self.personas = PersonaRepository(self.db)
        self.pki = TestPKI(self.settings.pki_dir)
        self.operator_key = OperatorKey(self.settings.data_dir, self.settings.operator_key)
        #: client certificates issued for a workspace, for every service (sandbox.workspace_certificates)
        self.certificates = WorkspaceCertificates(self.db)
        #: CPU-heavy work off the event loop (sandbox.cpu)
        self.cpu = CpuPool(self.settings.cpu_workers)

    @cached_property
    def world(self) -> World:
        """The synthetic world of the configured seed (generated once, on first use)."""
        return generate_world(self.settings.world_seed)

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def workspaces(self) -> WorkspaceService:
        return WorkspaceService(self)
