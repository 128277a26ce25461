"""Ready-to-run samples shipped with the package (``mes-sandbox samples write`` copies them out).

All synthetic, all for the public INSi test identity ADRTROIS DOMINIQUE (INS 297022A02077878, whose
DMP is open in the seeded world), each valid against the sandbox's profiles:

- ``lettre-de-liaison.json``: discharge letter, FHIR document Bundle (LOINC 11490-0);
- ``cr-bio.json``: biology report, FHIR document Bundle (LOINC 11502-2) with its observations;
- ``cr-img.json``: imaging report, FHIR document Bundle (LOINC 18748-4) with its ImagingStudy;
- ``insi-rechercher-traits.xml``: INSi SOAP 1.2 traits search with its ContexteBAM / ContexteLPS
  headers, for ``POST /ins/insi``.

``mes-sandbox dmp provide FILE --patient INS`` wraps a document in an ITI-65 transaction.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["NAMES", "read", "write"]

NAMES = ("lettre-de-liaison.json", "cr-bio.json", "cr-img.json", "insi-rechercher-traits.xml")


def read(name: str) -> bytes:
    """The bytes of sample ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(name)
    return (files(__name__) / name).read_bytes()


def write(folder: Path) -> list[Path]:
    """Write every sample into ``folder`` (created if needed); return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in NAMES:
        path = folder / name
        path.write_bytes(read(name))
        out.append(path)
    return out
