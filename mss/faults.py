"""Fault kinds of MSSanté (DESIGN "Fault injection"), scripted through
``/sandbox/api/workspaces/{ws}/faults`` with ``service: "mss"``:

- ``tempfail`` — the next message gets ``451 4.3.0`` (nothing stored); param ``text``;
- ``reject`` — ``550`` or ``554`` (param ``code``, default 554) with the chosen ``text``;
- ``mailbox_full`` — ``552 5.2.2``;
- ``slow`` — the ``DATA`` reply comes after ``delay_ms`` milliseconds (default 2000, at most 60000);
- ``drop_mdn`` — the next receipt owed by an integrating-software mailbox is not sent;
- ``bad_mdn`` — the next receipt says ``processed/Error`` with the chosen ``code`` (900–906)
  and ``label``.

Operations: ``smtp`` (message transfer) and ``mdn`` (receipts).
"""

from __future__ import annotations

from sandbox.services import FaultKind

FAULT_KINDS = (
    FaultKind("tempfail", "Le prochain message reçoit 451 (erreur temporaire) et n'est pas conservé.", ("smtp",),
              {"text": "texte de la réponse"}),
    FaultKind("reject", "Le prochain message est refusé (550 ou 554) avec le texte choisi.", ("smtp",),
              {"code": "550 ou 554 (défaut 554)", "text": "texte de la réponse"}),
    FaultKind("mailbox_full", "Le prochain message reçoit 552 (BAL pleine).", ("smtp",), {"text": "texte"}),
    FaultKind("slow", "La réponse à DATA arrive après un délai.", ("smtp",),
              {"delay_ms": "délai en millisecondes (défaut 2000)"}),
    FaultKind("drop_mdn", "Le prochain accusé de réception (MDN) n'est pas envoyé.", ("mdn",)),
    FaultKind("bad_mdn", "Le prochain MDN signale une erreur d'intégration.", ("mdn",),
              {"code": "code d'erreur 900 à 906 (défaut 906)", "label": "libellé"}),
)
