"""The production set-up, tried: real gunicorn with deploy/gunicorn.conf.py and two workers, on the suite's
database (PostgreSQL when TEST_DATABASE_URL is set, else its migrated SQLite file), CIRCUIT_ENV=production,
login throttling counted in Redis, behind a (simulated) reverse proxy."""
from __future__ import annotations

import re
import signal
import socket
import subprocess  # nosec B404
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pytest
import requests

from core import search
from core.config import PROJECT_ROOT
from core.extensions import db
from core.models import Role
from tests.conftest import PASSWORD
from tests.core.test_throttle import REDIS_URL, redis_prefix  # noqa: F401  (the fixture)
from tests.factories import user_for_role

MAX_FAILURES_PER_ACCOUNT = 3
MAX_FAILURES_PER_ADDRESS = 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn as systemd starts it, with a client that speaks to it as nginx would forward a browser:
    X-Forwarded-Proto https (so the Secure cookie is right) and X-Forwarded-For the browser's address."""

    def __init__(self, port: int, access_log: Path, error_log: Path, process: subprocess.Popen):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.host = f"127.0.0.1:{port}"
        self.access_log, self.error_log, self.process = access_log, error_log, process

    def request(self, method: str, path: str, session: str | None = None, address: str = "198.51.100.1",
                **kwargs) -> requests.Response:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": address,
                   "Referer": f"https://{self.host}/login"}  # Flask-WTF checks the referrer over https
        if session:
            # By hand: a client library never sends a Secure cookie over plain http.
            headers["Cookie"] = f"session={session}"
        return requests.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=30,
                                **kwargs)

    def login_form(self, address: str = "198.51.100.1") -> tuple[str, str]:
        """The session cookie and CSRF token of a fresh login page."""
        page = self.request("GET", "/login", address=address)
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        return page.cookies["session"], token

    def log_in(self, email: str, password: str, address: str = "198.51.100.1") -> requests.Response:
        session, token = self.login_form(address)
        return self.request("POST", "/login", session=session, address=address,
                            data={"csrf_token": token, "email": email, "password": password})

    def pids_serving(self, request_line: str, count: int) -> list[str]:
        """The pids of the workers that answered the last `count` requests of this line. A worker writes its
        access line just after sending the response, so the lines are waited for (5 s at most)."""
        deadline = time.monotonic() + 5
        while len(pids := self.pids_in_log(request_line)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return pids[-count:]

    def pids_in_log(self, request_line: str) -> list[str]:
        log = self.access_log.read_text() if self.access_log.exists() else ""
        return re.findall(rf'"{re.escape(request_line)} HTTP/1.1" \d+ .* pid=<(\d+)>', log)

    def connections_not_accepted(self) -> int:
        """Connections the kernel has established that no worker has accepted yet: the accept queue of the
        listening socket, its rx_queue in /proc/net/tcp."""
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            local, state, queues = line.split()[1], line.split()[3], line.split()[4]
            if local == f"0100007F:{self.port:04X}" and state == "0A":  # 127.0.0.1, LISTEN
                return int(queues.split(":")[1], 16)
        raise AssertionError(f"nothing listens on port {self.port}")

    def hold_a_worker(self) -> socket.socket:
        """Starts a request whose headers never end: the sync worker that accepts it waits for the rest until
        the socket is closed, so meanwhile every other request goes to another worker."""
        held = socket.create_connection(("127.0.0.1", self.port))
        held.sendall(f"GET /healthz HTTP/1.1\r\nHost: {self.host}\r\n".encode())
        deadline = time.monotonic() + 5
        time.sleep(0.05)
        while self.connections_not_accepted():
            assert time.monotonic() < deadline, "no worker accepted the held connection in 5 s"
            time.sleep(0.01)
        return held

    def each_batch_on_the_other_worker(self, *batches: Callable[[], object]) -> None:
        """Runs the batches in turn, each answered by one of the two workers, the other worker each time.
        Which worker accepts a connection is otherwise the kernel's choice: one fast worker may answer all."""
        held = self.hold_a_worker()
        try:
            for number, batch in enumerate(batches):
                if number:
                    # The only free worker is the one that answered the last batch: it takes the new hold.
                    next_held = self.hold_a_worker()
                    held.close()
                    held = next_held
                batch()
        finally:
            held.close()


@pytest.fixture
def gunicorn(app, tmp_path, redis_prefix):  # noqa: F811
    port = _free_port()
    access_log, error_log = tmp_path / "access.log", tmp_path / "error.log"
    environment = {
        "PATH": "/usr/bin:/bin",
        "CIRCUIT_ENV": "production",
        "SECRET_KEY": "a-long-random-value-for-the-deployment-test",
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "THROTTLE_REDIS_URL": REDIS_URL,
        "THROTTLE_REDIS_PREFIX": redis_prefix,
        "PROXY_FIX_X_FOR": "1",
        "WEB_CONCURRENCY": "2",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": str(MAX_FAILURES_PER_ACCOUNT),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": str(MAX_FAILURES_PER_ADDRESS),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "IMPORT_FOLDER": str(tmp_path / "imports"),
    }
    # The workers' index, built here so that each worker's warm-up (post_worker_init) reads a real one.
    app.config["SEARCH_INDEX_DIR"] = environment["SEARCH_INDEX_DIR"]
    search.reindex()
    gunicorn_program = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(  # nosec B603
        [str(gunicorn_program), "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(access_log), "--error-logfile", str(error_log)],
        cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(port, access_log, error_log, process)
    try:
        # Ready once both workers have answered (each loads the app itself: preload is off).
        deadline = time.monotonic() + 20
        while len(set(server.pids_in_log("GET /healthz"))) < 2:
            assert process.poll() is None, error_log.read_text()
            assert time.monotonic() < deadline, "gunicorn's two workers did not answer in 20 s"
            try:
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(lambda _: server.request("GET", "/healthz"), range(4)))
            except requests.ConnectionError:
                time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_two_workers_in_production_share_sessions_and_throttling_and_stop_cleanly(gunicorn):
    health = gunicorn.request("GET", "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
    assert "Content-Security-Policy" in health.headers
    warm_ups = gunicorn.error_log.read_text()
    assert warm_ups.count("search warm-up done") == 2 and "warm-up failed" not in warm_ups

    # Log in; the session cookie is Secure and HttpOnly, and every worker honours it.
    user = user_for_role(Role.IT_MANAGER, full_name="Camille Martin")
    response = gunicorn.log_in(user.email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" in cookie and "HttpOnly" in cookie
    session = response.cookies["session"]
    pages = []

    def eight_dashboards():
        with ThreadPoolExecutor(4) as pool:
            pages.extend(pool.map(lambda _: gunicorn.request("GET", "/dashboard", session=session), range(8)))
    gunicorn.each_batch_on_the_other_worker(eight_dashboards, eight_dashboards)
    assert [page.status_code for page in pages] == [200] * 16
    assert all("Camille Martin" in page.text for page in pages)
    pids = gunicorn.pids_serving("GET /dashboard", 16)
    assert len(set(pids[:8])) == 1 and len(set(pids[8:])) == 1 and pids[0] != pids[8]

    # Failed logins spread over both workers count together, per account...
    victim = user_for_role(Role.SUPPLIER).email
    failures = []
    gunicorn.each_batch_on_the_other_worker(
        *[lambda: failures.append(gunicorn.log_in(victim, "wrong password", "203.0.113.5"))]
        * MAX_FAILURES_PER_ACCOUNT)
    assert [failure.status_code for failure in failures] == [401] * MAX_FAILURES_PER_ACCOUNT
    assert len(set(gunicorn.pids_serving("POST /login", MAX_FAILURES_PER_ACCOUNT))) == 2
    refused = gunicorn.log_in(victim, PASSWORD, "192.0.2.44")
    assert refused.status_code == 401 and "Trop de tentatives" in refused.text
    # ... and per address, the browser's address coming from X-Forwarded-For.
    for n in range(MAX_FAILURES_PER_ADDRESS - MAX_FAILURES_PER_ACCOUNT):
        assert gunicorn.log_in(f"guess{n}@example.org", "x", "203.0.113.5").status_code == 401
    other = user_for_role(Role.OBSERVER)
    assert gunicorn.log_in(other.email, PASSWORD, "203.0.113.5").status_code == 401
    assert gunicorn.log_in(other.email, PASSWORD, "198.51.100.9").status_code == 302

    # SIGTERM (systemctl stop): the master lets its workers finish, then exits with 0.
    gunicorn.process.send_signal(signal.SIGTERM)
    assert gunicorn.process.wait(timeout=35) == 0
    error_log = gunicorn.error_log.read_text()
    assert error_log.count("Booting worker with pid") == 2 and "Shutting down: Master" in error_log
