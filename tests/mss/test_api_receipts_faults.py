"""``/mss/api`` (inspection, send as a persona, long poll, delete), receipts from integrating
software (FACTS §2.5, A.4), the patient's inbox with ``X-MSS-MES: FIN`` (§2.7), fault kinds and
workspace reset."""

from __future__ import annotations

import base64
import email
import threading

from mss_helpers import PRO_ID, first, messages, patient_of, persona, simple_message, smtp_starttls


def _lab_app_box(mss) -> str:
    lab = first(mss, "organisation", category="lab")
    return next(b for b in lab["mailboxes"] if b.startswith("lps."))


def test_mailboxes_and_problem_json(mss) -> None:
    with mss.client() as c:
        r = c.get("/mss/api/mailboxes", params={"type": "APP"})
        assert r.status_code == 200 and r.json()["total"] >= 1
        assert all(b["type"] == "APP" for b in r.json()["mailboxes"])
        patients = c.get("/mss/api/mailboxes", params={"type": "patient", "limit": 1}).json()["mailboxes"]
        assert patients[0]["type"] is None and patients[0]["address"].endswith("@patient.mssante.fr")
        r = c.get("/mss/api/mailboxes/nobody@pro.sandbox.mssante.fr")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert c.get("/mss/api/messages/999999").status_code == 404
        r = c.post("/mss/api/send", json={"from": persona(mss, "professional", PRO_ID)["mailbox"],
                                          "to": ["x@gmail.com"]})
        assert r.status_code == 422 and r.json()["type"].endswith("/outside-trust-space")
        assert "/mss/api/messages/wait" in c.get("/openapi.json").json()["paths"]


def test_send_as_persona_then_wait_read_raw_delete(mss) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    last = max([m["id"] for m in messages(mss)] or [0])
    result: dict = {}

    def waiter() -> None:
        with mss.client() as c:
            result["r"] = c.get("/mss/api/messages/wait", params={"mailbox": gp["mailbox"], "folder": "INBOX",
                                                                  "after_id": last, "timeout": 20})

    t = threading.Thread(target=waiter)
    t.start()
    with mss.client() as c:
        r = c.post("/mss/api/send", json={"from": gp["mailbox"], "to": [gp["mailbox"]], "subject": "self"})
        assert r.status_code == 201
        r = c.post("/mss/api/send", json={"from": robert["mailbox"], "to": [gp["mailbox"]], "subject": "Bonjour",
                                          "text": "Texte"})
        assert r.status_code == 201, r.text
    t.join(30)
    waited = result["r"].json()
    assert waited["timed_out"] is False and waited["messages"]
    with mss.client() as c:
        r = c.get("/mss/api/messages/wait", params={"mailbox": gp["mailbox"], "after_id": 10**9, "timeout": 0.2})
        assert r.json() == {"timed_out": True, "messages": []}
        mine = messages(mss, mailbox=gp["mailbox"], after_id=last)[-1]
        detail = c.get(f"/mss/api/messages/{mine['id']}").json()
        assert detail["subject"] == "Bonjour" and "findings" in detail and detail["origin"]["via"] == "api"
        raw = c.get(f"/mss/api/messages/{mine['id']}/raw")
        assert raw.headers["content-type"].startswith("message/rfc822")
        assert email.message_from_bytes(raw.content)["Subject"] == "Bonjour"
        assert c.delete(f"/mss/api/messages/{mine['id']}").status_code == 204
        assert c.get(f"/mss/api/messages/{mine['id']}").status_code == 404


def test_integrating_software_answers_mdn_and_faults_shape_it(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    app_box = _lab_app_box(mss)
    with mss.client() as c:
        assert c.get(f"/mss/api/mailboxes/{app_box}").json()["integrating"] is True  # APP: integrating by default
    last = max([m["id"] for m in messages(mss)] or [0])
    msg = simple_message(robert["mailbox"], [app_box], Disposition_Notification_To=robert["mailbox"])
    with smtp_starttls(mss, certs["pro"]) as s:
        s.send_message(msg)
    with mss.client() as c:
        got = c.get("/mss/api/messages/wait", params={"mailbox": robert["mailbox"], "folder": "INBOX",
                                                      "after_id": last, "timeout": 20}).json()["messages"]
        assert got, "no MDN arrived"
        raw = c.get(f"/mss/api/messages/{got[0]['id']}/raw").content
    mdn = email.message_from_bytes(raw)
    assert mdn.get_content_type() == "multipart/report"
    assert mdn.get_param("report-type") == "disposition-notification"
    notification = next(p for p in mdn.walk() if p.get_content_type() == "message/disposition-notification")
    text = notification.as_string()
    assert "Disposition: automatic-action/MDN-sent-automatically; processed" in text
    assert f"Original-Message-ID: {msg['Message-ID']}" in text and f"Final-Recipient: rfc822;{app_box}" in text
    assert "/Error" not in text
    # bad_mdn: the next receipt says processed/Error with the chosen code
    with mss.client() as c:
        assert c.post("/sandbox/api/workspaces/default/faults",
                      json={"service": "mss", "kind": "bad_mdn", "params": {"code": 903}}).status_code == 201
    last = max(m["id"] for m in messages(mss))
    with smtp_starttls(mss, certs["pro"]) as s:
        s.send_message(simple_message(robert["mailbox"], [app_box], Disposition_Notification_To=robert["mailbox"]))
    with mss.client() as c:
        got = c.get("/mss/api/messages/wait", params={"mailbox": robert["mailbox"], "folder": "INBOX",
                                                      "after_id": last, "timeout": 20}).json()["messages"]
        raw = c.get(f"/mss/api/messages/{got[0]['id']}/raw").content
        assert got[0]["subject"].startswith("[KO Intégration système !]")
    assert b"processed/Error: 903^INS absent du CDA" in raw
    # an ordinary PER mailbox sends no MDN; nor does an integrating one when DNT is not the sender
    with mss.client() as c:
        r = c.put(f"/mss/api/mailboxes/{app_box}/options", json={"integrating": False})
        assert r.status_code == 200


def test_smtp_faults(mss, certs) -> None:
    import smtplib

    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    cases = [({"kind": "tempfail"}, 451), ({"kind": "mailbox_full"}, 552),
             ({"kind": "reject", "params": {"code": 550, "text": "Refus choisi"}}, 550), ({"kind": "reject"}, 554)]
    for spec, code in cases:
        before = len(messages(mss, mailbox=gp["mailbox"]))
        with mss.client() as c:
            assert c.post("/sandbox/api/workspaces/default/faults", json={"service": "mss", **spec}).status_code == 201
        with smtp_starttls(mss, certs["pro"]) as s:
            try:
                s.send_message(simple_message(robert["mailbox"], [gp["mailbox"]]))
                raise AssertionError("the fault did not fire")
            except smtplib.SMTPDataError as exc:
                assert exc.smtp_code == code
                if "text" in spec.get("params", {}):
                    assert b"Refus choisi" in exc.smtp_error
        assert len(messages(mss, mailbox=gp["mailbox"])) == before  # nothing stored
    with smtp_starttls(mss, certs["pro"]) as s:  # the fault is spent
        assert s.send_message(simple_message(robert["mailbox"], [gp["mailbox"]])) == {}


def test_patient_inbox_and_reply_blocking(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    patient = patient_of(mss, 3)
    ins = patient["mailbox"].split("@")[0]
    with smtp_starttls(mss, certs["pro"]) as s:
        s.send_message(simple_message(robert["mailbox"], [patient["mailbox"]], subject="Ouvert"))
        s.send_message(simple_message(robert["mailbox"], [patient["mailbox"]], subject="Fermé", X_MSS_MES="FIN"))
    with mss.client() as c:
        inbox = c.get(f"/mss/api/patients/{ins}/messages").json()["messages"]
        by_subject = {m["subject"]: m for m in inbox}
        assert by_subject["Ouvert"]["reply_allowed"] is True and by_subject["Fermé"]["reply_allowed"] is False
        assert by_subject["Ouvert"]["patient_ins"] == ins
        r = c.post(f"/mss/api/patients/{ins}/messages/{by_subject['Fermé']['id']}/reply", json={"text": "Merci"})
        assert r.status_code == 409 and r.json()["type"].endswith("/replies-blocked")
        r = c.post(f"/mss/api/patients/{ins}/messages/{by_subject['Ouvert']['id']}/reply", json={"text": "Merci"})
        assert r.status_code == 201
    assert messages(mss, mailbox=robert["mailbox"], folder="INBOX")[-1]["from"] == patient["mailbox"]


def test_workspace_reset_clears_mail(mss) -> None:
    with mss.client() as c:
        assert c.post("/sandbox/api/workspaces", json={"name": "mss-reset"}).status_code == 201
        h = {"X-Sandbox-Workspace": "mss-reset"}
        robert = persona(mss, "professional", PRO_ID)
        r = c.post("/mss/api/send", headers=h, json={"from": robert["mailbox"], "to": [robert["mailbox"]],
                                                     "raw": base64.b64encode(b"Subject: x\r\n\r\nbody\r\n").decode()})
        assert r.status_code == 201
        assert c.get("/mss/api/messages", headers=h).json()["messages"]
        assert c.post("/sandbox/api/workspaces/mss-reset/reset").status_code == 200
        assert c.get("/mss/api/messages", headers=h).json()["messages"] == []
        assert c.delete("/sandbox/api/workspaces/mss-reset").status_code in (200, 204)


def test_message_ids_beyond_64_bits_are_422_not_500(mss) -> None:
    """Found by schemathesis: a 38-digit id overflowed the database's integer (500)."""
    huge = "51423533067363210967138969202320211968"
    with mss.client() as c:
        for r in (c.get(f"/mss/api/messages/{huge}"), c.delete(f"/mss/api/messages/{huge}"),
                  c.get(f"/mss/api/messages/{huge}/raw"), c.get("/mss/api/messages", params={"after_id": huge})):
            assert r.status_code == 422, (r.request.url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def _vendor_mdn(original: bytes, reporter: str) -> bytes:
    """An MDN as a vendor's integrating software writes it (RFC 8098, FACTS A.4), standard email."""
    from email.message import EmailMessage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText
    from email.utils import make_msgid

    orig = email.message_from_bytes(original)
    report = MIMEMultipart("report", report_type="disposition-notification")
    report["From"], report["To"] = reporter, orig["Disposition-Notification-To"]
    report["Subject"] = "Accusé de réception : " + str(orig["Subject"])
    report["Message-ID"] = make_msgid(domain="vendor.invalid")
    report.attach(MIMEText("Message intégré.\n", "plain", "utf-8"))
    notification = EmailMessage()
    notification.set_content(f"Reporting-UA: vendor-lps\r\nFinal-Recipient: rfc822;{reporter}\r\n"
                             f"Original-Message-ID: {orig['Message-ID']}\r\n"
                             "Disposition: automatic-action/MDN-sent-automatically; processed\r\n")
    part = email.message.Message()
    part["Content-Type"] = "message/disposition-notification"
    part.set_payload(notification.get_content())
    report.attach(part)
    return report.as_bytes()


def test_runner_sends_to_the_vendor_and_waits_for_its_mdn(mss, certs) -> None:
    """The reverse of the receipts above (issue 17): the sandbox sends to the vendor's mailbox,
    the vendor's software reads it over IMAP and answers an MDN over SMTP, the runner waits for
    it and reads its disposition fields."""
    import imaplib

    from mss_helpers import port, tls_client

    robert = persona(mss, "professional", PRO_ID)
    vendor = _lab_app_box(mss)
    with mss.client() as c:  # the vendor's own software answers, not the sandbox's stand-in
        assert c.put(f"/mss/api/mailboxes/{vendor}/options", json={"integrating": False}).status_code == 200
    try:
        last = max([m["id"] for m in messages(mss)] or [0])
        with mss.client() as c:
            sent = c.post("/mss/api/send", json={"from": robert["mailbox"], "to": [vendor], "subject": "CR à intégrer",
                                                 "text": "Bonjour", "disposition_notification": True})
            assert sent.status_code == 201, sent.text
        m = imaplib.IMAP4("localhost", port(mss, "imap"), timeout=30)
        m.starttls(ssl_context=tls_client(mss, certs["org"]))
        assert m.authenticate("EXTERNAL", lambda _c: vendor.encode())[0] == "OK"
        m.select("INBOX")
        typ, data = m.uid("SEARCH", "UNSEEN")
        assert typ == "OK" and data[0]
        original = m.uid("FETCH", data[0].split()[-1], "(RFC822)")[1][0][1]
        m.logout()
        assert b"Disposition-Notification-To" in original
        with smtp_starttls(mss, certs["org"]) as s:
            assert s.sendmail(vendor, [robert["mailbox"]], _vendor_mdn(original, vendor)) == {}
        with mss.client() as c:
            got = c.get("/mss/api/messages/wait", params={"mailbox": robert["mailbox"], "folder": "INBOX",
                                                          "after_id": last, "timeout": 20}).json()["messages"]
            receipt = next(x for x in got if x["from"] == vendor)
            detail = c.get(f"/mss/api/messages/{receipt['id']}").json()
        fields = detail["disposition_notification"]
        assert fields["Original-Message-ID"] == email.message_from_bytes(original)["Message-ID"]
        assert fields["Disposition"].endswith("processed") and fields["Final-Recipient"] == f"rfc822;{vendor}"
        with mss.client() as c:  # an ordinary message has no disposition fields
            plain = c.get(f"/mss/api/messages/{sent.json()['message_ids'][0]}").json()
            assert plain["disposition_notification"] is None
    finally:
        with mss.client() as c:
            c.put(f"/mss/api/mailboxes/{vendor}/options", json={"integrating": True})


def test_slow_and_drop_mdn_faults(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    app_box = _lab_app_box(mss)
    with mss.client() as c:
        assert c.post("/sandbox/api/workspaces/default/faults",
                      json={"service": "mss", "kind": "slow", "params": {"delay_ms": 300}}).status_code == 201
    with smtp_starttls(mss, certs["pro"]) as s:  # slow: late, but delivered
        assert s.send_message(simple_message(robert["mailbox"], [app_box], subject="lent")) == {}
    slow = [x for x in mss.exchanges(operation="smtp-message") if (x.get("summary") or {}).get("injected") == "slow"]
    assert slow and slow[-1]["status"] == "250"
    with mss.client() as c:
        assert c.post("/sandbox/api/workspaces/default/faults",
                      json={"service": "mss", "kind": "drop_mdn"}).status_code == 201
    for subject in ("sans accusé", "avec accusé"):
        last = max(m["id"] for m in messages(mss))
        with smtp_starttls(mss, certs["pro"]) as s:
            s.send_message(simple_message(robert["mailbox"], [app_box], subject=subject,
                                          Disposition_Notification_To=robert["mailbox"]))
        with mss.client() as c:
            waited = c.get("/mss/api/messages/wait", params={"mailbox": robert["mailbox"], "folder": "INBOX",
                                                             "after_id": last, "timeout": 3}).json()
        if subject == "sans accusé":  # the receipt owed was dropped, and the drop is in the evidence
            assert waited["timed_out"] is True
            dropped = [x for x in mss.exchanges(operation="mdn") if x.get("status") == "dropped"]
            assert dropped and dropped[-1]["summary"]["injected"] == "drop_mdn"
        else:  # the fault is spent: the next receipt is sent
            assert waited["messages"] and waited["messages"][0]["from"] == app_box
