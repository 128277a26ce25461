"""INS identity rules and the INSi teleservice (FACTS §1).

Public API — other packages import only these names (``from ins import …``):

- INS identifiers (:mod:`ins.identifiers`, FACTS §1.1, §1.5, §8.1): the OIDs
  (:data:`OID_INS_NIR`, :data:`OID_INS_NIA`, :data:`OID_INS_NIR_TEST`, :data:`OID_INS_NIR_DEMO`,
  :data:`INS_OIDS`, :data:`INS_SYSTEMS`), fr-core identifier types (:data:`TYPE_BY_OID`,
  :data:`IDENTIFIER_TYPE_SYSTEMS`), :func:`select_ins` (the INS of a Patient, by OID *and* type, or
  the :class:`InsRule` that failed), :func:`ins_of_system_value`, :func:`kind_matches`,
  :func:`oid_of_system`, :func:`system_for`.
- Matricule NIR/NIA (:mod:`ins.nir`, FACTS §1.3): :func:`nir_key`, :func:`check_matricule`,
  :func:`parse_matricule`, :class:`ParsedMatricule`, :class:`MatriculeKind`.
- RNIV (:mod:`ins.rniv`, FACTS §1.4): :class:`Status` (PROV, RECUP, VALI, QUAL), :class:`Event`,
  :func:`transition`, :func:`may_transmit_ins`.
- fr-core identity-status invariants per version (:mod:`ins.reliability`, FACTS §1.5, §8.6):
  :func:`check_reliability` → :class:`ReliabilityProblem` (:class:`ReliabilityRule`): VALI (v2-0445),
  VALI/QUAL (identity-status) require an INS; a status outside its version's code system.
- "Is this identity qualified, and why not" (:mod:`ins.qualification`): :func:`qualification` →
  :class:`Qualification` (``qualified``, ``status``, ``reason`` :class:`NotQualified`, ``text()``).
- Client certificates bound to a workspace (:mod:`ins.certificates`): :class:`CertificateRegistry`
  (``workspace_of(der)``, ``issue``, ``list``, ``unbind``), :func:`certificate_fingerprint`.
- Messages: :class:`MsgId`, :class:`Problem`.
"""

from ins.identifiers import (
    IDENTIFIER_TYPE_SYSTEMS,
    INS_OIDS,
    INS_SYSTEMS,
    OID_INS_NIA,
    OID_INS_NIR,
    OID_INS_NIR_DEMO,
    OID_INS_NIR_TEST,
    TYPE_BY_OID,
    InsIdentifier,
    InsProblem,
    InsRule,
    InsSelection,
    ins_of_system_value,
    kind_matches,
    oid_of_system,
    select_ins,
    system_for,
)
from ins.messages import MsgId, Problem
from ins.nir import MatriculeKind, ParsedMatricule, check_matricule, nir_key, parse_matricule
from ins.qualification import NotQualified, Qualification, qualification
from ins.reliability import ReliabilityProblem, ReliabilityRule, check_reliability
from ins.rniv import Event, Status, may_transmit_ins, transition

__all__ = [
    "CertificateRegistry", "certificate_fingerprint",
    "IDENTIFIER_TYPE_SYSTEMS", "INS_OIDS", "INS_SYSTEMS", "OID_INS_NIA", "OID_INS_NIR", "OID_INS_NIR_DEMO",
    "OID_INS_NIR_TEST", "TYPE_BY_OID", "Event", "InsIdentifier", "InsProblem", "InsRule", "InsSelection",
    "MatriculeKind", "MsgId", "NotQualified", "ParsedMatricule", "Problem", "Qualification", "ReliabilityProblem",
    "ReliabilityRule", "Status", "check_matricule", "check_reliability", "ins_of_system_value", "kind_matches",
    "may_transmit_ins", "nir_key", "oid_of_system", "parse_matricule", "qualification", "select_ins", "system_for",
    "transition",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy: the registry needs SQLAlchemy, `mes-sandbox --help` must not
    if name == "CertificateRegistry":
        from ins.certificates import CertificateRegistry

        return CertificateRegistry
    if name == "certificate_fingerprint":
        from ins.certificates import fingerprint

        return fingerprint
    raise AttributeError(f"module 'ins' has no attribute {name!r}")
