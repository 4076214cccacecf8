"""Importing an inventory from CSV: GLPI and Snipe-IT exports, the template, the preview, the command."""
from __future__ import annotations

import csv
import io
import json
import re
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest.mock import ANY

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, Role
from reuse import imports, services
from reuse.models import Condition, Device, DeviceCategory, StorageType
from tests.factories import DeviceFactory, user_for_role
from tests.matrix import log_in

DATA = Path(__file__).parent / "data"
GLPI = DATA / "glpi_computers_fr.csv"
SNIPEIT = DATA / "snipeit_assets.csv"


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path, monkeypatch) -> Path:
    # Uploads waiting for confirmation go to a fresh folder, not to the project's instance folder.
    folder = tmp_path / "imports"
    monkeypatch.setitem(app.config, "IMPORT_FOLDER", str(folder))
    return folder


@pytest.fixture
def english(app):
    with force_locale("en"):
        yield


@pytest.fixture
def manager():
    return user_for_role(Role.IT_MANAGER, locale="en")


def devices() -> list[Device]:
    db.session.expire_all()
    return db.session.scalars(select(Device).order_by(Device.id)).all()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def template_file(tmp_path: Path, *rows: dict, name: str = "devices.csv") -> Path:
    """A file in Circuit's template, each row given as {column: value}."""
    out = io.StringIO()
    writer = csv.DictWriter(out, imports.TEMPLATE_COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def laptop(serial: str, **values) -> dict:
    return {"category": "laptop", "brand": "Lenovo", "model": "ThinkPad T480", "serial_number": serial,
            "purchase_date": "15/03/2021", "purchase_price": "899,00", **values}


def import_file(user, path: Path, category: DeviceCategory | None = None) -> imports.ImportSummary:
    summary = imports.import_devices(user, user.organisation, path, category)
    db.session.commit()
    return summary


def reasons(summary: imports.ImportSummary) -> dict[int, str]:
    return {r.line: r.reason for r in summary.rejected}


# --- reading files -----------------------------------------------------------------------------

def test_a_french_glpi_export_in_windows_1252_imports_its_valid_rows(manager, english):
    assert imports.detect_encoding(GLPI) == "cp1252"
    summary = import_file(manager, GLPI)

    assert (summary.source, summary.read, summary.created, summary.updated) == ("glpi", 8, 2, 0)
    laptop_, desktop = devices()
    assert laptop_.category is DeviceCategory.LAPTOP and desktop.category is DeviceCategory.DESKTOP
    assert (laptop_.brand, laptop_.model, laptop_.serial_number, laptop_.asset_number) == (
        "LENOVO", "ThinkPad T480", "PF1ABC01", "INV-2019-012")
    assert laptop_.purchase_date == date(2019, 3, 15) and laptop_.purchase_price == Decimal("1234.50")
    assert (laptop_.cpu, laptop_.ram_gb, laptop_.notes) == ("Intel Core i5-8350U", 8, "PC-URBA-012")
    assert laptop_.site == manager.organisation.sites[0]  # "Entité racine > Siège" is the site "Siège"
    assert desktop.purchase_date == date(2018, 10, 2) and desktop.purchase_price == Decimal("899.00")
    assert desktop.ram_gb == 16 and desktop.site is None
    assert reasons(summary) == {
        4: "No site of your organisation is called “École Jean Jaurès”.",
        5: "Unknown category “Chaise”.",
        6: "Date d'achat: “31/02/2020” is not a date (write 31/12/2024 or 2024-12-31).",
        7: "Give the serial number or the asset number of the device.",
        8: "The purchase date is in the future.",
        9: "Valeur: “mille euros” is not a number.",
    }
    assert "Entité" in summary.ignored and "Système d'exploitation - Nom" in summary.ignored


def test_a_snipeit_export_in_utf8_with_bom_and_commas(manager, english):
    summary = import_file(manager, SNIPEIT)

    assert (summary.source, summary.read, summary.created) == ("snipeit", 7, 5)
    by_asset = {d.asset_number: d for d in devices()}
    carbon = by_asset["A-0001"]
    assert (carbon.category, carbon.model, carbon.purchase_price) == (
        DeviceCategory.LAPTOP, "ThinkPad X1 Carbon (20KH)", Decimal("1499.00"))
    assert carbon.site.name == "Siège" and carbon.notes == "Portable compta"
    monitor = by_asset["A-0002"]
    assert monitor.category is DeviceCategory.MONITOR and monitor.purchase_date == date(2020, 1, 15)
    assert monitor.notes.splitlines() == ["Écran fissuré", "à reprendre"]
    assert by_asset["A-0003"].category is DeviceCategory.TABLET and by_asset["A-0003"].serial_number is None
    assert by_asset["A-0007"].category is DeviceCategory.SMARTPHONE
    # The notes of A-0002 span lines 3 and 4: the next rows are numbered as the file's lines.
    assert reasons(summary) == {7: "Duplicate of line 6 (same serial number).",
                                8: "Unknown category “Office Chairs”."}


def test_each_rule_rejects_a_row_with_its_line_and_reason(manager, tmp_path, english):
    path = template_file(
        tmp_path,
        laptop("SN-OK", site="siège", has_storage_media="oui", weight_kg="1,58", storage_type="SSD",
               condition="b", ram_gb="8", storage_gb="256 Go", screen_inches='14"'),
        laptop(""),
        laptop("SN-CAT", category="fauteuil"),
        laptop("SN-DATE", purchase_date="2024-13-45"),
        laptop("SN-PRICE", purchase_price="12,34,56x"),
        laptop("SN-FUTURE", purchase_date="31/12/2999"),
        laptop("SN-SITE", site="Annexe"),
        laptop("SN-OTHER", category="autre"),
        laptop("SN-NOCAT", category=""),
        laptop("SN-MEDIA", has_storage_media="peut-être"),
        laptop("SN-OK", asset_number="INV-9"),
        laptop("SN-GRADE", condition="E"),
    )
    summary = import_file(manager, path)

    assert (summary.read, summary.created) == (12, 2)
    assert reasons(summary) == {
        3: "Give the serial number or the asset number of the device.",
        4: "Unknown category “fauteuil”.",
        5: "purchase_date: “2024-13-45” is not a date (write 31/12/2024 or 2024-12-31).",
        6: "purchase_price: “12,34,56x” is not a number.",
        7: "The purchase date is in the future.",
        8: "No site of your organisation is called “Annexe”.",
        10: "The category is missing.",
        11: "has_storage_media: “peut-être” is not yes or no.",
        12: "Duplicate of line 2 (same serial number).",
        13: "condition: “E” is not a condition grade (A, B, C or D).",
    }
    first, other = devices()
    assert (first.site.name, first.has_storage_media, first.weight_kg, first.storage_type, first.condition) == (
        "Siège", True, Decimal("1.58"), StorageType.SSD, Condition.B)
    assert (first.ram_gb, first.storage_gb, first.screen_inches) == (8, 256, Decimal("14.0"))
    assert other.category is DeviceCategory.OTHER


def test_a_duplicate_is_refused_with_its_line_whichever_batch_read_the_first(manager, tmp_path, english):
    # Batches of two rows: each duplicate repeats a number imported one or more batches before it.
    path = template_file(
        tmp_path,
        laptop("SN-1", asset_number="INV-1"), laptop("SN-2"),
        laptop("SN-3"), laptop("SN-4", asset_number="INV-4"),
        laptop("SN-1"), laptop("SN-5", asset_number="INV-4"),
        laptop("SN-6", asset_number="INV-1"), laptop("SN-3"),
    )
    summary = imports.import_devices(manager, manager.organisation, path, batch_size=2)
    db.session.commit()

    assert (summary.read, summary.created) == (8, 4)
    assert reasons(summary) == {6: "Duplicate of line 2 (same serial number).",
                                7: "Duplicate of line 5 (same asset number).",
                                8: "Duplicate of line 2 (same asset number).",
                                9: "Duplicate of line 4 (same serial number)."}
    assert sorted(device.serial_number for device in devices()) == ["SN-1", "SN-2", "SN-3", "SN-4"]


@pytest.mark.parametrize("value, category", [
    ("Portable", DeviceCategory.LAPTOP), ("ordinateur PORTABLE", DeviceCategory.LAPTOP),
    ("Unité centrale", DeviceCategory.DESKTOP), ("PC", DeviceCategory.DESKTOP),
    ("Écran", DeviceCategory.MONITOR), ("moniteur", DeviceCategory.MONITOR), ("Monitors", DeviceCategory.MONITOR),
    ("Tablette", DeviceCategory.TABLET), ("Téléphone", DeviceCategory.SMARTPHONE),
    ("smartphone", DeviceCategory.SMARTPHONE), ("Imprimante", DeviceCategory.PRINTER),
    ("Serveur", DeviceCategory.SERVER), ("Switch", DeviceCategory.NETWORK), ("Réseau", DeviceCategory.NETWORK),
    ("Vidéoprojecteur", DeviceCategory.PROJECTOR), ("projecteur", DeviceCategory.PROJECTOR),
    ("Autre", DeviceCategory.OTHER), ("Chaise", None), ("Ordinateur", None),
])
def test_category_names_in_french_and_english(value, category):
    assert imports.category_from(value) is category


@pytest.mark.parametrize("text, number", [
    ("1 234,50", "1234.50"), ("899,00 €", "899.00"), ("1,499.00", "1499.00"), ("1.234,5", "1234.5"),
    ("1\u202f234,5", "1234.5"), ('15,6"', "15.6"), ("379", "379"),
])
def test_numbers_as_spreadsheets_write_them(text, number):
    assert imports.parse_decimal(text) == Decimal(number)


def test_glpi_columns_prefixed_by_their_tab_are_recognised():
    layout = imports.Layout.of(["Numéro de série", "Composants - Processeur",
                                "Informations financières et administratives - Date d'achat",
                                "Financial and administrative information - Value", "Système d'exploitation - Nom"])
    assert layout.columns == {"serial_number": 0, "cpu": 1, "purchase_date": 2, "purchase_price": 3}
    assert layout.ignored == ["Système d'exploitation - Nom"] and layout.source == "glpi"


def test_a_file_without_category_column_takes_the_chosen_category(manager, tmp_path, english):
    path = tmp_path / "ecrans.csv"
    path.write_text("Nom;Numéro de série;Fabricant;Modèle\nECR-01;CN-123;Dell;P2419H\n", encoding="utf-8")
    with pytest.raises(services.RuleViolation, match="no category or type column"):
        imports.import_devices(manager, manager.organisation, path)
    import_file(manager, path, DeviceCategory.MONITOR)
    assert [d.category for d in devices()] == [DeviceCategory.MONITOR]


def test_a_file_without_identifier_column_is_refused(manager, tmp_path, english):
    path = tmp_path / "autre.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(services.RuleViolation, match="No serial number or asset number column"):
        imports.import_devices(manager, manager.organisation, path, DeviceCategory.LAPTOP)


def test_importing_again_updates_instead_of_duplicating(manager, tmp_path, english):
    import_file(manager, GLPI)
    import_file(manager, SNIPEIT)
    assert count(Device) == 7
    # A value typed in Circuit that the file has no column for survives the next import.
    laptop_ = db.session.scalar(select(Device).where(Device.serial_number == "PF1ABC01"))
    laptop_.condition = Condition.B
    db.session.commit()

    again = import_file(manager, GLPI)
    assert (again.created, again.updated, len(again.rejected)) == (0, 2, 6)
    assert import_file(manager, SNIPEIT).updated == 5
    assert count(Device) == 7
    assert laptop_.condition is Condition.B

    # Matched on the asset number when the serial number is new or absent.
    path = template_file(tmp_path, laptop("", asset_number="INV-2019-012", purchase_price="100"))
    assert import_file(manager, path).updated == 1
    assert laptop_.purchase_price == Decimal("100.00") and count(Device) == 7


def test_an_other_organisations_device_is_not_updated(manager, english):
    DeviceFactory(serial_number="PF1ABC01")  # the same serial number in another commune
    summary = import_file(manager, GLPI)
    assert summary.created == 2 and count(Device) == 3


# --- the web pages -----------------------------------------------------------------------------

def upload(client, content: bytes, name: str = "inventaire.csv", category: str = ""):
    return client.post("/reuse/devices/import", data={"file": (io.BytesIO(content), name), "category": category},
                       content_type="multipart/form-data")


def token_in(page: str) -> str:
    return re.search(r"/reuse/devices/import/([\w-]+)/confirm", page)[1]


def test_the_preview_counts_and_lists_but_writes_nothing(client, login, manager, import_folder):
    login(manager)
    audit_entries = count(AuditEntry)
    response = upload(client, GLPI.read_bytes())

    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Nothing is saved yet" in page and "Read as a GLPI export." in page
    assert "ThinkPad T480" in page and "No site of your organisation is called “École Jean Jaurès”." in page
    assert count(Device) == 0 and count(AuditEntry) == audit_entries
    token = token_in(page)
    assert (import_folder / f"{token}.csv").read_bytes() == GLPI.read_bytes()
    assert json.loads((import_folder / f"{token}.json").read_text())["user_id"] == manager.id


def test_confirming_imports_the_previewed_file(client, login, manager):
    login(manager)
    token = token_in(upload(client, GLPI.read_bytes()).get_data(as_text=True))

    response = client.post(f"/reuse/devices/import/{token}/confirm")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "2 device(s) created, 0 updated, 6 row(s) rejected" in page
    assert count(Device) == 2
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "device.imported")).one()
    assert entry.actor_id == manager.id and entry.changes["created"] == 2

    assert "0 device(s) created, 2 updated" in client.post(f"/reuse/devices/import/{token}/confirm").get_data(
        as_text=True)
    assert count(Device) == 2


def test_the_rejected_rows_download_as_csv_for_excel(client, login, manager):
    login(manager)
    token = token_in(upload(client, GLPI.read_bytes(), name="parc.csv").get_data(as_text=True))

    response = client.get(f"/reuse/devices/import/{token}/rejected.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="parc-rejected.csv"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert header[:3] == ["Nom", "Entité", "Statut"] and header[-2:] == ["line", "reason"]
    assert [row[-2] for row in rows] == ["4", "5", "6", "7", "8", "9"]
    assert rows[0][0] == "PC-ECOLE-07" and rows[0][-1] == "No site of your organisation is called “École Jean Jaurès”."


def test_the_template_downloads_and_imports(client, login, manager):
    login(manager)
    response = client.get("/reuse/devices/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(imports.TEMPLATE_COLUMNS) and len(text.splitlines()) == 3

    page = upload(client, response.data, name="template.csv").get_data(as_text=True)
    assert "Read as Circuit&#39;s template." in page or "Read as Circuit's template." in page
    client.post(f"/reuse/devices/import/{token_in(page)}/confirm")
    thinkpad, screen = devices()
    assert (thinkpad.model, thinkpad.weight_kg, thinkpad.has_storage_media) == ("ThinkPad T480", Decimal("1.58"), True)
    assert screen.category is DeviceCategory.MONITOR and screen.screen_inches == Decimal("23.8")


def test_a_file_that_is_not_an_inventory_is_refused_on_the_form(client, login, manager, import_folder):
    login(manager)
    response = upload(client, b"foo;bar\n1;2\n")
    assert response.status_code == 422
    assert "No serial number or asset number column found" in response.get_data(as_text=True)
    assert list(import_folder.iterdir()) == []
    assert upload(client, b"x", name="photo.jpg").status_code == 422


def test_the_default_category_of_the_form(client, login, manager):
    login(manager)
    content = "Nom;Numéro de série;Fabricant;Modèle\nECR-01;CN-123;Dell;P2419H\n".encode("cp1252")
    assert upload(client, content).status_code == 422
    page = upload(client, content, category="monitor").get_data(as_text=True)
    client.post(f"/reuse/devices/import/{token_in(page)}/confirm")
    assert [d.category for d in devices()] == [DeviceCategory.MONITOR]


def test_another_users_upload_does_not_exist_for_you(app, client, login, manager):
    login(manager)
    token = token_in(upload(client, GLPI.read_bytes()).get_data(as_text=True))
    colleague = user_for_role(Role.IT_MANAGER, organisation=manager.organisation)
    other_client = app.test_client()
    log_in(other_client, colleague)
    assert other_client.post(f"/reuse/devices/import/{token}/confirm").status_code == 404
    assert other_client.get(f"/reuse/devices/import/{token}/rejected.csv").status_code == 404
    assert other_client.get("/reuse/devices/import/not-a-token/rejected.csv").status_code == 404
    assert count(Device) == 0


def test_a_failed_import_changes_nothing(client, login, manager, monkeypatch):
    login(manager)
    token = token_in(upload(client, SNIPEIT.read_bytes()).get_data(as_text=True))
    real_insert = services.insert_devices

    def write_then_fail(*args, **kwargs):
        # The devices and their audit entries are written, then the database goes away.
        assert real_insert(*args, **kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "insert_devices", write_then_fail)
    assert client.post(f"/reuse/devices/import/{token}/confirm").status_code == 500
    assert count(Device) == 0
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "device.created")) == 0


# --- the command line --------------------------------------------------------------------------

def run_import(app, *args: str):
    return app.test_cli_runner().invoke(args=["devices", "import", *args])


def test_the_command_prints_a_json_summary(app, manager):
    result = run_import(app, str(SNIPEIT), "--org", manager.organisation.name)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": 7, "created": 5, "updated": 0,
                                         "rejected": [{"line": 7, "reason": ANY}, {"line": 8, "reason": ANY}]}
    assert count(Device) == 5

    result = run_import(app, str(GLPI), "--org", str(manager.organisation_id), "--dry-run")
    assert json.loads(result.stdout)["created"] == 2 and count(Device) == 5


def test_each_imported_device_is_in_the_audit_log_as_if_typed_in(client, login, manager):
    login(manager)
    token = token_in(upload(client, SNIPEIT.read_bytes()).get_data(as_text=True))
    assert client.post(f"/reuse/devices/import/{token}/confirm").status_code == 200
    devices = db.session.scalars(select(Device).order_by(Device.id)).all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "device.created")
                                 .order_by(AuditEntry.object_id)).all()
    assert len(devices) == 5
    assert [(e.object_type, e.object_id, e.object_label, e.organisation_id, e.actor_id) for e in entries] == [
        ("device", d.id, str(d), manager.organisation_id, manager.id) for d in devices]


def test_the_command_acts_as_an_it_manager_of_the_organisation(app, english):
    observer = user_for_role(Role.OBSERVER)
    result = run_import(app, str(SNIPEIT), "--org", str(observer.organisation_id))
    assert result.exit_code == 1 and "no active IT manager or administrator" in result.output
    assert count(Device) == 0


def test_the_command_streams_a_large_file_in_bounded_memory(app, manager, tmp_path):
    rows = 1000
    path = tmp_path / "large.csv"
    with path.open("w", encoding="cp1252", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Numéro de série", "Numéro d'inventaire", "Type", "Fabricant", "Modèle", "Date d'achat",
                         "Valeur", "Commentaires"])
        for n in range(rows):
            # Long comments make the file large without making the test slow (the cost is per row).
            writer.writerow([f"SN{n:08d}", f"INV-{n:08d}", "Portable", "Lenovo", "ThinkPad T480", "15/03/2021",
                             "899,00", "Réformé en 2025 — " + "x" * 8000])
    size = path.stat().st_size

    tracemalloc.start()
    try:
        result = run_import(app, str(path), "--org", str(manager.organisation_id), "--batch-size", "50")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["created"], summary["rejected"]) == (rows, rows, [])
    assert count(Device) == rows
    # The file alone, decoded, would take its size; read as a stream, a batch of rows at a time is held.
    assert size > 8_000_000 and peak < size / 2
