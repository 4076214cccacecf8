"""PDF documents: a Jinja template (templates/documents/) rendered by WeasyPrint.

A document reads its resources (the stylesheet) from the project's static folder only: the URL fetcher
below refuses any other file and never opens a network connection, so a stray remote URL in a template
or in user-entered text cannot make the server fetch it (SSRF) or leak the document's existence.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from flask import Response, current_app, render_template, render_template_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class StaticFilesOnly(URLFetcher):
    """Serves `file:` URLs under one folder; refuses everything else (other files, http, data…)."""

    def __init__(self, root: str | Path):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = Path(root).resolve()

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"documents load only the project's static files, not {url}")
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"documents load only the project's static files, not {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": content_type})


def static_folder() -> Path:
    return Path(current_app.static_folder).resolve()


def html_to_pdf(html: str) -> bytes:
    """Relative URLs in `html` resolve against the static folder (`css/documents.css`)."""
    folder = static_folder()
    document = HTML(string=html, base_url=folder.as_uri() + "/", url_fetcher=StaticFilesOnly(folder))
    # Title, author and language come from the template's <title>, <meta> and <html lang>.
    return document.write_pdf()


def render_pdf(template_name: str, **context) -> bytes:
    """Render a template of templates/documents/ in the current user's language, as PDF bytes."""
    return html_to_pdf(render_template(template_name, **context))


def render_pdf_string(source: str, **context) -> bytes:
    """The same from a template string (tests, one-off documents)."""
    return html_to_pdf(render_template_string(source, **context))


def pdf_response(pdf_bytes: bytes, filename: str) -> Response:
    """Shown in the browser (inline) rather than downloaded; the filename is kept on save."""
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace('"', "").replace("?", "_")
    disposition = f'inline; filename="{ascii_name}"'
    if ascii_name != filename:
        disposition += f"; filename*=UTF-8''{quote(filename)}"
    response = Response(pdf_bytes, mimetype="application/pdf")
    response.headers["Content-Disposition"] = disposition
    # A certificate or an agreement names people and organisations: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    return response
