"""Messages shared by several tests of suite ``dpi-ldl`` (each test module keeps its own)."""

from __future__ import annotations

from conformance import Message

NO_LETTER = Message(
    "dpi-ldl.dmp.no-letter", "Aucune lettre de liaison (ITI-65 sans relatesTo) n'a été reçue par le DMP.",
    "The DMP received no discharge letter (ITI-65 without relatesTo).",
    "Envoyez la lettre de liaison au DMP : POST d'un Bundle transaction sur la base FHIR du DMP.",
    "Send the discharge letter to the DMP: POST a transaction Bundle to the DMP's FHIR base.")
