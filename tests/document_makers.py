"""Real documents made in the test: PDFs (fpdf2, pypdf), DOCX (python-docx), a zip bomb."""

from __future__ import annotations

import functools
import io
import zipfile

PDF_MIME = "application/pdf"
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML_MIME = "text/html"


def pdf_with_text(*paragraphs: str) -> bytes:
    """A one-page PDF with a real text layer (core font: Latin-1, so Spanish accents work)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 8, paragraph)
        pdf.ln(4)
    return bytes(pdf.output())


def encrypted_pdf(password: str = "secreto") -> bytes:
    """A PDF that opens only with a user password (AES-256)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_text("Texto secreto."))))
    writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A PDF whose only page is a picture, as a scanner makes: no text layer at all."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 120), "white")
    ImageDraw.Draw(image).rectangle((20, 40, 380, 60), fill="black")  # a "line of text"
    png = io.BytesIO()
    image.save(png, "PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def docx_with_text(*paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@functools.cache
def docx_zip_bomb(expanded_bytes: int = 60_000_000) -> bytes:
    """A DOCX-shaped zip whose document.xml expands from ~60 KB to `expanded_bytes` of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * 1_000_000
            for _ in range(expanded_bytes // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def html_document(title: str, *paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='es'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><nav><a href='/'>Inicio</a> | <a href='/c'>Contacto</a></nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© 2026</footer></body></html>"
    ).encode()
