"""Attachments a department uploads with its summary: what is accepted, and where it is kept.

The rules are deliberately narrow. A department's link is a bearer token sent by e-mail or chat,
so whoever holds it can upload, and whatever is uploaded is later opened by a coordinator on an
office PC. Hence a short list of ordinary office types, a check that the first bytes agree with
the extension, and storage under random names that no uploaded name can influence.

The name a department gave its file is only ever shown (`safe_name`); the bytes live at
`<attachments_dir>/<campaign_id>/<assignment_id>/<uuid4 hex>` and the database keeps the
relative path, size and SHA-256 (`StoredFile`).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from config.settings import Settings, get_settings

MIB = 1024 * 1024
CHUNK_BYTES = MIB
HEAD_BYTES = 2048
NAME_MAX_CHARS = 120
FALLBACK_STEM = "附件"

_log = logging.getLogger("duban.attachments")

# Ordinary office material only. Notably absent: html/svg/xml (script runs when opened in a
# browser), exe/js/bat and the like, and archives (they hide all of the above).
_TYPES = {
    "image": "jpg jpeg png gif webp bmp heic heif tif tiff",
    "video": "mp4 mov m4v avi wmv mkv flv 3gp mpg mpeg webm",
    "document": "pdf doc docx xls xlsx ppt pptx wps et dps ofd txt rtf odt ods odp csv",
}
ALLOWED: dict[str, str] = {ext: kind for kind, exts in _TYPES.items() for ext in exts.split()}

_KIND_LABELS = {"image": "图片", "video": "视频", "document": "文档"}


class AttachmentRefused(ValueError):
    """An attachment the department must fix; `str(exc)` is shown to it as is."""


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_file_bytes: int
    max_total_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Limits:
        settings = settings or get_settings()
        # The settings are in MiB because operators think in "200 MB"; everything below counts
        # bytes so that a file one byte over the limit is refused.
        return cls(
            max_files=settings.upload_max_files,
            max_file_bytes=settings.upload_max_file_mb * MIB,
            max_total_bytes=settings.upload_max_total_mb * MIB,
        )

    def describe(self) -> str:
        kinds = "、".join(
            f"{label}（{'、'.join(_TYPES[kind].split())}）" for kind, label in _KIND_LABELS.items()
        )
        return (
            f"最多{self.max_files}个文件，单个不超过{_size_text(self.max_file_bytes)}，"
            f"合计不超过{_size_text(self.max_total_bytes)}；允许的类型：{kinds}"
        )


def _size_text(size: int) -> str:
    # Whole MiB is the normal case (limits come from settings in MiB); the other branches keep a
    # hand-made small limit honest instead of rounding it to "0MB".
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB}MB"
    if size >= MIB:
        return f"{size / MIB:.1f}MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024}KB"
    return f"{size}字节"


# --- names -------------------------------------------------------------------------------------

_PATH_SEPARATORS = re.compile(r"[/\\]")
_WINDOWS_ILLEGAL = frozenset('<>:"/\\|?*')
# Extensions are short ASCII words; anything else after the last dot is part of the name
# ("第3.5版 终稿" has no extension).
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")


def _is_invisible(char: str) -> bool:
    # All "C" categories: controls (Cc), format characters (Cf: U+202E RIGHT-TO-LEFT OVERRIDE,
    # which makes "gpj.exe" display as "exe.jpg", zero-width spaces, BOM), surrogates, private
    # use and unassigned code points. None belongs in a name shown to a coordinator.
    return unicodedata.category(char).startswith("C")


def safe_name(name: str) -> str:
    """The name to show for an uploaded file; never used as a path."""
    # Browsers send a bare name, but old IE and some clients send the full Windows path.
    text = _PATH_SEPARATORS.split(name)[-1]
    # A name typed on a Mac arrives decomposed; NFC makes it equal to the same name typed on
    # Windows, and keeps the length cap below from splitting a letter from its accent.
    text = unicodedata.normalize("NFC", text)
    # Whitespace first (tabs and newlines are also controls, but they separate words).
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if not _is_invisible(ch) and ch not in _WINDOWS_ILLEGAL)
    text = " ".join(text.split())
    # Windows drops trailing dots and spaces, so "x.exe." would be saved as "x.exe".
    text = text.rstrip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(ext):
        stem, ext = text, ""
    # Leading dots hide a file on Unix; spaces before the extension dot are noise ("a .pdf").
    stem = stem.strip(" .")
    if not stem:
        if ext and ext.lower() not in ALLOWED:
            # ".hidden" is a name without an extension, not a nameless file of type "hidden".
            stem, ext = ext, ""
        else:
            # A nameless ".pdf" (or a name made only of illegal characters) is still shown as
            # something a person can click.
            stem = FALLBACK_STEM
    suffix = f".{ext}" if ext else ""
    if len(stem) + len(suffix) > NAME_MAX_CHARS:
        # Keep the extension: it is what the coordinator's PC opens the file with.
        stem = stem[: NAME_MAX_CHARS - len(suffix)].rstrip(" .")
    return stem + suffix


def _extension(shown: str) -> str:
    stem, dot, ext = shown.rpartition(".")
    return ext.lower() if dot and stem else ""


def kind_of(name: str) -> str:
    """The kind ("image", "video" or "document") of an allowed name; refuses any other."""
    shown = safe_name(name)
    kind = ALLOWED.get(_extension(shown))
    if kind is None:
        raise AttachmentRefused(f"附件“{shown}”的类型不允许上传。")
    return kind


# --- content checks ------------------------------------------------------------------------------


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
    ext = _extension(shown)
    if ext not in ALLOWED:
        raise AttachmentRefused(f"附件“{shown}”的类型不允许上传。")
    if size <= 0 or not head:
        raise AttachmentRefused(f"附件“{shown}”是空文件。")
    if size > limits.max_file_bytes:
        raise AttachmentRefused(
            f"附件“{shown}”超过单个文件{_size_text(limits.max_file_bytes)}的上限。"
        )
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
        raise AttachmentRefused(f"附件合计超过{_size_text(limits.max_total_bytes)}的上限。")
    return shown


# --- storage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    relpath: str
    size: int
    sha256: str


def _root(root: Path | None) -> Path:
    return root if root is not None else get_settings().attachments_dir


def _private_dir(path: Path) -> None:
    # 0o700: the files are a department's internal material; other local accounts (a shared
    # server, a backup agent) have no business reading them. mkdir's mode only applies to a
    # folder it creates, so an operator's own choice for an existing folder is left alone.
    path.mkdir(mode=0o700, exist_ok=True)


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; without it a power cut can leave the database pointing
    # at a file the directory never recorded. Windows cannot open a directory, hence the guard.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store(
    source: BinaryIO,
    campaign_id: int,
    assignment_id: int,
    max_bytes: int,
    root: Path | None = None,
    *,
    shown_name: str | None = None,
) -> StoredFile:
    """Copy `source` to a new file under a random name; refuse it past `max_bytes`.

    `shown_name` only improves the refusal message; it never reaches the file system.
    """
    if campaign_id < 0 or assignment_id < 0:
        raise ValueError("campaign_id and assignment_id must not be negative")
    base = _root(root)
    base.parent.mkdir(parents=True, exist_ok=True)
    folder = base / str(campaign_id) / str(assignment_id)
    for level in (base, folder.parent, folder):
        _private_dir(level)
    label = f"附件“{safe_name(shown_name)}”" if shown_name is not None else "附件"

    # mkstemp creates the file 0o600 and with O_EXCL; writing next to the final name keeps
    # os.replace a same-filesystem rename, so a reader never sees half a file.
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                # Counted while reading: a declared size is the client's word, this is not.
                if size > max_bytes:
                    raise AttachmentRefused(f"{label}超过单个文件{_size_text(max_bytes)}的上限。")
                digest.update(chunk)
                out.write(chunk)
            if size == 0:
                raise AttachmentRefused(f"{label}是空文件。")
            out.flush()
            os.fsync(out.fileno())
        # A fresh random name: nothing of the uploaded name can steer where the bytes land.
        name = uuid.uuid4().hex
        os.replace(tmp, folder / name)
    except BaseException:
        # Also on KeyboardInterrupt or a dropped connection: no orphaned partial upload.
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return StoredFile(
        relpath=f"{campaign_id}/{assignment_id}/{name}", size=size, sha256=digest.hexdigest()
    )


def path_of(relpath: str, root: Path | None = None) -> Path:
    """The file behind a stored relpath; refuses one that leads out of the attachments folder."""
    # Relpaths come from our own database, so this is defence in depth against a corrupted or
    # tampered row, not the primary control. Resolving both sides also catches symlinks.
    base = _root(root).resolve()
    target = (base / relpath).resolve()
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"attachment path escapes the attachments folder: {relpath!r}")
    return target


def remove(relpaths: Iterable[str], root: Path | None = None) -> None:
    """Delete stored files, e.g. to roll back when the database write failed; never raises."""
    # Runs inside an error handler: raising here would hide the original error, and one stuck
    # file must not keep the others from being removed.
    for relpath in relpaths:
        try:
            path_of(relpath, root).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            _log.warning("could not remove attachment %r: %s", relpath, exc)
