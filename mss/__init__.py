"""MSSanté secure messaging (FACTS §2): SMTP and IMAP listeners over the mail store, content
checks, receipts, patient mailboxes, the ``/mss/api`` inspection API and the ``annuaire`` service.

Other packages use the public surface below, or the wire protocols and ``/mss/api``; the
modules behind it are internal. The content checks have their own public module,
:mod:`mss.checks` (``check_message``), and the sample messages :mod:`mss.samples`
(``build_message``).
"""

# nothing here imports the store's tables: importing ``mss.checks`` alone must not add tables to
# the metadata of a sandbox that runs without the mss service
from mss.mailboxes import PATIENT_DOMAIN, TRUST_ROOT, Mailbox, in_trust_space, normalise

__all__ = ["PATIENT_DOMAIN", "TRUST_ROOT", "Mailbox", "in_trust_space", "normalise"]
