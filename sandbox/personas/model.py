"""Persona domain objects (what repositories return; JSON-ready through :meth:`to_dict`).

Facts: patients' traits as INSi holds them (FACTS §1.1–1.3), RNIV statuses (§1.4), professionals as
PSC describes them (§4 ``SubjectRefPro``), organisations with FINESS/SIRET and sector TRE_R02
(§3.4), MSSanté mailbox types PER/ORG/APP/CAB (§2.6; patients' addresses have none) and patient
addresses (§2.7).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ins import OID_INS_NIA, OID_INS_NIR, Status

__all__ = ["OID_INS_NIA", "OID_INS_NIR", "Activity", "Address", "IdentityStatus", "Mailbox", "Matricule",
           "Organisation", "Patient", "PersonaKind", "Professional", "Vitale", "World"]


class PersonaKind(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    ORGANISATION = "organisation"
    MAILBOX = "mailbox"


#: RNIV statuses (FACTS §1.4) and INS OIDs have one home: the ``ins`` package's public API
IdentityStatus = Status


@dataclass(frozen=True)
class Matricule:
    """An INS matricule: 13 characters + 2-digit key; ``oid`` tells NIR from NIA."""

    number: str  # 13 characters (may contain 2A/2B)
    key: str  # 2 digits
    oid: str
    start: str | None = None  # validity (INSHISTO DateDeb/DateFin)
    end: str | None = None

    @property
    def value(self) -> str:
        """The 15-character form used by FHIR and MSSanté addresses (FACTS §8.2)."""
        return self.number + self.key


@dataclass(frozen=True)
class Vitale:
    """How the patient appears on a carte Vitale (FACTS §1.2 RECVITALE)."""

    matricule_od: str  # insured person's NIR (13 chars + key)
    rang_naissance: int


@dataclass(frozen=True)
class Patient:
    id: str
    birth_name: str
    first_names: tuple[str, ...]
    sex: str  # M | F
    birth_date: str  # YYYY-MM-DD
    birth_place: str  # COG, 5 characters
    ins: Matricule
    history: tuple[Matricule, ...]
    identity_status: IdentityStatus
    vitale: Vitale | None
    mailbox: str
    used_name: str = ""
    origin: str = "synthetic"  # or "public-test" for the published test identities
    tags: tuple[str, ...] = ()  # e.g. "homonym", "nia", "corsica", "abroad"

    @property
    def label(self) -> str:
        return f"{self.birth_name} {' '.join(self.first_names)}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = PersonaKind.PATIENT.value
        d["ins"]["value"] = self.ins.value
        d["matricule"] = self.ins.value
        return d


@dataclass(frozen=True)
class Activity:
    """One activity at a site (PSC ``SubjectRefPro.exercices[].activities[]``)."""

    organisation_id: str
    mode_exercice: str  # L (libéral) | S (salarié)
    role: str = ""


@dataclass(frozen=True)
class Professional:
    id: str  # IDNPS (8 + RPPS) or other national id
    rpps: str
    id_origin: str  # RPPS | EDIT
    civility: str  # M | MME
    exercise_civility: str  # DR | ...
    family_name: str
    given_name: str
    profession: str  # G15 code
    profession_label: str
    category: str  # C civil
    savoir_faire_type: str
    savoir_faire: str
    savoir_faire_label: str
    activities: tuple[Activity, ...]
    mailbox: str
    email: str
    origin: str = "synthetic"
    #: may act as SAMU medical regulator (PSC ``Acces_Regulation_Medicale`` VRAI, DMP mode centre_15)
    medical_regulation: bool = False

    @property
    def label(self) -> str:
        return f"{self.exercise_civility or self.civility} {self.given_name} {self.family_name}".strip()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = PersonaKind.PROFESSIONAL.value
        return d


@dataclass(frozen=True)
class Address:
    line: str
    postal_code: str
    city: str
    cog: str
    country: str = "99000"


@dataclass(frozen=True)
class Organisation:
    id: str  # FINESS ET (or EJ for legal entities)
    finess_et: str
    finess_ej: str
    siret: str
    siren: str
    name: str
    sector: str  # TRE_R02 code
    sector_label: str
    category: str  # hospital | lab | imaging | practice
    address: Address
    mailboxes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = PersonaKind.ORGANISATION.value
        return d


@dataclass(frozen=True)
class Mailbox:
    id: str  # the address
    #: directory type PER | ORG | APP | CAB (JDV_J139); None for a patient's Mon espace santé
    #: address ``<INS15>@patient.mssante.fr``, which the directory does not list (FACTS §2.6, §2.7)
    type: str | None
    owner_kind: str
    owner_id: str
    domain: str
    description: str = ""

    @property
    def label(self) -> str:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = PersonaKind.MAILBOX.value
        return d


Persona = Patient | Professional | Organisation | Mailbox


@dataclass
class World:
    """The whole synthetic world for one seed."""

    seed: int
    patients: list[Patient] = field(default_factory=list)
    professionals: list[Professional] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    mailboxes: list[Mailbox] = field(default_factory=list)

    def of_kind(self, kind: PersonaKind) -> list[Persona]:
        return {
            PersonaKind.PATIENT: self.patients,
            PersonaKind.PROFESSIONAL: self.professionals,
            PersonaKind.ORGANISATION: self.organisations,
            PersonaKind.MAILBOX: self.mailboxes,
        }[kind]
