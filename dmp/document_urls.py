"""Where a stored document's content is: ``DocumentReference.content.attachment.url`` (issue 19).

The DMP stores the URL of a document's ``Binary`` relative to its FHIR base (``Binary/<id>``, a
relative reference FHIR resolves against the server's base, R4 §3.1.0.3 "Resolving references")
and renders it absolute on the way out with the deployment's public base URL. So a document stored
through one address reads back with another (after a take-over of the public base URL, or through
any node of a deployment). Rows stored before this rule carry an absolute URL of the node that
stored them: they are rewritten when read (no migration; the DMP wrote every such URL itself).
"""

from __future__ import annotations

import re
from typing import Any

from dmp.fhir import BASE_PATH

#: an absolute URL an older version wrote: any base, then the DMP's FHIR path and a Binary id
_STORED_ABSOLUTE = re.compile(r"^https?://[^\s?#]*" + re.escape(BASE_PATH) + r"/(Binary/[A-Za-z0-9\-.]{1,64})$")


def stored(binary_id: str) -> str:
    """The URL stored for the ``Binary`` ``binary_id``: relative to the FHIR base."""
    return f"Binary/{binary_id}"


def absolute(url: Any, base_url: str) -> Any:
    """``url`` as a client reads it, under ``base_url`` (the public base URL); other values unchanged."""
    if not isinstance(url, str):
        return url
    if url.startswith("Binary/"):
        return f"{base_url}{BASE_PATH}/{url}"
    legacy = _STORED_ABSOLUTE.match(url)
    return f"{base_url}{BASE_PATH}/{legacy.group(1)}" if legacy else url


def render(resource: dict[str, Any], base_url: str) -> dict[str, Any]:
    """``resource`` (a stored DocumentReference) with absolute content URLs; the stored dict is not
    changed (a copy of the parts that change)."""
    contents = resource.get("content")
    if not isinstance(contents, list):
        return resource
    out = []
    changed = False
    for content in contents:
        att = content.get("attachment") if isinstance(content, dict) else None
        if isinstance(att, dict) and "url" in att:
            url = absolute(att["url"], base_url)
            if url != att["url"]:
                content = {**content, "attachment": {**att, "url": url}}
                changed = True
        out.append(content)
    return {**resource, "content": out} if changed else resource
