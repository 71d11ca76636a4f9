"""Checking an upload before anything is kept: its type by name, its size, whether its first
bytes agree with its extension, and a picture's pixel count as its header states it.

A renamed executable ("活动照片.jpg") must not reach a coordinator's PC: each allowed type has a
signature that its first `HEAD_BYTES` must show; text types, which have none, must not look
binary.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from typing import BinaryIO

from tasks.imaging import PictureTooLarge, open_picture, readable
from tasks.link.names import extension, safe_name
from tasks.link.policy import (
    ALLOWED,
    HEAD_BYTES,
    AttachmentRefused,
    Limits,
    empty,
    not_allowed,
    size_text,
    too_big,
    too_many_pixels,
)


def _jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _gif(head: bytes) -> bool:
    return head.startswith((b"GIF87a", b"GIF89a"))


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _bmp(head: bytes) -> bool:
    return head.startswith(b"BM")


def _tiff(head: bytes) -> bool:
    return head.startswith((b"II*\x00", b"MM\x00*"))


def _iso_media(head: bytes) -> bool:
    # ISO base media (MP4, 3GP, HEIC): the first box is "ftyp".
    return head[4:8] == b"ftyp"


# Old QuickTime files (cameras, early iPhones) may open with another top-level atom instead of
# "ftyp"; still a fixed four-letter tag at offset 4, which no executable or document has.
_QUICKTIME_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _quicktime(head: bytes) -> bool:
    return head[4:8] in _QUICKTIME_ATOMS


def _avi(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"AVI "


def _matroska(head: bytes) -> bool:
    return head.startswith(b"\x1a\x45\xdf\xa3")


def _asf(head: bytes) -> bool:
    return head.startswith(b"\x30\x26\xb2\x75")


def _flv(head: bytes) -> bool:
    return head.startswith(b"FLV")


def _mpeg(head: bytes) -> bool:
    return head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"))


def _pdf(head: bytes) -> bool:
    # Readers accept "%PDF-" anywhere in the first KiB, and some scanners write junk before it.
    return b"%PDF-" in head[:1024]


def _zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def _ole2(head: bytes) -> bool:
    return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _ole2_or_zip(head: bytes) -> bool:
    # Kingsoft WPS writes its own .wps/.et/.dps either as OLE2 (old) or as OOXML-style ZIP.
    return _ole2(head) or _zip(head)


def _rtf(head: bytes) -> bool:
    return head.startswith(b"{\\rtf")


_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "jpg": _jpeg,
    "jpeg": _jpeg,
    "png": _png,
    "gif": _gif,
    "webp": _webp,
    "bmp": _bmp,
    "tif": _tiff,
    "tiff": _tiff,
    "heic": _iso_media,
    "heif": _iso_media,
    "mp4": _iso_media,
    "m4v": _iso_media,
    "3gp": _iso_media,
    "mov": _quicktime,
    "avi": _avi,
    "mkv": _matroska,
    "webm": _matroska,
    "wmv": _asf,
    "flv": _flv,
    "mpg": _mpeg,
    "mpeg": _mpeg,
    "pdf": _pdf,
    "docx": _zip,
    "xlsx": _zip,
    "pptx": _zip,
    "odt": _zip,
    "ods": _zip,
    "odp": _zip,
    "ofd": _zip,
    "doc": _ole2,
    "xls": _ole2,
    "ppt": _ole2,
    "wps": _ole2_or_zip,
    "et": _ole2_or_zip,
    "dps": _ole2_or_zip,
    "rtf": _rtf,
}


def _is_text(head: bytes, whole: bool) -> bool:
    # Text has no magic number; what it must not be is binary. A NUL byte rules out an
    # executable and UTF-16, and the head must decode as the encodings Chinese offices use.
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        # The head usually ends mid-file, possibly inside a multi-byte character, so only a
        # head that is the whole file must end on a character boundary.
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(head, final=whole)
        except UnicodeDecodeError:
            continue
        return True
    return False


def check(name: str, head: bytes, size: int, limits: Limits) -> str:
    """Refuse what should not be kept; return the name to show. `head`: the first bytes."""
    shown = safe_name(name)
    ext = extension(shown)
    if ext not in ALLOWED:
        raise not_allowed(shown)
    label = f"附件“{shown}”"
    if size <= 0 or not head:
        raise empty(label)
    if size > limits.max_file_bytes:
        raise too_big(label, limits.max_file_bytes)
    head = head[:HEAD_BYTES]
    signature = _SIGNATURES.get(ext)
    matches = signature(head) if signature else _is_text(head, whole=size <= len(head))
    if not matches:
        raise AttachmentRefused(f"附件“{shown}”的内容与其类型不符，未上传。")
    return shown


def check_all(files: Sequence[tuple[str, bytes, int]], limits: Limits) -> list[str]:
    """Check one submission's files, each `(name, head, size)`; return the names to show."""
    if len(files) > limits.max_files:
        raise AttachmentRefused(f"附件过多：最多{limits.max_files}个。")
    # One file at a time, in the order given, so the department is told about the first problem
    # in its own list; the total comes last because a single oversize file is the clearer news.
    shown = [check(name, head, size, limits) for name, head, size in files]
    if sum(size for _, _, size in files) > limits.max_total_bytes:
        raise AttachmentRefused(f"附件合计超过{size_text(limits.max_total_bytes)}的上限。")
    return shown


def check_pixels(shown: str, stream: BinaryIO) -> None:
    """Refuse a picture over the pixel cap, from its header alone (nothing is decoded).

    `stream`: the upload, at its start (left there). A picture Pillow cannot read passed the
    signature check and is kept as a file, as before: damaged or not, it decodes nothing."""
    if not readable(shown):
        return
    try:
        with open_picture(stream, shown):
            pass
    except PictureTooLarge as exc:
        raise too_many_pixels(shown, exc.size) from exc
    except Exception:  # Pillow raises many kinds for what it cannot read
        pass
    finally:
        stream.seek(0)
