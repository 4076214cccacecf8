"""A long PDF: the Activity 16 annual report of the whole territory on generated data, through the app's
PDF path (`core.pdf.render_pdf`: the Jinja template, then WeasyPrint with the static-files-only fetcher)
against the raw WeasyPrint render of the same HTML (`weasyprint.HTML(string=html).write_pdf()`, the same
stylesheet), in the same run. The data the report shows is gathered once, before both; its cost is
reported apart.

    python -m bench.report [--scale 0.1] [--repeat 2] [--year YYYY] [--database URL]

The report lists every contract of the year: the scale sets its length (scale 0.1: 26 pages).
Runs on the database of bench.indicators (a SQLite file under instance/bench/ per scale, or --database).
Writes its section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import io
import time
from datetime import date

from flask import render_template
from pypdf import PdfReader
from weasyprint import HTML

from bench import common
from core.extensions import db
from core.models import IssuedDocument, utcnow
from core.pdf import render_pdf, static_folder
from procurement import report
from procurement.views import indicators as indicator_views

TEMPLATE = "documents/activity16_report.html"


def _context(year: int) -> dict:
    """What procurement.views.indicators.indicators_report gives the template, for the territory."""
    figures = indicator_views._figures(year, None)
    document = IssuedDocument(number="BENCH-0001", version=1, issued_at=utcnow())
    return dict(document=document, year=year, buyer=None, subject=report.territory_organisation(),
                in_progress=year >= date.today().year, notes=indicator_views._method_notes(figures["rows"]),
                **figures, **report.gather(year, None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--year", type=int, default=date.today().year - 1)
    parser.add_argument("--database", help="database URL (default: a SQLite file under instance/bench/)")
    arguments = parser.parse_args()
    app = common.generated_app(arguments.scale, arguments.database)
    with app.test_request_context():
        started = time.perf_counter()
        context = _context(arguments.year)
        gathered = time.perf_counter() - started
        html = render_template(TEMPLATE, **context)
        base_url = static_folder().as_uri() + "/"
        app_path = lambda: render_pdf(TEMPLATE, **context)  # noqa: E731
        raw = lambda: HTML(string=html, base_url=base_url).write_pdf()  # noqa: E731
        pages = {name: len(PdfReader(io.BytesIO(render())).pages) for name, render in (("app", app_path),
                                                                                       ("raw", raw))}
        if pages["app"] != pages["raw"]:
            raise SystemExit(f"The two renders differ: {pages}")
        app_times, raw_times = [], []
        for _ in range(arguments.repeat):  # interleaved, so that a slower moment of the machine hits both
            app_times += common.timings(app_path, 1)
            raw_times += common.timings(raw, 1)
        contracts = len(context["contracts"])
        machine = common.machine(db.engine)
        engine = common.database_engine(db.engine)
    ratio = common.median(app_times) / common.median(raw_times)
    body = "\n".join([
        f"Machine: {machine}.",
        f"Annual report {arguments.year} of the territory at scale {arguments.scale:g}: {pages['app']} pages, "
        f"{contracts:,} contracts listed, {len(html) / 1024:,.0f} KiB of HTML; median of {arguments.repeat} runs "
        f"each, interleaved. Gathering its data (indicators of the year and the year before, the contracts, "
        f"the reuse figures per organisation) took {gathered:.2f} s more, outside both timings.",
        "",
        "| | median (s) | min (s) | ratio |",
        "|---|---|---|---|",
        f"| Raw `weasyprint.HTML(string=html).write_pdf()` (baseline) | {common.median(raw_times):.2f} "
        f"| {min(raw_times):.2f} | 1.00 |",
        f"| `core.pdf.render_pdf` (template and WeasyPrint with the static-files fetcher) "
        f"| {common.median(app_times):.2f} | {min(app_times):.2f} | {ratio:.2f} |",
        "",
        f"Target: at most 1.3 × the baseline: {'met' if ratio <= 1.3 else 'missed'}.",
    ])
    print(body)
    common.write_section(f"Annual report PDF, {engine.split()[0]}", body)


if __name__ == "__main__":
    main()
