"""Message catalogue of the identity rules: stable ids, French and English texts (STYLE §1).

Callers, tests, SOAP faults and OperationOutcomes refer to :class:`MsgId` values, never to text.
Texts are ``str.format`` templates; every placeholder a caller passes exists in both languages.
Rules: matricule NIR/NIA (FACTS §1.3), traits INSi (FACTS §1.2 client validation), RNIV (§1.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class MsgId(StrEnum):
    # matricule (FACTS §1.3)
    NIR_EMPTY = "INS_NIR_EMPTY"
    NIR_LENGTH = "INS_NIR_LENGTH"
    NIR_CHARACTERS = "INS_NIR_CHARACTERS"
    NIR_SEX = "INS_NIR_SEX"
    NIR_MONTH = "INS_NIR_MONTH"
    NIR_DEPARTMENT = "INS_NIR_DEPARTMENT"
    NIR_COMMUNE = "INS_NIR_COMMUNE"
    NIR_ORDER = "INS_NIR_ORDER"
    NIR_KEY_FORMAT = "INS_NIR_KEY_FORMAT"
    NIR_KEY_MISMATCH = "INS_NIR_KEY_MISMATCH"
    # traits (FACTS §1.2)
    TRAIT_MISSING = "INS_TRAIT_MISSING"
    NAME_CHARACTERS = "INS_NAME_CHARACTERS"
    NAME_NOT_NORMALISED = "INS_NAME_NOT_NORMALISED"
    NAME_TOO_LONG = "INS_NAME_TOO_LONG"
    SEX_INVALID = "INS_SEX_INVALID"
    DATE_FORMAT = "INS_DATE_FORMAT"
    DATE_IMPOSSIBLE = "INS_DATE_IMPOSSIBLE"
    DATE_FUTURE = "INS_DATE_FUTURE"
    COG_FORMAT = "INS_COG_FORMAT"
    RANK_INVALID = "INS_RANK_INVALID"
    # RNIV (FACTS §1.4, App. B)
    RNIV_TRANSITION = "INS_RNIV_TRANSITION"


# id -> (french, english)
CATALOGUE: dict[MsgId, tuple[str, str]] = {
    MsgId.NIR_EMPTY: ("Le matricule INS est vide.", "The INS matricule is empty."),
    MsgId.NIR_LENGTH: (
        "Le matricule INS doit compter {expected} caractères ({got} reçus).",
        "The INS matricule must have {expected} characters ({got} received).",
    ),
    MsgId.NIR_CHARACTERS: (
        "Le matricule INS ne contient que des chiffres (et 2A/2B en positions 6-7 pour la Corse) : "
        "caractère « {char} » en position {position}.",
        "The INS matricule holds digits only (and 2A/2B at positions 6-7 for Corsica): "
        "character '{char}' at position {position}.",
    ),
    MsgId.NIR_SEX: (
        "Premier caractère « {value} » invalide : 1 ou 2 pour un NIR, 7 ou 8 pour un NIA.",
        "First character '{value}' is invalid: 1 or 2 for a NIR, 7 or 8 for a NIA.",
    ),
    MsgId.NIR_MONTH: (
        "Mois de naissance « {value} » invalide : 01 à 12, ou 20 à 42 et 50 à 99 pour un état civil "
        "incomplet.",
        "Birth month '{value}' is invalid: 01 to 12, or 20 to 42 and 50 to 99 for an incomplete civil "
        "status.",
    ),
    MsgId.NIR_DEPARTMENT: (
        "Département de naissance « {value} » invalide : 01 à 99, 2A ou 2B (99 = né à l'étranger).",
        "Birth department '{value}' is invalid: 01 to 99, 2A or 2B (99 = born abroad).",
    ),
    MsgId.NIR_COMMUNE: (
        "Code commune ou pays « {value} » invalide : 3 chiffres attendus.",
        "Commune or country code '{value}' is invalid: 3 digits expected.",
    ),
    MsgId.NIR_ORDER: (
        "Numéro d'ordre « {value} » invalide : 001 à 999.",
        "Order number '{value}' is invalid: 001 to 999.",
    ),
    MsgId.NIR_KEY_FORMAT: (
        "Clé « {value} » invalide : deux chiffres de 01 à 97 attendus.",
        "Key '{value}' is invalid: two digits from 01 to 97 expected.",
    ),
    MsgId.NIR_KEY_MISMATCH: (
        "Clé « {value} » incorrecte pour le matricule {number} : la clé calculée est {expected} "
        "(97 − N mod 97, 2A→19, 2B→18).",
        "Key '{value}' is wrong for matricule {number}: the computed key is {expected} "
        "(97 − N mod 97, 2A→19, 2B→18).",
    ),
    MsgId.TRAIT_MISSING: ("Le trait « {field} » est obligatoire.", "Trait '{field}' is required."),
    MsgId.NAME_CHARACTERS: (
        "« {field} » contient un caractère non autorisé « {char} » : lettres majuscules sans accent, "
        "{allowed} uniquement.",
        "'{field}' contains a character that is not allowed '{char}': upper-case letters without "
        "accents, {allowed} only.",
    ),
    MsgId.NAME_NOT_NORMALISED: (
        "« {field} » doit être en majuscules sans accent comme l'INSi l'attend : « {value} » devrait "
        "s'écrire « {normalised} ».",
        "'{field}' must be upper case without accents as INSi expects: '{value}' should be written "
        "'{normalised}'.",
    ),
    MsgId.NAME_TOO_LONG: (
        "« {field} » dépasse {max} caractères.", "'{field}' is longer than {max} characters.",
    ),
    MsgId.SEX_INVALID: (
        "Sexe « {value} » invalide : M ou F attendu.", "Sex '{value}' is invalid: M or F expected.",
    ),
    MsgId.DATE_FORMAT: (
        "Date de naissance « {value} » invalide : format AAAA-MM-JJ attendu.",
        "Birth date '{value}' is invalid: format YYYY-MM-DD expected.",
    ),
    MsgId.DATE_IMPOSSIBLE: (
        "Date de naissance « {value} » impossible (jour ou mois hors calendrier).",
        "Birth date '{value}' is impossible (day or month outside the calendar).",
    ),
    MsgId.DATE_FUTURE: (
        "Date de naissance « {value} » dans le futur.", "Birth date '{value}' is in the future.",
    ),
    MsgId.COG_FORMAT: (
        "Lieu de naissance « {value} » invalide : code officiel géographique de 5 caractères attendu "
        "(5 chiffres, 2A/2B + 3 chiffres, 99 + code pays).",
        "Birth place '{value}' is invalid: 5-character official geographic code expected "
        "(5 digits, 2A/2B + 3 digits, 99 + country code).",
    ),
    MsgId.RANK_INVALID: (
        "Rang de naissance « {value} » invalide : entier de 1 à 9 attendu.",
        "Birth rank '{value}' is invalid: integer from 1 to 9 expected.",
    ),
    MsgId.RNIV_TRANSITION: (
        "Transition RNIV impossible : {status} ne change pas sur l'événement {event}.",
        "Impossible RNIV transition: {status} does not change on event {event}.",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: stable id, where (field name), and text parameters."""

    msg_id: MsgId
    field: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "fr") -> str:
        fr, en = CATALOGUE[self.msg_id]
        return (fr if lang == "fr" else en).format(field=self.field, **self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.msg_id.value, "field": self.field, "fr": self.text("fr"),
                "en": self.text("en")}
