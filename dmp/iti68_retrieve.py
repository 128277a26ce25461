"""ITI-68 Retrieve Document — PDSm Flux 7/8 "Consultation", DMP TD3.2 (FACTS §3.2): ``GET`` of
``DocumentReference.content.attachment.url`` (``[base]/Binary/<id>``) returns the exact bytes that
were submitted, with their content type; ``Accept: application/fhir+json`` returns the ``Binary``
resource instead (FHIR R4 Binary read)."""

from __future__ import annotations

import base64
from typing import Any

from dmp.access_rules import Decision
from dmp.store import Document


def hidden(doc: Document, decision: Decision) -> bool:
    """Whether the caller's visibility filters hide ``doc`` (then it answers 404, not 403)."""
    return ((decision.hide_masked_ps and doc.masked_ps) or (decision.hide_invisible_patient and doc.invisible_patient)
            or (decision.hide_invisible_rl and doc.invisible_rl))


def wants_resource(accept: str | None) -> bool:
    return bool(accept) and "fhir+json" in accept.lower()


def binary_resource(binary_id: str, content_type: str, data: bytes) -> dict[str, Any]:
    return {"resourceType": "Binary", "id": binary_id, "contentType": content_type,
            "data": base64.b64encode(data).decode()}
