"""A small example suite for the runner's own tests (not shipped): it waits for real exchanges a
fake vendor makes over httpx against a running sandbox, and drives the sandbox (a scripted INSi
CR 02). The fake vendor stands where a vendor's software stands: it uses only the wire protocols.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from defusedxml import ElementTree as ET

from conformance import EvidenceQuery, Group, InputSpec, Message, Suite, TestContext, Text, test

TRAITS = "rechercherInsAvecTraitsIdentite"
CTXLPS = "{urn:siram:lps:ctxlps}"
RECSANS = "{http://www.cnamts.fr/INSiRecSans}"
T = Text

NO_IDAM = Message("example.insi.idam", "L'en-tête ContexteLPS ne porte pas de numéro d'autorisation (IDAM).",
                  "The ContexteLPS header carries no authorisation number (IDAM).",
                  "Ajoutez ctxlps:LPS/ctxlps:IDAM.", "Add ctxlps:LPS/ctxlps:IDAM.")
UNEXPECTED_CR = Message("example.insi.cr", "Code retour INSi inattendu : {cr} (attendu {expected}).",
                        "Unexpected INSi return code: {cr} (expected {expected}).")
SAME_REQUEST = Message("example.insi.same-request",
                       "Après un code retour 02, la recherche a été relancée à l'identique ({traits}).",
                       "After return code 02 the search was sent again unchanged ({traits}).",
                       "Affinez la recherche : autre prénom, puis lieu de naissance.",
                       "Refine the search: another first name, then the birthplace.")
WRONG_DISCOVERY = Message("example.psc.discovery", "Document de découverte lu : {path} ; attendu {expected}.",
                          "Discovery document read: {path}; expected {expected}.")


def _traits(body: bytes) -> dict[str, Any]:
    root = ET.fromstring(body)
    rec = root.find(f".//{RECSANS}RECSANSVITALE")
    if rec is None:
        return {}
    return {"nom": rec.findtext(f"{RECSANS}NomNaissance"), "prenoms": [p.text for p in rec.findall(f"{RECSANS}Prenom")],
            "lieu": rec.findtext(f"{RECSANS}LieuNaissance")}


def _insi_query(ctx: TestContext) -> EvidenceQuery:
    return EvidenceQuery(service="ins", operation=TRAITS, label="une recherche INSi par traits / an INSi traits search")


@test("01", title=T("Recherche INSi par traits", "INSi traits search"), verifies=("INS.INSI/01", "INS.INSI/02"))
async def insi_search(ctx: TestContext) -> None:
    found = await ctx.wait_for(_insi_query(ctx), prompt=T("Recherchez l'INS de la patiente {nom}".format(**ctx.inputs),
                                                          "Search the INS of patient {nom}".format(**ctx.inputs)),
                               action="insi_search", params={"nom": ctx.inputs["nom"]})
    ex = found[0]
    root = ET.fromstring(await ctx.request_body(ex))
    ctx.check(root.find(f".//{CTXLPS}IDAM") is not None, NO_IDAM, at="Header/ContexteLPS/LPS/IDAM", exchanges=[ex])
    ctx.check(ex.summary.get("cr") == "00", UNEXPECTED_CR, exchanges=[ex], cr=ex.summary.get("cr"), expected="00")


@test("02", title=T("Code retour 02 : la recherche est affinée", "Return code 02: the search is refined"),
      verifies=("INS.INSI/04",))
async def insi_refines_after_02(ctx: TestContext) -> None:
    await ctx.drive.fault("ins", "multiple", operation=TRAITS)
    nom = ctx.inputs["nom"]
    [first, *_] = await ctx.wait_for(_insi_query(ctx), prompt=T(f"Recherchez à nouveau l'INS de {nom}",
                                                                f"Search the INS of {nom} again"),
                                     action="insi_search", params={"nom": nom})
    if not ctx.check(first.summary.get("cr") == "02", UNEXPECTED_CR, exchanges=[first], cr=first.summary.get("cr"),
                     expected="02"):
        return
    [second, *_] = await ctx.wait_for(_insi_query(ctx), prompt=T("Plusieurs identités : affinez la recherche",
                                                                 "Several identities: refine the search"),
                                      action="insi_refine", params={"nom": ctx.inputs["nom"]})
    before = _traits(await ctx.request_body(first))
    after = _traits(await ctx.request_body(second))
    ctx.check(before != after, SAME_REQUEST, at="Body/RECSANSVITALE", exchanges=[first, second], traits=before)


@test("01", title=T("Découverte Pro Santé Connect", "Pro Santé Connect discovery"), verifies=("PSC.OIDC/01",))
async def psc_discovery(ctx: TestContext) -> None:
    [ex, *_] = await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.discovery", method="GET"),
                                  prompt=T("Lisez le document de découverte PSC", "Read the PSC discovery document"),
                                  action="discovery")
    expected = "/.well-known/wallet-openid-configuration"
    path = str(ex.summary.get("path", ""))
    ctx.check(path.endswith(expected), WRONG_DISCOVERY, exchanges=[ex], path=path, expected=expected)
    doc = await ctx.response_json(ex)
    ctx.check("issuer" in doc, WRONG_DISCOVERY, at="issuer", exchanges=[ex], path=path, expected="issuer")


EXAMPLE = Suite(
    "example", T("Suite d'exemple", "Example suite"), T("Prouve le moteur.", "Proves the engine."), "0.1",
    inputs=(InputSpec("nom", T("Nom de naissance", "Birth name"), default="ADRTROIS"),),
    groups=(Group("insi", T("INSi", "INSi"), T("", ""), (insi_search, insi_refines_after_02)),
            Group("psc", T("PSC", "PSC"), T("", ""), (psc_discovery,))),
    scope=("ins", "psc"),
)


# -- a suite whose tests end every way but pass -----------------------------------------------
@test("crash", title=T("Plante", "Crashes"))
async def crashes(ctx: TestContext) -> None:
    raise ValueError("boom\nsecond line never shown")


@test("caught", title=T("Échec que le test tente d'avaler", "A failure the test tries to swallow"))
async def swallowed(ctx: TestContext) -> None:
    try:
        ctx.fail(UNEXPECTED_CR, cr="99", expected="00")
    except Exception:  # noqa: BLE001 - the point: a test's own except must not turn a fail into a pass
        pass


@test("skip", title=T("Non jugé", "Skipped"))
async def skipped(ctx: TestContext) -> None:
    ctx.skip(T("pas de quoi juger", "nothing to judge"))


@test("omit", title=T("Sans objet", "Omitted"), optional=True)
async def omitted(ctx: TestContext) -> None:
    ctx.omit(T("sans objet", "does not apply"))


ENDINGS = Suite("endings", T("Fins possibles", "Possible endings"), T("", ""), "0.1", inputs=(),
                groups=(Group("meta", T("Méta", "Meta"), T("", ""), (crashes, swallowed, skipped, omitted)),))


# -- driving over HTTP, and many exchanges in one test -----------------------------------------
DRIVE_FAILED = Message("example.drive", "L'appel du banc a répondu {status}.", "The runner's call answered {status}.")


@test("01", title=T("Beaucoup d'échanges", "Many exchanges"))
async def many(ctx: TestContext) -> None:
    r = await ctx.drive.http("GET", f"/sandbox/api/workspaces/{ctx.workspace}/faults")
    ctx.check(r.status_code == 200, DRIVE_FAILED, status=r.status_code)
    # the runner's own call is evidence of nothing: a query for it finds nothing
    ctx.check(not await ctx.find(EvidenceQuery(path_prefix="/sandbox/api/workspaces")), DRIVE_FAILED, status="seen")
    found = await ctx.wait_for(EvidenceQuery(service="psc", operation="psc.discovery"),
                               prompt=T("Lisez 30 fois la découverte", "Read the discovery 30 times"),
                               action="discovery_many", params={"times": 30}, count=30)
    for ex in found:
        await ctx.response_body(ex)


BULK = Suite("bulk", T("Volume", "Volume"), T("", ""), "0.1", inputs=(),
             groups=(Group("io", T("E/S", "I/O"), T("", ""), (many,)),))


# -- a negative check: trailing calls of a step (TestContext.quiet) ------------------------------
TRAILING = Message("example.trailing", "{got} lectures de la découverte (attendu {expected}).",
                   "{got} discovery reads (expected {expected}).")


@test("01", title=T("Appels de fin d'étape", "Trailing calls of a step"))
async def trailing(ctx: TestContext) -> None:
    query = EvidenceQuery(service="psc", operation="psc.discovery")
    [first, *_] = await ctx.wait_for(query, prompt=T("Lisez la découverte deux fois", "Read the discovery twice"),
                                     action="discovery_twice", params={"pause": ctx.inputs["pause"]})
    found = await ctx.quiet(query, first.started_at)
    ctx.check(len(found) == ctx.inputs["expected"], TRAILING, exchanges=found, got=len(found),
              expected=ctx.inputs["expected"])


QUIET = Suite("quiet", T("Fenêtre de calme", "Quiet window"), T("", ""), "0.1",
              inputs=(InputSpec("pause", T("Pause entre les deux lectures (s)", "Pause between the reads (s)"), float,
                                0.0),
                      InputSpec("expected", T("Lectures attendues", "Reads expected"), int, 2)),
              groups=(Group("q", T("Calme", "Quiet"), T("", ""), (trailing,)),))


# -- the fake vendor ---------------------------------------------------------------------------
A1 = """<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:ctxbam="urn:siram:bam:ctxbam"
 xmlns:ctxlps="urn:siram:lps:ctxlps" xmlns:wsa="http://www.w3.org/2005/08/addressing"
 xmlns:ins="http://www.cnamts.fr/INSiRecSans"><soap:Header>
<ctxbam:ContexteBAM Version="01_02"><ctxbam:Id>{u1}</ctxbam:Id>
<ctxbam:Temps>2026-12-06T10:15:00.000+01:00</ctxbam:Temps>
<ctxbam:Emetteur>FAKEDPI</ctxbam:Emetteur><ctxbam:COUVERTURE/></ctxbam:ContexteBAM>
<ctxlps:ContexteLPS Nature="CTXLPS" Version="01_00"><ctxlps:Id>{u2}</ctxlps:Id>
<ctxlps:Temps>2026-12-06T10:15:00.000+01:00</ctxlps:Temps><ctxlps:Emetteur>FAKEDPI</ctxlps:Emetteur>
<ctxlps:LPS><ctxlps:IDAM R="4">AM-TEST-0001</ctxlps:IDAM><ctxlps:Version>1.0</ctxlps:Version>
<ctxlps:Instance>{u3}</ctxlps:Instance><ctxlps:Nom>urn:lps:FAKEDPI:1.0</ctxlps:Nom></ctxlps:LPS></ctxlps:ContexteLPS>
<wsa:Action>urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite</wsa:Action>
<wsa:MessageID>uuid:{u4}</wsa:MessageID></soap:Header><soap:Body><ins:RECSANSVITALE>
<ins:NomNaissance>{nom}</ins:NomNaissance><ins:Prenom>DOMINIQUE</ins:Prenom><ins:Sexe>F</ins:Sexe>
<ins:DateNaissance>1997-02-26</ins:DateNaissance>{lieu}</ins:RECSANSVITALE></soap:Body></soap:Envelope>"""


def soap_traits(nom: str, lieu: str | None = None) -> bytes:
    ids = {f"u{i}": str(uuid.uuid4()) for i in range(1, 5)}
    place = f"<ins:LieuNaissance>{lieu}</ins:LieuNaissance>" if lieu else ""
    return A1.format(nom=nom, lieu=place, **ids).encode()


def fake_vendor(base_url: str, workspace: str, *, key: str, stubborn: bool = False,
                calls: list[str] | None = None) -> Callable[[str, dict[str, Any]], None]:
    """perform(action, params) through the real protocols; ``key`` is the sandbox key INSi over
    plain HTTP asks for (the workspace's or the operator's); ``stubborn`` repeats the same search
    after a CR 02 instead of refining it (a real vendor mistake)."""
    headers = {"X-Sandbox-Workspace": workspace}
    # each workspace is its own PSC realm (the default workspace keeps the shared one)
    realm = "/psc/realms/esante-wallet" if workspace == "default" else f"/psc/w/{workspace}/realms/esante-wallet"

    def perform(action: str, params: dict[str, Any]) -> None:
        if calls is not None:
            calls.append(action)
        with httpx.Client(base_url=base_url, timeout=30) as c:
            if action in ("insi_search", "insi_refine"):
                lieu = "2A020" if action == "insi_refine" and not stubborn else None
                c.post("/ins/insi", content=soap_traits(params["nom"], lieu),
                       headers={**headers, "Content-Type": "application/soap+xml; charset=utf-8",
                                "Authorization": f"Bearer {key}"})
            elif action in ("discovery", "discovery_many"):
                for _ in range(int(params.get("times", 1))):
                    c.get(f"{realm}/.well-known/wallet-openid-configuration", headers=headers)
            elif action == "discovery_twice":  # the second read trails the first by ``pause`` seconds
                c.get(f"{realm}/.well-known/wallet-openid-configuration", headers=headers)
                time.sleep(float(params["pause"]))
                c.get(f"{realm}/.well-known/wallet-openid-configuration", headers=headers)
            else:
                raise ValueError(f"unknown action {action}")

    return perform
