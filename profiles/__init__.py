"""French FHIR profiles and a StructureDefinition-driven validator (FHIR R4 4.0.1).

Public API (other packages import only these names): :func:`validate`, :func:`validate_bytes`,
:class:`Issue`, :func:`to_operation_outcome`, :func:`apply_policy`, :func:`value_set_codes`. The core
imports no web framework; the one HTTP entry point other services use is the router factory
``profiles.http.type_validate_router`` (``[type]/$validate`` on their FHIR base), imported from
their ``service.py`` only.
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
from profiles.safe_xml import DTDForbidden, safe_fromstring  # noqa: E402 - untrusted XML (no DTD, no entities)

__all__ += ["CdaHeader", "CdaIssue", "DTDForbidden", "read_cda_header", "safe_fromstring"]
