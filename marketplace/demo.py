"""Demo catalogue: two to four offers for each validated demo supplier (core.demo.SUPPLIERS), published by
its demo account through the catalogue services. Idempotent: an offer is found by (supplier, brand, model)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import Organisation, User
from marketplace.models import CatalogueOffer, Grade, Label
from marketplace.services import catalogue
from marketplace.services.catalogue import OfferData, Tier
from reuse.models import DeviceCategory

D = Decimal
LAPTOP, MONITOR, SMARTPHONE, TABLET, DESKTOP = (DeviceCategory.LAPTOP, DeviceCategory.MONITOR,
                                                DeviceCategory.SMARTPHONE, DeviceCategory.TABLET,
                                                DeviceCategory.DESKTOP)


def _laptop(brand, model, cpu, ram, storage, screen, grade, battery, price, **kwargs) -> OfferData:
    return OfferData(category=LAPTOP, brand=brand, model=model, cpu=cpu, ram_gb=ram, storage_gb=storage,
                     screen_inches=D(screen), grade=grade, battery_health_pct=battery, unit_price=D(price),
                     **kwargs)


# By the slug of the supplier's demo account in core.demo.SUPPLIERS.
OFFERS: dict[str, list[OfferData]] = {
    "ans": [
        _laptop("Dell", "Latitude 5490", "Intel Core i5-8350U", 8, 256, "14.0", Grade.A, 88, "289.00",
                specifications="SSD NVMe, Windows 11 Pro ou Linux Mint, clavier AZERTY, chargeur d'origine.",
                warranty_months=24, stock=60, lead_time_days=7, labels=[Label.EPEAT, Label.TCO_CERTIFIED],
                repairability_index=D("7.4"), spare_parts_years=5,
                tiers=[Tier(20, D("275.00")), Tier(50, D("259.00"))]),
        _laptop("Lenovo", "ThinkPad T480", "Intel Core i5-8250U", 8, 256, "14.0", Grade.B, 81, "249.00",
                specifications="Deux batteries (interne et externe), webcam HD, Windows 11 Pro.",
                warranty_months=12, stock=35, lead_time_days=5, labels=[Label.TCO_CERTIFIED],
                repairability_index=D("8.1"), spare_parts_years=5),
        OfferData(category=MONITOR, brand="Dell", model="P2419H", screen_inches=D("24.0"), grade=Grade.A,
                  unit_price=D("79.00"), specifications="Full HD IPS, pied réglable, câbles HDMI et secteur.",
                  warranty_months=12, stock=120, lead_time_days=5, labels=[Label.TCO_CERTIFIED, Label.EPEAT],
                  tiers=[Tier(30, D("72.00"))]),
    ],
    "rii": [
        _laptop("HP", "EliteBook 840 G5", "Intel Core i5-8350U", 16, 512, "14.0", Grade.A, 86, "319.00",
                specifications="Écran Full HD, lecteur d'empreintes, Windows 11 Pro.", warranty_months=24,
                stock=40, lead_time_days=10, labels=[Label.EPEAT, Label.TCO_CERTIFIED],
                repairability_index=D("7.0"), spare_parts_years=5,
                tiers=[Tier(10, D("305.00")), Tier(40, D("289.00"))]),
        OfferData(category=DESKTOP, brand="Lenovo", model="ThinkCentre M720q", cpu="Intel Core i5-8500T",
                  ram_gb=8, storage_gb=256, grade=Grade.B, unit_price=D("199.00"),
                  specifications="Format tiny, clavier et souris fournis, Windows 11 Pro.", warranty_months=12,
                  stock=25, lead_time_days=10, labels=[Label.TCO_CERTIFIED], spare_parts_years=5),
        OfferData(category=MONITOR, brand="HP", model="EliteDisplay E243", screen_inches=D("23.8"), grade=Grade.B,
                  unit_price=D("69.00"), warranty_months=12, stock=45, lead_time_days=10,
                  labels=[Label.EPEAT]),
    ],
    "esat": [
        _laptop("Lenovo", "ThinkPad T490", "Intel Core i5-8265U", 16, 256, "14.0", Grade.A, 90, "329.00",
                specifications="Effacement certifié des données (NIST 800-88 Purge), rapport fourni.",
                warranty_months=24, stock=30, lead_time_days=8, labels=[Label.TCO_CERTIFIED],
                repairability_index=D("8.0"), spare_parts_years=5,
                tiers=[Tier(15, D("315.00"))]),
        _laptop("Dell", "Latitude 7490", "Intel Core i7-8650U", 16, 512, "14.0", Grade.B, 83, "359.00",
                warranty_months=18, stock=12, lead_time_days=8, labels=[Label.EPEAT],
                repairability_index=D("7.2"), spare_parts_years=5),
    ],
    "athis": [
        OfferData(category=SMARTPHONE, brand="Apple", model="iPhone 11 64 Go", grade=Grade.A, battery_health_pct=89,
                  unit_price=D("259.00"), specifications="Débloqué tout opérateur, câble fourni.",
                  warranty_months=12, stock=50, lead_time_days=3, repairability_index=D("6.0"),
                  spare_parts_years=5, tiers=[Tier(10, D("249.00")), Tier(30, D("239.00"))]),
        OfferData(category=SMARTPHONE, brand="Samsung", model="Galaxy A52 128 Go", grade=Grade.B,
                  battery_health_pct=85, unit_price=D("169.00"), warranty_months=12, stock=40, lead_time_days=3,
                  repairability_index=D("8.2"), spare_parts_years=5),
        OfferData(category=TABLET, brand="Apple", model="iPad 7e génération 32 Go", screen_inches=D("10.2"),
                  grade=Grade.B, battery_health_pct=84, unit_price=D("189.00"), warranty_months=12, stock=20,
                  lead_time_days=5),
    ],
    "evry": [
        _laptop("HP", "EliteBook 830 G6", "Intel Core i5-8365U", 8, 256, "13.3", Grade.B, 80, "279.00",
                warranty_months=12, stock=18, lead_time_days=6, labels=[Label.EPEAT], spare_parts_years=3),
        OfferData(category=SMARTPHONE, brand="Fairphone", model="Fairphone 5 256 Go", is_reconditioned=False,
                  unit_price=D("582.50"), specifications="Appareil neuf, modulaire, mises à jour jusqu'en 2031.",
                  warranty_months=60, stock=15, lead_time_days=4, labels=[Label.TCO_CERTIFIED],
                  repairability_index=D("9.3"), spare_parts_years=8),
    ],
    "gpi": [
        _laptop("Lenovo", "ThinkPad X390", "Intel Core i5-8365U", 8, 256, "13.3", Grade.C, 78, "219.00",
                warranty_months=12, stock=80, lead_time_days=12, labels=[Label.TCO_CERTIFIED],
                tiers=[Tier(50, D("205.00")), Tier(100, D("195.00"))]),
        OfferData(category=MONITOR, brand="Dell", model="P2422H", screen_inches=D("23.8"), grade=Grade.A,
                  unit_price=D("99.00"), warranty_months=24, stock=150, lead_time_days=12,
                  labels=[Label.TCO_CERTIFIED, Label.EPEAT]),
    ],
}


def load() -> int:
    """Create the missing demo offers; return how many were created."""
    from core.demo import SUPPLIERS

    created = 0
    for details, slug in SUPPLIERS:
        supplier = db.session.scalar(select(Organisation).where(Organisation.siret == details.siret))
        seller = db.session.scalar(select(User).where(User.email == f"{slug}@fournisseur.example"))
        if supplier is None or seller is None or not supplier.is_validated:
            continue
        for data in OFFERS.get(slug, []):
            exists = db.session.scalar(select(CatalogueOffer.id).where(
                CatalogueOffer.supplier_id == supplier.id, CatalogueOffer.brand == data.brand,
                CatalogueOffer.model == data.model))
            if exists is None:
                # A copy: the table above stays as written whatever the services do with their input.
                catalogue.create_offer(seller, supplier, replace(
                    data, labels=list(data.labels), tiers=list(data.tiers or []),
                    reconditioning_postcode=supplier.postcode, reconditioning_city=supplier.city))
                created += 1
    db.session.flush()
    return created
