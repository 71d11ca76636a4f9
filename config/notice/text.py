"""A notice's text: read from a file in whatever encoding it came in, in simplified characters,
with the punctuation made regular enough to parse.

Notices arrive as text pasted from a web page (UTF-8, or GBK/GB18030 from older systems), as a
Word document or a PDF with a text layer, or copied from a Taiwanese or Hong Kong template in
traditional characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC

from config.files import MiB, TooLarge, read_capped
from config.notice.pdf import UnreadablePdf, pdf_text
from config.notice.word import MAX_BYTES as WORD_MAX_BYTES
from config.notice.word import UnreadableWord, word_text


class NoticeFileError(ValueError):
    """The notice cannot be read at all; `str()` names the file."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class NoticeText:
    text: str  # simplified characters, regular punctuation (see `normalise`)
    encoding: str  # how the file was read: utf-8, gb18030, utf-16, docx, pdf
    traditional: bool  # converted from traditional characters


# A Byte Order Mark names the encoding; otherwise strict UTF-8 first (it rejects almost every
# GBK file), then GB18030, the superset of GBK and GB2312 that Chinese offices save in.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


# A notice runs to a few thousand characters; the longest real ones, with their appendices, to
# some 50,000. Reading text costs about 120 bytes of memory a character (conversion, parsing).
MAX_CHARS = 1_000_000
MAX_TEXT_BYTES = 4 * MiB  # a million characters in any encoding, ASCII aside


def read_notice(path: Path | str, encoding: str | None = None) -> NoticeText:
    path = Path(path)
    word, data = _read(path)
    if path.suffix.lower() == ".ofd" or (word and b"OFD.xml" in data[:4096]):
        raise NoticeFileError(
            path, "an OFD document: no maintained Python library reads OFD; save it as PDF or .docx"
        )
    if data[:5] == b"%PDF-":
        try:
            return from_text(pdf_text(data, MAX_CHARS), "pdf")
        except UnreadablePdf as exc:
            raise NoticeFileError(path, str(exc)) from None
    if word:
        try:
            return from_text(word_text(data, MAX_CHARS), "docx")
        except UnreadableWord as exc:
            raise NoticeFileError(path, str(exc)) from None
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise NoticeFileError(path, "an old binary Word file (.doc): save it as .docx or .txt")
    raw = _decode(path, data, encoding)
    if len(raw.text) > MAX_CHARS:
        raise NoticeFileError(path, f"has more than {MAX_CHARS:,} characters of text")
    return from_text(raw.text, raw.encoding)


def _read(path: Path) -> tuple[bool, bytes]:
    """Whether the file is a Word document (by name or by its zip signature), and its bytes.
    A document (Word, PDF, OFD) may be as large as a Word file; text is capped lower."""
    try:
        with path.open("rb") as stream:
            head = stream.read(5)
        word = path.suffix.lower() == ".docx" or head[:4] == b"PK\x03\x04"
        document = word or head == b"%PDF-" or path.suffix.lower() in (".pdf", ".ofd")
        return word, read_capped(path, WORD_MAX_BYTES if document else MAX_TEXT_BYTES)
    except FileNotFoundError:
        raise NoticeFileError(path, "file not found") from None
    except IsADirectoryError:
        raise NoticeFileError(path, "is a folder, not a notice") from None
    except TooLarge as exc:
        kind = "a Word notice" if exc.limit == WORD_MAX_BYTES else "a notice in text"
        raise NoticeFileError(path, exc.refusal(kind)) from None
    except OSError as exc:
        raise NoticeFileError(path, f"cannot be read: {exc.strerror}") from None


@dataclass(frozen=True)
class _Decoded:
    text: str
    encoding: str


def _decode(path: Path, data: bytes, encoding: str | None) -> _Decoded:
    if encoding:
        try:
            return _Decoded(data.decode(encoding), encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise NoticeFileError(path, f"cannot be read as {encoding}: {exc}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _Decoded(data.decode(name, errors="replace"), name.removesuffix("-sig"))
    for name in ("utf-8", "gb18030"):
        try:
            return _Decoded(data.decode(name), name)
        except UnicodeDecodeError:
            continue
    raise NoticeFileError(
        path, "neither UTF-8 nor GBK/GB18030 text: give its encoding with --encoding"
    )


def from_text(raw: str, encoding: str = "str") -> NoticeText:
    """Characters are converted one by one (縣資訊中心 → 县资讯中心), never word by word: a
    word list would rename units (资讯 → 信息) and change what the notice says."""
    traditional = is_traditional(raw)
    text = _t2s().convert(raw) if traditional else raw
    return NoticeText(normalise(text), encoding, traditional)


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> OpenCC:
    return OpenCC("s2t")


def is_traditional(text: str) -> bool:
    """More characters change going to simplified than going to traditional. Converting a
    simplified text "to simplified" anyway is not harmless: single characters such as 著 and
    乾 have simplified readings of their own."""
    sample = "".join(ch for ch in text[:20_000] if "\u4e00" <= ch <= "\u9fff")
    if not sample:
        return False
    to_simple = sum(a != b for a, b in zip(sample, _t2s().convert(sample), strict=False))
    to_traditional = sum(a != b for a, b in zip(sample, _s2t().convert(sample), strict=False))
    return to_simple > to_traditional


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u3000\u00a0\u2002-\u200b\ufeff]+")


def normalise(text: str) -> str:
    """Full-width letters, digits and punctuation as ASCII (（）：，；→ ( ) : , ;), every kind of
    space as one space, lines stripped. Quotes, 、, 。 and the brackets of document numbers
    are kept as they are; `tidy` gives the Chinese punctuation back for what the draft shows."""
    text = "".join(_half_width(ch) for ch in text)
    # Every line break Python knows (\x0c, \x85, \u2028 too), then no control character left.
    lines = (_CONTROL.sub("", line) for line in text.splitlines())
    return "\n".join(_SPACES.sub(" ", line).strip() for line in lines)


def _half_width(ch: str) -> str:
    if "\uff01" <= ch <= "\uff5e":
        return unicodedata.normalize("NFKC", ch)
    return ch


_CJK = r"[\u4e00-\u9fff\u3001-\u303f\u201c\u201d\u2018\u2019《》]"
_FULL = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"})
_BESIDE_CJK = re.compile(rf"(?<={_CJK})[,:;()!?]|[,:;()!?](?={_CJK})")


def tidy(text: str) -> str:
    """Text as a department reads it: ASCII punctuation next to Chinese characters made
    full-width again (1,200 and 10:00 stay), runs of spaces as one."""
    text = _BESIDE_CJK.sub(lambda m: m.group(0).translate(_FULL), text)
    return re.sub(r" {2,}", " ", text).strip()
