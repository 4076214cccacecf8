"""gunicorn settings for Circuit: `.venv/bin/gunicorn -c deploy/gunicorn.conf.py` from the project folder.

Options given on the command line win over these (the tests pick a free port with --bind).
"""
import multiprocessing
import os

wsgi_app = "wsgi:app"
chdir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the project folder

# nginx in front, on the same machine: listen on loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is gunicorn's own variable; sync workers, each one request at a time.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Each worker builds its own app, so its own database pool and Redis connections (none shared across a fork).
preload_app = False
# A 20-page report or a large import takes seconds; a worker stuck longer is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 120))
# On SIGTERM (systemctl stop/restart), requests under way get this long to finish.
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak (WeasyPrint, Whoosh) never grows for ever.
max_requests = 2000
max_requests_jitter = 200

# Only nginx on this machine may say which client and scheme a request came from.
forwarded_allow_ips = "127.0.0.1"

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = "info"
# The combined format with the client address nginx saw, the time taken (microseconds) and the worker's pid.
access_log_format = '%(h)s %({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s pid=%(p)s'


def post_worker_init(worker):
    """Before a worker takes requests: build the search's kept document sets, which its first search
    would otherwise build (about half a second at ten times the territory). Never stops the worker."""
    import time

    from core import search

    started = time.monotonic()
    try:
        with worker.wsgi.app_context():
            search.warm()
        worker.log.info("search warm-up done in %.0f ms", (time.monotonic() - started) * 1000)
    except Exception:  # a search that builds them itself is slower, not wrong
        worker.log.exception("search warm-up failed; the first search will build its sets")
