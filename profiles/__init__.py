"""French FHIR profiles and a StructureDefinition-driven validator (FHIR R4 4.0.1).

Public API (other packages import only these names): :func:`validate`, :func:`validate_bytes`,
:class:`Issue`, :func:`to_operation_outcome`, :func:`apply_policy`, :func:`value_set_codes`, and
:func:`type_validate_router` (the ``[type]/$validate`` router a FHIR service mounts on its base).
See DESIGN.md "Validation" and profiles/README.md.
"""

from profiles.api import (
    validate,
    validate_bytes,
    validate_bytes_with_suppressed,
    validate_with_suppressed,
    value_set_codes,
)
from profiles.http import type_validate_router
from profiles.issues import Issue, IssueType, Severity, apply_policy, to_operation_outcome
from profiles.messages import MsgId

__all__ = [
    "Issue", "IssueType", "MsgId", "Severity", "apply_policy", "to_operation_outcome", "type_validate_router",
    "validate", "validate_bytes", "validate_bytes_with_suppressed", "validate_with_suppressed", "value_set_codes",
]
