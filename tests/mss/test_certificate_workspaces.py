"""Client certificates issued for a workspace (``POST /mss/api/certificates``) log in to that
workspace's mailboxes over SMTP and IMAP, and never to another's (mss/certificates.py)."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
from mss_helpers import PRO_ID, first, persona, port, simple_message

from sandbox.testing import RunningSandbox


def _context(sb: RunningSandbox, issued: dict, where: Path) -> ssl.SSLContext:
    where.mkdir(parents=True, exist_ok=True)
    (where / "chain.pem").write_text(issued["chain"])
    (where / "key.pem").write_text(issued["private_key"])
    ctx = ssl.create_default_context(cafile=str(sb.ctx.pki.ca_bundle))
    ctx.load_cert_chain(where / "chain.pem", where / "key.pem")
    return ctx


def _messages(sb: RunningSandbox, workspace: str, **params: object) -> list[dict]:
    with sb.client() as c:
        r = c.get("/mss/api/messages", params={"limit": 1000, **params}, headers={"X-Sandbox-Workspace": workspace})
        r.raise_for_status()
        return r.json()["messages"]


def _imap(sb: RunningSandbox, tls: ssl.SSLContext, mailbox: str):  # noqa: ANN202 - imaplib.IMAP4
    import imaplib

    m = imaplib.IMAP4("localhost", port(sb, "imap"), timeout=30)
    m.starttls(ssl_context=tls)
    typ, _ = m.authenticate("EXTERNAL", lambda _c: mailbox.encode())
    assert typ == "OK"
    return m


@pytest.fixture()
def two_workspaces(mss: RunningSandbox) -> dict[str, str]:
    names = {f"cert-{side}-{uuid.uuid4().hex[:6]}": "" for side in "ab"}
    for name in names:
        names[name] = mss.create_workspace(name)
    yield names
    with mss.client() as c:
        for name in names:
            c.delete(f"/sandbox/api/workspaces/{name}")


def test_a_workspace_certificate_opens_that_workspace_only(mss: RunningSandbox, two_workspaces: dict[str, str],
                                                           tmp_path: Path) -> None:
    (a, a_key), (b, b_key) = two_workspaces.items()
    me = persona(mss, "professional", PRO_ID)["mailbox"]
    with mss.client(key=a_key) as c:
        issued_a = c.post("/mss/api/certificates", json={"kind": "professional", "id": PRO_ID[1:]})  # RPPS
        assert issued_a.status_code == 201, issued_a.text
        listed = c.get("/mss/api/certificates").json()["certificates"]
        assert [x["fingerprint"] for x in listed] == [issued_a.json()["fingerprint"]]
        assert "private_key" not in listed[0]
        # the key of A cannot issue in B
        assert c.post("/mss/api/certificates", json={"kind": "professional", "id": PRO_ID},
                      headers={"X-Sandbox-Workspace": b}).status_code == 403
    with mss.client(key=b_key) as c:
        issued_b = c.post("/mss/api/certificates", json={"kind": "professional", "id": PRO_ID})
        assert issued_b.status_code == 201, issued_b.text
        assert c.get("/mss/api/certificates").json()["certificates"][0]["fingerprint"] == issued_b.json()["fingerprint"]
    tls_a, tls_b = _context(mss, issued_a.json(), tmp_path / "a"), _context(mss, issued_b.json(), tmp_path / "b")

    # SMTP: the same professional, the same address, two workspaces, one message each
    for tls, subject in ((tls_a, "pour A"), (tls_b, "pour B")):
        with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
            s.starttls(context=tls)
            assert s.send_message(simple_message(me, [me], subject=subject)) == {}
    in_a = _messages(mss, a, mailbox=me, folder="INBOX")
    in_b = _messages(mss, b, mailbox=me, folder="INBOX")
    assert [m["subject"] for m in in_a] == ["pour A"] and [m["subject"] for m in in_b] == ["pour B"]
    assert not [m for m in _messages(mss, "default", mailbox=me) if m["subject"] in ("pour A", "pour B")]
    sessions = [x for x in mss.exchanges(workspace=a, protocol="smtp") if x.get("operation") == "smtp-session"]
    assert sessions and all(x["workspace"] == a for x in sessions)

    # IMAP: each certificate reads its own workspace's INBOX
    for tls, subject in ((tls_a, "pour A"), (tls_b, "pour B")):
        m = _imap(mss, tls, me)
        typ, data = m.select("INBOX", readonly=True)
        assert typ == "OK" and int(data[0]) == 1
        typ, fetched = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and subject.encode() in fetched[0][1]
        m.logout()


def test_issuing_errors_and_deleted_workspace(mss: RunningSandbox, tmp_path: Path) -> None:
    name = f"cert-del-{uuid.uuid4().hex[:6]}"
    key = mss.create_workspace(name)
    lab = first(mss, "organisation", category="lab")
    with mss.client(key=key) as c:
        assert c.post("/mss/api/certificates", json={"kind": "professional", "id": "810000000000"}).status_code == 404
        assert c.post("/mss/api/certificates", json={"kind": "patient", "id": "pat-0001"}).status_code == 422
        assert c.post("/mss/api/certificates", json={"kind": "organisation", "id": "../x"}).status_code == 422
        org = c.post("/mss/api/certificates", json={"kind": "organisation", "id": lab["id"]})
        assert org.status_code == 201, org.text
    with httpx.Client(base_url=mss.base_url, timeout=30) as anonymous:
        assert anonymous.post("/mss/api/certificates", json={"kind": "organisation", "id": lab["id"]}
                              ).status_code == 401
    tls = _context(mss, org.json(), tmp_path / "org")
    box = lab["mailboxes"][0]
    with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
        s.starttls(context=tls)
        assert s.send_message(simple_message(box, [box], subject="labo")) == {}
    assert [m["subject"] for m in _messages(mss, name, mailbox=box, folder="INBOX")] == ["labo"]
    with mss.client() as c:  # a reset keeps the certificate's workspace
        c.post(f"/sandbox/api/workspaces/{name}/reset").raise_for_status()
    with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
        s.starttls(context=tls)
        assert s.send_message(simple_message(box, [box], subject="après reset")) == {}
    assert [m["subject"] for m in _messages(mss, name, mailbox=box, folder="INBOX")] == ["après reset"]
    with mss.client() as c:
        c.delete(f"/sandbox/api/workspaces/{name}").raise_for_status()
    with smtplib.SMTP("localhost", port(mss, "smtp"), timeout=30) as s:
        s.starttls(context=tls)
        s.ehlo()
        code, text = s.mail(box)
        assert code == 535 and b"deleted workspace" in text
    assert not [m for m in _messages(mss, "default", mailbox=box) if m["subject"] in ("labo", "après reset")]
