"""Throughput of the catalogue, the device list and the dashboards under gunicorn (2 sync workers), as a
ratio to a bare endpoint of the same app and server measured in the same run (issue 8 target: >= 0.20).

    python -m bench.pages [--scale 1] [--seconds 10] [--connections 4]

Database: DATABASE_URL (PostgreSQL or SQLite) when set, filled by bench.generate at --scale unless it
already holds generated data; without it, a fresh SQLite file under a temporary folder. The server is
real gunicorn with deploy/gunicorn.conf.py on a free loopback port, serving bench/wsgi_bench.py (the
product plus `/bench/bare`); wrk (Debian package `wrk`) sends the requests with a demo user's session
cookie, the same cookie for the bare endpoint. Appends its figures to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from dataclasses import dataclass

import requests

from bench.serve import Server, demo_session, exit_on_sigterm, prepare_database, write_results

TARGET_RATIO = 0.20


@dataclass
class Endpoint:
    label: str
    path: str
    account: str  # the demo account whose session requests it


ACCOUNT_FOR_BARE = "dsi@gosb.example"
PAGES = [
    Endpoint("Catalogue (procurement officer)", "/marketplace/catalogue", "achats@gosb.example"),
    Endpoint("Device list (EPT IT manager)", "/reuse/devices", "dsi@gosb.example"),
    Endpoint("Dashboard, IT manager", "/dashboard", "dsi@gosb.example"),
    Endpoint("Dashboard, procurement officer", "/dashboard", "achats@gosb.example"),
    Endpoint("Dashboard, administrator", "/dashboard", "admin@gosb.example"),
    Endpoint("Dashboard, supplier", "/dashboard", "ans@fournisseur.example"),
    Endpoint("Dashboard, beneficiary", "/dashboard", "college@beneficiaire.example"),
]


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and answers other than 2xx/3xx


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, cookie: str, seconds: int, connections: int) -> WrkResult:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-H", f"Cookie: {cookie}", url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(latency["50"]), p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="bench.generate scale for an empty database")
    parser.add_argument("--seconds", type=int, default=10, help="measuring time per endpoint")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections kept by wrk")
    arguments = parser.parse_args()
    exit_on_sigterm()
    with tempfile.TemporaryDirectory() as workdir:
        database = prepare_database(arguments.scale)
        with Server(database, workdir, workers=2) as server:
            cookies = {account: demo_session(server.url, account)
                       for account in {ACCOUNT_FOR_BARE} | {page.account for page in PAGES}}
            for page in PAGES:  # each page answers itself, not the login form, before it is timed
                answer = requests.get(server.url + page.path, headers={"Cookie": cookies[page.account]},
                                      allow_redirects=False, timeout=60)
                assert answer.status_code == 200, (page.path, page.account, answer.status_code)

            def measure(path: str, account: str) -> WrkResult:
                wrk(server.url + path, cookies[account], 2, arguments.connections)  # warm both workers
                return wrk(server.url + path, cookies[account], arguments.seconds, arguments.connections)

            bare_before = measure("/bench/bare", ACCOUNT_FOR_BARE)
            results = [(page, measure(page.path, page.account)) for page in PAGES]
            bare_after = measure("/bench/bare", ACCOUNT_FOR_BARE)
    bare = (bare_before.requests_per_second + bare_after.requests_per_second) / 2
    rows = [
        "| Endpoint | requests/s | p50 (ms) | p99 (ms) | errors | ratio to bare | target ≥ 0.20 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, result in (("Bare endpoint `/bench/bare` (before)", bare_before),
                          ("Bare endpoint `/bench/bare` (after)", bare_after)):
        rows.append(f"| {label} | {result.requests_per_second:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
                    f"| {result.errors} | {result.requests_per_second / bare:.2f} | |")
    for page, result in results:
        ratio = result.requests_per_second / bare
        rows.append(f"| {page.label} `{page.path}` | {result.requests_per_second:.1f} | {result.p50_ms:.1f} "
                    f"| {result.p99_ms:.1f} | {result.errors} | {ratio:.2f} "
                    f"| {'met' if ratio >= TARGET_RATIO else 'MISSED'} |")
    body = [
        f"Database: {database.description}. gunicorn, 2 sync workers (deploy/gunicorn.conf.py, access log off, "
        f"no worker recycling during the run); wrk, 1 thread, {arguments.connections} connections, "
        f"{arguments.seconds} s per endpoint after 2 s of warm-up, on loopback. Client and server share the "
        "machine's cores, so wrk's own CPU use is taken from the server in every row alike. The bare figure "
        "is the mean of the runs before and after the pages.",
        "",
        *rows,
    ]
    write_results(f"Pages under gunicorn, scale {database.scale:g}", database, body)


if __name__ == "__main__":
    main()
