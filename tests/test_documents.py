"""Documents people send from their phones: each kind read, each kind of bad file named."""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Callable

import pytest

from bot import documents
from bot.documents import DocumentRead, kind_of, read_document
from tests.document_makers import (
    DOCX_MIME,
    PDF_MIME,
    docx_with_text,
    docx_zip_bomb,
    encrypted_pdf,
    html_document,
    pdf_with_text,
    scanned_pdf,
)
from tests.page_server import NEWS_PARAGRAPHS, NEWS_TITLE

LIMIT = 2_000_000
SENTENCE = "Cervantes escribió el Quijote en Alcalá de Henares."


async def read(data: bytes, name: str, mime: str = "") -> DocumentRead:
    return await read_document(data, name, mime, LIMIT)


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("Informe.PDF", "", "pdf"),
        ("carta.docx", "", "docx"),
        ("pagina.htm", "", "html"),
        ("notas.md", "", "markdown"),
        ("notas.txt", "", "text"),
        ("sin_extension", PDF_MIME, "pdf"),
        ("sin_extension", DOCX_MIME, "docx"),
        ("sin_extension", "text/html; charset=utf-8", "html"),
        ("foto.png", "image/png", None),
        ("hoja.xlsx", "application/octet-stream", None),
    ],
)
def test_the_kind_comes_from_the_name_then_the_mime_type(
    name: str, mime: str, kind: str | None
) -> None:
    assert kind_of(name, mime) == kind


async def test_pdf_docx_html_markdown_and_text_are_read() -> None:
    pdf = await read(pdf_with_text(SENTENCE, "Vivió en Madrid."), "libro.pdf")
    assert pdf.problem is None and pdf.text is not None
    assert SENTENCE in pdf.text and "Vivió en Madrid." in pdf.text
    word = await read(docx_with_text(SENTENCE, table=[["Autor", "Obra"]]), "carta.docx")
    assert word.text is not None and SENTENCE in word.text and "Autor | Obra" in word.text
    page = await read(html_document(NEWS_TITLE, *NEWS_PARAGRAPHS), "pagina.html")
    assert page.text is not None and all(p in page.text for p in NEWS_PARAGRAPHS)
    assert "Contacto" not in page.text  # the menu is boilerplate, not the page's text
    markdown = await read(f"# Cervantes\n\n{SENTENCE}".encode(), "notas.md")
    assert markdown.text is not None and SENTENCE in markdown.text
    text = await read(b"\xef\xbb\xbf" + SENTENCE.encode(), "notas.txt")
    assert text.text == SENTENCE  # the byte-order mark is not text


@pytest.mark.parametrize(
    ("make", "name", "problem"),
    [
        (encrypted_pdf, "secreto.pdf", "encrypted"),
        (scanned_pdf, "escaneado.pdf", "scanned"),
        (docx_zip_bomb, "bomba.docx", "bomb"),
        (lambda: "ñandú".encode("latin-1"), "notas.txt", "encoding"),
        (lambda: b"   \n\t ", "vacio.txt", "empty"),
        (lambda: docx_with_text(), "vacio.docx", "empty"),
        (lambda: pdf_with_text(SENTENCE)[:300], "cortado.pdf", "broken"),
        (lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "disfrazado.pdf", "broken"),
        (lambda: b"PK\x03\x04" + b"\0" * 100, "roto.docx", "broken"),
        (lambda: b"hola", "foto.png", "not_text"),
    ],
)
async def test_each_bad_file_gets_its_own_problem(
    make: Callable[[], bytes], name: str, problem: str
) -> None:
    outcome = await read(make(), name)
    assert (outcome.text, outcome.problem) == (None, problem)


async def test_a_file_over_the_cap_is_refused_before_it_is_parsed() -> None:
    data = pdf_with_text(SENTENCE)
    assert (await read_document(data, "a.pdf", "", len(data) - 1)).problem == "too_big"
    assert (await read_document(data, "a.pdf", "", len(data))).problem is None


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_expanding() -> None:
    """A single over-compressed member, and a total past the cap, are each a bomb."""
    with pytest.raises(documents.DocumentError) as ratio:
        documents.check_zip(docx_zip_bomb(expanded_bytes=5_000_000))
    assert ratio.value.problem == "bomb"
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as archive:
        for number in range(documents.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"word/p{number}.xml", b"")
    with pytest.raises(documents.DocumentError):
        documents.check_zip(many.getvalue())
    documents.check_zip(docx_with_text(SENTENCE))  # a real DOCX passes


async def test_extraction_past_its_time_cap_is_a_timeout() -> None:
    data = pdf_with_text(SENTENCE)
    late = await read_document(data, "a.pdf", "", LIMIT, timeout_s=1e-6)
    assert late == DocumentRead(problem="timeout")


@pytest.mark.parametrize("name", ["ruido.pdf", "ruido.docx", "ruido.html", "ruido.md"])
async def test_random_bytes_get_a_problem_or_text_and_never_raise(name: str) -> None:
    rng = random.Random(name)
    for size in (0, 1, 100, 5000):
        data = bytes(rng.getrandbits(8) for _ in range(size))
        for prefix in (b"", b"%PDF-1.7\n", b"PK\x03\x04"):
            outcome = await read(prefix + data, name)
            assert (outcome.text is None) != (outcome.problem is None)
            if outcome.text is not None:
                assert outcome.text.strip()
    outcome = await read(os.urandom(20_000), name)
    assert outcome.problem is not None or outcome.text
