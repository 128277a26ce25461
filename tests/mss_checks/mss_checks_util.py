"""Helpers of the MSSanté content-check tests: sample messages and ZIP surgery."""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from collections.abc import Callable
from email.message import EmailMessage

from mss.samples import build_message

SENDER = "kit.doc0042788@pro.sandbox.mssante.fr"
GP = "robert.specialiste0021889@pro.sandbox.mssante.fr"
INS = "297022A02077878"  # ADRTROIS DOMINIQUE, INSi test identity
OTHER_INS = "236066322083655"  # TCHITCHI CATARINA


def message(kind: str = "ldl", **kw) -> bytes:
    kw.setdefault("sender", SENDER)
    kw.setdefault("recipients", [GP])
    kw.setdefault("patient_ins", INS)
    return build_message(kind, **kw)


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def xdm_of(raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.get_filename() == "IHE_XDM.ZIP":
            return part.get_payload(decode=True)
    raise AssertionError("no IHE_XDM.ZIP")


def replace_xdm(raw: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The message with its IHE_XDM.ZIP rewritten by ``change`` (which edits the file dict)."""
    msg = email.message_from_bytes(raw, policy=email.policy.SMTP)
    assert isinstance(msg, EmailMessage)
    for part in msg.walk():
        if part.get_filename() == "IHE_XDM.ZIP":
            files = unzip(part.get_payload(decode=True))
            change(files)
            part.set_content(zip_of(files), maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    return msg.as_bytes()


def ids(result) -> set[str]:
    return {f.id for f in result.findings}
