"""A PDF notice: the text of its text layer, read by pypdf page by page.

Offices publish notices as PDFs printed from Word (a text layer) or scanned from paper (page
images only). A scan has no text to read: it is refused, and so is a PDF that cannot be
parsed, rather than read as an empty notice. Nothing here runs OCR.
"""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError

MAX_PAGES = 200  # a notice with its annexes runs to a few dozen pages
# Fewer characters than this a page is a scan (or a cover of pictures), not a text layer.
TEXT_PER_PAGE = 20


class UnreadablePdf(ValueError):
    """Why the PDF is refused; the caller names the file."""


def pdf_text(data: bytes, max_chars: int) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadablePdf("an encrypted PDF: save it without a password, or as .docx")
        if len(reader.pages) > MAX_PAGES:
            raise UnreadablePdf(f"a PDF of more than {MAX_PAGES} pages is no notice")
        pages: list[str] = []
        total = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > max_chars:
                raise UnreadablePdf(f"has more than {max_chars:,} characters of text")
            pages.append(text)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, UnreadablePdf):
            raise
        raise UnreadablePdf(f"a PDF that cannot be read ({type(exc).__name__})") from None
    written = sum(len("".join(p.split())) for p in pages)
    if written < TEXT_PER_PAGE * max(len(pages), 1):
        raise UnreadablePdf(
            "a scanned PDF (page images, no text layer): duban reads no images; "
            "give the notice as .docx, .txt, or a PDF printed from Word"
        )
    return "\n".join(pages)
