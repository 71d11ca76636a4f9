"""What a department may upload with its summary: the types, the limits, and the words of the
refusals that the checks and the store share.

The rules are deliberately narrow. A department's link is a bearer token sent by e-mail or chat,
so whoever holds it can upload, and whatever is uploaded is later opened by a coordinator on an
office PC. Hence a short list of ordinary office types, a check that the first bytes agree with
the extension (`tasks.link.sniffing`), and storage under random names that no uploaded name can
influence (`tasks.link.storage`).
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings, get_settings

MIB = 1024 * 1024
HEAD_BYTES = 2048  # the first bytes of a file that the signature check reads

# Every picture a department may upload: the one list of picture extensions. The report shows
# the subsets below inline; the others are listed as files.
PICTURES = ("jpg", "jpeg", "png", "gif", "webp", "bmp", "heic", "heif", "tif", "tiff")
# What a web browser shows in a page: the report's HTML and the link page show these inline.
BROWSER_PICTURES = frozenset(("jpg", "jpeg", "png", "gif", "webp"))
# What Word shows and python-docx reads: the report's Word document embeds these.
WORD_PICTURES = frozenset(("jpg", "jpeg", "png", "gif", "bmp"))
# What Pillow reads, by extension, as the format name it is opened with (`tasks.imaging`): the
# pictures whose size is checked at upload, and that the report and the dashboard shrink.
PILLOW_FORMATS = {
    **dict.fromkeys(("jpg", "jpeg"), "JPEG"),
    **{ext: ext.upper() for ext in ("png", "gif", "webp", "bmp")},
    **dict.fromkeys(("tif", "tiff"), "TIFF"),
}
# The most pixels a picture may have. A phone photo has 12-50 million, a scanned A3 page at
# 600 dpi 70 million (such a scan belongs in a PDF). Decoded, Pillow keeps 4 bytes a pixel:
# 200 MB at the cap, while a PNG of 13000x13000 black pixels is 500 KB on disk and 676 MB in
# memory. Pictures over it are refused at upload, and never decoded if stored before.
MAX_PICTURE_PIXELS = 50_000_000

# Ordinary office material only. Notably absent: html/svg/xml (script runs when opened in a
# browser), exe/js/bat and the like, and archives (they hide all of the above).
_TYPES: dict[str, tuple[str, ...]] = {
    "image": PICTURES,
    "video": ("mp4", "mov", "m4v", "avi", "wmv", "mkv", "flv", "3gp", "mpg", "mpeg", "webm"),
    "document": (
        *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "et", "dps", "ofd"),
        *("txt", "rtf", "odt", "ods", "odp", "csv"),
    ),
}
ALLOWED: dict[str, str] = {ext: kind for kind, exts in _TYPES.items() for ext in exts}

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
            f"{label}（{'、'.join(_TYPES[kind])}）" for kind, label in _KIND_LABELS.items()
        )
        return (
            f"最多{self.max_files}个文件，单个不超过{size_text(self.max_file_bytes)}，"
            f"合计不超过{size_text(self.max_total_bytes)}；允许的类型：{kinds}"
        )


def size_text(size: int) -> str:
    """`200MB`, `1.5MB`, `64KB` or `100字节`, as a refusal states a limit."""
    # Whole MiB is the normal case (limits come from settings in MiB); the other branches keep a
    # hand-made small limit honest instead of rounding it to "0MB".
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB}MB"
    if size >= MIB:
        return f"{size / MIB:.1f}MB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024}KB"
    return f"{size}字节"


def too_big(label: str, max_bytes: int) -> AttachmentRefused:
    return AttachmentRefused(f"{label}超过单个文件{size_text(max_bytes)}的上限。")


def empty(label: str) -> AttachmentRefused:
    return AttachmentRefused(f"{label}是空文件。")


def too_many_pixels(shown: str, size: tuple[int, int] | None) -> AttachmentRefused:
    measured = f"（{size[0]}×{size[1]}）" if size else ""
    return AttachmentRefused(
        f"图片“{shown}”像素过大{measured}，"
        f"请缩小到{MAX_PICTURE_PIXELS // 10_000}万像素以内后再上传。"
    )


def not_allowed(shown: str) -> AttachmentRefused:
    return AttachmentRefused(f"附件“{shown}”的类型不允许上传。")
