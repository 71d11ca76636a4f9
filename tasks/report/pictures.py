"""The units' pictures made ready for the Word document: small enough to mail, upright, and
shrunk by several threads at once (`tasks.imaging` keeps their decoding within its memory
budget). The stored files are only read."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

from tasks.imaging import PictureTooLarge, shrink
from tasks.link.names import extension
from tasks.link.policy import WORD_PICTURES
from tasks.link.storage import path_of
from tasks.report.facts import ReportUnit

# A picture is printed 12 cm wide: 1200 px on its long side is ~250 dpi there, as sharp as an
# office printer prints. A phone photo has 3-4 times that, which only makes the file unmailable.
MAX_SIDE_PX = 1200
# Threads shrinking pictures: the work is in C, so each keeps a CPU busy. What they decode at
# once is bounded by the pixel budget, not by their number.
PICTURE_WORKERS = min(4, os.cpu_count() or 1)

_log = logging.getLogger("duban.report")


def shrunk(units: list[ReportUnit]) -> list[list[tuple[str, bytes]]]:
    """Each unit's pictures (name, bytes), ready to embed, made by PICTURE_WORKERS threads at
    once (Pillow lets go of the GIL while it decodes and encodes). All before the document is
    written, not alongside it: python-docx's XML calls let go of the GIL too, and then waited
    for a picture thread to hand it back, which cost more than the threads saved."""
    with ThreadPoolExecutor(PICTURE_WORKERS, thread_name_prefix="report-pictures") as pool:
        return list(pool.map(_unit_pictures, units))


def _unit_pictures(unit: ReportUnit) -> list[tuple[str, bytes]]:
    """What to embed of one unit's attachments: its pictures, ready for the document. One
    that is too large or damaged stays listed as a file, and the log says why."""
    blobs = []
    for attachment in unit.attachments:
        name = attachment["name"]
        if extension(name) not in WORD_PICTURES:
            continue
        try:
            blobs.append((name, shrink(path_of(attachment["relpath"]), name, MAX_SIDE_PX)))
        except PictureTooLarge as exc:
            _log.warning("%s: picture %r not embedded: %s", unit.code, name, exc)
        except Exception as exc:  # Pillow raises many kinds for a damaged or missing picture
            _log.warning("%s: picture %r not embedded, unreadable: %r", unit.code, name, exc)
    return blobs
