"""How the commands write for a terminal: nothing but printable text, columns that count CJK
characters as two, and a database named without its password."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from config.plain_text import printable


def columns(text: str) -> int:
    """Terminal columns `text` takes: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; CJK characters take two."""
    return text + " " * max(width - columns(text), 1)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a table whose columns are as wide as their widest cell, by display width,
    so that a long unit name does not shift the columns after it."""
    widths = [max(columns(r[i]) for r in [header, *rows]) + 2 for i in range(len(header))]
    return [
        "".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    ]


def db_label(url: str) -> str:
    from sqlalchemy import make_url  # imported when needed: `duban --help` stays quick

    return make_url(url).render_as_string(hide_password=True)


class Printable:
    """A stream (stdout, stderr) that passes on only printable text: a unit's name with an
    escape sequence in it, stored before names were checked or read from a notice, must not
    recolour or rewrite the coordinator's terminal. Everything but `write` is the stream's."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(printable(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
