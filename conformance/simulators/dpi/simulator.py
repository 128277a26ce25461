"""The reference DPI (hospital EHR) simulator: a scripted vendor product that does everything
right through the wire protocols only — PSC (:mod:`.psc_login`), INSi SOAP (:mod:`.insi_client`),
DMP FHIR (:mod:`.dmp_client`, :mod:`.letter`) — and copies, on request, the vendor mistakes of
:mod:`.faults`.

:meth:`DpiSimulator.perform` runs one *action* of the conformance runner's pending step (the
machine-readable side of its prompt to a human vendor); :data:`SCENARIO` is the sequence a full
``dpi-ldl`` run asks for, which ``mes-sandbox simulate dpi`` plays alone (scripting through the
sandbox's public fault API the faults the runner's driving steps would script).
"""

from __future__ import annotations

import imaplib
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from conformance.simulators.dpi import letter, messaging
from conformance.simulators.dpi.config import SimulatorConfig
from conformance.simulators.dpi.dmp_client import INS_NIR_OID, TRE_A07_MISSPELT, DmpClient, TokenRefused, dmp_is_open
from conformance.simulators.dpi.faults import BY_NAME
from conformance.simulators.dpi.insi_client import InsiAnswer, InsiClient, InsiError, Traits
from conformance.simulators.dpi.mail import MailEndpoints
from conformance.simulators.dpi.psc_login import LoginError, PscClient, Session

log = logging.getLogger(__name__)

REALM_PATH = "/psc/realms/esante-wallet"
TEST_OID = "1.2.250.1.213.1.4.10"
OTHER_PROFESSIONAL = "899700366240"
ACTIONS = ("psc.login", "psc.refresh", "psc.logout", "insi.search", "dmp.feed", "dmp.replace", "dmp.search",
           "dmp.mask", "dmp.retrieve", "dmp.refresh", "mss.send_letter", "mss.receive")


class UnknownAction(ValueError):
    """The runner asked for an action this simulator does not know."""


@dataclass
class Record:
    """What the simulator did for one action (for its own report and tests)."""

    action: str
    ok: bool
    detail: str = ""


@dataclass
class DpiSimulator:
    config: SimulatorConfig
    session: Session | None = None
    identities: dict[Traits, InsiAnswer] = field(default_factory=dict)
    documents: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    professional_name: tuple[str, str] = ("", "")
    records: list[Record] = field(default_factory=list)
    masked: set[str] = field(default_factory=set)  # masterIdentifiers the DPI masked itself
    action: str = ""
    _secret: str = ""

    def __post_init__(self) -> None:
        unknown = [f for f in self.config.faults if f not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        c = self.config
        headers = {"X-Sandbox-Workspace": c.workspace, "User-Agent": "mes-sandbox-dpi-simulator/1.0"}
        self.http = httpx.Client(timeout=c.timeout, headers=headers, follow_redirects=False, verify=c.verify)
        self.insi_http = (httpx.Client(timeout=c.timeout, cert=c.cert, verify=c.verify) if c.cert
                          else self.http)
        self.psc = self._psc()
        # without a client certificate the sandbox's INSi takes its key instead (docs/security.md)
        self.insi = InsiClient(self.insi_http, c.insi_url, c.workspace, key="" if c.cert else c.api_key)
        self.dmp = DmpClient(self.http, c.base_url + "/dmp/fhir", c.workspace, self._access_token)
        self.mail = c.mail or MailEndpoints.from_environment(c.base_url)

    def close(self) -> None:
        self.http.close()
        if self.insi_http is not self.http:
            self.insi_http.close()

    def __enter__(self) -> DpiSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the runner's entry point ---------------------------------------------------------
    def perform(self, action: str, params: dict[str, Any] | None = None) -> Record:
        """Perform one action of the runner's pending step. Never raises for what the services
        answered (a refusal is part of what is judged); raises :class:`UnknownAction`."""
        handler: Callable[[dict[str, Any]], str] | None = getattr(self, "_" + action.replace(".", "_"), None)
        if action not in ACTIONS or handler is None:
            raise UnknownAction(action)
        self.action = action
        try:
            rec = Record(action, True, handler(dict(params or {})))
        except (LoginError, InsiError, TokenRefused, httpx.HTTPError, KeyError, ValueError, smtplib.SMTPException,
                imaplib.IMAP4.error, OSError) as exc:
            rec = Record(action, False, f"{type(exc).__name__}: {exc}")
        finally:
            self.action = ""
        self.records.append(rec)
        log.info("simulator %s: %s %s", action, "ok" if rec.ok else "failed", rec.detail)
        return rec

    def fault(self, name: str) -> bool:
        """Whether the vendor mistake ``name`` applies to the action under way."""
        return name in self.config.faults and self.action in BY_NAME[name].actions

    # -- PSC ------------------------------------------------------------------------------
    def _psc(self) -> PscClient:
        c = self.config
        # a workspace's own realm (/psc/w/<ws>/realms/…) when the sandbox has one, else the shared one
        own = f"{c.base_url}/psc/w/{c.workspace}/realms/esante-wallet" if c.workspace != "default" else ""
        issuers = c.issuer or f"{own} {c.base_url}{REALM_PATH}".strip()
        return PscClient(self.http, issuers, c.client_id, c.client_secret or self._client_secret(), c.redirect_uri,
                         c.post_logout_redirect_uri)

    @property
    def api_headers(self) -> dict[str, str]:
        """``Authorization`` for the sandbox's own API (``/sandbox/api``), never sent to the national
        services (INSi without a client certificate excepted: the sandbox's key stands for it there)."""
        return {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}

    def _client_secret(self) -> str:
        """The demo PSC client's secret, as its administrator reads it (random per workspace)."""
        if not self._secret:
            c = self.config
            r = self.http.get(f"{c.base_url}/sandbox/api/workspaces/{c.workspace}/psc/clients/{c.client_id}",
                              headers=self.api_headers)
            r.raise_for_status()
            self._secret = r.json()["client_secret"]
        return self._secret

    def _login(self, *, faulty: bool = False) -> Session:
        self.psc = self._psc()  # a fresh login reads the discovery document again
        self.psc.discover(standard_name=faulty and self.fault("standard-discovery"))
        try:
            session = self.psc.login(self.config.professional,
                                     pkce=not (faulty and self.fault("pkce-missing")),
                                     acr=not (faulty and self.fault("acr-missing")),
                                     verify=not (faulty and self.fault("id-token-not-verified")))
        except LoginError:
            if not faulty:
                raise
            session = self.psc.login(self.config.professional)  # the operator tries again, properly
        self.session = session
        r = self.http.get(self.psc.meta["userinfo_endpoint"],
                          headers={"Authorization": f"Bearer {session.access_token}"})
        if r.status_code == 200:
            info = r.json()
            self.professional_name = (info.get("family_name", ""), info.get("given_name", ""))
        return session

    def _access_token(self) -> str:
        if self.session is None:
            self._login()
        assert self.session is not None
        return self.session.access_token

    def _renew(self) -> None:
        """After a 401: refresh, or log in again when the refresh token is refused too."""
        if self.session is not None and self.session.refresh_token:
            try:
                self.session = self.psc.refresh(self.session)
                return
            except LoginError:
                pass
        self._login()

    def _with_token(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return call()
        except TokenRefused:
            if self.fault("replay-revoked-token"):
                return call()  # the same token again: refused again
            self._renew()
            return call()

    def _psc_login(self, params: dict[str, Any]) -> str:
        if params.get("professional"):
            self.config.professional = str(params["professional"])
        s = self._login(faulty=True)
        return f"logged in, sid {s.claims.get('sid', '')}"

    def _psc_refresh(self, params: dict[str, Any]) -> str:
        if self.session is None:
            self._login()
        assert self.session is not None
        if self.fault("no-refresh"):
            self._login()
            return "logged in again"
        self.session = self.psc.refresh(self.session)
        return "refreshed"

    def _psc_logout(self, params: dict[str, Any]) -> str:
        if self.session is None:
            self._login()
        assert self.session is not None
        self.psc.logout(self.session)
        if not self.fault("token-after-logout"):
            self.session = None
        return "logged out"

    # -- INSi -----------------------------------------------------------------------------
    def _search_identity(self, traits: Traits, *, faulty: bool) -> InsiAnswer:
        repeat = frozenset(cr for cr, name in (("01", "cr01-same-request"), ("02", "cr02-same-request"))
                           if faulty and self.fault(name))
        normalise = not (faulty and self.fault("traits-not-normalised"))
        storm = faulty and self.fault("insi-fault-storm")
        for attempt in range(6 if storm else 2):
            try:
                ans = self.insi.search(traits, normalise_traits=normalise, repeat_on=repeat)
                break
            except InsiError as exc:
                if attempt == (5 if storm else 1) or not exc.technical:
                    raise  # a refused request is corrected, not resent
                if not storm:
                    time.sleep(0.3)  # one retry after a pause, then the user is told
        if ans.cr == "00":
            self.identities[traits] = ans
        return ans

    def _insi_search(self, params: dict[str, Any]) -> str:
        traits = Traits.from_dict(params["patient"])
        ans = self._search_identity(traits, faulty=True)
        return f"CR {ans.cr} {ans.ins}"

    def _identity(self, patient: dict[str, Any]) -> tuple[str, str] | None:
        """The (INS, OID) the DPI may transmit for ``patient``: only for a qualified identity (RNIV
        QUAL), with the matricule INSi returned; None otherwise (FACTS §1.1, §1.4)."""
        traits = Traits.from_dict(patient)
        status = patient.get("identity_status", "QUAL")
        if status != "QUAL":
            if self.fault("prov-identity-used") and patient.get("matricule"):
                m = str(patient["matricule"])
                return m, "1.2.250.1.213.1.4.9" if m[:1] in "78" else INS_NIR_OID
            if traits not in self.identities:
                try:
                    self._search_identity(traits, faulty=False)  # retrieval (RECUP at best), never sent
                except InsiError:
                    pass
            return None
        ans = self.identities.get(traits) or self._search_identity(traits, faulty=False)
        if ans.cr != "00":
            return None
        return ans.ins, ans.oid or INS_NIR_OID

    def _patient_traits(self, patient: dict[str, Any]) -> dict[str, Any]:
        traits = Traits.from_dict(patient)
        ans = self.identities.get(traits)
        firsts = (ans.first_names.split() if ans and ans.first_names else
                  [f.upper() for f in traits.first_names])
        gender = traits.sex if self.fault("gender-not-mapped") else {"M": "male", "F": "female"}.get(traits.sex,
                                                                                                      "unknown")
        return {"family": traits.birth_name.upper(), "given": firsts[:1],
                "birth_list": " ".join(firsts), "gender": gender,
                "birth_date": traits.birth_date, "birth_place": traits.birth_place}

    # -- DMP ------------------------------------------------------------------------------
    def _feed(self, patient: dict[str, Any], *, title: str, replaces: str | None = None,
              check_dmp: bool = True) -> str:
        ident = self._identity(patient)
        if ident is None:
            return "identity not qualified: nothing sent to the DMP"
        ins, oid = ident
        if check_dmp and not self.fault("no-dmp-check"):
            if not dmp_is_open(self._with_token(lambda: self.dmp.existence(ins, oid))):
                return "no open DMP: nothing sent"
        # the mistakes in how the letter codes the INS (the DMP lookup above used it right)
        doc_ins = ins[:13] if self.fault("ins-without-key") else ins
        doc_oid = TEST_OID if self.fault("ins-test-oid") else oid
        family, given = self.professional_name
        author = OTHER_PROFESSIONAL if self.fault("author-not-logged-in-user") else self.config.professional
        bundle, master = letter.letter_bundle(
            ins=doc_ins, oid=doc_oid, author_rpps=author, author_family=family or "INCONNU", author_given=given or "X",
            title=title, replaces=replaces, patient=self._patient_traits(patient),
            type_code="11502-2" if self.fault("wrong-type-code") else letter.LDL_TYPE,
            class_code="90" if self.fault("wrong-class-code") else letter.LDL_CLASS,
            format_code="urn:ihe:iti:xds-sd:pdf:2008" if self.fault("wrong-format-code") else letter.LDL_FORMAT)
        r = self._with_token(lambda: self.dmp.provide(bundle, honour_retry_after=not self.fault("retry-storm")))
        if r.status_code != 200:
            return f"ITI-65 refused: HTTP {r.status_code}"
        doc_id = r.json()["entry"][1]["response"]["location"].split("/")[1]
        self.documents.setdefault(ins, []).append({"id": doc_id, "master": master})
        return f"DocumentReference/{doc_id}"

    def _dmp_feed(self, params: dict[str, Any]) -> str:
        return self._feed(params["patient"], title=str(params.get("title") or "Lettre de liaison à la sortie"))

    def _last_document(self, patient: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
        ident = self._identity(patient)
        if ident is None:
            return None
        docs = self.documents.get(ident[0])
        if not docs:
            saved, self.action = self.action, "dmp.feed-internal"  # a plain, fault-free feed
            try:
                self._feed(patient, title="Lettre de liaison à la sortie")
            finally:
                self.action = saved
            docs = self.documents.get(ident[0])
        return (ident[0], docs[-1]) if docs else None

    def _dmp_replace(self, params: dict[str, Any]) -> str:
        last = self._last_document(params["patient"])
        if last is None:
            return "nothing to replace"
        ins, doc = last
        without = self.fault("replace-without-relatesto")
        result = self._feed(params["patient"], title=str(params.get("title") or "Lettre de liaison (corrigée)"),
                            replaces=None if without else doc["id"], check_dmp=False)
        if result.startswith("DocumentReference/"):
            self.documents[ins] = [d for d in self.documents[ins] if d["id"] != doc["id"] or without]
        return result

    def _dmp_search(self, params: dict[str, Any]) -> str:
        ident = self._identity(params["patient"])
        if ident is None:
            return "identity not qualified"
        ins, oid = ident
        docs = self.documents.get(ins)
        if self.fault("read-instead-of-search") and docs:
            r = self._with_token(lambda: self.dmp.read(docs[-1]["id"]))
        else:
            with_status = not self.fault("search-without-status")
            r = self._with_token(lambda: self.dmp.search(ins, oid=oid, with_status=with_status))
        return f"HTTP {r.status_code}"

    def _dmp_mask(self, params: dict[str, Any]) -> str:
        last = self._last_document(params["patient"])
        if last is None:
            return "nothing to mask"
        _, doc = last
        system = TRE_A07_MISSPELT if self.fault("mask-misspelt-system") else letter.TRE_A07
        r = self._with_token(lambda: self.dmp.mask("urn:ietf:rfc:3986", doc["master"], label_system=system))
        self.masked.add(doc["master"])
        return f"HTTP {r.status_code}"

    def _dmp_refresh(self, params: dict[str, Any]) -> str:
        """The patient's document list again (ITI-67 with status). With ``restore-visibility`` the DPI
        puts back the visibility its own copy records over a masking it did not do (the patient's)."""
        ident = self._identity(params["patient"])
        if ident is None:
            return "identity not qualified"
        ins, oid = ident
        r = self._with_token(lambda: self.dmp.search(ins, oid=oid))
        if r.status_code != 200 or not self.fault("restore-visibility"):
            return f"HTTP {r.status_code}"
        mine = {d["master"] for d in self.documents.get(ins, [])} - self.masked
        for e in r.json().get("entry") or []:
            res = e.get("resource") or {}
            master = (res.get("masterIdentifier") or {}).get("value")
            codes = [c.get("code") for lab in res.get("securityLabel") or [] for c in lab.get("coding") or []]
            if master in mine and "MASQUE_PS" in codes:
                self._with_token(partial(self.dmp.set_labels, "urn:ietf:rfc:3986", str(master),
                                         [{"coding": [{"system": letter.TRE_A08, "code": "N"}]}]))
        return f"HTTP {r.status_code}"

    def _dmp_retrieve(self, params: dict[str, Any]) -> str:
        ident = self._identity(params["patient"])
        if ident is None:
            return "identity not qualified"
        ins, oid = ident
        docs = self.documents.get(ins)
        if self.fault("retrieve-guessed-url") and docs:
            r = self._with_token(lambda: self.dmp.retrieve(f"Binary/{docs[-1]['id']}"))
            return f"HTTP {r.status_code}"
        found = self._with_token(lambda: self.dmp.search(ins, oid=oid))
        entries = found.json().get("entry") or [] if found.status_code == 200 else []
        urls = [e["resource"]["content"][0]["attachment"]["url"] for e in entries
                if e.get("search", {}).get("mode", "match") == "match" and e.get("resource", {}).get("content")]
        if not urls:
            return "no document to retrieve"
        r = self._with_token(lambda: self.dmp.retrieve(urls[0]))
        return f"HTTP {r.status_code}, {len(r.content)} bytes"

    # -- MSSanté (:mod:`.messaging`) ---------------------------------------------------------
    def _mss_send_letter(self, params: dict[str, Any]) -> str:
        return messaging.send_letter(self, params)

    def _mss_receive(self, params: dict[str, Any]) -> str:
        return messaging.receive(self, params)
