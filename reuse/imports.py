"""Device inventory import from CSV: Circuit's template, GLPI exports and Snipe-IT exports.

The file is read as a stream (`csv.reader` over a decoded text stream), so a large inventory never sits
in memory. Each row becomes a `DeviceData` and goes through `reuse.services.check_new_device` (then
`insert_devices`, a batch at a time) or `update_device`, so an imported device obeys the same rules as
one typed in a form. Like every service, `import_devices` never commits: its caller commits once (web)
or per batch (command line). The columns are documented in docs/import.md.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import audit, permissions
from core.csv_cells import safe_cell
from core.errors import RuleViolation
from core.extensions import db
from core.models import Organisation, User
from reuse import services
from reuse.models import Condition, Device, DeviceCategory, StorageType

T = TypeVar("T")

# --- the columns -------------------------------------------------------------------------------

TEMPLATE_COLUMNS = [
    "category", "brand", "model", "serial_number", "asset_number", "purchase_date", "purchase_price",
    "cpu", "ram_gb", "storage_type", "storage_gb", "screen_inches", "condition", "weight_kg",
    "has_storage_media", "site", "notes",
]
TEMPLATE_EXAMPLES = [
    ["laptop", "Lenovo", "ThinkPad T480", "PF1A2B3C", "INV-2019-0042", "15/03/2019", "899,00",
     "Intel Core i5-8350U", "8", "ssd", "256", "14", "B", "1,58", "oui", "", "Service urbanisme"],
    ["monitor", "Dell", "P2419H", "CN-0ABC12-74261", "INV-2020-0107", "2020-09-01", "149,90",
     "", "", "none", "", "23,8", "A", "", "non", "", ""],
]

# Header (lower case, no accents, words separated by one space) → the field it fills.
HEADER_FIELDS: dict[str, str] = {
    # Circuit's template; "serial_number" reads as "serial number".
    **{column.replace("_", " "): column for column in TEMPLATE_COLUMNS},
    "categorie": "category", "marque": "brand",
    # GLPI, French and English interface.
    "nom": "name", "name": "name",
    "numero de serie": "serial_number", "serial number": "serial_number",
    "numero d inventaire": "asset_number", "inventory number": "asset_number",
    "fabricant": "brand", "manufacturer": "brand",
    "modele": "model",
    "type": "category",
    "date d achat": "purchase_date", "date of purchase": "purchase_date",
    "valeur": "purchase_price", "value": "purchase_price",
    "processeur": "cpu", "processor": "cpu",
    "memoire": "memory", "memory": "memory",
    "lieu": "site", "location": "site",
    "commentaires": "notes", "comments": "notes",
    # Snipe-IT.
    "asset tag": "asset_number", "serial": "serial_number", "category": "category",
    "purchase cost": "purchase_price", "asset name": "name", "model no": "model_number",
}
# Headers that say which tool wrote the file (shown on the preview).
GLPI_MARKERS = {"nom", "entite", "numero de serie", "numero d inventaire", "fabricant", "date d achat",
                "inventory number", "date of purchase", "entity"}
SNIPEIT_MARKERS = {"asset tag", "model no", "purchase cost", "asset name"}
# GLPI prefixes the columns of some tabs with the tab's name: "Composants - Processeur".
GLPI_GROUPS = {"composants", "components", "informations financieres et administratives",
               "financial and administrative information"}

# Category names as inventories write them, French and English.
CATEGORY_NAMES: dict[str, DeviceCategory] = {
    **{c.value: c for c in DeviceCategory},
    "portable": DeviceCategory.LAPTOP, "ordinateur portable": DeviceCategory.LAPTOP,
    "pc portable": DeviceCategory.LAPTOP, "ultraportable": DeviceCategory.LAPTOP,
    "notebook": DeviceCategory.LAPTOP,
    "unite centrale": DeviceCategory.DESKTOP, "ordinateur fixe": DeviceCategory.DESKTOP,
    "pc": DeviceCategory.DESKTOP, "pc fixe": DeviceCategory.DESKTOP,
    "ordinateur de bureau": DeviceCategory.DESKTOP, "desktop computer": DeviceCategory.DESKTOP,
    "ecran": DeviceCategory.MONITOR, "moniteur": DeviceCategory.MONITOR,
    "tablette": DeviceCategory.TABLET,
    "telephone": DeviceCategory.SMARTPHONE, "mobile": DeviceCategory.SMARTPHONE,
    "telephone mobile": DeviceCategory.SMARTPHONE, "mobile phone": DeviceCategory.SMARTPHONE,
    "imprimante": DeviceCategory.PRINTER,
    "serveur": DeviceCategory.SERVER,
    "switch": DeviceCategory.NETWORK, "switches": DeviceCategory.NETWORK,
    "routeur": DeviceCategory.NETWORK, "router": DeviceCategory.NETWORK, "reseau": DeviceCategory.NETWORK,
    "equipement reseau": DeviceCategory.NETWORK, "network equipment": DeviceCategory.NETWORK,
    "videoprojecteur": DeviceCategory.PROJECTOR, "video projecteur": DeviceCategory.PROJECTOR,
    "projecteur": DeviceCategory.PROJECTOR, "video projector": DeviceCategory.PROJECTOR,
    "autre": DeviceCategory.OTHER,
}
STORAGE_NAMES: dict[str, StorageType] = {
    **{s.value: s for s in StorageType},
    "disque dur": StorageType.HDD, "hard disk": StorageType.HDD, "nvme": StorageType.SSD,
    "aucun": StorageType.NONE, "aucune": StorageType.NONE, "sans": StorageType.NONE,
    "autre": StorageType.OTHER,
}
BOOLEANS = {"oui": True, "yes": True, "1": True, "true": True, "vrai": True, "x": True,
            "non": False, "no": False, "0": False, "false": False, "faux": False}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")
# Column widths of reuse.models.Device: a longer value would fail on PostgreSQL.
MAX_LENGTHS = {"brand": 100, "model": 150, "serial_number": 100, "asset_number": 100, "cpu": 150}
# Lazy: translated only for the rows that need them, not for every cell of a large file.
NOT_A_NUMBER = _l("%(column)s: “%(value)s” is not a number.")
NOT_A_DATE = _l("%(column)s: “%(value)s” is not a date (write 31/12/2024 or 2024-12-31).")
NOT_A_STORAGE_TYPE = _l("%(column)s: “%(value)s” is not a storage type (hdd, ssd, emmc, none, other).")
NOT_A_CONDITION = _l("%(column)s: “%(value)s” is not a condition grade (A, B, C or D).")
NOT_A_BOOLEAN = _l("%(column)s: “%(value)s” is not yes or no.")


@lru_cache(maxsize=4096)  # the same few values (categories, storage types, yes/no) on every row of a file
def key(text: str) -> str:
    """“Numéro d'inventaire” → “numero d inventaire”: headers and values compare this way."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def template_csv() -> str:
    """The documented template: header and two example rows, `;`-separated like French spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_EXAMPLES)
    return out.getvalue()


@dataclass
class Layout:
    header: list[str]
    columns: dict[str, int]  # field → index of the first column that fills it
    source: str  # "template", "glpi", "snipeit" or "other"
    ignored: list[str]

    @classmethod
    def of(cls, header: list[str]) -> Layout:
        columns: dict[str, int] = {}
        ignored = []
        keys = set()
        for index, title in enumerate(header):
            group, _separator, short_title = title.rpartition(" - ")
            candidates = [key(title)] + ([key(short_title)] if key(group) in GLPI_GROUPS else [])
            keys.update(candidates)
            name = next((HEADER_FIELDS[c] for c in candidates if c in HEADER_FIELDS), None)
            if name is None or name in columns:
                if title.strip():
                    ignored.append(title.strip())
            else:
                columns[name] = index
        raw = {title.strip().lower() for title in header}
        if "serial_number" in raw or "asset_number" in raw:
            source = "template"
        elif keys & SNIPEIT_MARKERS:
            source = "snipeit"
        elif keys & GLPI_MARKERS:
            source = "glpi"
        else:
            source = "other"
        return cls(header, columns, source, ignored)

    @property
    def device_fields(self) -> set[str]:
        """The DeviceData fields the file gives; an update leaves the others as they are."""
        given = set(self.columns)
        renamed = {"name": "notes", "memory": "ram_gb", "model_number": "model", "site": "site_id"}
        return {renamed.get(name, name) for name in given}


# --- reading the file --------------------------------------------------------------------------

def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when every byte decodes, else Windows-1252 (Excel's French CSV).

    The whole file is checked in chunks before any row is imported: an accented letter far down a
    file must not switch encodings halfway through an import."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as raw:
        try:
            while chunk := raw.read(1 << 16):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


class CsvFile:
    """An opened CSV file: its layout, its rows as (physical line number, cells), how far it is read."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self._text = text
        header_line = text.readline()
        if not header_line.strip():
            raise RuleViolation(_("The file is empty."))
        # The header says the separator: French spreadsheets write ";", most tools ",".
        self.delimiter = max((";", ",", "\t"), key=header_line.count)
        header = next(csv.reader([header_line], delimiter=self.delimiter))
        self.layout = Layout.of(header)
        if "serial_number" not in self.layout.columns and "asset_number" not in self.layout.columns:
            raise RuleViolation(_("No serial number or asset number column found: is it an inventory "
                                  "export or Circuit's template? Columns read: %(columns)s.",
                                  columns=", ".join(header)))

    @property
    def position(self) -> int:
        """Bytes read so far (for a progress bar)."""
        return self._text.buffer.tell()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(self._text, delimiter=self.delimiter)
        last_line = 1  # the header
        try:
            for cells in reader:
                line = last_line + 1  # a quoted cell may span lines: a row starts after the previous one
                last_line = reader.line_num + 1
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except csv.Error as error:
            raise RuleViolation(_("Line %(line)d: the file is not valid CSV (%(error)s).",
                                  line=last_line + 1, error=str(error))) from None


@contextmanager
def open_csv(path: Path) -> Iterator[CsvFile]:
    encoding = detect_encoding(path)
    # Windows-1252 leaves five bytes undefined: show them as "?" rather than refuse the file.
    errors = "replace" if encoding == "cp1252" else "strict"
    with io.TextIOWrapper(path.open("rb"), encoding=encoding, errors=errors, newline="") as text:
        yield CsvFile(text)


# --- one row → DeviceData ---------------------------------------------------------------------

class RowRejected(Exception):
    """The row cannot be imported; the message says why, in the user's language."""


def category_from(value: str) -> DeviceCategory | None:
    name = key(value)
    if name in CATEGORY_NAMES:
        return CATEGORY_NAMES[name]
    # Snipe-IT names its categories in the plural: "Laptops", "Ordinateurs portables".
    singular = " ".join(word[:-1] if word.endswith("s") and not word.endswith("ss") else word
                        for word in name.split())
    if singular in CATEGORY_NAMES:
        return CATEGORY_NAMES[singular]
    for label_category in DeviceCategory:  # the labels shown in Circuit, in the current language
        if key(label_category.label) == name:
            return label_category
    return None


FRENCH_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


def parse_date(value: str) -> date:
    french = FRENCH_DATE.fullmatch(value)
    if french:  # most cells: read without strptime, a tenth of a large import's time otherwise
        day, month, year = french.groups()
        return date(int(year), int(month), int(day))
    # GLPI and Snipe-IT add a time: "2024-12-31 00:00", "2024-12-31T00:00:00".
    text = value.strip().split()[0]
    if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
        text = text[:10]
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(value)


PLAIN_DECIMAL = re.compile(r"-?\d+(?:[,.]\d+)?")
UNIT_WORDS = re.compile(r"€|\$|\beur(?:os?)?\b|\bkg\b|\bpouces?\b|\binch(?:es)?\b|\bin\b|[\"”″]")


def parse_decimal(value: str) -> Decimal:
    """“1 234,50”, “899,00 €”, “1,234.50”, “15,6"” → Decimal."""
    if PLAIN_DECIMAL.fullmatch(value):  # most cells, “899,00”: no units or groups to take out
        return Decimal(value.replace(",", "."))
    text = UNIT_WORDS.sub("", value.lower())
    text = re.sub(r"[\s\u00a0\u202f']", "", text)
    if not re.fullmatch(r"[-+]?\d[\d.,]*", text):
        raise ValueError(value)
    if "," in text and "." in text:
        # The last separator is the decimal one, the other groups thousands.
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None


SIZE = re.compile(r"^(?P<number>[\d\s\u00a0\u202f.,]+?)\s*(?P<unit>mo|mb|mib|go|gb|gib|g|to|tb|tib|t)?$")
GB_PER_UNIT = {"mo": Decimal(1) / 1024, "mb": Decimal(1) / 1024, "mib": Decimal(1) / 1024,
               "go": 1, "gb": 1, "gib": 1, "g": 1,
               # Disks are sold in decimal terabytes.
               "to": 1000, "tb": 1000, "tib": 1024, "t": 1000}


def parse_size_gb(value: str, default_unit: str) -> int:
    """“8”, “8 Go”, “8192 Mo”, “1 To” → whole gigabytes; a bare number is in `default_unit`."""
    if default_unit == "gb" and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)  # most cells, “8” or “256”: no unit or decimals to read
    match = SIZE.match(value.strip().lower())
    if match is None:
        raise ValueError(value)
    gigabytes = parse_decimal(match["number"]) * GB_PER_UNIT[match["unit"] or default_unit]
    if gigabytes < 0 or gigabytes > 10**9:
        raise ValueError(value)
    return int(gigabytes.quantize(Decimal(1), ROUND_HALF_UP))


class Row:
    """The cells of one row, read by field name."""

    def __init__(self, layout: Layout, cells: list[str]) -> None:
        self.layout = layout
        self.cells = cells
        # Each field's cell, stripped, read once: a row is asked for some twenty fields.
        count = len(cells)
        self.values = {name: cells[index].strip() for name, index in layout.columns.items() if index < count}

    def text(self, name: str) -> str:
        value = self.values.get(name, "")
        limit = MAX_LENGTHS.get(name)
        if limit and len(value) > limit:
            raise RowRejected(_("%(column)s is longer than %(n)d characters.",
                                column=self.column(name), n=limit))
        return value

    def column(self, name: str) -> str:
        return self.layout.header[self.layout.columns[name]].strip()

    def parsed(self, name: str, parse: Callable, message):
        """The value of a cell through `parse`, None when empty; `message` when it does not parse."""
        value = self.text(name)
        if not value:
            return None
        try:
            return parse(value)
        except (ValueError, KeyError):
            raise RowRejected(str(message) % {"column": self.column(name), "value": value}) from None

    def number(self, name: str, places: str, maximum: int) -> Decimal | None:
        def parse(value: str) -> Decimal:
            number = parse_decimal(value).quantize(Decimal(places), ROUND_HALF_UP)
            if abs(number) >= maximum:
                raise ValueError(value)
            return number

        return self.parsed(name, parse, NOT_A_NUMBER)


def device_data(row: Row, default_category: DeviceCategory | None,
                site_ids: dict[str, int]) -> services.DeviceData:
    """The DeviceData of a row, or RowRejected. Rules on the values (dates, uniqueness) stay in
    reuse.services; this checks what only the file can get wrong."""
    serial_number, asset_number = row.text("serial_number"), row.text("asset_number")
    if not serial_number and not asset_number:
        raise RowRejected(_("Give the serial number or the asset number of the device."))
    category_cell = row.text("category")
    category = category_from(category_cell) if category_cell else default_category
    if category is None:
        raise RowRejected(_("Unknown category “%(value)s”.", value=category_cell) if category_cell
                          else _("The category is missing."))
    site_id = None
    site_name = row.text("site")
    if site_name:
        # GLPI writes a location with its parents: "Mairie > Service informatique".
        site_id = site_ids.get(site_name.lower()) or site_ids.get(site_name.rsplit(">", 1)[-1].strip().lower())
        if site_id is None:
            raise RowRejected(_("No site of your organisation is called “%(name)s”.", name=site_name))
    model, model_number = row.text("model"), row.text("model_number")
    if model_number and model_number not in model:
        model = f"{model} ({model_number})" if model else model_number
    ram_gb = row.parsed("ram_gb", lambda v: parse_size_gb(v, "gb"), NOT_A_NUMBER)
    if ram_gb is None:
        ram_gb = row.parsed("memory", lambda v: parse_size_gb(v, "mb"), NOT_A_NUMBER)  # GLPI counts in MiB
    return services.DeviceData(
        category=category,
        brand=row.text("brand"),
        model=model[:MAX_LENGTHS["model"]],
        serial_number=serial_number or None,
        asset_number=asset_number or None,
        purchase_date=row.parsed("purchase_date", parse_date, NOT_A_DATE),
        purchase_price=row.number("purchase_price", "0.01", 10**10),
        cpu=row.text("cpu"),
        ram_gb=ram_gb,
        storage_type=row.parsed("storage_type", lambda v: STORAGE_NAMES[key(v)], NOT_A_STORAGE_TYPE)
        or StorageType.NONE,
        storage_gb=row.parsed("storage_gb", lambda v: parse_size_gb(v, "gb"), NOT_A_NUMBER),
        screen_inches=row.number("screen_inches", "0.1", 1000),
        condition=row.parsed("condition", lambda v: Condition(v.upper()), NOT_A_CONDITION),
        weight_kg=row.number("weight_kg", "0.01", 10**6),
        has_storage_media=row.parsed("has_storage_media", lambda v: BOOLEANS[key(v)], NOT_A_BOOLEAN),
        site_id=site_id,
        notes="\n".join(part for part in (row.text("name"), row.text("notes")) if part),
    )


# --- the import --------------------------------------------------------------------------------

@dataclass
class Rejection:
    line: int
    reason: str
    cells: list[str]


@dataclass
class Planned:
    """A row that creates or updates a device, as the preview shows it."""

    line: int
    action: str  # "create" or "update"
    data: services.DeviceData
    site: str


@dataclass
class ImportSummary:
    source: str
    header: list[str]
    ignored: list[str]
    read: int = 0
    created: int = 0
    updated: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    sample: list[Planned] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"read": self.read, "created": self.created, "updated": self.updated,
                "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected]}


IDENTIFIERS = services.IDENTIFIERS


class _LinesByNumber:
    """Which line of the file imported each serial and asset number, to refuse a later duplicate with the
    line it repeats. Kept in a private temporary SQLite file (deleted when closed), not in a dict: a file
    of a million rows then needs no more memory than one of a thousand."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a temporary on-disk database
        self._db.execute("CREATE TABLE lines (field TEXT, number TEXT, line INTEGER, PRIMARY KEY (field, number))"
                         " WITHOUT ROWID")

    def lines_of(self, wanted: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        """For each field, the line of each of the `wanted` numbers imported so far: a query per field
        and batch, not per row."""
        found: dict[str, dict[str, int]] = {name: {} for name in wanted}
        for name, numbers in wanted.items():
            # The numbers go as one JSON array parameter: no statement built from text, no parameter limit.
            found[name].update(self._db.execute(
                "SELECT number, line FROM lines WHERE field = ? AND number IN (SELECT value FROM json_each(?))",
                (name, json.dumps(sorted(numbers)))))
        return found

    def add(self, lines: list[tuple[str, str, int]]) -> None:
        """Keep (field, number, line) of a batch's rows."""
        self._db.executemany("INSERT OR REPLACE INTO lines VALUES (?, ?, ?)", lines)

    def close(self) -> None:
        self._db.close()


class _Importer:
    """The state of one import: who, where, and which line imported each serial and asset number."""

    def __init__(self, actor: User, organisation: Organisation, layout: Layout,
                 default_category: DeviceCategory | None) -> None:
        self.actor, self.organisation, self.layout = actor, organisation, layout
        self.default_category = default_category
        self.site_ids = {site.name.strip().lower(): site.id for site in organisation.sites}
        self.given = layout.device_fields
        self.imported_at = _LinesByNumber()
        # The lines of the file that imported the batch's serial and asset numbers, earlier batches' read
        # from `imported_at` when the batch is looked up, this batch's added row by row, all kept there
        # when the batch is written (`write_new`).
        self.imported_on: dict[str, dict[str, int]] = {name: {} for name in IDENTIFIERS}
        self.lines_read: list[tuple[str, str, int]] = []
        # The inventory's devices with a serial or asset number of the batch being read: number → device id.
        self.known: dict[str, dict[str, int]] = {name: {} for name in IDENTIFIERS}
        # The batch's new devices, checked, written together at its end (`write_new`).
        self.new: list[services.DeviceData] = []

    def look_up(self, rows: list[tuple[int, Row]]) -> None:
        """Find the devices the rows of a batch describe again, in one query rather than one per row."""
        wanted: dict[str, set[str]] = {name: set() for name in IDENTIFIERS}
        for _line, row in rows:
            for name in IDENTIFIERS:
                try:
                    value = row.text(name)
                except RowRejected:  # too long: the row is refused when it is read
                    continue
                if value:
                    wanted[name].add(value)
        self.known = services.devices_numbered(self.organisation.id, wanted)
        self.imported_on = self.imported_at.lines_of(wanted)

    def existing(self, data: services.DeviceData) -> Device | None:
        """The device a row describes again: same owner and serial number, else same asset number."""
        device_id = self.known["serial_number"].get(data.serial_number or "")
        if device_id is None:
            device_id = self.known["asset_number"].get(data.asset_number or "")
        return None if device_id is None else db.session.get(Device, device_id)

    def _renumbered(self, device: Device) -> None:
        """An update may move a serial or asset number: the next rows of the batch must see it."""
        for name in IDENTIFIERS:
            known = self.known[name]
            for value in [value for value, device_id in known.items() if device_id == device.id]:
                del known[value]
            if getattr(device, name):
                known[getattr(device, name)] = device.id

    def row(self, line: int, row: Row) -> tuple[str, services.DeviceData]:
        """Create or update the row's device: ("create" | "update", its data), or RowRejected/RuleViolation."""
        data = device_data(row, self.default_category, self.site_ids)
        for name in IDENTIFIERS:
            number = getattr(data, name)
            first = self.imported_on[name].get(number) if number else None
            if first is not None:
                raise RowRejected(_("Duplicate of line %(line)d (same %(field)s).", line=first,
                                    field=_("serial number") if name == "serial_number" else _("asset number")))
        device = self.existing(data)
        if device is None:
            # Neither number is in the inventory (just looked up) nor earlier in the file (refused above).
            data = services.check_new_device(self.actor, self.organisation, data, identifiers_checked=True)
            self.new.append(data)
        else:
            data = services.DeviceData(**{f.name: getattr(data if f.name in self.given else device, f.name)
                                          for f in fields(services.DeviceData)})
            services.update_device(self.actor, device, data)
            # The next rows' checks must see this change (a serial or asset number may have moved).
            db.session.flush()
            self._renumbered(device)
        for name in IDENTIFIERS:
            if number := getattr(data, name):
                self.imported_on[name][number] = line
                self.lines_read.append((name, number, line))
        return ("create" if device is None else "update"), data

    def write_new(self) -> None:
        """Write the batch's new devices in one statement (an ORM flush per device would cost most of a
        large import's time)."""
        services.insert_devices(self.actor, self.organisation, self.new)
        self.new = []
        self.imported_at.add(self.lines_read)
        self.lines_read = []


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_devices(actor: User, organisation: Organisation, path: Path,
                   default_category: DeviceCategory | None = None, *, sample_size: int = 50,
                   batch_size: int = 500, after_batch: Callable[[], None] | None = None,
                   on_progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Create or update a device for each valid row of the CSV file at `path`; list the others.

    A row describing a device already in the inventory (same serial number, else same asset number)
    updates it, changing only the fields the file has columns for. `after_batch` runs every
    `batch_size` rows (the command line commits there); `on_progress` receives the bytes read."""
    permissions.require(actor, "device.create", organisation)
    site_names = {site.id: site.name for site in organisation.sites}
    with open_csv(Path(path)) as csv_file:
        layout = csv_file.layout
        if "category" not in layout.columns and default_category is None:
            raise RuleViolation(_("The file has no category or type column: choose the category of its "
                                  "devices."))
        summary = ImportSummary(layout.source, layout.header, layout.ignored)
        importer = _Importer(actor, organisation, layout, default_category)
        # New devices are flushed per batch, not before each look-up: a look-up could only find one
        # of them through a serial or asset number of this file, which is refused as a duplicate first.
        with db.session.no_autoflush, closing(importer.imported_at):
            for batch in _batches(((line, Row(layout, cells)) for line, cells in csv_file.rows()), batch_size):
                importer.look_up(batch)
                for line, row in batch:
                    summary.read += 1
                    try:
                        action, data = importer.row(line, row)
                    except (RowRejected, RuleViolation) as error:
                        summary.rejected.append(Rejection(line, str(error), row.cells))
                    else:
                        if action == "create":
                            summary.created += 1
                        else:
                            summary.updated += 1
                        if len(summary.sample) < sample_size:
                            summary.sample.append(Planned(line, action, data, site_names.get(data.site_id, "")))
                importer.write_new()
                if len(batch) == batch_size:
                    db.session.flush()
                    if after_batch is not None:
                        after_batch()
                    if on_progress is not None:
                        on_progress(csv_file.position)
        if on_progress is not None:
            on_progress(csv_file.position)
    audit.record(actor, "device.imported", organisation, source=summary.source, read=summary.read,
                 created=summary.created, updated=summary.updated, rejected=len(summary.rejected))
    return summary


def rejected_csv(header: list[str], rejections: list[Rejection]) -> str:
    """The rejected rows with their line and reason, `;`-separated with a BOM so that Excel opens it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in (*header, "line", "reason")])
    for rejection in rejections:
        cells = rejection.cells + [""] * (len(header) - len(rejection.cells))
        writer.writerow([safe_cell(cell) for cell in (*cells, rejection.line, rejection.reason)])
    return "\ufeff" + out.getvalue()
