"""The text of a sent document: PDF, DOCX, HTML, Markdown or plain text, from its bytes.

Transport-free: adapters hand over bytes, file name and MIME type and get the text back, or
a problem code that `handlers.arguments.document_problem` words in Spanish. Extraction runs
in a thread with a time cap, so a hostile file never blocks the event loop for long.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

DocumentKind = Literal["pdf", "docx", "html", "markdown", "text"]
DocumentProblem = Literal[
    "too_big", "not_text", "encoding", "encrypted", "scanned", "empty", "broken", "bomb", "timeout"
]

EXTRACT_TIMEOUT_S = 20.0
"""A file that takes longer to read is given up on (the thread finishes in the background)."""
MAX_TEXT_CHARS = 1_000_000
"""Extraction stops here: far past what any command accepts, so the length message still shows."""
MAX_UNZIPPED_BYTES = 50_000_000
"""What a DOCX may declare as its total uncompressed size."""
MAX_ZIP_RATIO = 200
"""Real DOCX parts compress 2 to 20 times; a bomb compresses thousands of times."""
MAX_ZIP_MEMBERS = 2_000

_SUFFIXES: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}
_MIME_TYPES: dict[str, DocumentKind] = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
}


class DocumentError(Exception):
    """A document that cannot be read, with the code the handlers word for the user."""

    def __init__(self, problem: DocumentProblem) -> None:
        super().__init__(problem)
        self.problem: DocumentProblem = problem


@dataclass(frozen=True)
class DocumentRead:
    """The outcome the adapter puts on the Request: text, or a problem code."""

    text: str | None = None
    problem: DocumentProblem | None = None


def kind_of(file_name: str, mime_type: str) -> DocumentKind | None:
    """Which reader a file needs, from its name first and its MIME type second."""
    name = file_name.lower()
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    return _MIME_TYPES.get(mime_type.split(";")[0].strip().lower())


async def read_document(
    data: bytes,
    file_name: str,
    mime_type: str,
    max_bytes: int,
    timeout_s: float = EXTRACT_TIMEOUT_S,
) -> DocumentRead:
    """The document's text or its problem; never raises, never blocks the loop."""
    kind = kind_of(file_name, mime_type)
    if kind is None:
        return DocumentRead(problem="not_text")
    if len(data) > max_bytes:
        return DocumentRead(problem="too_big")
    try:
        async with asyncio.timeout(timeout_s):
            text = await asyncio.to_thread(extract_text, data, kind)
    except DocumentError as exc:
        return DocumentRead(problem=exc.problem)
    except TimeoutError:
        return DocumentRead(problem="timeout")
    except Exception as exc:  # a parser's own bug on a hostile file is a broken file to the user
        log.warning("could not read a %s document: %r", kind, exc)
        return DocumentRead(problem="broken")
    return DocumentRead(text=text)


def extract_text(data: bytes, kind: DocumentKind) -> str:
    """The plain text of a document of a known kind; raises DocumentError."""
    if kind == "pdf":
        text = pdf_text(data)
    elif kind == "docx":
        text = docx_text(data)
    elif kind == "html":
        text = html_text(data)
    else:  # Markdown reads well as it is: its marks are few and mean something to a reader
        text = plain_text(data)
    if not text.strip():
        raise DocumentError("scanned" if kind == "pdf" else "empty")
    return text[:MAX_TEXT_CHARS]


def plain_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), the encoding phones and editors write today."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("encoding") from None


def pdf_text(data: bytes) -> str:
    """Each page's text layer with pypdf; a PDF of images has none."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    if not data.lstrip()[:1024].count(b"%PDF"):
        raise DocumentError("broken")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted")  # an owner-only password still opens with ""
        pages: list[str] = []
        total = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            total += len(pages[-1])
            if total > MAX_TEXT_CHARS:
                break
    except (FileNotDecryptedError, DependencyError):
        raise DocumentError("encrypted") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise DocumentError("broken") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


def check_zip(data: bytes) -> None:
    """Refuses a zip that would expand past our caps, from the sizes it declares.

    zipfile never returns more bytes than a member declares, so the declared sizes bound
    what python-docx can expand.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise DocumentError("broken") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise DocumentError("bomb")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(1, member.compress_size)
        if ratio > MAX_ZIP_RATIO and member.file_size > 1_000_000:
            raise DocumentError("bomb")
    if total > MAX_UNZIPPED_BYTES:
        raise DocumentError("bomb")


def docx_text(data: bytes) -> str:
    """Paragraphs and table cells with python-docx, once the zip is known to be sane."""
    check_zip(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile):
        raise DocumentError("broken") from None
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(line for line in lines if line.strip())


def html_text(data: bytes | str) -> str:
    """The page's main text with trafilatura; all its text when no main part stands out."""
    return html_page(data)[1]


def html_page(data: bytes | str) -> tuple[str, str]:
    """(title, main text) of an HTML page with trafilatura; all text when no main part shows."""
    import trafilatura

    try:
        document = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception as exc:  # trafilatura parses the web's worst HTML; a crash is a broken file
        log.warning("trafilatura failed: %r", exc)
        raise DocumentError("broken") from None
    title = ""
    text = ""
    if document is not None and not isinstance(document, dict):
        title = (document.title or "").strip()
        text = (document.text or "").strip()
    if not text:
        text = trafilatura.html2txt(data).strip()
    return title, text
