"""Device import: a CSV file in Circuit's template through the real import path (`reuse.imports.import_devices`,
committing every batch as `flask devices import` does) against a raw DB-API executemany insert of the same
rows (parsed with csv and the same conversions, committed per batch), each in a fresh copy of the same
database, each in its own process so that its peak memory (ru_maxrss) is its own.

    python -m bench.imports [--rows 5000] [--memory-rows 5000,50000] [--repeat 3] [--batch-size 500] [--database URL]

Times are compared at --rows; peak memory of the import is measured at each of --memory-rows (the issue's:
--rows 100000 --memory-rows 100000,1000000). Without --database, on SQLite files in a temporary directory;
with a PostgreSQL URL, on databases named after it (`<name>_template`, `<name>_run`), dropped afterwards.
Writes its section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import common

ORGANISATION = "94081"  # Vitry-sur-Seine: its IT manager is a demo account
ROWS = [("laptop", "Lenovo", "ThinkPad T480", "Intel Core i5-8250U", "8", "ssd", "256", "14", "B"),
        ("desktop", "HP", "EliteDesk 800 G4", "Intel Core i5-8500", "8", "ssd", "256", "", "A"),
        ("monitor", "Dell", "P2419H", "", "", "none", "", "23,8", "A"),
        ("smartphone", "Samsung", "Galaxy A52", "", "6", "emmc", "128", "6,5", "C")]


# What the import does more than the baseline, and what brought it near it (kept here so each run's section
# says it, whether the target is met or not).
WORK = (
    "The baseline only splits and inserts the devices. The import reads the template's flexible formats "
    "(dates, decimals with units, sizes, yes/no in two languages) into a `DeviceData`, checks it with "
    "`reuse.services.check_new_device` (the rules of a device typed in a form), looks each batch's serial and "
    "asset numbers up in the inventory and earlier in the file, gives the new devices their ids (reserved "
    "from the sequence on PostgreSQL, read back on SQLite), and writes an audit-log entry per device: twice "
    "the rows the baseline writes. What brought it from 23.5 × (SQLite) and "
    "29 × (PostgreSQL): one look-up per field and batch instead of three per row, read from the unique "
    "indexes (asked together, both databases scanned every device of the organisation: 1,000,000 rows took "
    "1,332 s on SQLite) and sent as constants (PostgreSQL's generic plan for a prepared list of 500 "
    "parameters compared every device with each one), asked of the table rather than through the ORM; the "
    "devices of a batch and their audit entries written in one statement each (`core.bulk.insert_rows`: "
    "SQLAlchemy's row-by-row conversion of the parameters took longer than SQLite's insert itself), an "
    "executemany on SQLite and COPY on PostgreSQL, whose ids are reserved in one statement rather than read "
    "back in another (PostgreSQL 4.5 × to 3.3 × on 2026-12-07), the values common to a batch converted "
    "once; the lines of earlier numbers asked per batch; common dates, decimals and sizes read without "
    "strptime or regular expressions.")
WHY_SLOWER = (
    "Why it is still above: what remains is spread over the row's reading (about a fifth), the checks, the "
    "look-ups and the audit entries' insert, none of which the baseline does; each of the statements a batch "
    "sends beyond the baseline's insert and commit is a round trip it does not make.")
MEMORY_FLAT = ("Memory: the file is streamed and committed per batch, and since this issue the line of each "
               "serial and asset number imported (to refuse a duplicate with the line it repeats) is kept in a "
               "temporary SQLite file rather than a dict, which grew with the file (153 MiB at 100,000 rows, "
               "260 MiB at 612,000 and rising). The peak is the process's start (loading the app).")
MEMORY = ("Memory grows with the file although it is streamed and committed per batch, and the line of "
          "each serial and asset number imported is kept in a temporary SQLite file (in a dict before this "
          "issue: 153 MiB at 100,000 rows, 260 MiB at 612,000): look for what else the import keeps per row.")


def write_csv(path: Path, rows: int) -> None:
    from reuse.imports import TEMPLATE_COLUMNS

    rng = random.Random(rows)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(TEMPLATE_COLUMNS)
        for n in range(rows):
            category, brand, model, cpu, ram, storage_type, storage, screen, condition = ROWS[n % len(ROWS)]
            writer.writerow([category, brand, model, f"IMP-{n:08d}", f"INV-IMP-{n:08d}",
                             f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2012, 2025)}",
                             f"{rng.randint(100, 1500)},{rng.randint(0, 99):02d}", cpu, ram, storage_type, storage,
                             screen, condition, "", "", "", "Service informatique"])


# --- the two paths, each run in a child process -------------------------------------------------

def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _child(mode: str, database: str, csv_path: Path, batch_size: int) -> dict:
    from sqlalchemy import select

    from core import create_app
    from core.config import database_url
    from core.extensions import db
    from core.models import Organisation
    from reuse import imports
    from reuse.cli import acting_user

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(database), "SEARCH_DRAIN_ON_COMMIT": False})
    with app.test_request_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.insee_code == ORGANISATION))
        actor = acting_user(organisation)
        db.session.execute(text("SELECT 1 FROM devices LIMIT 1"))  # both paths start connected
        before = _rss_kb()
        started = time.perf_counter()
        if mode == "import":
            summary = imports.import_devices(actor, organisation, csv_path, sample_size=0, batch_size=batch_size,
                                             after_batch=db.session.commit)
            db.session.commit()
            created = summary.created
        else:
            created = _raw_insert(db.session.connection().connection.driver_connection, db.engine.dialect.name,
                                  organisation.id, csv_path, batch_size)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "created": created, "rss_before_kb": before,
            "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _raw_insert(connection, dialect: str, organisation_id: int, csv_path: Path, batch_size: int) -> int:
    """The same rows as the import makes of them (typical weight of the category, storage media unless
    `none`), with the least work: split, convert, executemany, commit per batch."""
    from reuse.models import DeviceCategory

    sqlite = dialect == "sqlite"
    mark = "?" if sqlite else "%s"
    columns = ("organisation_id", "category", "brand", "model", "serial_number", "asset_number", "purchase_date",
               "purchase_price", "cpu", "ram_gb", "storage_type", "storage_gb", "screen_inches", "condition",
               "weight_kg", "has_storage_media", "notes", "status", "sold_to", "created_at")
    statement = f"INSERT INTO devices ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    weights = {c.value: c.factors.weight_kg for c in DeviceCategory}
    number = float if sqlite else Decimal
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    created_at = now.isoformat(" ") if sqlite else now
    cursor = connection.cursor()
    batch, count = [], 0
    with csv_path.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source, delimiter=";")
        next(reader)
        for (category, brand, model, serial, asset, bought, price, cpu, ram, storage_type, storage, screen,
             condition, _weight, _media, _site, notes) in reader:
            day, month, year = bought.split("/")
            purchase_date = f"{year}-{month}-{day}" if sqlite else datetime(int(year), int(month), int(day)).date()
            batch.append((organisation_id, category, brand, model, serial, asset, purchase_date,
                          number(price.replace(",", ".")), cpu, int(ram) if ram else None, storage_type,
                          int(storage) if storage else None, number(screen.replace(",", ".")) if screen else None,
                          condition, number(weights[category]), storage_type != "none", notes, "in_service", "",
                          created_at))
            if len(batch) == batch_size:
                cursor.executemany(statement, batch)
                connection.commit()
                count += len(batch)
                batch = []
    if batch:
        cursor.executemany(statement, batch)
        connection.commit()
        count += len(batch)
    return count


# --- the parent: databases, runs, report -----------------------------------------------------------

class Databases:
    """A migrated database with the demo data, copied fresh for each run."""

    def __init__(self, url: str | None, workdir: Path):
        self.url, self.workdir = url, workdir
        self.template = url and make_url(url).set(database=f"{make_url(url).database}_template")
        self.run_url = url and make_url(url).set(database=f"{make_url(url).database}_run")

    def _execute(self, sql: str) -> None:
        from sqlalchemy import create_engine

        from core.config import database_url

        # CREATE and DROP DATABASE run from the server's maintenance database.
        maintenance = make_url(database_url(self.url)).set(database="postgres")
        engine = create_engine(maintenance, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(sql))
        engine.dispose()

    def prepare(self) -> None:
        from flask_migrate import upgrade

        from core import create_app, demo
        from core.config import database_url
        from core.extensions import db

        if self.url:
            self._execute(f'DROP DATABASE IF EXISTS "{self.template.database}"')
            self._execute(f'CREATE DATABASE "{self.template.database}"')
            template = self.template.render_as_string(hide_password=False)
        else:
            template = f"sqlite:///{self.workdir / 'template.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(template), "SEARCH_DRAIN_ON_COMMIT": False,
                          "SEARCH_INDEX_DIR": str(self.workdir / "search")})
        with app.app_context():
            upgrade()
            demo.load()
            db.session.commit()
            self.engine = common.database_engine(db.engine)
            self.machine = common.machine(db.engine)
            db.engine.dispose()

    def fresh(self) -> str:
        if self.url:
            self._execute(f'DROP DATABASE IF EXISTS "{self.run_url.database}"')
            self._execute(f'CREATE DATABASE "{self.run_url.database}" TEMPLATE "{self.template.database}"')
            return self.run_url.render_as_string(hide_password=False)
        shutil.copy(self.workdir / "template.db", self.workdir / "run.db")
        return f"sqlite:///{self.workdir / 'run.db'}"

    def drop(self) -> None:
        if self.url:
            for name in (self.run_url.database, self.template.database):
                self._execute(f'DROP DATABASE IF EXISTS "{name}"')


def _run(mode: str, database: str, csv_path: Path, batch_size: int) -> dict:
    output = subprocess.run([sys.executable, "-m", "bench.imports", "--child", mode, "--database", database,
                             "--csv", str(csv_path), "--batch-size", str(batch_size)],
                            check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--memory-rows", default="5000,50000", help="comma-separated file sizes for peak memory")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path at --rows (median kept)")
    parser.add_argument("--database", help="PostgreSQL URL (default: SQLite in a temporary directory)")
    parser.add_argument("--child", choices=("import", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(_child(arguments.child, arguments.database, arguments.csv, arguments.batch_size)))
        return
    memory_rows = [int(n) for n in arguments.memory_rows.split(",") if n]
    with tempfile.TemporaryDirectory() as workdir_name:
        workdir = Path(workdir_name)
        databases = Databases(arguments.database, workdir)
        databases.prepare()
        results: dict[tuple[str, int], dict] = {}
        try:
            for rows in sorted({arguments.rows, *memory_rows}):
                csv_path = workdir / f"devices-{rows}.csv"
                write_csv(csv_path, rows)
                # The timed size: both paths, interleaved, `--repeat` times each; the run of median time kept.
                modes = ("raw", "import") if rows == arguments.rows else ("import",)
                runs: dict[str, list[dict]] = {mode: [] for mode in modes}
                for _repeat in range(arguments.repeat if rows == arguments.rows else 1):
                    for mode in modes:
                        result = _run(mode, databases.fresh(), csv_path, arguments.batch_size)
                        if result["created"] != rows:
                            raise SystemExit(f"{mode} created {result['created']} devices of {rows}")
                        print(f"{mode:6} {rows:>9,} rows: {result['seconds']:.1f} s, "
                              f"peak {result['peak_kb'] / 1024:.0f} MiB", flush=True)
                        runs[mode].append(result)
                for mode, mode_runs in runs.items():
                    results[mode, rows] = sorted(mode_runs, key=lambda run: run["seconds"])[len(mode_runs) // 2]
                csv_path.unlink()
        finally:
            databases.drop()
    raw, full = results["raw", arguments.rows], results["import", arguments.rows]
    ratio = full["seconds"] / raw["seconds"]
    lines = [f"Machine: {databases.machine}.",
             f"{arguments.rows:,} rows of Circuit's template into one organisation, batches of {arguments.batch_size} "
             "(one commit each), each path in its own process on a fresh copy of the same database; at "
             f"{arguments.rows:,} rows, the median of {arguments.repeat} runs of each path, interleaved.", "",
             "| | rows | seconds | rows/s | ratio | peak RSS (MiB) | RSS before (MiB) |", "|---|---|---|---|---|---|---|"]
    for (mode, rows), result in sorted(results.items(), key=lambda item: (item[0][1], item[0][0] != "raw")):
        name = "Raw DB-API executemany (baseline)" if mode == "raw" else "`reuse.imports.import_devices` (the CLI's)"
        ratio_cell = f"{result['seconds'] / raw['seconds']:.2f}" if rows == arguments.rows else ""
        lines.append(f"| {name} | {rows:,} | {result['seconds']:.1f} | {rows / result['seconds']:,.0f} | {ratio_cell} "
                     f"| {result['peak_kb'] / 1024:.0f} | {result['rss_before_kb'] / 1024:.0f} |")
    peaks = [results["import", rows]["peak_kb"] for rows in sorted(memory_rows)]
    growth = peaks[-1] / peaks[0] if peaks else 1
    lines += ["", f"Target: import at most 4 × the baseline: {'met' if ratio <= 4 else 'missed'} ({ratio:.2f} ×); "
              + (f"peak memory from {min(memory_rows):,} to {max(memory_rows):,} rows: × {growth:.2f} "
                 f"({'flat' if growth <= 1.1 else 'grows'})." if len(memory_rows) > 1 else
                 f"peak memory measured at {memory_rows[0]:,} rows only.")]
    lines += ["", WORK + (" " + WHY_SLOWER if ratio > 4 else "")]
    if len(memory_rows) > 1:
        lines += ["", MEMORY_FLAT if growth <= 1.1 else MEMORY]
    body = "\n".join(lines)
    print(body)
    common.write_section(f"Device import, {databases.engine.split()[0]}", body)


if __name__ == "__main__":
    main()
