"""What the server benchmarks share: a generated database, real gunicorn on a loopback port, and a demo
user's session cookie obtained through the login form."""
from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import func, select

from bench import common
from core import search
from core.demo import DEMO_PASSWORD
from core.extensions import db
from marketplace.models import CatalogueOffer
from procurement.models import Contract
from reuse.models import Device, Offer

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


@dataclass
class Database:
    url: str
    search_dir: str
    description: str
    machine: str
    scale: float  # territories' worth of devices (bench.generate: 25,000 per unit)


def prepare_database(scale: float) -> Database:
    """The database of DATABASE_URL, or bench.common's SQLite file for `scale`, generated at `scale` unless
    it already holds generated data, with a search index of its own under instance/bench/ (built when
    missing, e.g. after `python -m bench.generate` built one elsewhere)."""
    app = common.generated_app(scale, database=os.environ.get("DATABASE_URL"))
    with app.app_context():
        if os.environ.get("DATABASE_URL"):  # an index per database, never one of another database's ids
            app.config["SEARCH_INDEX_DIR"] = str(common.DATA_DIR / f"search-{db.engine.url.database}")
        search_dir = app.config["SEARCH_INDEX_DIR"]
        if not Path(search_dir).exists():
            print(f"Building the search index in {search_dir}...", flush=True)
            search.reindex()
        counts = {label: db.session.scalar(select(func.count()).select_from(model))
                  for label, model in (("devices", Device), ("contracts", Contract), ("reuse offers", Offer),
                                       ("catalogue offers", CatalogueOffer))}
        machine = common.machine(db.engine)
        url = db.engine.url.render_as_string(hide_password=False)
        db.engine.dispose()
    description = ", ".join(f"{count:,} {label}" for label, count in counts.items())
    return Database(url=url, search_dir=search_dir, description=description, machine=machine,
                    scale=round(counts["devices"] / 25_000, 1))


def exit_on_sigterm() -> None:
    """A benchmark stopped by SIGTERM (a time limit) still stops its server on the way out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving bench.wsgi_bench:app (the product plus /bench/bare) on 127.0.0.1, as deployed
    (deploy/gunicorn.conf.py, production settings), without the access log and without recycling workers
    during a run (a restart would land in whichever endpoint is being measured)."""

    def __init__(self, database: Database, workdir: str, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database
        self.log = Path(workdir) / "gunicorn.log"
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        command = [sys.executable, "-m", "gunicorn"]
        if GUNICORN_CONFIG.exists():
            command += ["-c", str(GUNICORN_CONFIG)]
        command += ["--workers", str(self.workers), "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}",
                    "--access-logfile", "/dev/null", "--error-logfile", str(self.log), "--max-requests", "0",
                    "bench.wsgi_bench:app"]
        environment = {**os.environ, "CIRCUIT_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
                       "DATABASE_URL": self.database.url, "SEARCH_INDEX_DIR": self.database.search_dir}
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or a worker still building the app
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start; see {self.log}:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # the arbiter stops its own workers
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def send_secure_cookies(session: requests.Session) -> requests.Session:
    """Production cookies are Secure, which a client sends only over HTTPS; the benchmarks talk plain HTTP
    on loopback (TLS would be nginx's), so every cookie of the jar goes out with each request."""
    prepare = session.prepare_request

    def prepare_request(request):
        prepared = prepare(request)
        if session.cookies:
            prepared.headers["Cookie"] = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
        return prepared

    session.prepare_request = prepare_request
    return session


def new_session() -> requests.Session:
    return send_secure_cookies(requests.Session())


def csrf_token(html: str) -> str:
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def log_in(session: requests.Session, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    form = session.get(base_url + "/login", timeout=30)
    answer = session.post(base_url + "/login", data={"email": email, "password": password,
                                                     "csrf_token": csrf_token(form.text)},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"login of {email} answered {answer.status_code}")


def demo_session(base_url: str, email: str) -> str:
    """The Cookie header of a demo user logged in through the form."""
    session = new_session()
    log_in(session, base_url, email)
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def write_results(title: str, database: Database, body: list[str]) -> None:
    """Print the section and put it in bench/RESULTS.md with the machine it ran on."""
    text = "\n".join([f"Machine: {database.machine}.", "", *body])
    print(f"## {title}\n\n{text}")
    common.write_section(title, text)
