"""Opening the pictures that departments upload without trusting them, and shrinking them.

A picture is opened by `open_picture` only: it reads the header (Pillow decodes nothing until
the pixels are needed), as the format the file's extension names, and refuses a picture over
`MAX_PICTURE_PIXELS` before a pixel is decoded. The upload check, the report and the
dashboard's thumbnails all open pictures this way. Every decode then holds its pixels' share
of one budget per process (`decoding`), so that the report's threads and the web server's
requests shrink many photos at once, but never two huge pictures.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageFile, ImageOps

from tasks.link.names import extension
from tasks.link.policy import MAX_PICTURE_PIXELS, PILLOW_FORMATS

# Decoded pixels in flight in one process: a picture at the cap alone (200 MB, as Pillow keeps
# 4 bytes a pixel), or many photos together (a JPEG decodes at 1/2 to 1/8 of its size, so a
# phone photo shrunk for the report holds 1-3 million).
BUDGET_PIXELS = MAX_PICTURE_PIXELS
# A JPEG decodes straight at 1/2, 1/4 or 1/8 of its size, several times faster than decoding
# it whole and resizing. A scale that still leaves 3/4 of the side asked for is used as it
# comes: a 4000x3000 photo becomes 1000x750 for a 1200 px side, without a resize.
DRAFT_SHARE = 0.75
JPEG_QUALITY = 82  # no visible loss at print size; a 1000x750 photo comes to 50-150 KB
# Below this a picture within the side asked for is used untouched, and a re-encoded chart or
# screenshot stays a (sharp) PNG; above it a photo is worth the JPEG.
SMALL_BYTES = 512 * 1024
AS_IS_FORMATS = ("JPEG", "MPO", "PNG", "GIF")  # compressed already (MPO: a phone's JPEG)
LOSSLESS_FORMATS = ("PNG", "GIF", "BMP")  # likely a chart or a screenshot rather than a photo
ORIENTATION = 0x0112  # the EXIF tag


class PictureTooLarge(ValueError):
    """A picture over the pixel cap; `size`: its width and height, when its header told."""

    def __init__(self, size: tuple[int, int] | None) -> None:
        self.size = size
        shown = f"{size[0]}x{size[1]} pixels" if size else "too many pixels"
        super().__init__(f"{shown}, over the cap of {MAX_PICTURE_PIXELS:,}")


def readable(name: str) -> bool:
    """Whether the file named `name` is a picture that Pillow reads (by its extension)."""
    return extension(name) in PILLOW_FORMATS


def open_picture(source: Path | BinaryIO, name: str) -> ImageFile.ImageFile:
    """The picture at `source` (a path, or a seekable stream at its start) with its header
    read and nothing decoded, opened as the format of `name`'s extension. Raises
    PictureTooLarge over the cap, and OSError, ValueError and the like for a damaged file."""
    fmt = PILLOW_FORMATS[extension(name)]
    # Pillow's own guard at the same cap, for what it decodes later too (a GIF's frames, a
    # TIFF's tiles): it warns past the cap, an error while opening, and refuses past twice it.
    Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source, formats=[fmt])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PictureTooLarge(_declared_size(source, fmt)) from exc
    # Checked here as well: warning filters are process-wide and `catch_warnings` is not
    # thread-safe, so another thread leaving its block can lift the filter during this open.
    if image.width * image.height > MAX_PICTURE_PIXELS:
        image.close()
        raise PictureTooLarge(image.size)
    return image


def over_cap(path: Path, name: str) -> bool:
    """Whether the picture's header declares more pixels than the cap; a header that cannot
    be read says nothing of the kind (the picture is merely damaged)."""
    try:
        with open_picture(path, name):
            return False
    except PictureTooLarge:
        return True
    except Exception:
        return False


def _declared_size(source: Path | BinaryIO, fmt: str) -> tuple[int, int] | None:
    """The size in the header of a picture that Pillow refused to open, for the refusal to
    state. Pillow checks the size in `Image.open`, once the format's reader has read the
    header; the reader on its own reads the header and stops there."""
    factory = Image.OPEN[fmt][0]
    try:
        if isinstance(source, Path):
            with source.open("rb") as fp:
                return factory(fp, "").size
        source.seek(0)
        return factory(source, "").size
    except Exception:  # a header Pillow could not read twice: the refusal goes without a size
        return None


class _Budget:
    """A weighted semaphore: pixels taken from a fixed total, waited for when it runs short."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._free = total
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        share = min(max(pixels, 1), self._total)  # nothing over the cap is ever decoded
        with self._changed:
            self._changed.wait_for(lambda: self._free >= share)
            self._free -= share
        try:
            yield
        finally:
            with self._changed:
                self._free += share
                self._changed.notify_all()


_BUDGET = _Budget(BUDGET_PIXELS)


def shrink(path: Path, name: str, max_side: int) -> bytes:
    """The picture at `path` (named `name`), at most `max_side` px on its long side and
    upright: the file itself when it is small and upright already, else a copy re-encoded in
    memory. The file is only read. Raises PictureTooLarge over the cap, and OSError,
    ValueError and the like for a damaged picture."""
    with open_picture(path, name) as image:
        small = max(image.size) <= max_side and path.stat().st_size <= SMALL_BYTES
        ratio = max_side * DRAFT_SHARE / max(image.size)
        # JPEG only; other formats decode whole, and `thumbnail` then divides them by whole
        # factors (`Image.reduce`) before it resamples, so its copy is a fraction of that.
        image.draft(None, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
        # From here the picture may be decoded (a PNG's EXIF can follow its pixels, so even
        # reading the orientation does), so it holds its share of the budget first.
        with _BUDGET.hold(image.width * image.height):
            # Phones store a portrait photo as landscape pixels plus an EXIF "turn me" flag,
            # which Word ignores; such a photo is turned here, whatever its size.
            upright = image.getexif().get(ORIENTATION, 1) == 1
            if small and upright and image.format in AS_IS_FORMATS:
                return path.read_bytes()
            lossless = image.format in LOSSLESS_FORMATS
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
            picture = ImageOps.exif_transpose(image)
            return _encode(picture, lossless, image.info.get("icc_profile"))


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
