"""A Word notice (.docx): its text, read by python-docx once the package has been checked.

A .docx is a zip of XML parts, and python-docx reads and parses every part whole. So a 1 MB
file whose `word/document.xml` inflates to 1 GiB took gigabytes of memory before failing. The
package is checked first, from the zip's directory: how many parts, how large each says it is,
all of them together, and how far each inflates. Then every XML part is read (never more than
its cap, whatever its header says) and refused if it declares a document type (DTD): Word
never writes one, and a DTD is how entity bombs and external entities come in.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from config.files import MiB, mib

MAX_BYTES = 64 * MiB  # the file, and every part inflated together (pictures are kept whole)
MAX_PARTS = 1000  # a notice has 10-20 parts, and one more per picture
# python-docx parses every XML part; 4 MiB of document.xml is a 30 MB tree. A 20-page notice
# with tables is well under 1 MiB.
MAX_XML = 8 * MiB
# XML shrinks 5-20 times in a zip; a large part that inflates more than this is a bomb.
MAX_RATIO, RATIO_FROM = 100, 1 * MiB

_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)", re.IGNORECASE)
# The exceptions a damaged zip gives while it is read (a bad header, a bad checksum, a method
# or an encryption zipfile does not do, a cut-off stream).
_BROKEN_ZIP = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError)
_BROKEN_DATA = (EOFError, OSError, ValueError, zlib.error)


class UnreadableWord(ValueError):
    """Why the document is refused; the caller names the file."""


def word_text(data: bytes, max_chars: int) -> str:
    """The document's paragraphs and table rows, one a line, in the order they stand."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            _check_package(package)
    except UnreadableWord:
        raise
    except (*_BROKEN_ZIP, *_BROKEN_DATA) as exc:
        raise UnreadableWord(f"not a readable Word document ({_first_line(exc)})") from None
    try:
        return _text(data, max_chars)
    except UnreadableWord:
        raise
    except Exception as exc:  # whatever python-docx or lxml says of a damaged part
        raise UnreadableWord(f"not a readable Word document ({_first_line(exc)})") from None


def _check_package(package: zipfile.ZipFile) -> None:
    parts = package.infolist()
    if len(parts) > MAX_PARTS:
        raise UnreadableWord(f"has {len(parts)} parts; a Word notice has at most {MAX_PARTS}")
    total = xml_total = 0
    for part in parts:
        size = part.file_size
        xml = _is_xml(part.filename)
        if xml and size > MAX_XML:
            cap = mib(MAX_XML)
            raise UnreadableWord(f"{part.filename} is {mib(size)}; an XML part may be {cap}")
        if size > RATIO_FROM and size > MAX_RATIO * max(part.compress_size, 1):
            ratio = size // max(part.compress_size, 1)
            raise UnreadableWord(
                f"{part.filename} inflates {ratio} times, to {mib(size)} (a zip bomb?)"
            )
        total += size
        xml_total += size if xml else 0
    if total > MAX_BYTES or xml_total > MAX_XML:
        what, limit = ("its parts", MAX_BYTES) if total > MAX_BYTES else ("its XML", MAX_XML)
        size = total if total > MAX_BYTES else xml_total
        raise UnreadableWord(f"{what} inflate to {mib(size)}; at most {mib(limit)} is read")
    for part in parts:
        if _is_xml(part.filename):
            _check_xml(part.filename, _read_part(package, part))


def _read_part(package: zipfile.ZipFile, part: zipfile.ZipInfo) -> bytes:
    """The part, never more than `MAX_XML` bytes whatever its header says it holds."""
    with package.open(part) as stream:
        data = stream.read(MAX_XML + 1)
    if len(data) > MAX_XML:
        raise UnreadableWord(f"{part.filename} is more than {mib(MAX_XML)}")
    return data


def _check_xml(name: str, data: bytes) -> None:
    head = data.removeprefix(b"\xef\xbb\xbf")[:1024]
    declared = _ENCODING.match(head)
    # Word writes UTF-8. Another encoding (UTF-16, UTF-7) would hide a DTD from the check below.
    if (
        head.startswith((b"\xff\xfe", b"\xfe\xff"))
        or b"\0" in head[:4]
        or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8"))
    ):
        raise UnreadableWord(f"{name} is not UTF-8 XML, as Word writes it")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnreadableWord(f"{name} declares a document type (DTD), which Word never writes")


def _text(data: bytes, max_chars: int) -> str:
    from docx.opc.constants import CONTENT_TYPE
    from docx.oxml.ns import qn
    from docx.package import Package
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    main = Package.open(io.BytesIO(data)).main_document_part
    if main.content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:
        raise UnreadableWord(f"not a Word document: its main part is {main.content_type}")
    document = main.document
    lines: list[str] = []
    size = 0

    def add(line: str) -> None:
        nonlocal size
        size += len(line) + 1
        if size > max_chars:
            raise UnreadableWord(f"has more than {max_chars:,} characters of text")
        lines.append(line)

    # Paragraphs and tables in the order they stand: a duty table (单位 | 任务) belongs to the
    # part it is printed in. A row reads as 「单位:任务」, as a duty item is written.
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            add(Paragraph(element, document).text)
        elif element.tag == qn("w:tbl"):
            for row in Table(element, document).rows:
                cells = [c.text.strip() for c in row.cells]
                add(":".join(dict.fromkeys(c for c in cells if c)))
    return "\n".join(lines)


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


def _first_line(exc: BaseException) -> str:
    said = str(exc).strip().splitlines()
    return (said[0] if said else type(exc).__name__)[:200]
