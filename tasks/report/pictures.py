"""The units' pictures made ready for the Word document: small enough to mail, upright, and
shrunk by several threads at once. The stored files are only read."""

from __future__ import annotations

import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from tasks.link.names import extension
from tasks.link.policy import WORD_PICTURES
from tasks.link.storage import path_of
from tasks.report.facts import ReportUnit

# A picture is printed 12 cm wide: 1200 px on its long side is ~250 dpi there, as sharp as an
# office printer prints. A phone photo has 3-4 times that, which only makes the file unmailable.
MAX_SIDE_PX = 1200
# A JPEG decodes straight at 1/2, 1/4 or 1/8 of its size, several times faster than decoding
# it whole and resizing. A scale that still leaves 3/4 of the cap (~190 dpi printed) is used
# as it comes: a 4000x3000 photo becomes 1000x750 without a resize.
DRAFT_SHARE = 0.75
JPEG_QUALITY = 82  # no visible loss at print size; a 1000x750 photo comes to 50-150 KB
# Below this a picture within MAX_SIDE_PX goes in untouched, and a re-encoded chart or
# screenshot stays a (sharp) PNG; above it a photo is worth the JPEG.
SMALL_BYTES = 512 * 1024
AS_IS_FORMATS = ("JPEG", "MPO", "PNG", "GIF")  # compressed already (MPO: a phone's JPEG)
LOSSLESS_FORMATS = ("PNG", "GIF", "BMP")  # likely a chart or a screenshot rather than a photo
ORIENTATION = 0x0112  # the EXIF tag
# Threads shrinking pictures: the work is in C, so each keeps a CPU busy. Each holds one
# decoded picture at a time: a few MB for a photo, which decodes at a fraction of its size.
PICTURE_WORKERS = min(4, os.cpu_count() or 1)


def shrunk(units: list[ReportUnit]) -> list[list[bytes]]:
    """Each unit's pictures, ready to embed, made by PICTURE_WORKERS threads at once (Pillow
    lets go of the GIL while it decodes and encodes). All before the document is written, not
    alongside it: python-docx's XML calls let go of the GIL too, and then waited for a picture
    thread to hand it back, which cost more than the threads saved."""
    with ThreadPoolExecutor(PICTURE_WORKERS, thread_name_prefix="report-pictures") as pool:
        return list(pool.map(_unit_pictures, [u.attachments for u in units]))


def _unit_pictures(files: list[dict[str, Any]]) -> list[bytes]:
    """What to embed of one unit's attachments: its pictures, ready for the document."""
    blobs = []
    for attachment in files:
        if extension(attachment["name"]) not in WORD_PICTURES:
            continue
        try:
            blobs.append(embeddable(path_of(attachment["relpath"])))
        except Exception:  # a damaged or unreadable picture stays listed, not embedded
            continue
    return blobs


def embeddable(path: Path, max_side: int = MAX_SIDE_PX) -> bytes:
    """The bytes to embed for the picture at `path`: the file itself when it is small and
    upright already, else a copy at most `max_side` on its long side, re-encoded in memory.
    The file on disk is only read. Raises (OSError, ValueError, ...) for a damaged picture."""
    with Image.open(path) as image:
        # Phones store a portrait photo as landscape pixels plus an EXIF "turn me" flag, which
        # Word ignores; such a photo is turned here, whatever its size.
        upright = image.getexif().get(ORIENTATION, 1) == 1
        small = max(image.size) <= max_side and path.stat().st_size <= SMALL_BYTES
        if small and upright and image.format in AS_IS_FORMATS:
            return path.read_bytes()
        lossless = image.format in LOSSLESS_FORMATS
        ratio = max_side * DRAFT_SHARE / max(image.size)
        image.draft(None, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
        picture = ImageOps.exif_transpose(image)
        icc = image.info.get("icc_profile")
    return _encode(picture, lossless, icc)


def _encode(image: Image.Image, lossless: bool, icc: bytes | None) -> bytes:
    """PNG for a picture with transparency (JPEG has none) and for a chart or screenshot that
    stays small as PNG (JPEG blurs its lines and text); JPEG for everything else. No EXIF is
    written: the pixels are upright now, so an orientation flag would turn them twice."""
    out = io.BytesIO()
    if image.has_transparency_data or lossless:
        png = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA")
        png.save(out, "PNG", icc_profile=icc)
        if image.has_transparency_data or out.tell() <= SMALL_BYTES:
            return out.getvalue()
        out = io.BytesIO()
    jpeg = image if image.mode in ("L", "RGB") else image.convert("RGB")
    # CMYK and other profiles describe the old pixels, not the converted ones.
    jpeg.save(out, "JPEG", quality=JPEG_QUALITY, icc_profile=icc if jpeg is image else None)
    return out.getvalue()
