"""The product's WSGI app plus one bench-only route, for `gunicorn bench.wsgi_bench:app`.

`/bench/bare` answers a constant through the same app, server, hooks and session handling as every page
(the request's user is still loaded from its cookie): the baseline the page benchmarks divide by. It is
never part of the product, whose entry point stays `wsgi:app`."""
from wsgi import app


@app.get("/bench/bare")
def bare():
    return "ok"
