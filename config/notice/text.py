"""A notice's text: read from a file in whatever encoding it came in, in simplified characters,
with the punctuation made regular enough to parse.

Notices arrive as text pasted from a web page (UTF-8, or GBK/GB18030 from older systems), as a
Word document, or copied from a Taiwanese or Hong Kong template in traditional characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC


class NoticeFileError(ValueError):
    """The notice cannot be read at all; `str()` names the file."""

    def __init__(self, path: Path | str, message: str):
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class NoticeText:
    text: str  # simplified characters, regular punctuation (see `normalise`)
    encoding: str  # how the file was read: utf-8, gb18030, utf-16, docx
    traditional: bool  # converted from traditional characters


# A Byte Order Mark names the encoding; otherwise strict UTF-8 first (it rejects almost every
# GBK file), then GB18030, the superset of GBK and GB2312 that Chinese offices save in.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_notice(path: Path | str, encoding: str | None = None) -> NoticeText:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NoticeFileError(path, "file not found") from None
    except IsADirectoryError:
        raise NoticeFileError(path, "is a folder, not a notice") from None
    if path.suffix.lower() == ".docx" or data[:4] == b"PK\x03\x04":
        return from_text(_docx_text(path), "docx")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise NoticeFileError(path, "an old binary Word file (.doc): save it as .docx or .txt")
    if encoding:
        try:
            return from_text(data.decode(encoding), encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise NoticeFileError(path, f"cannot be read as {encoding}: {exc}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            return from_text(data.decode(name, errors="replace"), name.removesuffix("-sig"))
    for name in ("utf-8", "gb18030"):
        try:
            return from_text(data.decode(name), name)
        except UnicodeDecodeError:
            continue
    raise NoticeFileError(
        path, "neither UTF-8 nor GBK/GB18030 text: give its encoding with --encoding"
    )


def _docx_text(path: Path) -> str:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise NoticeFileError(path, f"not a readable Word document ({exc})") from None
    lines: list[str] = []
    # Paragraphs and tables in the order they stand: a duty table (单位 | 任务) belongs to the
    # part it is printed in. A row reads as 「单位:任务」, as a duty item is written.
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            lines.append(Paragraph(element, document).text)
        elif element.tag == qn("w:tbl"):
            for row in Table(element, document).rows:
                cells = [c.text.strip() for c in row.cells]
                lines.append(":".join(dict.fromkeys(c for c in cells if c)))
    return "\n".join(lines)


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
