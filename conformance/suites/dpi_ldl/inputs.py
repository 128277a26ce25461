"""Inputs of suite ``dpi-ldl`` and their defaults: the seeded world's personas (FACTS §1.2 public
INSi test identities and synthetic patients; a preset file overrides any of them)."""

from __future__ import annotations

from conformance import InputSpec, Text

PROFESSIONAL = "899700218896"
CORRESPONDENT = "kit.doc0036624@pro.sandbox.mssante.fr"  # Dr KIT DOC0036624's PER mailbox (seeded world)
PATIENT = {"birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"], "sex": "F", "birth_date": "1997-02-26",
           "birth_place": "2A020", "identity_status": "QUAL"}
PATIENT_TYPED = {**PATIENT, "birth_name": "Adrtrois", "first_names": ["Dominique"]}
PATIENT_HOMONYMS = {"birth_name": "TCHITCHI", "first_names": ["CATARINA", "BELLA"], "sex": "F",
                    "birth_date": "1936-06-21", "birth_place": "63220", "identity_status": "QUAL"}
PATIENT_PROV = {"birth_name": "MORETIER", "first_names": ["LUCIE"], "sex": "F", "birth_date": "2001-10-26",
                "birth_place": "59350", "identity_status": "PROV", "matricule": "801109966885307"}
PATIENT_NO_DMP = {"birth_name": "DE FALENOT", "first_names": ["HUGO", "NICOLAS"], "sex": "M",
                  "birth_date": "1939-05-19", "birth_place": "63113", "identity_status": "QUAL"}

INPUTS = (
    InputSpec("professional", Text("IDNPS du professionnel qui se connecte", "IDNPS of the professional logging in"),
              str, PROFESSIONAL),
    InputSpec("client_id", Text("client OIDC du logiciel (par défaut le client de démonstration de l'espace)",
                                "the software's OIDC client (default: the workspace's demo client)"),
              str, None, optional=True),
    InputSpec("patient", Text("patient à l'identité qualifiée, DMP ouvert", "patient with a qualified identity and an "
                              "open DMP"), dict, PATIENT),
    InputSpec("patient_typed", Text("le même, traits tels que saisis (à normaliser)", "the same, traits as typed "
                                    "(to normalise)"), dict, PATIENT_TYPED),
    InputSpec("patient_homonyms", Text("patient à plusieurs prénoms (codes retour 01/02)", "patient with several "
                                       "first names (return codes 01/02)"), dict, PATIENT_HOMONYMS),
    InputSpec("patient_prov", Text("patient à l'identité provisoire (PROV)", "patient with a provisional identity "
                                   "(PROV)"), dict, PATIENT_PROV),
    InputSpec("patient_no_dmp", Text("patient sans DMP", "patient without a DMP"), dict, PATIENT_NO_DMP),
    InputSpec("retry_after", Text("Retry-After (s) du 503 programmé", "Retry-After (s) of the scripted 503"), int, 1),
    InputSpec("correspondent", Text("BAL MSSanté du correspondant (médecin traitant) destinataire de la lettre",
                                    "MSSanté mailbox of the correspondent (GP) the letter goes to"), str,
              CORRESPONDENT),
    InputSpec("mss_tls12_only", Text("refuser TLS 1.3 (le Référentiel #2 ECO.1.1.2 ne nomme que TLS 1.2)",
                                     "refuse TLS 1.3 (Référentiel #2 ECO.1.1.2 names TLS 1.2 only)"), bool, False),
)
