"""core.bulk writes rows as SQLAlchemy would, one executemany for all: each column converted by its type,
left-out columns given their default."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from core import bulk
from core.extensions import db
from core.models import AuditEntry, utcnow
from reuse.models import Condition, Device, DeviceCategory, DeviceStatus, StorageType
from tests.factories import OrganisationFactory


def test_rows_are_read_back_with_their_types_and_the_defaults_of_the_columns_left_out():
    organisation = OrganisationFactory()
    db.session.flush()
    before = utcnow()
    bulk.insert_rows(Device.__table__, [
        {"organisation_id": organisation.id, "category": DeviceCategory.LAPTOP, "serial_number": "SN-1",
         "asset_number": None, "purchase_date": date(2021, 3, 4), "purchase_price": Decimal("899.90"),
         "storage_type": StorageType.SSD, "condition": Condition.B, "weight_kg": Decimal("2.10"),
         "has_storage_media": True, "status": DeviceStatus.IN_SERVICE},
        {"organisation_id": organisation.id, "category": DeviceCategory.MONITOR, "serial_number": "SN-2",
         "asset_number": "INV-2", "purchase_date": None, "purchase_price": None,
         "storage_type": StorageType.NONE, "condition": None, "weight_kg": Decimal("5.00"),
         "has_storage_media": False, "status": DeviceStatus.REFORMED},
    ])
    db.session.commit()

    first, second = db.session.scalars(select(Device).order_by(Device.serial_number)).all()
    assert (first.category, first.purchase_date, first.purchase_price, first.storage_type, first.condition,
            first.weight_kg, first.has_storage_media, first.status) == (
        DeviceCategory.LAPTOP, date(2021, 3, 4), Decimal("899.90"), StorageType.SSD, Condition.B,
        Decimal("2.10"), True, DeviceStatus.IN_SERVICE)
    assert (second.category, second.asset_number, second.purchase_date, second.purchase_price,
            second.condition, second.has_storage_media, second.status) == (
        DeviceCategory.MONITOR, "INV-2", None, None, None, False, DeviceStatus.REFORMED)
    # Defaults: a scalar (brand "", sold_to "") and a callable (the creation time, once for the batch).
    assert (first.brand, first.sold_to, second.notes) == ("", "", "")
    assert first.created_at == second.created_at
    assert before <= first.created_at <= utcnow() and first.created_at.tzinfo == timezone.utc


def test_json_and_times_are_converted_like_the_orm_does():
    at = datetime(2026, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    bulk.insert_rows(AuditEntry.__table__, [
        {"at": at, "action": "test.bulk", "object_type": "device", "object_id": n, "changes": {"n": [n, "é"]}}
        for n in range(3)])
    db.session.commit()

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "test.bulk")
                                 .order_by(AuditEntry.object_id)).all()
    assert [entry.changes for entry in entries] == [{"n": [n, "é"]} for n in range(3)]
    assert {entry.at for entry in entries} == {datetime(2026, 5, 1, 10, 30, tzinfo=timezone.utc)}
    assert {entry.ip_address for entry in entries} == {""}


def test_no_rows_sends_nothing():
    bulk.insert_rows(Device.__table__, [])
    assert db.session.scalar(select(Device.id)) is None


def test_text_with_tabs_line_breaks_backslashes_and_quotes_is_written_as_given():
    # PostgreSQL's rows go through COPY, whose text format gives tabs, line breaks and backslashes a meaning.
    labels = ["Écran\t24\"", "ligne 1\nligne 2\r\n", "C:\\Users\\dsi \\N", "", "l'unité ; 100 %"]
    bulk.insert_rows(AuditEntry.__table__, [
        {"action": "test.text", "object_type": "device", "object_id": n, "object_label": label,
         "changes": {"note": label}} for n, label in enumerate(labels)])
    db.session.commit()
    written = db.session.execute(select(AuditEntry.object_label, AuditEntry.changes)
                                 .where(AuditEntry.action == "test.text").order_by(AuditEntry.object_id)).all()
    assert written == [(label, {"note": label}) for label in labels]


def test_ids_reserved_before_the_insert_are_the_rows_ids_and_later_ones_follow():
    organisation = OrganisationFactory()
    db.session.flush()
    reserved = bulk.reserved_ids(Device.__table__, 3)
    if db.engine.dialect.name == "sqlite":
        assert reserved is None  # no sequence: the caller reads its ids back
        return
    assert len(set(reserved)) == 3
    bulk.insert_rows(Device.__table__, [
        {"id": device_id, "organisation_id": organisation.id, "category": DeviceCategory.LAPTOP,
         "serial_number": f"SN-{device_id}", "weight_kg": Decimal("2.10"), "status": DeviceStatus.IN_SERVICE}
        for device_id in reserved])
    later = Device(organisation_id=organisation.id, category=DeviceCategory.MONITOR, serial_number="SN-later",
                   weight_kg=Decimal("5.00"), status=DeviceStatus.IN_SERVICE)
    db.session.add(later)
    db.session.commit()
    written = db.session.execute(select(Device.id, Device.serial_number).where(Device.id.in_(reserved))).all()
    assert sorted(written) == [(device_id, f"SN-{device_id}") for device_id in sorted(reserved)]
    assert later.id > max(reserved)  # the sequence moved past the reserved ids
