"""The territory of Grand-Orly Seine Bièvre and how an address is placed in it.

Source: ../shared/DOMAIN.md (INSEE codes and postcodes of the 24 communes).
"""
from __future__ import annotations

import enum
import unicodedata
from typing import NamedTuple

EPT_SIREN = "200058014"


class Commune(NamedTuple):
    insee: str
    postcode: str
    name: str


COMMUNES: tuple[Commune, ...] = (
    Commune("94001", "94480", "Ablon-sur-Seine"),
    Commune("94003", "94110", "Arcueil"),
    Commune("94016", "94230", "Cachan"),
    Commune("94021", "94550", "Chevilly-Larue"),
    Commune("94022", "94600", "Choisy-le-Roi"),
    Commune("94034", "94260", "Fresnes"),
    Commune("94037", "94250", "Gentilly"),
    Commune("94038", "94240", "L'Haÿ-les-Roses"),
    Commune("94041", "94200", "Ivry-sur-Seine"),
    Commune("94043", "94270", "Le Kremlin-Bicêtre"),
    Commune("94054", "94310", "Orly"),
    Commune("94065", "94150", "Rungis"),
    Commune("94073", "94320", "Thiais"),
    Commune("94074", "94460", "Valenton"),
    Commune("94076", "94800", "Villejuif"),
    Commune("94077", "94290", "Villeneuve-le-Roi"),
    Commune("94078", "94190", "Villeneuve-Saint-Georges"),
    Commune("94081", "94400", "Vitry-sur-Seine"),
    Commune("91027", "91200", "Athis-Mons"),
    Commune("91326", "91260", "Juvisy-sur-Orge"),
    Commune("91432", "91420", "Morangis"),
    Commune("91479", "91550", "Paray-Vieille-Poste"),
    Commune("91589", "91600", "Savigny-sur-Orge"),
    Commune("91687", "91170", "Viry-Châtillon"),
)
COMMUNES_BY_INSEE = {c.insee: c for c in COMMUNES}

TERRITORY_DEPARTMENTS = ("94", "91")
ILE_DE_FRANCE_DEPARTMENTS = ("75", "77", "78", "91", "92", "93", "94", "95")


class Locality(enum.StrEnum):
    """Ordered from nearest to farthest: each level excludes the ones before it."""

    TERRITORY = "territory"
    DEPARTMENTS = "departments_94_91"
    ILE_DE_FRANCE = "ile_de_france"
    ELSEWHERE = "elsewhere"


def _fold(name: str) -> str:
    """Compare commune names without case, accents, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in letters.lower() if ch.isalnum())


_COMMUNES_BY_PLACE = {(c.postcode, _fold(c.name)): c for c in COMMUNES}


def commune_for(postcode: str | None, city: str | None) -> Commune | None:
    """The territory commune at this address, if any. A postcode alone is not enough:
    several communes outside the territory share postcodes with communes inside it."""
    if not postcode or not city:
        return None
    return _COMMUNES_BY_PLACE.get((postcode.strip(), _fold(city)))


def locality_of(postcode: str | None, city: str | None) -> Locality:
    if commune_for(postcode, city):
        return Locality.TERRITORY
    department = (postcode or "").strip()[:2]
    if department in TERRITORY_DEPARTMENTS:
        return Locality.DEPARTMENTS
    if department in ILE_DE_FRANCE_DEPARTMENTS:
        return Locality.ILE_DE_FRANCE
    return Locality.ELSEWHERE


def commune_siren(insee: str) -> str:
    """SIREN of a commune as INSEE numbers them: 21, département, 0, commune, Luhn digit."""
    from stdnum import luhn

    stem = "21" + insee[:2] + "0" + insee[2:]
    return stem + luhn.calc_check_digit(stem)
