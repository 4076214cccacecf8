"""Model factories: tests build their data here, never as hand-written rows."""
from __future__ import annotations

import factory
from stdnum import luhn

from core.extensions import db
from core.models import (
    ApiToken,
    BeneficiaryCategory,
    Organisation,
    OrganisationKind,
    Site,
    Role,
    User,
    ValidationStatus,
)

PASSWORD = "correct horse battery"


def _siret(n: int) -> str:
    stem = f"8{n:07d}"
    siren = stem + luhn.calc_check_digit(stem)
    stem = siren + "0001"
    return stem + luhn.calc_check_digit(stem)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class SiteFactory(BaseFactory):
    class Meta:
        model = Site

    name = "Siège"
    address = factory.SelfAttribute("organisation.address")
    postcode = factory.SelfAttribute("organisation.postcode")
    city = factory.SelfAttribute("organisation.city")


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.SUPPLIER
    name = factory.Sequence(lambda n: f"Organisation {n}")
    siret = factory.Sequence(_siret)
    address = "1 rue de la République"
    postcode = "94400"
    city = "Vitry-sur-Seine"
    validation_status = ValidationStatus.VALIDATED
    is_sme = True
    # Every organisation has at least one site, as services.create_organisation guarantees.
    site = factory.RelatedFactory(SiteFactory, factory_related_name="organisation")

    class Params:
        public = factory.Trait(kind=OrganisationKind.COMMUNE, siret=None)
        ept = factory.Trait(kind=OrganisationKind.EPT, siret=None)
        beneficiary = factory.Trait(kind=OrganisationKind.BENEFICIARY, siret=None,
                                    beneficiary_category=BeneficiaryCategory.PUBLIC_BODY)
        pending = factory.Trait(validation_status=ValidationStatus.PENDING)


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.SUPPLIER
    organisation = factory.SubFactory(OrganisationFactory)
    password_hash = factory.LazyFunction(lambda: _password_hash())


_HASH_CACHE: dict[str, str] = {}


def _password_hash() -> str:
    # scrypt is slow on purpose; one hash of the shared test password serves every factory user.
    if PASSWORD not in _HASH_CACHE:
        user = User()
        user.set_password(PASSWORD)
        _HASH_CACHE[PASSWORD] = user.password_hash
    return _HASH_CACHE[PASSWORD]


ORGANISATION_TRAIT_FOR_ROLE = {
    Role.ADMIN: {"ept": True},
    Role.PROCUREMENT_OFFICER: {"public": True},
    Role.IT_MANAGER: {"public": True},
    Role.OBSERVER: {"public": True},
    Role.SUPPLIER: {},
    Role.BENEFICIARY: {"beneficiary": True},
}


def user_for_role(role: Role, organisation: Organisation | None = None, **kwargs) -> User:
    if organisation is None:
        organisation = OrganisationFactory(**ORGANISATION_TRAIT_FOR_ROLE[role])
    return UserFactory(role=role, organisation=organisation, **kwargs)


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "test"


# --- reuse ---------------------------------------------------------------------------------------

from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from reuse.models import Device, DeviceCategory, DeviceStatus, StorageType  # noqa: E402


class DeviceFactory(BaseFactory):
    class Meta:
        model = Device

    organisation = factory.SubFactory(OrganisationFactory, public=True)
    category = DeviceCategory.LAPTOP
    brand = "Lenovo"
    model = "ThinkPad T480"
    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")
    asset_number = factory.Sequence(lambda n: f"INV-{n:05d}")
    purchase_date = date(2022, 3, 1)
    purchase_price = Decimal("900.00")
    storage_type = StorageType.SSD
    storage_gb = 256
    ram_gb = 8
    weight_kg = Decimal("1.65")
    has_storage_media = True
    status = DeviceStatus.IN_SERVICE

    class Params:
        reformed = factory.Trait(status=DeviceStatus.REFORMED, reformed_on=date(2025, 6, 1))


# --- marketplace ---------------------------------------------------------------------------------

from marketplace.models import CatalogueOffer, Grade, PriceTier  # noqa: E402


class CatalogueOfferFactory(BaseFactory):
    class Meta:
        model = CatalogueOffer

    supplier = factory.SubFactory(OrganisationFactory, is_ess=True)
    category = DeviceCategory.LAPTOP
    cpv = "30213100-6"
    brand = "Dell"
    model = factory.Sequence(lambda n: f"Latitude 54{n:02d}")
    cpu = "Intel Core i5-8365U"
    ram_gb = 16
    storage_gb = 256
    grade = Grade.A
    battery_health_pct = 85
    warranty_months = 24
    unit_price = Decimal("320.00")
    vat_rate = Decimal("20.00")
    stock = 100
    lead_time_days = 7
    reconditioning_postcode = "94400"
    reconditioning_city = "Vitry-sur-Seine"
    labels = factory.LazyFunction(lambda: ["tco_certified"])


class PriceTierFactory(BaseFactory):
    class Meta:
        model = PriceTier

    offer = factory.SubFactory(CatalogueOfferFactory)
    min_quantity = 50
    unit_price = Decimal("290.00")


# --- procurement ---------------------------------------------------------------------------------

import itertools  # noqa: E402
from datetime import timedelta  # noqa: E402

from core.models import utcnow  # noqa: E402
from procurement.models import (Clause, ClauseVersion, CriterionKind, Mechanism, ProcedureType,  # noqa: E402
                                Theme)
from procurement.services import bids as bid_service  # noqa: E402
from procurement.services import tenders as tender_service  # noqa: E402

# The smallest file that passes the memo check: a PDF header and its end-of-file marker.
MEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

_TENDER_NUMBERS = itertools.count(1)
ENVIRONMENTAL = {False: "Clause environnementale", True: "Critère environnemental"}


def clause(code: str, theme: Theme = Theme.DURABILITY, mechanism: Mechanism = Mechanism.EXECUTION_CLAUSE,
           title: str | None = None) -> ClauseVersion:
    """A library clause with one version; its DECP consideration follows its theme and mechanism."""
    award = mechanism is Mechanism.AWARD_CRITERION
    if theme is Theme.RESERVED_CONTRACT:
        consideration = "Marché réservé"
    elif theme.is_social:
        consideration = "Critère social" if award else "Clause sociale"
    else:
        consideration = ENVIRONMENTAL[award]
    version = ClauseVersion(
        number=1, title_fr=title or f"Clause {code}", title_en=title or f"Clause {code}",
        text_fr=f"Texte de la clause {code}.", text_en=f"Text of clause {code}.",
        evidence_fr="Fiche technique.", evidence_en="Data sheet.", theme=theme, mechanism=mechanism,
        decp_consideration=consideration,
        ocds_goal="social.disadvantagedEmploymentOpportunities" if theme.is_social else "environmental.circularEconomy")
    db.session.add(Clause(code=code, versions=[version]))
    db.session.commit()
    return version


def draft_tender(officer: User, lots: int = 1, reference: str | None = None, **overrides):
    """A complete draft: lots, a grid with price 60 / technical 20 / environmental 20, an environmental
    technical specification, an environmental execution clause and an environmental award-criterion clause
    (so it passes the Climat et Résilience check)."""
    data = tender_service.TenderData(
        reference=reference or f"T-{next(_TENDER_NUMBERS):05d}",
        title="Ordinateurs portables reconditionnés", description="Fourniture de portables reconditionnés.",
        cpv="30213100-6", procedure=ProcedureType.ADAPTED, estimated_value=Decimal("50000.00"),
        deadline=utcnow() + timedelta(days=10))
    for key, value in overrides.items():
        setattr(data, key, value)
    tender = tender_service.create_tender(officer, officer.organisation, data)
    for number in range(1, lots + 1):
        tender_service.add_lot(officer, tender, f"Lot {number}", 100, estimated_value=Decimal("25000.00"))
    tender_service.set_criteria(officer, tender, [(CriterionKind.PRICE, "Prix", 60),
                                                  (CriterionKind.TECHNICAL, "Valeur technique", 20),
                                                  (CriterionKind.ENVIRONMENTAL, "Performance environnementale", 20)])
    stamp = f"{tender.reference[-6:]}"
    tender_service.attach_clause(officer, tender, clause(f"S{stamp}", Theme.ENERGY, Mechanism.TECHNICAL_SPECIFICATION))
    tender_service.attach_clause(officer, tender, clause(f"X{stamp}", Theme.TAKE_BACK_WEEE))
    tender_service.attach_clause(officer, tender, clause(f"A{stamp}", Theme.BATTERY, Mechanism.AWARD_CRITERION))
    db.session.commit()
    return tender


def published_tender(officer: User | None = None, lots: int = 1, **overrides):
    officer = officer or user_for_role(Role.PROCUREMENT_OFFICER)
    tender = draft_tender(officer, lots=lots, **overrides)
    tender_service.publish(officer, tender)
    db.session.commit()
    return tender


def submit_bid(supplier: User, lot, price: str = "30000.00", commit_award_clauses: bool = True):
    """A bid committing to every binding clause, and to the award-criterion ones unless told not to."""
    commitments = {tc.id: (True, "Attestation jointe.") for tc in lot.tender.clauses
                   if tc.version.mechanism.binding or commit_award_clauses}
    bid = bid_service.submit(supplier, lot, bid_service.BidData(Decimal(price), "memoire.pdf", MEMO_PDF,
                                                                commitments))
    db.session.commit()
    return bid


def close(tender) -> None:
    """Move the deadline into the past, as time passing would."""
    tender.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
