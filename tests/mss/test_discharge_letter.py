"""The issue's scenario: a professional sends a discharge letter (IHE_XDM.ZIP, CDA N1) to a GP's
integrating software and to the patient; both inboxes, the findings, the parsed XDM and the MDN
(FACTS §2.3–2.5, §2.7)."""

from __future__ import annotations

import email

from mss_helpers import PRO_ID, first, messages, patient_of, persona, smtp_starttls

from mss.samples import build_message


def _wait(mss, mailbox: str, after_id: int) -> list[dict]:
    with mss.client() as c:
        r = c.get("/mss/api/messages/wait", params={"mailbox": mailbox, "folder": "INBOX", "after_id": after_id,
                                                    "timeout": 20})
        return r.json()["messages"]


def test_discharge_letter_to_gp_and_patient_with_mdn(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    patient = patient_of(mss, 5)
    ins = patient["mailbox"].split("@")[0]
    with mss.client() as c:  # the GP's mailbox is read by integrating software: it owes receipts
        assert c.put(f"/mss/api/mailboxes/{gp['mailbox']}/options", json={"integrating": True}).status_code == 200
    last = max([m["id"] for m in messages(mss)] or [0])
    raw = build_message("ldl-cda", sender=robert["mailbox"], recipients=[gp["mailbox"], patient["mailbox"]],
                        patient_ins=ins, patient=patient, patient_oid=patient["ins"]["oid"],
                        disposition_notification_to=robert["mailbox"])
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.sendmail(robert["mailbox"], [gp["mailbox"], patient["mailbox"]], raw) == {}
    gp_inbox = messages(mss, mailbox=gp["mailbox"], folder="INBOX", after_id=last)
    assert len(gp_inbox) == 1 and gp_inbox[0]["subject"].startswith("XDM/1.0/DDM+")
    with mss.client() as c:
        detail = c.get(f"/mss/api/messages/{gp_inbox[0]['id']}").json()
        mes = c.get(f"/mss/api/patients/{ins}/messages").json()["messages"]
    assert detail["patient_ins"] == ins
    assert [f for f in detail["findings"] if f["severity"] == "error"] == [], detail["findings"]
    assert detail["documents"] and detail["checks"]["cda_headers"]
    assert any(m["id"] > last and m["subject"] == gp_inbox[0]["subject"] for m in mes)
    mdn_list = _wait(mss, robert["mailbox"], last)
    mdn = email.message_from_bytes(_raw(mss, mdn_list[0]["id"]))
    assert mdn.get_content_type() == "multipart/report"
    notification = next(p for p in mdn.walk() if p.get_content_type() == "message/disposition-notification")
    assert "; processed" in notification.as_string() and "/Error" not in notification.as_string()
    names = [p.get_filename() for p in mdn.walk() if p.get_filename()]
    assert "IHE_XDM.ZIP" in names  # the original attachments come back with the receipt


def test_error_mdn_carries_the_check_code(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    with mss.client() as c:
        assert c.put(f"/mss/api/mailboxes/{gp['mailbox']}/options", json={"integrating": True}).status_code == 200
    last = max([m["id"] for m in messages(mss)] or [0])
    raw = build_message("cr-bio", sender=robert["mailbox"], recipients=[gp["mailbox"]],
                        patient_ins="100000000000001", disposition_notification_to=robert["mailbox"])
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.sendmail(robert["mailbox"], [gp["mailbox"]], raw) == {}
    stored = messages(mss, mailbox=gp["mailbox"], folder="INBOX", after_id=last)[0]
    with mss.client() as c:
        error = c.get(f"/mss/api/messages/{stored['id']}").json()["checks"]["mdn_error"]
    assert error and 900 <= error["code"] <= 906
    mdn = _raw(mss, _wait(mss, robert["mailbox"], last)[0]["id"])
    assert f"processed/Error: {error['code']}^".encode() in mdn


def _raw(mss, message_id: int) -> bytes:
    with mss.client() as c:
        return c.get(f"/mss/api/messages/{message_id}/raw").content


def test_ko_mail_when_no_receipt_was_asked(mss, certs) -> None:
    robert = persona(mss, "professional", PRO_ID)
    gp = first(mss, "professional", profession="10")
    with mss.client() as c:
        assert c.put(f"/mss/api/mailboxes/{gp['mailbox']}/options", json={"integrating": True}).status_code == 200
    last = max([m["id"] for m in messages(mss)] or [0])
    raw = build_message("cr-bio", sender=robert["mailbox"], recipients=[gp["mailbox"]],
                        patient_ins="100000000000001")
    with smtp_starttls(mss, certs["pro"]) as s:
        assert s.sendmail(robert["mailbox"], [gp["mailbox"]], raw) == {}
    stored = messages(mss, mailbox=gp["mailbox"], folder="INBOX", after_id=last)[0]
    with mss.client() as c:
        code = c.get(f"/mss/api/messages/{stored['id']}").json()["checks"]["mdn_error"]["code"]
    ko = _wait(mss, robert["mailbox"], last)[0]
    assert ko["subject"].startswith(f"[KO Intégration système !][{code}] XDM/1.0/DDM+")
    parsed = email.message_from_bytes(_raw(mss, ko["id"]))
    assert any(p.get_content_type() == "message/rfc822" for p in parsed.walk())
    assert not any(p.get_content_type() == "message/disposition-notification" for p in parsed.walk())
