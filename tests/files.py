"""Real files for uploads: a PNG and a PDF that viewers open, built from bytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO


def png_bytes(width: int = 64, height: int = 48) -> bytes:
    """A real PNG: a red picture with a white band, so that a thumbnail has pixels to show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + (b"\xff\xff\xff" if height // 3 <= y < 2 * height // 3 else b"\xc0\x26\x2d") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    """A real one-page PDF with a line of text and a correct cross-reference table."""
    stream = b"BT /F1 18 Tf 72 720 Td (Datian Quality Month 2021) Tj ET"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    return _pdf([stream], [font])


def text_pdf_bytes(lines: list[str]) -> bytes:
    """A PDF printed from a Chinese notice: its lines in a CID font whose ToUnicode map gives
    the characters back, as Word's "save as PDF" writes them, several pages if need be."""
    chars = sorted({ch for line in lines for ch in line})
    cid = {ch: i + 1 for i, ch in enumerate(chars)}
    pages, page, y = [], b"", 800
    for line in lines:
        if y < 40:
            pages.append(page)
            page, y = b"", 800
        codes = "".join(f"{cid[ch]:04X}" for ch in line).encode()
        page += b"BT /F1 10 Tf 40 %d Td <%s> Tj ET\n" % (y, codes)
        y -= 14
    pages.append(page)
    blocks = [chars[i : i + 100] for i in range(0, len(chars), 100)]
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + b"".join(
            b"%d beginbfchar\n" % len(block)
            + b"".join(b"<%04X> <%04X>\n" % (cid[ch], ord(ch)) for ch in block)
            + b"endbfchar\n"
            for block in blocks
        )
        + b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    n = len(pages)  # fonts follow the pages' objects: see _pdf
    font = b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H " + (
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (3 + 2 * n + 1, 3 + 2 * n + 2)
    )
    cid_font = (
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /DW 1000 "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor %d 0 R >>" % (3 + 2 * n + 3)
    )
    to_unicode = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"
    descriptor = (
        b"<< /Type /FontDescriptor /FontName /SimSun /Flags 4 /FontBBox [0 -140 1000 860] "
        b"/ItalicAngle 0 /Ascent 860 /Descent -140 /CapHeight 700 /StemV 80 >>"
    )
    return _pdf(pages, [font, cid_font, to_unicode, descriptor])


def scanned_pdf_bytes() -> bytes:
    """A scanned notice: one page that is a picture, with no text layer."""
    pixels = b"\x80" * (8 * 8 * 3)
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
    )
    return _pdf([b"q 500 0 0 700 50 50 cm /Im1 Do Q"], [image], image=True)


def _pdf(pages: list[bytes], resources: list[bytes], image: bool = False) -> bytes:
    """Objects: 1 catalog, 2 page tree, then a page and its content for each page, then
    `resources` (the first is /F1, or /Im1 when `image`), with a correct cross-reference."""
    n = len(pages)
    first = 3 + 2 * n
    named = b"/XObject << /Im1 %d 0 R >>" % first if image else b"/Font << /F1 %d 0 R >>" % first
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n)), n),
    ]
    for i, stream in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents %d 0 R "
            b"/Resources << %s >> >>" % (4 + 2 * i, named)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects += resources
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def big_png(path: Path, width: int, height: int, *, plain: bool = False) -> int:
    """A real RGB PNG of `width`x`height` written row by row, so that neither the pixels nor
    the compressed stream is ever whole in memory; returns its size in bytes. `plain`: every
    pixel black, the decompression bomb's trick (13000x13000 comes to about 500 KB, and
    decodes to 676 MB in Pillow); otherwise diagonal colour bands."""

    def chunk(out: BinaryIO, kind: bytes, data: bytes) -> None:
        body = kind + data
        out.write(struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body)))

    stride = 3 * width
    # One long band; each row is a slice of it one pixel further on (filter byte 0 first).
    band = bytes((x * 7) % 251 for x in range(stride + 3 * 256))
    squeeze = zlib.compressobj(9 if plain else 1)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        zero = b"\x00" * (stride + 1)
        for y in range(height):
            row = zero if plain else b"\x00" + band[3 * (y % 256) : 3 * (y % 256) + stride]
            if data := squeeze.compress(row):
                chunk(out, b"IDAT", data)
        chunk(out, b"IDAT", squeeze.flush())
        chunk(out, b"IEND", b"")
    return path.stat().st_size
