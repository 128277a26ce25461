"""Who is calling the DMP: the one adapter between the DMP and the token issuers.

- Professionals present a **PSC access token** (FACTS §4), verified through PSC's public API
  :func:`psc.verify.verify_access_token`; the persona it names is the actor, its ``workspace``
  claim selects the workspace.
- Patients (and legal representatives) present a sandbox **patient token**
  (:mod:`dmp.patient_tokens`).
- The token must name the DMP in its audience (:data:`DMP_AUDIENCE`) and carry :data:`DMP_SCOPE`:
  a token issued to a client for another service is refused (401 ``wrong_audience``, 403 scope).
- The access mode (FACTS §3.5, TRE_R248: ``normal``, ``bris_de_glace``, ``centre_15``) comes from the
  header ``X-DMP-Access-Mode`` or, failing that, the token claim ``dmp_access_mode``.

Errors are FHIR OperationOutcomes: 401 (missing, malformed, expired, bad signature — with
``WWW-Authenticate: Bearer``), 403 (token of another workspace than ``X-Sandbox-Workspace``, or a
token naming no professional).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dmp.access_rules import TRE_R248_SYSTEMS, Mode, Role
from dmp.patient_tokens import KID_PREFIX, PatientTokenError, PatientTokenKeys, header_kid
from sandbox.errors import FhirError

if TYPE_CHECKING:
    from sandbox.context import SandboxContext

#: the audience a PSC access token must name to be used at the DMP (VIHF ``Ressource_URN``, FACTS
#: §3.1); a client gets it by registering ``audiences: ["urn:dmp"]`` (the demo clients have it)
DMP_AUDIENCE = "urn:dmp"
#: the scope a professional's token must carry [U: PSC does not publish a per-service scope]
DMP_SCOPE = "scope_all"
ACCESS_MODE_HEADER = "X-DMP-Access-Mode"
ACCESS_MODE_CLAIM = "dmp_access_mode"
STATE_KEY = "dmp.patient_tokens"


@dataclass(frozen=True)
class Caller:
    role: Role
    actor_id: str
    name: str
    workspace: str
    client_id: str = ""
    ins: str = ""  # patients: their own INS
    represents: str = ""  # legal representatives: the INS of the represented patient
    mode: Mode = Mode.NORMAL
    regulator: bool = False  # PSC Acces_Regulation_Medicale: may use centre_15 (FACTS §3.5, §4)

    @property
    def professional(self) -> bool:
        return self.role is Role.PROFESSIONAL

    @property
    def label(self) -> str:
        return f"{self.role.value}:{self.actor_id}"


def patient_keys(ctx: SandboxContext) -> PatientTokenKeys:
    keys = ctx.state.get(STATE_KEY)
    if keys is None:
        keys = ctx.state[STATE_KEY] = PatientTokenKeys(ctx.db)
    return keys


def issuer(ctx: SandboxContext) -> str:
    return f"{ctx.settings.base_url}/dmp"


class Unauthorized(FhirError):
    """401 for a refused token. ``workspace``: the one the token's signature proved (an expired or
    revoked token of ours), so the refusal is filed as that workspace's evidence; else None."""

    def __init__(self, text: str, workspace: str | None = None) -> None:
        super().__init__(401, "login", text,
                         headers={"WWW-Authenticate": f'Bearer realm="dmp", error="invalid_token", '
                                                      f'error_description="{text[:120]}"'})
        self.workspace = workspace


def _unauthorized(text: str, workspace: str | None = None) -> Unauthorized:
    return Unauthorized(text, workspace)


def parse_mode(value: str | None) -> Mode:
    """A TRE_R248 code, bare or as ``system|code``; the system in either spelling
    (``…/TRE_R248_ModeAcces/…`` as FACTS §3.1 gives it, ``…/TRE_R248-ModeAcces/…`` after the NOS
    pattern) or as its OID."""
    if not value:
        return Mode.NORMAL
    system, sep, code = value.strip().rpartition("|")
    if sep and system not in TRE_R248_SYSTEMS:
        raise FhirError(400, "value", f"système du mode d'accès inconnu {system[:120]!r} dans {ACCESS_MODE_HEADER} : "
                                      f"TRE_R248 attendu, orthographié {TRE_R248_SYSTEMS[0]} ou "
                                      f"{TRE_R248_SYSTEMS[1]} (les deux sont acceptés), ou {TRE_R248_SYSTEMS[2]}")
    try:
        return Mode(code)
    except ValueError:
        raise FhirError(400, "value", f"mode d'accès inconnu {value[:40]!r} (TRE_R248 : normal, bris_de_glace, "
                                      f"centre_15) dans {ACCESS_MODE_HEADER}") from None


async def authenticate(ctx: SandboxContext, authorization: str | None, mode_header: str | None,
                       workspace_header: str | None) -> Caller:
    """The caller of a DMP request, or a FhirError (401/403)."""
    if not authorization:
        raise FhirError(401, "login", "jeton d'accès manquant : en-tête Authorization: Bearer <jeton PSC> requis",
                        headers={"WWW-Authenticate": 'Bearer realm="dmp"'})
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("schéma d'autorisation non supporté : Bearer attendu")
    kid = header_kid(token)
    if kid and kid.startswith(KID_PREFIX):
        caller = await _patient(ctx, token, kid, mode_header)
    else:
        caller = await _professional(ctx, token, mode_header)
    if workspace_header and workspace_header != caller.workspace:
        raise FhirError(403, "forbidden", f"le jeton appartient à l'espace de travail {caller.workspace!r}, "
                                          f"pas à {workspace_header[:64]!r}")
    from dmp.cache import workspace

    if await workspace(ctx, caller.workspace) is None:
        raise FhirError(403, "forbidden", f"espace de travail du jeton inconnu : {caller.workspace!r}")
    return caller


async def _professional(ctx: SandboxContext, token: str, mode_header: str | None) -> Caller:
    from psc import TokenError, verify_access_token

    try:
        tok = await verify_access_token(ctx, token, audience=DMP_AUDIENCE)
    except TokenError as exc:
        raise _unauthorized(f"jeton PSC refusé ({exc.reason.value}) : {exc.description}", exc.workspace) from None
    if DMP_SCOPE not in tok.scopes:
        raise FhirError(403, "forbidden", f"portée insuffisante : le jeton doit porter le scope {DMP_SCOPE!r}",
                        headers={"WWW-Authenticate": f'Bearer realm="dmp", error="insufficient_scope", '
                                                     f'scope="{DMP_SCOPE}"'})
    if tok.professional is None:
        raise FhirError(403, "forbidden", "le jeton ne désigne aucun professionnel de santé "
                                          "(client_credentials refusé : le DMP exige un PS authentifié)")
    pro = tok.professional
    claim = tok.claims.get(ACCESS_MODE_CLAIM)
    mode = parse_mode(mode_header or (claim if isinstance(claim, str) else None))
    name = f"{pro.get('given_name', '')} {pro.get('family_name', '')}".strip()
    return Caller(Role.PROFESSIONAL, pro["id"], name, tok.workspace, tok.client_id, mode=mode,
                  regulator=bool(pro.get("medical_regulation")))


async def _patient(ctx: SandboxContext, token: str, kid: str, mode_header: str | None) -> Caller:
    try:
        c = await patient_keys(ctx).verify(issuer(ctx), token, kid)
    except PatientTokenError as exc:
        raise _unauthorized(f"jeton patient refusé : {exc}") from None
    if mode_header and parse_mode(mode_header) is not Mode.NORMAL:
        raise FhirError(403, "forbidden", "les modes d'urgence sont réservés aux professionnels")
    role = Role.LEGAL_REP if c.role == Role.LEGAL_REP.value else Role.PATIENT
    return Caller(role, c.persona_id, c.persona_id, c.workspace, "mes-espace-sante", c.ins, c.represents)
