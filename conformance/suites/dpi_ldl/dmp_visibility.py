"""Test ``dmp.11`` of suite ``dpi-ldl``: the runner, as the patient, masks the vendor's letter from
professionals in Mon espace santé, then judges what the vendor's software does next (FACTS §3.3
TD3.3a, §3.5: the patient governs the visibility of their documents; the médecin traitant still
sees a masked document, with its label).

The driving step uses only the patient's public surface: a patient token
(``/sandbox/api/.../dmp/patient-token``) and ``POST /dmp/mes/api/documents/{id}/mask``. The
software is then asked to show the patient's DMP documents again. It must ask the DMP (an ITI-67
with ``patient`` and ``status``, not a cached list) and must not undo the patient's choice: no PATCH
putting its own copy's ``securityLabel`` back, no new feed of the letter. The verdict reads the
patient's view again at the end: the document must still be masked.
"""

from __future__ import annotations

from typing import Any

from conformance import EvidenceQuery, Message, TestContext, Text, test
from conformance.suites.dpi_ldl.evidence import (
    document_reference,
    entries,
    ins_returned,
    letter,
    now,
    ordered,
    patient_params,
    patient_text,
    query_params,
    settle,
    subject_identifier,
)

VISIBILITY = Message(
    "dpi-ldl.dmp.visibility", "Après le masquage par le patient : {problem}.",
    "After the patient's masking: {problem}.",
    "Relisez les fiches (ITI-67 avec status) et affichez la visibilité que le DMP renvoie ; ne rétablissez jamais la "
    "valeur de votre copie locale (ni PATCH de securityLabel, ni nouveau versement).",
    "Read the entries again (ITI-67 with status) and show the visibility the DMP returns; never put your local "
    "copy's value back (no securityLabel PATCH, no new feed).")
SETUP = Message(
    "dpi-ldl.dmp.visibility-setup", "Aucun document du logiciel que le patient puisse masquer ({detail}).",
    "No document of the software to mask for the patient ({detail}).",
    "Versez d'abord la lettre de liaison (dmp.03).", "Feed the discharge letter first (dmp.03).")


async def _fed_ids(ctx: TestContext) -> set[str]:
    """Ids of the DocumentReferences the vendor's ITI-65 batches created."""
    out: set[str] = set()
    for ex in await ctx.find(EvidenceQuery(service="dmp", operation="dmp.iti-65", status="200")):
        for e in entries(await ctx.response_json(ex)):
            loc = str((e.get("response") or {}).get("location", ""))
            if loc.startswith("DocumentReference/"):
                out.add(loc.split("/")[1])
    return out


async def _patient_documents(ctx: TestContext, auth: dict[str, str]) -> list[dict[str, Any]]:
    r = await ctx.drive.http("GET", "/dmp/mes/api/documents", headers=auth)
    r.raise_for_status()
    return list(r.json().get("documents") or [])


@test("11", title=Text("Masquage par le patient respecté", "Masking by the patient honoured"),
      description=Text(
          "Le bac à sable, en tant que patient (Mon espace santé), masque aux professionnels la dernière lettre versée "
          "par le logiciel ; le logiciel, invité à réafficher les documents, relit le DMP (ITI-67 avec status) et ne "
          "rétablit pas sa propre visibilité (ni PATCH, ni nouveau versement) : le document reste masqué.",
          "The sandbox, as the patient (Mon espace santé), masks the software's latest letter from professionals; "
          "asked to show the documents again, the software reads the DMP again (ITI-67 with status) and does not put "
          "its own visibility back (no PATCH, no new feed): the document stays masked."),
      verifies=("PDSM.VIS/01", "PDSM.ITI-67/01"))
async def patient_masking(ctx: TestContext) -> None:
    _, bundle = await letter(ctx)
    _, subject = subject_identifier(document_reference(bundle) or {})
    # the patient as INSi knows them (the letter's INS may be mangled: that is dmp.02's verdict)
    ins = next((i for i in await ins_returned(ctx) if subject and i[:13] == subject[:13]), subject)
    token = await ctx.drive.http("POST", f"/sandbox/api/workspaces/{ctx.workspace}/dmp/patient-token",
                                 json={"patient": ins})
    token.raise_for_status()
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    fed = await _fed_ids(ctx)
    current = [d for d in await _patient_documents(ctx, auth) if d.get("id") in fed]
    if not current:
        ctx.fail(SETUP, detail=f"{len(fed)} versé(s), aucun courant / fed, none current")
    # the latest one not masked yet; when the software masked them all (dmp.07), the patient lifts
    # the software's masking of the latest and sets their own
    unmasked = [d for d in current if not d.get("masked_from_professionals")]
    target = max(unmasked or current, key=lambda d: (str(d.get("date") or ""), str(d.get("id"))))
    if not unmasked:
        (await ctx.drive.http("POST", f"/dmp/mes/api/documents/{target['id']}/unmask", headers=auth)).raise_for_status()
    masked = await ctx.drive.http("POST", f"/dmp/mes/api/documents/{target['id']}/mask", headers=auth)
    masked.raise_for_status()
    p = ctx.inputs["patient"]
    start = now()
    found = await ctx.wait_for(EvidenceQuery(service="dmp", operation="dmp.iti-67", label="DMP ITI-67"), prompt=Text(
        f"Le patient {patient_text(p)} vient de masquer aux professionnels, depuis Mon espace santé, le document "
        f"« {target.get('title')} ». Affichez à nouveau la liste de ses documents DMP dans le logiciel.",
        f"Patient {patient_text(p)} has just masked document '{target.get('title')}' from professionals in Mon espace "
        "santé. Show the list of their DMP documents in the software again."),
        action="dmp.refresh", params=patient_params(p))
    search = ordered(found)[0]
    q = query_params(search)
    ctx.check(bool(q.get("status")) and bool(q.get("patient") or q.get("patient.identifier")), VISIBILITY,
              exchanges=(search,), problem="recherche ITI-67 sans patient ou sans status / ITI-67 without patient "
                                           "or status")
    writes = await settle(ctx, start, EvidenceQuery(service="dmp", operation=("dmp.pdsm-patch", "dmp.iti-65")))
    ctx.check(not [w for w in writes if w.operation == "dmp.iti-65"], VISIBILITY, exchanges=writes[:3],
              problem="nouveau versement au lieu d'un simple réaffichage / a new feed instead of showing the list")
    after = {d.get("id"): d for d in await _patient_documents(ctx, auth)}
    still = bool((after.get(target["id"]) or {}).get("masked_from_professionals"))
    ctx.check(still, VISIBILITY, at=f"DocumentReference/{target['id']}.securityLabel",
              exchanges=[w for w in writes if w.operation == "dmp.pdsm-patch"][:3],
              problem="le document n'est plus masqué : le logiciel a rétabli sa visibilité / the document is no longer "
                      "masked: the software put its visibility back")
