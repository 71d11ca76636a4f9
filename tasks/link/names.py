"""The name a department gave its file, made safe to show; it is never used as a path.

The bytes live under a random name (`tasks.link.storage`); this name is only ever displayed,
and its extension decides the file's kind (`tasks.link.policy`).
"""

from __future__ import annotations

import re
import unicodedata

from tasks.link.policy import ALLOWED, not_allowed

NAME_MAX_CHARS = 120
FALLBACK_STEM = "附件"

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


def extension(shown: str) -> str:
    """The lower-case extension of a shown name ("" for none)."""
    stem, dot, ext = shown.rpartition(".")
    return ext.lower() if dot and stem else ""


def kind_of(name: str) -> str:
    """The kind ("image", "video" or "document") of an allowed name; refuses any other."""
    shown = safe_name(name)
    kind = ALLOWED.get(extension(shown))
    if kind is None:
        raise not_allowed(shown)
    return kind
