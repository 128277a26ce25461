"""French FHIR profiles and a StructureDefinition-driven validator (FHIR R4 4.0.1).

Public API: :func:`validate`, :func:`validate_bytes`, :class:`Issue`, :func:`to_operation_outcome`,
:func:`apply_policy`, :func:`value_set_codes`.
See DESIGN.md "Validation" and profiles/README.md.
"""

from profiles.api import (
    validate,
    validate_bytes,
    validate_bytes_with_suppressed,
    validate_with_suppressed,
    value_set_codes,
)
from profiles.issues import Issue, IssueType, Severity, apply_policy, to_operation_outcome
from profiles.messages import MsgId

__all__ = [
    "Issue", "IssueType", "MsgId", "Severity", "apply_policy", "to_operation_outcome", "validate",
    "validate_bytes", "validate_bytes_with_suppressed", "validate_with_suppressed", "value_set_codes",
]

from profiles.cda_header import CdaHeader, CdaIssue, read_cda_header  # noqa: E402 - CDA R2 header reader (FACTS §5)

__all__ += ["CdaHeader", "CdaIssue", "read_cda_header"]
