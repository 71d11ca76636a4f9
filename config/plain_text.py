"""Control characters: refused where people's text comes in, removed where duban prints.

A unit's name, a title or a contact is one line of text. A CR/LF in one breaks the mail
header it goes into (the notice then fails for ever); an escape sequence in one, printed by
`duban launch`, recolours or rewrites the coordinator's terminal. Such text is refused with
its place when it comes in (the campaign file, the dashboard's forms), and whatever duban
prints to a terminal is cleaned once more on the way out, for data stored before this rule.
"""

from __future__ import annotations

import re

# Controls (Unicode category Cc) and the bidirectional overrides and isolates, which make a
# name display in an order other than the one stored ("Trojan source").
_BIDI = "\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
# Terminal escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, two-character
# escapes), removed whole so that no `[31m` is left behind; then any lone control.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?")
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def control_char(text: str, multiline: bool = False) -> str | None:
    """The first control character in `text`, written `U+000D`, or None. `multiline` admits
    line breaks and tabs (a duty, a note); names, titles and contacts admit neither."""
    found = (_MULTILINE if multiline else _ONE_LINE).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def printable(text: str) -> str:
    """`text` fit for a terminal: escape sequences and other controls removed; line breaks,
    tabs and everything visible kept."""
    if text.isprintable():
        return text
    return _UNPRINTABLE.sub("", _ESCAPES.sub("", text))
