"""NIR / NIA matricule: key computation and validation (FACTS §1.3).

Key = 97 − (N mod 97) where N is the 13-character matricule read as a number, after replacing the
Corsica department codes ``2A`` → ``19`` and ``2B`` → ``18``.
"""

from __future__ import annotations


def _numeric(first13: str) -> int:
    return int(first13.upper().replace("2A", "19", 1).replace("2B", "18", 1))


def nir_key(first13: str) -> int:
    """Return the 2-digit key (1..97) of a 13-character matricule."""
    if len(first13) != 13:
        raise ValueError("a matricule has 13 characters before its key")
    return 97 - (_numeric(first13) % 97)
