"""The DPI's MSSanté actions (FACTS §2.2–§2.7), performed for :class:`.simulator.DpiSimulator`:
``mss.send_letter`` sends the discharge letter to the correspondent and to the patient's Mon espace
santé mailbox (one message, one patient: ``IHE_XDM.ZIP`` with the CDA and its PDF, the PDF also
attached, subject ``XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>``, ``X-MSS-CODECDA``,
``X-MSS-INS``, ``X-MSS-NIL``, ``X-MSS-MES: FIN``, an MDN asked for); ``mss.receive`` reads the
professional's new mail over IMAP and sends an MDN for each message that asks for one.
Wire protocols only (:mod:`.mail`); the mail mistakes of the fault catalogue are copied here.
"""

from __future__ import annotations

import imaplib
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from conformance.simulators.dpi import letter, mail, xdm

if TYPE_CHECKING:
    from conformance.simulators.dpi.simulator import DpiSimulator

T = TypeVar("T")
PATIENT_DOMAIN = "patient.mssante.fr"
#: a second seeded patient, whose address the ``mss-two-patients`` fault adds to the envelope
OTHER_PATIENT_INS = "236066322083656"
LABEL = "Lettre de liaison à la sortie"


def mailbox(sim: DpiSimulator) -> str:
    """The logged-in professional's MSSanté address, as the hospital's administrator configured it."""
    c = sim.config
    if not c.mailbox:
        r = sim.http.get(f"{c.base_url}/sandbox/api/personas/professional/{c.professional}",
                          headers=sim.api_headers)
        r.raise_for_status()
        c.mailbox = str(r.json()["mailbox"])
    return c.mailbox


def with_mail_token(sim: DpiSimulator, call: Callable[[str], T]) -> T:
    """``call(token)``; on a refused login (a token revoked or expired meanwhile), renew once."""
    try:
        return call(sim._access_token())
    except (smtplib.SMTPAuthenticationError, imaplib.IMAP4.error):
        sim._renew()
        return call(sim._access_token())


def send_letter(sim: DpiSimulator, params: dict[str, Any]) -> str:
    patient = params["patient"]
    ident = sim._identity(patient)
    if ident is None:
        return "identity not qualified: nothing sent"
    ins, oid = ident
    me, traits = mailbox(sim), sim._patient_traits(patient)
    family, given = sim.professional_name
    cda = letter.cda(ins, oid, LABEL, patient=traits, author_rpps=sim.config.professional,
                     author_family=family or "INCONNU", author_given=given or "X")
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    no_xdm = sim.fault("mss-no-xdm")
    package = None if no_xdm else xdm.xdm_zip(cda, xdm.PDF, ins=ins, oid=oid, stamp=stamp, title=LABEL)
    headers = {"X-MSS-NIL": mail.PRODUCT_NIL}
    if not no_xdm:  # the headers describe the CDA documents attached (absent without one)
        headers["X-MSS-CODECDA"] = letter.LDL_TYPE
        if not sim.fault("mss-ins-header-missing"):
            headers["X-MSS-INS"] = "O"
    if not sim.fault("mss-fin-missing"):
        headers["X-MSS-MES"] = "FIN"  # the professional blocks the patient's replies
    born = "/".join(reversed(str(traits["birth_date"]).split("-")))
    subject = (LABEL if sim.fault("mss-wrong-subject")
               else f"XDM/1.0/DDM+{LABEL} {traits['family']} {traits['given'][0].capitalize()} {born}")
    rcpts = [str(params["correspondent"]), f"{ins}@{PATIENT_DOMAIN}"]
    if sim.fault("mss-two-patients"):
        rcpts.append(f"{OTHER_PATIENT_INS}@{PATIENT_DOMAIN}")
    msg = mail.letter_message(sender=me, to=rcpts, subject=subject, xdm=package, pdf=xdm.PDF, headers=headers,
                              ask_receipt=not sim.fault("mss-no-receipt-request"))
    refused = with_mail_token(sim, lambda token: mail.send(
        sim.mail, msg, me, rcpts, token, weak_tls=sim.fault("mss-weak-cipher")))
    done = f"sent to {len(rcpts) - len(refused)} of {len(rcpts)}"
    return done + (f", refused {sorted(refused)}" if refused else "")


def receive(sim: DpiSimulator, params: dict[str, Any]) -> str:
    me = mailbox(sim)
    messages = with_mail_token(sim, lambda token: mail.fetch_unseen(sim.mail, me, token))
    sent = 0
    for original in messages:
        if not original.get("Disposition-Notification-To") or sim.fault("mss-no-mdn"):
            continue
        answer, to = (mail.plain_reply(original, me=me) if sim.fault("mss-reply-not-mdn")
                      else mail.mdn(original, me=me))
        if to:
            with_mail_token(sim, partial(_send_to, sim, answer, me, to))
            sent += 1
    return f"read {len(messages)}, acknowledged {sent}"


def _send_to(sim: DpiSimulator, msg: EmailMessage, me: str, to: str, token: str) -> dict[str, tuple[int, bytes]]:
    return mail.send(sim.mail, msg, me, [to], token)
