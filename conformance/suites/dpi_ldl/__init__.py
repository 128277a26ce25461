"""Suite ``dpi-ldl``: a hospital EHR (DPI) sends the discharge letter (lettre de liaison à la
sortie) to the DMP — PSC login, INSi identity, DMP feed/replace/mask/search/retrieve and error
handling (FACTS §1–§5; requirement catalogues ``psc``, ``ins``, ``pdsm-mhd``, ``cisis-documents``).

Groups are independent tuples in :data:`GROUPS`; the ``mss`` group (catalogue ``mssante-ref2``) sends
the letter to the correspondent and to the patient's Mon espace santé mailbox and judges the DPI's
receiving side (IMAP read, MDN receipt).

Each test publishes a prompt for a human vendor and an *action* (with parameters) the reference
simulator performs (:mod:`conformance.simulators.dpi`); tests that share an exchange (the first
login, the first letter) read it from the run's evidence and ask for it only when it is missing,
so ``--only`` works on any test.
"""

from __future__ import annotations

from conformance import Suite, Text
from conformance.suites.dpi_ldl import dmp_tests, insi_tests, mss_tests, psc_tests
from conformance.suites.dpi_ldl.inputs import INPUTS

GROUPS = (psc_tests.group, insi_tests.group, dmp_tests.group, mss_tests.group)

suite = Suite(
    "dpi-ldl",
    Text("DPI — lettre de liaison à la sortie au DMP et par MSSanté",
         "Hospital EHR — discharge letter to the DMP and through MSSanté"),
    Text("Connexion Pro Santé Connect, identité INS par INSi, versement, remplacement, masquage, recherche et "
         "consultation de la lettre de liaison dans le DMP, gestion des erreurs ; envoi de la lettre par MSSanté au "
         "correspondant et au patient, accusés de réception.",
         "Pro Santé Connect login, INS identity through INSi, feed, replacement, masking, search and retrieval of "
         "the discharge letter in the DMP, error handling; the letter through MSSanté to the correspondent and the "
         "patient, receipts."),
    "1.0.0",
    inputs=INPUTS,
    groups=GROUPS,
    scope=("psc", "ins", "pdsm-mhd", "mssante-ref2", "cisis-documents:DPI"),
)

__all__ = ["GROUPS", "suite"]
