"""Places used by the synthetic world: INSEE COG codes of communes and of foreign countries
(FACTS §1.1 "code officiel géographique", §1.3 NIR layout: department ``2A``/``2B`` for Corsica,
``99`` + country code for people born abroad).

Codes are public identifiers of places, not of people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    cog: str  # 5 characters: department (2) + commune (3), or 99 + country code
    name: str
    postal_code: str = ""

    @property
    def department(self) -> str:
        return self.cog[:2]

    @property
    def commune(self) -> str:
        return self.cog[2:]

    @property
    def abroad(self) -> bool:
        return self.cog.startswith("99")


COMMUNES: tuple[Place, ...] = (
    Place("75056", "PARIS", "75010"),
    Place("13055", "MARSEILLE", "13005"),
    Place("69123", "LYON", "69003"),
    Place("31555", "TOULOUSE", "31000"),
    Place("06088", "NICE", "06000"),
    Place("44109", "NANTES", "44000"),
    Place("67482", "STRASBOURG", "67000"),
    Place("34172", "MONTPELLIER", "34000"),
    Place("33063", "BORDEAUX", "33000"),
    Place("59350", "LILLE", "59000"),
    Place("35238", "RENNES", "35000"),
    Place("51454", "REIMS", "51100"),
    Place("63113", "CLERMONT-FERRAND", "63000"),
    Place("63220", "MOZAC", "63200"),
    Place("54395", "NANCY", "54000"),
    Place("29019", "BREST", "29200"),
    Place("87085", "LIMOGES", "87000"),
    Place("21231", "DIJON", "21000"),
    Place("2A004", "AJACCIO", "20000"),
    Place("2A020", "ALATA", "20167"),
    Place("2B033", "BASTIA", "20200"),
    Place("2B096", "CORTE", "20250"),
    Place("97411", "SAINT-DENIS", "97400"),
    Place("97105", "BASSE-TERRE", "97100"),
)

COUNTRIES: tuple[Place, ...] = (
    Place("99109", "ALLEMAGNE"),
    Place("99127", "ITALIE"),
    Place("99134", "ESPAGNE"),
    Place("99139", "PORTUGAL"),
    Place("99131", "BELGIQUE"),
    Place("99350", "MAROC"),
    Place("99352", "ALGERIE"),
    Place("99351", "TUNISIE"),
    Place("99341", "SENEGAL"),
)

BY_COG: dict[str, Place] = {p.cog: p for p in COMMUNES + COUNTRIES}
