"""Name material for the synthetic world.

Birth names are built from syllables so that no generated person carries a real family name by
design; first names are ordinary French given names (a first name alone identifies nobody).
Everything is upper case without accents, as INSi returns traits (FACTS §1.2).
"""

from __future__ import annotations

import random

FAMILY_SYLLABLES_1 = (
    "BER", "CAL", "DOR", "FAL", "GAR", "LAN", "MOR", "NOV", "PAR", "ROS",
    "SAL", "TAV", "VAL", "BRI", "CHA", "DUV", "LEF", "MAR", "PEL", "RIV",
)
FAMILY_SYLLABLES_2 = (
    "ANDOT", "ELIN", "IGNAC", "OUZET", "ARDEL", "ENOT", "IVAUD", "OLIER", "USSIN", "AMBERT",
    "ESTRE", "INOUX", "ONNET", "AUVAL", "ERCQ", "IMONT", "OSTAN", "ACOIN", "ETIER", "URAND",
)
FAMILY_SUFFIXES = ("", "", "", "", "-" , " DE")

FEMALE_GIVEN = (
    "MARIE", "CAMILLE", "LEA", "MANON", "CHLOE", "EMMA", "INES", "SARAH", "JULIE", "LUCIE",
    "ANNE", "CLAIRE", "SOPHIE", "NATHALIE", "ISABELLE", "HELENE", "ELISE", "AGATHE", "ROSE", "LOUISE",
    "JEANNE", "MARGAUX", "ZOE", "ALICE", "NINA", "YASMINE", "AICHA", "FATOU", "ELENA", "MARTINE",
)
MALE_GIVEN = (
    "JEAN", "PIERRE", "LOUIS", "PAUL", "HUGO", "LUCAS", "THOMAS", "NICOLAS", "JULIEN", "MATHIS",
    "ANTOINE", "GABRIEL", "RAPHAEL", "ARTHUR", "JULES", "ADAM", "NATHAN", "THEO", "MARC", "ALAIN",
    "FRANCOIS", "PHILIPPE", "OLIVIER", "KARIM", "MEHDI", "YANIS", "BAPTISTE", "CLEMENT", "VICTOR", "NOAH",
)


def family_name(rng: random.Random) -> str:
    base = rng.choice(FAMILY_SYLLABLES_1) + rng.choice(FAMILY_SYLLABLES_2)
    suffix = rng.choice(FAMILY_SUFFIXES)
    if suffix == "-":
        return f"{base}-{rng.choice(FAMILY_SYLLABLES_1)}{rng.choice(FAMILY_SYLLABLES_2)}"
    if suffix == " DE":
        return f"DE {base}"
    return base


def given_names(rng: random.Random, sex: str, count: int) -> list[str]:
    pool = FEMALE_GIVEN if sex == "F" else MALE_GIVEN
    return rng.sample(pool, count)
