"""How the commands write for a terminal: columns that count CJK characters as two, and a
database named without its password."""

from __future__ import annotations

import unicodedata


def pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def db_label(url: str) -> str:
    from sqlalchemy import make_url  # imported when needed: `duban --help` stays quick

    return make_url(url).render_as_string(hide_password=True)
