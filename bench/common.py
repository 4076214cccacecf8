"""What the benchmarks share: the machine they ran on, their section of bench/RESULTS.md, a generated
database to run on, and the statistics of repeated timings."""
from __future__ import annotations

import os
import platform
import re
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Callable

from flask import Flask

RESULTS = Path(__file__).with_name("RESULTS.md")
DATA_DIR = Path(__file__).resolve().parent.parent / "instance" / "bench"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return "RAM unknown"


def database_engine(engine) -> str:
    """"PostgreSQL 16.4" or "SQLite 3.45.1"."""
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")  # fills server_version_info
    version = ".".join(str(part) for part in engine.dialect.server_version_info or ())
    return f"{'PostgreSQL' if engine.dialect.name == 'postgresql' else engine.dialect.name} {version}"


def machine(engine=None) -> str:
    """One line: CPU model, cores, RAM, Python, OS and, given an engine, the database and its version."""
    parts = [f"{_cpu_model()} ({os.cpu_count()} cores)", _ram_gib(), f"Python {platform.python_version()}",
             f"{platform.system()} {platform.release()}"]
    if engine is not None:
        parts.append(database_engine(engine))
    return ", ".join(parts)


def write_section(name: str, body: str) -> None:
    """Put `## name (date)` and `body` in bench/RESULTS.md, replacing that benchmark's earlier section
    (its heading starts with `## name`), or appending it."""
    section = f"## {name} ({time.strftime('%Y-%m-%d')})\n\n{body.strip()}\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^## {re.escape(name)}(?: \([^\n]*\))?\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")


def timings(function: Callable[[], object], repeat: int) -> list[float]:
    values = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        values.append(time.perf_counter() - started)
    return values


def median(values: list[float]) -> float:
    return statistics.median(values)


def generated_app(scale: float, database: str | None = None, seed: int = 2026) -> Flask:
    """An app on a database holding `scale` generated territories: `database` (a URL) if given, else a
    SQLite file under instance/bench/ kept between runs. Generated (with its search index) only when the
    database does not hold generated data yet."""
    from flask_migrate import upgrade

    from bench import generate
    from core import create_app
    from core.config import database_url
    from core.extensions import db

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    name = f"scale-{scale:g}-seed-{seed}"
    url = database_url(database or f"sqlite:///{DATA_DIR / name}.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(DATA_DIR / f"search-{name}"),
                      "SEARCH_DRAIN_ON_COMMIT": False})
    with app.app_context():
        upgrade()
        if not generate.already_generated():
            print(f"Generating scale {scale:g} on {db.engine.url.render_as_string()}…", flush=True)
            result = generate.generate(scale, seed)
            print(f"Generated in {result['seconds']:.0f} s.", flush=True)
    return app
