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
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
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
