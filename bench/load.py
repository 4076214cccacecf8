"""Load test: gunicorn and the database under a mix of browsing, search, requests for reuse devices and
group-order participation (bench/locustfile.py), on loopback only and bounded in time. Reports throughput,
p50/p95 per page type and errors (issue 8 target at scale 10: no error, pages' p95 under 200 ms).

    python -m bench.load [--scale 1] [--seconds 60] [--users 10] [--workers N]

Database as bench/pages.py (DATABASE_URL, generated at --scale unless already generated; else a new SQLite
file). The server is gunicorn with deploy/gunicorn.conf.py (its worker count unless --workers), with the
production settings; locust runs headless in another process on the same machine. Appends its figures to
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.serve import ROOT, Server, exit_on_sigterm, prepare_database, write_results

P95_TARGET_MS = 200
POSTS = {"reuse request", "participation", "login"}


def run_locust(url: str, users: int, seconds: int, workdir: str) -> list[dict]:
    prefix = Path(workdir) / "locust"
    subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                    "--host", url, "--users", str(users), "--spawn-rate", str(max(1, users // 5)),
                    "--run-time", f"{seconds}s", "--stop-timeout", "10", "--csv", str(prefix), "--only-summary",
                    "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                   cwd=ROOT, check=True, timeout=seconds + 120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return list(csv.DictReader(stats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="bench.generate scale for an empty database")
    parser.add_argument("--seconds", type=int, default=60, help="how long the load lasts")
    parser.add_argument("--users", type=int, default=10, help="simulated users (each waits 0.5-2 s between tasks)")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: the deploy config's)")
    arguments = parser.parse_args()
    exit_on_sigterm()
    with tempfile.TemporaryDirectory() as workdir:
        database = prepare_database(arguments.scale)
        workers = arguments.workers or int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
        with Server(database, workdir, workers=workers) as server:
            rows = run_locust(server.url, arguments.users, arguments.seconds, workdir)
    table = ["| Request | count | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | p95 < 200 ms |",
             "|---|---|---|---|---|---|---|---|"]
    missed = []
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        name, p95 = row["Name"], float(row["95%"])
        page = name not in POSTS and name != "Aggregated" and row["Type"] == "GET"
        verdict = ("met" if p95 < P95_TARGET_MS else "MISSED") if page else ""
        if verdict == "MISSED":
            missed.append(f"{name} ({p95:.0f} ms)")
        label = "**All requests**" if name == "Aggregated" else f"{row['Type']} {name}"
        table.append(f"| {label} | {row['Request Count']} | {float(row['Requests/s']):.1f} | {row['50%']} "
                     f"| {row['95%']} | {row['99%']} | {row['Failure Count']} | {verdict} |")
    total = next(row for row in rows if row["Name"] == "Aggregated")
    summary = (f"{int(total['Failure Count'])} errors in {int(total['Request Count']):,} requests; "
               + ("every page's p95 under 200 ms." if not missed else "p95 over 200 ms: " + ", ".join(missed) + "."))
    body = [
        f"Database: {database.description}. gunicorn, {workers} sync workers (deploy/gunicorn.conf.py, access log "
        f"off, no worker recycling during the run); locust {arguments.users} users in one process on the same "
        f"machine (each waits 0.5–2 s between tasks), {arguments.seconds} s, loopback. The mix: browsing "
        "(catalogue and its offers, surplus list and offers, device list, tenders and a tender, dashboard), "
        "search, requests for a reuse unit (a 409 refusal by a rule counts as an answer) and group-order "
        "needs. Client and server share the machine's cores.",
        "",
        *table,
        "",
        summary,
    ]
    write_results(f"Load, scale {database.scale:g}", database, body)


if __name__ == "__main__":
    main()
