"""How the commands write for a terminal: nothing but printable text, columns that count CJK
characters as two, and a database named without its password."""

from __future__ import annotations

import unicodedata
from typing import Any, TextIO

from config.plain_text import printable


def pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


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
