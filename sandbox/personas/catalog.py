"""Fixed facts of the synthetic world: the published test identities and code lists.

- INSi test identities exactly as FACTS §1.2 lists them (CNAM qualification fixtures). Where FACTS
  gives only part of the traits (``CORSE ANTHONY``, ``ADRUN ZOE``) the rest is synthetic and the
  persona is marked ``public-test-partial``.
- PSC test personas (FACTS §4), the test organisation "HOPITAL GENERIQUE FIN VARI" (FINESS
  ``0B0193488``, FACTS §4).
- Professions: G15 codes (FACTS §4); savoir-faire codes other than ``SM26`` and sector codes other
  than ``SA01``/``SA05``/``SA07`` are plausible NOS codes, not checked against the NOS tables [U].
"""

from __future__ import annotations

from sandbox.personas.geography import BY_COG

PUBLIC_INSI_IDENTITIES: tuple[dict, ...] = (
    {"birth_name": "ADRTROIS", "first_names": ["DOMINIQUE"], "sex": "F", "birth_date": "1997-02-26",
     "birth_place": "2A020", "matricule": "297022A020778", "origin": "public-test", "tags": ["corsica"]},
    {"birth_name": "TCHITCHI", "first_names": ["CATARINA", "BELLA"], "sex": "F", "birth_date": "1936-06-21",
     "birth_place": "63220", "matricule": "2360663220836", "origin": "public-test"},
    {"birth_name": "ECETINSI", "first_names": ["PIERRE-ALAIN", "MURIEL", "FLORIANT"], "sex": "M",
     "birth_date": "2009-07-14", "birth_place": "63220", "matricule": "1090763220834",
     "history": [("2090763220834", None, "2015-01-01"), ("2090663220123", None, "2012-01-01")],
     "origin": "public-test", "tags": ["history"]},
    {"birth_name": "CORSE", "first_names": ["ANTHONY"], "sex": "M", "birth_date": "1980-03-02",
     "birth_place": "2B033", "origin": "public-test-partial", "tags": ["corsica"]},
    {"birth_name": "ADRUN", "first_names": ["ZOE"], "sex": "F", "birth_date": "1992-11-05",
     "birth_place": "75056", "origin": "public-test-partial"},
)

PROFESSIONS: dict[str, str] = {
    "10": "Médecin",
    "21": "Pharmacien",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "70": "Masseur-kinésithérapeute",
    "80": "Pédicure-podologue",
}
PROFESSION_MIX = ("10", "10", "10", "10", "21", "21", "40", "50", "60", "60", "70")

# profession -> (type savoir-faire, code, label, organisation categories where they work)
SAVOIR_FAIRE: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "10": (
        ("S", "SM26", "Qualifié en médecine générale", ("practice", "hospital")),
        ("S", "SM44", "Radio-diagnostic", ("imaging", "hospital")),
        ("S", "SM03", "Biologie médicale", ("lab",)),
        ("S", "SM04", "Cardiologie et maladies vasculaires", ("hospital", "practice")),
        ("S", "SM02", "Anesthésie-réanimation", ("hospital",)),
    ),
    "21": (("S", "SM03", "Biologie médicale", ("lab",)), ("", "", "", ("hospital",))),
    "40": (("", "", "", ("practice",)),),
    "50": (("", "", "", ("hospital", "practice")),),
    "60": (("", "", "", ("hospital", "practice")),),
    "70": (("", "", "", ("practice",)),),
    "80": (("", "", "", ("practice",)),),
}

SECTOR_BY_CATEGORY: dict[str, tuple[str, str]] = {
    "hospital": ("SA01", "Etablissement public de santé"),
    "clinic": ("SA02", "Etablissement privé non PSPH"),
    "lab": ("SA25", "Laboratoire de biologie médicale"),
    "imaging": ("SA08", "Cabinet de groupe"),
    "practice": ("SA07", "Cabinet individuel"),
    "health-centre": ("SA05", "Centre de santé"),
}

ORG_MIX: tuple[tuple[str, int], ...] = (
    ("hospital", 5), ("clinic", 3), ("lab", 5), ("imaging", 4), ("practice", 6), ("health-centre", 2),
)
ORG_NAME_PREFIX: dict[str, tuple[str, ...]] = {
    "hospital": ("CENTRE HOSPITALIER", "CHU", "HOPITAL"),
    "clinic": ("CLINIQUE", "POLYCLINIQUE"),
    "lab": ("LABORATOIRE", "LBM", "BIOLOGIE MEDICALE"),
    "imaging": ("CENTRE D'IMAGERIE", "CABINET DE RADIOLOGIE"),
    "practice": ("CABINET MEDICAL", "MAISON MEDICALE"),
    "health-centre": ("CENTRE DE SANTE",),
}

PUBLIC_ORGANISATIONS: tuple[dict, ...] = (
    {"finess_et": "0B0193488", "finess_ej": "0B0193470", "siren": "999999992",
     "name": "HOPITAL GENERIQUE FIN VARI", "category": "hospital", "place": BY_COG["75056"],
     "street": "1 RUE DE L'HOPITAL"},
)

#: synthetic SAMU regulators (PSC ``Acces_Regulation_Medicale`` VRAI), added after the generated
#: professionals so the rest of the world does not move: the DMP's ``centre_15`` mode is theirs
#: (FACTS §3.5)
REGULATORS: tuple[dict, ...] = (
    {"id": "899700999990", "rpps": "99700999990", "id_origin": "RPPS", "civility": "MME",
     "exercise_civility": "DR", "family_name": "REGULATRICE", "given_name": "SAMIA",
     "profession": "10", "savoir_faire_type": "S", "savoir_faire": "SM26",
     "savoir_faire_label": "Qualifié en médecine générale",
     "activities_spec": [("0B0193488", "S")], "medical_regulation": True},
)

PUBLIC_PROFESSIONALS: tuple[dict, ...] = (
    {"id": "899700218896", "rpps": "99700218896", "id_origin": "RPPS", "civility": "M",
     "exercise_civility": "DR", "family_name": "SPECIALISTE0021889", "given_name": "ROBERT",
     "profession": "10", "savoir_faire_type": "S", "savoir_faire": "SM04",
     "savoir_faire_label": "Cardiologie et maladies vasculaires",
     "activities_spec": [("0B0193488", "S")], "origin": "public-test"},
    {"id": "899700366240", "rpps": "99700366240", "id_origin": "RPPS", "civility": "M",
     "exercise_civility": "DR", "family_name": "DOC0036624", "given_name": "KIT",
     "profession": "10", "savoir_faire_type": "S", "savoir_faire": "SM26",
     "savoir_faire_label": "Qualifié en médecine générale",
     "activities_spec": [("0B0193488", "S")], "origin": "public-test"},
    {"id": "899700427885", "rpps": "99700427885", "id_origin": "RPPS", "civility": "M",
     "exercise_civility": "DR", "family_name": "DOC0042788", "given_name": "KIT",
     "profession": "10", "savoir_faire_type": "S", "savoir_faire": "SM26",
     "savoir_faire_label": "Qualifié en médecine générale",
     "activities_spec": [("0B0193488", "S")], "origin": "public-test"},
    {"id": "ANS20231122132732", "rpps": "", "id_origin": "EDIT", "civility": "M",
     "exercise_civility": "", "family_name": "GROMINOCH", "given_name": "FISTINIEN",
     "profession": "80", "savoir_faire_type": "", "savoir_faire": "", "savoir_faire_label": "",
     "activities_spec": [], "origin": "public-test"},
)
