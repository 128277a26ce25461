"""The DMP document store, FHIR side (PDSm = IHE MHD, PDSm4DMP), its access rules and audit trail
(FACTS §3). See dmp/README.md.

Public API — other packages import only these names (``from dmp import …``):

- Reading the DMP (:mod:`dmp.read_api`): :func:`patient_dmp` → :class:`Dmp`, :func:`document` →
  :class:`Document`, :func:`access_trail` → list of :class:`AuditRecord`.
- The access decision (:mod:`dmp.access_rules`, FACTS §3.5): :func:`decide`, :class:`AccessRequest`,
  :class:`Decision`, :data:`RULES` (stable ids ``dmp.acc.NN``), :class:`Action`, :class:`Mode`
  (TRE_R248, :data:`TRE_R248` / :data:`TRE_R248_SYSTEMS`), :class:`Role`.
- What a caller must present (:mod:`dmp.auth`): :data:`DMP_AUDIENCE` (``urn:dmp``), :data:`DMP_SCOPE`,
  :data:`ACCESS_MODE_HEADER`; the FHIR base :data:`BASE_PATH`.
"""

from dmp.access_rules import (
    RULES,
    TRE_R248,
    TRE_R248_SYSTEMS,
    AccessRequest,
    Action,
    Decision,
    Mode,
    Role,
    decide,
)
from dmp.audit import AuditRecord
from dmp.auth import ACCESS_MODE_HEADER, DMP_AUDIENCE, DMP_SCOPE
from dmp.fhir import BASE_PATH
from dmp.read_api import access_trail, document, patient_dmp
from dmp.store import Dmp, Document

__all__ = [
    "ACCESS_MODE_HEADER", "BASE_PATH", "DMP_AUDIENCE", "DMP_SCOPE", "RULES", "TRE_R248", "TRE_R248_SYSTEMS",
    "AccessRequest", "Action", "AuditRecord", "Decision", "Dmp", "Document", "Mode", "Role", "access_trail",
    "decide", "document", "patient_dmp",
]
