"""Demo inventory: Vitry-sur-Seine's IT team with devices in service, surplus and one open offer.
Idempotent: devices are found by serial number."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import Organisation, User, utcnow
from reuse import services
from reuse.models import Condition, Device, DeviceCategory, StorageType

LAPTOPS = [f"PF-DEMO-{n:03d}" for n in range(1, 6)]


def load() -> None:
    vitry = db.session.scalar(select(Organisation).where(Organisation.insee_code == "94081"))
    it_manager = db.session.scalar(select(User).where(User.email == "dsi.94081@ville.example"))
    if vitry is None or it_manager is None or db.session.scalar(
            select(Device.id).where(Device.serial_number == LAPTOPS[0])) is not None:
        return
    laptops = [services.create_device(it_manager, vitry, services.DeviceData(
        category=DeviceCategory.LAPTOP, brand="Lenovo", model="ThinkPad T480", serial_number=serial,
        asset_number=f"VITRY-{serial[-3:]}", purchase_date=date(2019, 9, 2), purchase_price=Decimal("890.00"),
        cpu="Intel Core i5-8250U", ram_gb=8, storage_type=StorageType.SSD, storage_gb=256,
        screen_inches=Decimal("14.0"), condition=Condition.B)) for serial in LAPTOPS]
    monitors = [services.create_device(it_manager, vitry, services.DeviceData(
        category=DeviceCategory.MONITOR, brand="Dell", model="P2419H", serial_number=f"CN-DEMO-{n:03d}",
        purchase_date=date(2018, 5, 14), purchase_price=Decimal("179.00"), screen_inches=Decimal("24.0"),
        condition=Condition.A)) for n in range(1, 4)]
    services.create_device(it_manager, vitry, services.DeviceData(
        category=DeviceCategory.DESKTOP, brand="HP", model="EliteDesk 800 G1", serial_number="CZC-DEMO-001",
        purchase_date=date(2014, 1, 20), purchase_price=Decimal("720.00"), storage_type=StorageType.HDD,
        storage_gb=500))
    db.session.flush()
    for device in laptops[:3] + monitors:
        services.reform(it_manager, device, date(2025, 12, 15))
    offer = services.create_offer(it_manager, monitors, "3 écrans Dell 24 pouces",
                                  "Écrans Full HD en bon état, câbles fournis.")
    offer.published_at = utcnow() - timedelta(days=30)
