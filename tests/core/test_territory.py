import pytest
from stdnum.fr import siren

from core.territory import COMMUNES, Locality, commune_for, commune_siren, locality_of


def test_the_territory_has_24_communes_in_two_departements():
    assert len(COMMUNES) == 24
    assert {c.insee[:2] for c in COMMUNES} == {"94", "91"}


@pytest.mark.parametrize(("postcode", "city", "expected"), [
    ("94400", "Vitry-sur-Seine", Locality.TERRITORY),
    ("94240", "l'hay les roses", Locality.TERRITORY),     # case, accents and punctuation ignored
    ("94240", "Chevilly-Larue", Locality.DEPARTMENTS),    # right département, wrong commune/postcode pair
    ("94000", "Créteil", Locality.DEPARTMENTS),
    ("91000", "Évry-Courcouronnes", Locality.DEPARTMENTS),
    ("75012", "Paris", Locality.ILE_DE_FRANCE),
    ("69003", "Lyon", Locality.ELSEWHERE),
    ("", "", Locality.ELSEWHERE),
])
def test_locality_is_derived_from_postcode_and_commune(postcode, city, expected):
    assert locality_of(postcode, city) is expected


def test_commune_is_found_by_postcode_and_name():
    assert commune_for("94200", "IVRY-SUR-SEINE").insee == "94041"
    assert commune_for("94200", "Paris") is None


def test_commune_siren_is_a_valid_siren():
    assert commune_siren("94081") == "219400819"     # Vitry-sur-Seine, as INSEE publishes it
    assert all(siren.is_valid(commune_siren(c.insee)) for c in COMMUNES)
