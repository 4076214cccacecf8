"""PDF rendering reads the project's static files and nothing else: no network, no other file."""
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from core.pdf import StaticFilesOnly, pdf_response, render_pdf_string

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"

REMOTE_IMAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="css/documents.css"></head>
<body><h1>{{ title }}</h1><img src="https://example.org/x.png" alt="remote"></body></html>"""


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_fetcher_serves_a_static_file():
    fetcher = StaticFilesOnly(STATIC)
    response = fetcher((STATIC / "css" / "documents.css").as_uri())
    try:
        assert response.content_type == "text/css"
        assert b"@page" in response.read()
    finally:
        response.close()


@pytest.mark.parametrize("url", [
    "https://example.org/x.png",
    "http://127.0.0.1:5000/static/css/circuit.css",
    "ftp://example.org/file",
    "data:text/css,body{color:red}",
    (ROOT / "core" / "config.py").as_uri(),                       # a file outside static/
    (STATIC / ".." / "core" / "config.py").as_uri(),               # climbing out of static/
    "file://example.org" + str(STATIC / "css" / "documents.css"),  # a remote file share
    (STATIC / "css" / "missing.css").as_uri(),
])
def test_the_fetcher_refuses_anything_else(url):
    with pytest.raises(ValueError):
        StaticFilesOnly(STATIC)(url)


def test_a_remote_image_is_refused_and_the_document_still_renders(app, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the PDF renderer tried to open a network connection")

    monkeypatch.setattr("socket.socket.connect", no_network)
    monkeypatch.setattr("socket.create_connection", no_network)
    asked = []
    refuse = StaticFilesOnly.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return refuse(self, url, headers)

    monkeypatch.setattr(StaticFilesOnly, "fetch", spy)
    with app.test_request_context():
        pdf = render_pdf_string(REMOTE_IMAGE, title="Remote image test", lang="en")

    assert pdf.startswith(b"%PDF")
    assert "Remote image test" in pdf_text(pdf)
    assert "https://example.org/x.png" in asked
    assert (STATIC / "css" / "documents.css").as_uri() in asked


def test_the_pdf_carries_its_title_and_language(app):
    with app.test_request_context():
        pdf = render_pdf_string(REMOTE_IMAGE.replace('<img src="https://example.org/x.png" alt="remote">', ""),
                                title="Certificat EFF-1", lang="fr")
    reader = PdfReader(BytesIO(pdf))
    assert reader.metadata.title == "Certificat EFF-1"
    assert reader.trailer["/Root"]["/Lang"] == "fr"


def test_the_response_is_an_inline_pdf(app):
    with app.test_request_context():
        response = pdf_response(b"%PDF-1.7 test", "EFF-2026-ABC.pdf")
        accented = pdf_response(b"%PDF-1.7 test", "Convention café.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="EFF-2026-ABC.pdf"'
    assert response.get_data() == b"%PDF-1.7 test"
    assert accented.headers["Content-Disposition"] == (
        "inline; filename=\"Convention caf_.pdf\"; filename*=UTF-8''Convention%20caf%C3%A9.pdf")
