"""Demo data: the territory's public bodies, suppliers, beneficiaries and one account per role.

Idempotent: each organisation is found by its SIRET or INSEE code, each user by email, so running it
twice changes nothing. Every demo account uses DEMO_PASSWORD (listed in the README).
"""
from __future__ import annotations

from stdnum import luhn
from sqlalchemy import select

from core import services
from core.extensions import db
from core.models import BeneficiaryCategory, Organisation, OrganisationKind, Role, User, ValidationStatus
from core.territory import COMMUNES, EPT_SIREN, commune_siren

DEMO_PASSWORD = "circuit-demo-2026"  # nosec B105 # the documented password of the demo accounts


def siret(siren: str, establishment: str = "0001") -> str:
    """A SIRET with a valid key: the last digit of the NIC is chosen so the 14 digits pass Luhn."""
    stem = siren + establishment
    return stem + luhn.calc_check_digit(stem)


def demo_siren(seed: int) -> str:
    stem = f"9{seed:07d}"
    return stem + luhn.calc_check_digit(stem)


Details = services.OrganisationDetails
S = OrganisationKind.SUPPLIER
B = OrganisationKind.BENEFICIARY

SUPPLIERS = (
    # Social-economy refurbishers in the territory.
    (Details(S, "Ateliers Numériques Solidaires", "12 rue Eugène Hénaff", "94400", "Vitry-sur-Seine",
             siret(demo_siren(101)), email="contact@ans-vitry.example", is_sme=True, is_ess=True,
             is_siae=True, description="Atelier et chantier d'insertion : reconditionnement de PC."),
     "ans"),
    (Details(S, "Recyclerie Informatique d'Ivry", "5 rue Marat", "94200", "Ivry-sur-Seine",
             siret(demo_siren(102)), email="bonjour@rii.example", is_sme=True, is_ess=True,
             description="Reconditionnement et réemploi de postes et d'écrans."),
     "rii"),
    (Details(S, "ESAT Les Portes d'Orly", "3 avenue de la Victoire", "94310", "Orly",
             siret(demo_siren(103)), email="esat@portes-orly.example", is_sme=True, is_ess=True,
             is_ea_esat=True, description="ESAT : effacement certifié des données et reconditionnement."),
     "esat"),
    (Details(S, "Athis Reconditionnement", "20 route de Fontainebleau", "91200", "Athis-Mons",
             siret(demo_siren(104)), email="ventes@athis-recond.example", is_sme=True,
             description="Reconditionneur de smartphones et tablettes."),
     "athis"),
    # Outside the territory.
    (Details(S, "Évry Tech Services", "1 boulevard de France", "91000", "Évry-Courcouronnes",
             siret(demo_siren(105)), email="contact@evrytech.example", is_sme=True),
     "evry"),
    (Details(S, "Grand Parc Informatique", "40 rue de Lyon", "69003", "Lyon",
             siret(demo_siren(106)), email="marches@gpi.example"),
     "gpi"),
)

BENEFICIARIES = (
    (Details(B, "Collège Henri Wallon", "1 rue Henri Wallon", "94200", "Ivry-sur-Seine",
             beneficiary_category=BeneficiaryCategory.PUBLIC_BODY), "college"),
    (Details(B, "CCAS de Villejuif", "2 esplanade Pierre-Yves Cosnier", "94800", "Villejuif",
             beneficiary_category=BeneficiaryCategory.PUBLIC_BODY), "ccas"),
    (Details(B, "Association Connect'Orly", "7 place du Fer à Cheval", "94310", "Orly",
             beneficiary_category=BeneficiaryCategory.GENERAL_INTEREST_PRECARITY), "connect"),
    (Details(B, "FCPE Choisy-le-Roi", "4 rue Ledru-Rollin", "94600", "Choisy-le-Roi",
             beneficiary_category=BeneficiaryCategory.PARENTS_STUDENTS_ASSOCIATION), "fcpe"),
)

SYNDICATES = (
    (Details(OrganisationKind.SYNDICATE, "SIPPEREC", "173 bis rue de Bercy", "75012", "Paris",
             siret(demo_siren(202))), "sipperec"),
    (Details(OrganisationKind.SYNDICATE, "SIIM94", "1 rue Eugène Pottier", "94000", "Créteil",
             siret(demo_siren(201))), "siim94"),
)


def _organisation(details: Details) -> Organisation:
    query = select(Organisation)
    if details.siret:
        query = query.where(Organisation.siret == details.siret)
    else:
        query = query.where(Organisation.name == details.name, Organisation.kind == details.kind)
    existing = db.session.scalar(query)
    return existing or services.create_organisation(details, ValidationStatus.VALIDATED)


def _user(organisation: Organisation, email: str, full_name: str, role: Role) -> User:
    existing = db.session.scalar(select(User).where(User.email == email))
    return existing or services.create_user(organisation, email, full_name, role, password=DEMO_PASSWORD)


def load() -> dict[str, int]:
    """Create what is missing; return how many organisations and users exist afterwards."""
    ept = _organisation(Details(OrganisationKind.EPT, "Établissement public territorial Grand-Orly Seine Bièvre",
                                "11 avenue Henri Farman", "94310", "Orly", siret(EPT_SIREN),
                                email="circuit@grandorlyseinebievre.fr"))
    _user(ept, "admin@gosb.example", "Alice Martin", Role.ADMIN)
    _user(ept, "achats@gosb.example", "Bruno Lefèvre", Role.PROCUREMENT_OFFICER)
    _user(ept, "dsi@gosb.example", "Chloé Bernard", Role.IT_MANAGER)
    _user(ept, "elu@gosb.example", "Daniel Roux", Role.OBSERVER)

    for commune in COMMUNES:
        organisation = db.session.scalar(select(Organisation).where(Organisation.insee_code == commune.insee))
        if organisation is None:
            organisation = services.create_organisation(
                Details(OrganisationKind.COMMUNE, f"Ville de {commune.name}", "Hôtel de ville",
                        commune.postcode, commune.name, siret(commune_siren(commune.insee)),
                        insee_code=commune.insee),
                ValidationStatus.VALIDATED,
            )
        slug = commune.insee
        if commune.insee in {"94081", "94041", "94054"}:  # Vitry, Ivry, Orly: a full team each
            _user(organisation, f"achats.{slug}@ville.example", f"Acheteur {commune.name}",
                  Role.PROCUREMENT_OFFICER)
            _user(organisation, f"dsi.{slug}@ville.example", f"DSI {commune.name}", Role.IT_MANAGER)
            _user(organisation, f"elu.{slug}@ville.example", f"Élu {commune.name}", Role.OBSERVER)

    for details, slug in SYNDICATES:
        organisation = _organisation(details)
        _user(organisation, f"achats@{slug}.example", f"Acheteur {details.name}", Role.PROCUREMENT_OFFICER)
    for details, slug in SUPPLIERS:
        organisation = _organisation(details)
        _user(organisation, f"{slug}@fournisseur.example", f"Commercial {details.name}", Role.SUPPLIER)
    for details, slug in BENEFICIARIES:
        organisation = _organisation(details)
        _user(organisation, f"{slug}@beneficiaire.example", f"Contact {details.name}", Role.BENEFICIARY)

    # One registration waiting for the EPT, so the validation queue is not empty.
    pending = Details(S, "Reboot Cachan", "9 avenue Carnot", "94230", "Cachan", siret(demo_siren(107)),
                      is_sme=True, is_ess=True, email="hello@reboot-cachan.example")
    if db.session.scalar(select(Organisation).where(Organisation.siret == pending.siret)) is None:
        organisation = services.create_organisation(pending)
        _user(organisation, "reboot@fournisseur.example", "Contact Reboot Cachan", Role.SUPPLIER)

    db.session.flush()
    from reuse import demo as reuse_demo

    reuse_demo.load()
    from marketplace import demo as marketplace_demo

    marketplace_demo.load()
    from procurement import demo as procurement_demo

    procurement_demo.load()
    db.session.flush()
    return {
        "organisations": db.session.query(Organisation).count(),
        "users": db.session.query(User).count(),
    }


def is_empty() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is None
