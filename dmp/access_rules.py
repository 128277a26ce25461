"""DMP access decision as one ordered table (FACTS §3.5, appendix B "DMP access decision",
§3.3 TD0.2/TD3.3c, §3.4 TRE_A07 visibility).

Every DMP call builds an :class:`AccessRequest` and asks :func:`decide`; the first row of
:data:`RULES` whose condition holds gives the decision. Each row has a stable id (``dmp.acc.NN``)
that the audit trail and the OperationOutcome carry, and a test in ``tests/dmp/test_access_rules.py``.
Document visibility for the caller (masked, invisible) is a second table, :data:`VISIBILITY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    PROFESSIONAL = "professional"
    PATIENT = "patient"
    LEGAL_REP = "legal_representative"


class Action(StrEnum):
    FEED = "feed"  # ITI-65 (TD2.1/2.2)
    CONSULT = "consult"  # ITI-66/67/68 (TD3.1/3.2)
    UPDATE = "update"  # PDSm PATCH of securityLabel / archive (TD3.3a/b/d)
    DELETE = "delete"  # PDSm PATCH of status (TD3.3c)
    MANAGE = "manage"  # the patient's own settings: mask from PS, block a PS
    READ_AUDIT = "read_audit"  # access history (AuditEvent)


#: TRE_R248-ModeAcces (FACTS §3.1): the canonical FACTS gives, and the spelling of the NOS pattern
#: ``TRE_<n>-<Name>`` that other documents use; both are accepted, the first is written
TRE_R248 = "https://mos.esante.gouv.fr/NOS/TRE_R248_ModeAcces/FHIR/TRE-R248-ModeAcces"
TRE_R248_SYSTEMS = (TRE_R248, "https://mos.esante.gouv.fr/NOS/TRE_R248-ModeAcces/FHIR/TRE-R248-ModeAcces",
                    "urn:oid:1.2.250.1.213.1.1.4.248")


class Mode(StrEnum):
    """TRE_R248-ModeAcces (FACTS §3.1, §8.14)."""

    NORMAL = "normal"
    BRIS_DE_GLACE = "bris_de_glace"
    CENTRE_15 = "centre_15"


@dataclass(frozen=True)
class DmpFacts:
    ins: str
    open: bool
    medecin_traitant: str = ""
    authorize_all: bool = False
    authorized: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    legal_reps: tuple[str, ...] = ()
    refuses_bris_de_glace: bool = False
    refuses_centre_15: bool = False


@dataclass(frozen=True)
class AccessRequest:
    role: Role
    actor_id: str  # IDNPS for professionals, patient persona id for patients/representatives
    action: Action
    dmp: DmpFacts | None
    mode: Mode = Mode.NORMAL
    actor_ins: str = ""  # the patient's own INS (patient role)
    ins_qualified: bool = True  # FEED only: RNIV status QUAL (FACTS §1.4)
    is_author: bool = False  # DELETE only: the caller fed the document
    regulator: bool = False  # the professional may act as SAMU regulator (PSC Acces_Regulation_Medicale)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    status: int = 200
    code: str = "forbidden"
    text: str = ""
    emergency: bool = False
    hide_masked_ps: bool = False
    hide_invisible_patient: bool = False
    hide_invisible_rl: bool = False


def _dmp(r: AccessRequest) -> DmpFacts:
    """The DMP of a request past rule dmp.acc.01 (which answers when there is none)."""
    assert r.dmp is not None
    return r.dmp


def _pro(r: AccessRequest) -> bool:
    return r.role is Role.PROFESSIONAL


def _mt(r: AccessRequest) -> bool:
    return r.dmp is not None and bool(r.dmp.medecin_traitant) and r.dmp.medecin_traitant == r.actor_id


def _authorized(r: AccessRequest) -> bool:
    return r.dmp is not None and (r.dmp.authorize_all or r.actor_id in r.dmp.authorized)


_CONSULTING = (Action.CONSULT, Action.UPDATE)


@dataclass(frozen=True)
class Rule:
    id: str
    when: Callable[[AccessRequest], bool]
    allow: bool
    status: int = 200
    code: str = "forbidden"
    text: str = ""
    emergency: bool = False


#: first match wins; the last row denies everything else
RULES: tuple[Rule, ...] = (
    Rule("dmp.acc.01", lambda r: r.dmp is None, False, 404, "not-found",
         "Ce patient n'a pas de DMP (TD0.2)."),
    Rule("dmp.acc.02", lambda r: not _dmp(r).open and r.action is not Action.READ_AUDIT, False, 403, "forbidden",
         "Le DMP de ce patient est fermé."),
    Rule("dmp.acc.03", lambda r: r.role is Role.PATIENT and r.actor_ins != _dmp(r).ins, False, 403, "forbidden",
         "Un patient n'accède qu'à son propre DMP."),
    Rule("dmp.acc.04", lambda r: r.role is Role.LEGAL_REP and r.actor_id not in _dmp(r).legal_reps, False, 403,
         "forbidden", "Cette personne n'est pas représentant légal du patient."),
    # [U] blocking, like authorizations, governs access to the record, not feeding (FACTS §3.5)
    Rule("dmp.acc.05", lambda r: _pro(r) and r.actor_id in _dmp(r).blocked and r.action is not Action.FEED, False,
         403, "forbidden", "Le patient a bloqué l'accès de ce professionnel à son DMP (même en urgence)."),
    # centre_15 is the regulation centre's mode (FACTS §3.5, TRE_R248): a professional PSC does not
    # describe as a medical regulator (Acces_Regulation_Medicale VRAI) may not use it
    Rule("dmp.acc.18", lambda r: _pro(r) and r.mode is Mode.CENTRE_15 and not r.regulator, False, 403, "forbidden",
         "Mode centre_15 réservé aux médecins régulateurs (Acces_Regulation_Medicale) d'un centre de régulation."),
    Rule("dmp.acc.19", lambda r: _pro(r) and r.action in _CONSULTING and r.mode is Mode.BRIS_DE_GLACE
         and _dmp(r).refuses_bris_de_glace, False, 403, "forbidden",
         "Le patient s'est opposé à l'accès en bris de glace à son DMP."),
    Rule("dmp.acc.20", lambda r: _pro(r) and r.action in _CONSULTING and r.mode is Mode.CENTRE_15
         and _dmp(r).refuses_centre_15, False, 403, "forbidden",
         "Le patient s'est opposé à l'accès de la régulation médicale (centre_15) à son DMP."),
    Rule("dmp.acc.06", lambda r: _pro(r) and r.action is Action.FEED and not r.ins_qualified, False, 422,
         "business-rule",
         "Alimentation refusée : l'identité du patient n'est pas qualifiée (INS au statut QUAL requis)."),
    Rule("dmp.acc.07", lambda r: _pro(r) and r.action is Action.FEED, True,
         text="Alimentation : aucune autorisation d'accès requise."),
    Rule("dmp.acc.08", lambda r: _pro(r) and r.action is Action.DELETE and not r.is_author, False, 403, "forbidden",
         "Seul l'auteur du document peut le supprimer (TD3.3c)."),
    Rule("dmp.acc.09", lambda r: _pro(r) and r.action is Action.DELETE, True, text="Suppression par l'auteur."),
    Rule("dmp.acc.10", lambda r: _pro(r) and r.action in _CONSULTING and r.mode is Mode.CENTRE_15, True,
         text="Accès en mode centre de régulation (centre_15) : tracé et signalé.", emergency=True),
    Rule("dmp.acc.11", lambda r: _pro(r) and r.action in _CONSULTING and r.mode is Mode.BRIS_DE_GLACE, True,
         text="Accès en bris de glace : tracé, signalé au patient.", emergency=True),
    Rule("dmp.acc.12", lambda r: _pro(r) and r.action in _CONSULTING and _mt(r), True,
         text="Médecin traitant DMP."),
    Rule("dmp.acc.13", lambda r: _pro(r) and r.action in _CONSULTING and _authorized(r), True,
         text="Professionnel autorisé par le patient."),
    Rule("dmp.acc.14", lambda r: _pro(r) and r.action in _CONSULTING, False, 403, "forbidden",
         "Ce professionnel n'est pas autorisé à consulter ce DMP (ni médecin traitant, ni autorisé)."),
    Rule("dmp.acc.15", lambda r: r.role is Role.PATIENT and r.action in (Action.CONSULT, Action.MANAGE,
                                                                         Action.READ_AUDIT), True,
         text="Le patient consulte et gère son DMP."),
    Rule("dmp.acc.16", lambda r: r.role is Role.LEGAL_REP and r.action in (Action.CONSULT, Action.MANAGE,
                                                                           Action.READ_AUDIT), True,
         text="Représentant légal du patient."),
    Rule("dmp.acc.17", lambda r: _pro(r) and r.action is Action.READ_AUDIT and _mt(r), True,
         text="Le médecin traitant DMP consulte l'historique."),
    Rule("dmp.acc.99", lambda r: True, False, 403, "forbidden", "Action non permise pour cet acteur."),
)


@dataclass(frozen=True)
class Hide:
    """A row of the visibility table: documents carrying ``flag`` are hidden from ``roles`` unless
    ``unless`` holds."""

    id: str
    flag: str  # Decision attribute set when the row applies
    roles: tuple[Role, ...]
    unless: Callable[[AccessRequest], bool] = field(default=lambda r: False)


VISIBILITY: tuple[Hide, ...] = (
    Hide("dmp.vis.01", "hide_masked_ps", (Role.PROFESSIONAL,), _mt),  # MASQUE_PS
    Hide("dmp.vis.02", "hide_invisible_patient", (Role.PATIENT, Role.LEGAL_REP)),  # INVISIBLE_PATIENT
    Hide("dmp.vis.03", "hide_invisible_rl", (Role.LEGAL_REP,)),  # INVISIBLE_REPRESENTANTS_LEGAUX
)


def decide(request: AccessRequest) -> Decision:
    """The decision of the first matching rule, with the caller's visibility filters."""
    for rule in RULES:
        if rule.when(request):
            if not rule.allow:
                return Decision(False, rule.id, rule.status, rule.code, rule.text)
            hides = {h.flag: True for h in VISIBILITY if request.role in h.roles and not h.unless(request)}
            return Decision(True, rule.id, 200, "informational", rule.text, rule.emergency, **hides)
    raise AssertionError("the last rule matches everything")  # pragma: no cover
