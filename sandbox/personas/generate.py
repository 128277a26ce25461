"""Deterministic synthetic world: same seed, byte-identical personas.

Facts used: NIR layout and key (FACTS §1.3, with Corsica ``2A``/``2B`` and foreign-born ``99``),
public INSi test identities (§1.2), RNIV statuses (§1.4), PSC test personas and ``SubjectRefPro``
fields (§4), TRE_R02 sectors (§3.4), MSSanté mailbox types and patient addresses (§2.6, §2.7).
Only :class:`random.Random` seeded with the world seed is used, never ``hash()`` or set order.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from ins import nir_key
from sandbox.personas import catalog
from sandbox.personas.geography import BY_COG, COMMUNES, COUNTRIES, Place
from sandbox.personas.model import (
    OID_INS_NIA,
    OID_INS_NIR,
    Activity,
    Address,
    IdentityStatus,
    Mailbox,
    Matricule,
    Organisation,
    Patient,
    Professional,
    Vitale,
    World,
)
from sandbox.personas.names import family_name, given_names

N_PATIENTS = 240
N_PROFESSIONALS = 60
PATIENT_DOMAIN = "patient.mssante.fr"
PRO_DOMAIN = "pro.sandbox.mssante.fr"
ORG_DOMAIN = "etab.sandbox.mssante.fr"


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit (used by RPPS, FINESS, SIREN and SIRET)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return digits + str((10 - total % 10) % 10)


def matricule(number: str, oid: str = OID_INS_NIR, **validity: str) -> Matricule:
    return Matricule(number=number, key=f"{nir_key(number):02d}", oid=oid, **validity)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.world = World(seed=seed)
        self.used_numbers: set[str] = set()
        self.used_addresses: set[str] = set()

    def address(self, local: str, domain: str) -> str:
        """A mailbox address not used yet in this world (homonyms get a counter)."""
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.used_addresses:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.used_addresses.add(candidate)
        return candidate

    # -- patients -------------------------------------------------------------------------
    def nir_number(self, sex: str, birth: date, place: Place, month_override: int | None = None) -> str:
        month = month_override if month_override is not None else birth.month
        stem = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{month:02d}{place.department}{place.commune}"
        while True:
            number = stem + f"{self.rng.randint(1, 999):03d}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def nia_number(self, sex: str, birth: date) -> str:
        # NIA numbers are temporary; the first digit 7/8 marks them (FACTS §1.3, [U]).
        while True:
            serial = self.rng.randint(0, 99999999)
            number = f"{7 if sex == 'M' else 8}{birth.year % 100:02d}{birth.month:02d}99{serial:08d}"[:13]
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def birth_date(self, young: bool = False) -> date:
        start = date(2008, 1, 1) if young else date(1930, 1, 1)
        end = date(2023, 12, 31) if young else date(2005, 12, 31)
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def status(self) -> IdentityStatus:
        roll = self.rng.random()
        if roll < 0.50:
            return IdentityStatus.QUAL
        if roll < 0.70:
            return IdentityStatus.RECUP
        if roll < 0.85:
            return IdentityStatus.VALI
        return IdentityStatus.PROV

    def add_patient(self, **kw) -> Patient:
        ordinal = len(self.world.patients) + 1
        ins: Matricule = kw["ins"]
        p = Patient(id=f"pat-{ordinal:04d}", mailbox=f"{ins.value}@{PATIENT_DOMAIN}", **kw)
        self.world.patients.append(p)
        return p

    def public_patients(self) -> None:
        for spec in catalog.PUBLIC_INSI_IDENTITIES:
            sex, birth = spec["sex"], date.fromisoformat(spec["birth_date"])
            place = spec["birth_place"]
            if spec.get("matricule"):
                number = spec["matricule"]
                self.used_numbers.add(number)
            else:
                number = self.nir_number(sex, birth, BY_COG[place])
            ins = matricule(number)
            history = tuple(matricule(h, start=s, end=e) for h, s, e in spec.get("history", ()))
            for h in history:
                self.used_numbers.add(h.number)
            self.add_patient(
                birth_name=spec["birth_name"], first_names=tuple(spec["first_names"]), sex=sex,
                birth_date=birth.isoformat(), birth_place=place, ins=ins, history=history,
                identity_status=IdentityStatus.QUAL, vitale=Vitale(ins.value, 1),
                origin=spec["origin"], tags=tuple(spec.get("tags", ())),
            )

    def synthetic_patient(self, tags: tuple[str, ...] = (), **fixed) -> Patient:
        rng = self.rng
        sex = fixed.get("sex") or rng.choice("MF")
        young = rng.random() < 0.15
        birth = fixed.get("birth") or self.birth_date(young)
        roll = rng.random()
        if "place" in fixed:
            place = fixed["place"]
        elif roll < 0.10:
            place = rng.choice(COUNTRIES)
        else:
            place = rng.choice(COMMUNES)
        tags = tags + (("abroad",) if place.abroad else ()) + (
            ("corsica",) if place.department in ("2A", "2B") else ()
        )
        month_override = None
        if rng.random() < 0.02:
            month_override = rng.choice((20, 31, 42, 50, 63))
            tags += ("pseudo-month",)
        if fixed.get("nia"):
            ins = matricule(self.nia_number(sex, birth), OID_INS_NIA)
            status = IdentityStatus.PROV
        else:
            ins = matricule(self.nir_number(sex, birth, place, month_override))
            status = fixed.get("status") or self.status()
        history: tuple[Matricule, ...] = ()
        if not fixed.get("nia") and rng.random() < 0.05:
            old = matricule(self.nia_number(sex, birth), OID_INS_NIA, end=(birth + timedelta(days=400)).isoformat())
            history = (old,)
            tags += ("history",)
        first = fixed.get("first_names") or tuple(given_names(rng, sex, rng.choice((1, 1, 2, 2, 3))))
        vitale = None
        if birth.year >= 2008 and self.world.patients:
            adult = next((p for p in reversed(self.world.patients) if p.birth_date < "2000"), None)
            if adult is not None:
                vitale = Vitale(adult.ins.value, rng.choice((1, 2)))
        elif not fixed.get("nia"):
            vitale = Vitale(ins.value, 1)
        return self.add_patient(
            birth_name=fixed.get("birth_name") or family_name(rng), first_names=tuple(first), sex=sex,
            birth_date=birth.isoformat(), birth_place=place.cog, ins=ins, history=history,
            identity_status=status, vitale=vitale, tags=tags,
        )

    def patients(self) -> None:
        self.public_patients()
        rng = self.rng
        # deliberate homonyms: same birth name, first name, sex and birth date, other birth place
        # (INSi traits search answers 02 without the COG, 00 with it — FACTS §1.2)
        for _ in range(6):
            sex = rng.choice("MF")
            birth = self.birth_date()
            name = family_name(rng)
            shared = given_names(rng, sex, 1)[0]
            places = rng.sample(COMMUNES, 2)
            for place in places:
                others = [g for g in given_names(rng, sex, 2) if g != shared][:1]
                self.synthetic_patient(
                    tags=("homonym",), sex=sex, birth=birth, birth_name=name, place=place,
                    first_names=(shared, *others), status=IdentityStatus.QUAL,
                )
        for _ in range(4):
            self.synthetic_patient(tags=("nia",), nia=True)
        for cog in ("2A004", "2B033"):
            self.synthetic_patient(place=BY_COG[cog], status=IdentityStatus.QUAL)
        while len(self.world.patients) < N_PATIENTS:
            self.synthetic_patient()

    # -- organisations ------------------------------------------------------------------------
    def finess(self, dept: str) -> str:
        return luhn_complete(f"{dept}0{self.rng.randint(0, 99999):05d}"[:8])

    def organisations(self) -> None:
        rng = self.rng
        for spec in catalog.PUBLIC_ORGANISATIONS:
            self._add_org(**spec)
        for category, count in catalog.ORG_MIX:
            for _ in range(count):
                place = rng.choice([c for c in COMMUNES if c.department.isdigit()])
                prefix = rng.choice(catalog.ORG_NAME_PREFIX[category])
                name = f"{prefix} {place.name}" if rng.random() < 0.7 else f"{prefix} {family_name(rng)}"
                self._add_org(
                    finess_et=self.finess(place.department), finess_ej=self.finess(place.department), name=name,
                    category=category,
                    place=place, street=f"{rng.randint(1, 120)} RUE {family_name(rng)}",
                )

    def _add_org(self, *, finess_et: str, finess_ej: str, name: str, category: str, place: Place,
                 street: str, siren: str | None = None) -> None:
        rng = self.rng
        siren = siren or luhn_complete(f"{rng.randint(10000000, 99999999)}")
        siret = luhn_complete(siren + f"{rng.randint(1, 9999):04d}")
        sector, sector_label = catalog.SECTOR_BY_CATEGORY[category]
        slug = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")[:40]
        boxes = [Mailbox(self.address(f"secretariat.{slug}", ORG_DOMAIN), "ORG", "organisation", finess_et, ORG_DOMAIN,
                         f"Secrétariat {name}")]
        if category in ("lab", "imaging", "hospital"):
            boxes.append(Mailbox(self.address(f"lps.{slug}", ORG_DOMAIN), "APP", "organisation", finess_et, ORG_DOMAIN,
                                 f"Boîte applicative {name}"))
        self.world.mailboxes.extend(boxes)
        self.world.organisations.append(Organisation(
            id=finess_et, finess_et=finess_et, finess_ej=finess_ej, siret=siret, siren=siren, name=name,
            sector=sector, sector_label=sector_label, category=category,
            address=Address(street, place.postal_code, place.name, place.cog),
            mailboxes=tuple(b.id for b in boxes),
        ))

    # -- professionals ----------------------------------------------------------------------
    def professionals(self) -> None:
        rng = self.rng
        orgs = {o.id: o for o in self.world.organisations}
        for spec in catalog.PUBLIC_PROFESSIONALS:
            fields = dict(spec)
            sites = fields.pop("activities_spec", ())
            self._add_pro(**fields, activities=tuple(Activity(*a) for a in sites))
        used = {p.rpps for p in self.world.professionals}
        while len(self.world.professionals) < N_PROFESSIONALS:
            profession = rng.choice(catalog.PROFESSION_MIX)
            sf_type, sf_code, sf_label, categories = rng.choice(catalog.SAVOIR_FAIRE[profession])
            rpps = luhn_complete(f"99700{rng.randint(0, 99999):05d}")
            if rpps in used:
                continue
            used.add(rpps)
            sex = rng.choice("MF")
            candidates = sorted(o.id for o in orgs.values() if o.category in categories)
            sites = rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2))))
            activities = tuple(
                Activity(s, "L" if orgs[s].category == "practice" else "S") for s in sites
            )
            self._add_pro(
                id="8" + rpps, rpps=rpps, id_origin="RPPS", civility="M" if sex == "M" else "MME",
                exercise_civility="DR" if profession in ("10", "21", "40") else "",
                family_name=family_name(rng), given_name=given_names(rng, sex, 1)[0],
                profession=profession, savoir_faire_type=sf_type, savoir_faire=sf_code,
                savoir_faire_label=sf_label, activities=activities,
            )
        for spec in catalog.REGULATORS:
            fields = dict(spec)
            sites = fields.pop("activities_spec", ())
            self._add_pro(**fields, activities=tuple(Activity(*a) for a in sites))

    def _add_pro(self, *, id: str, rpps: str, id_origin: str, civility: str, exercise_civility: str,
                 family_name: str, given_name: str, profession: str, savoir_faire_type: str,
                 savoir_faire: str, savoir_faire_label: str, activities: tuple[Activity, ...],
                 origin: str = "synthetic", medical_regulation: bool = False) -> None:
        local = f"{given_name}.{family_name}".lower().replace(" ", "-").replace("'", "")
        address = self.address(local, PRO_DOMAIN)
        self.world.mailboxes.append(Mailbox(address, "PER", "professional", id, PRO_DOMAIN,
                                            f"{given_name} {family_name}"))
        self.world.professionals.append(Professional(
            id=id, rpps=rpps, id_origin=id_origin, civility=civility, exercise_civility=exercise_civility,
            family_name=family_name, given_name=given_name, profession=profession,
            profession_label=catalog.PROFESSIONS[profession], category="C",
            savoir_faire_type=savoir_faire_type, savoir_faire=savoir_faire,
            savoir_faire_label=savoir_faire_label, activities=activities, mailbox=address,
            email=f"{local}@example.invalid", origin=origin, medical_regulation=medical_regulation,
        ))

    def patient_mailboxes(self) -> None:
        for p in self.world.patients:
            self.world.mailboxes.append(Mailbox(p.mailbox, None, "patient", p.id, PATIENT_DOMAIN,
                                                f"Mon espace santé {p.label}"))


def generate_world(seed: int) -> World:
    """Build the synthetic world for ``seed`` (pure function of the seed)."""
    gen = _Generator(seed)
    gen.patients()
    gen.organisations()
    gen.professionals()
    gen.patient_mailboxes()
    return gen.world
