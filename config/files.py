"""Reading a file a person hands in (a campaign file, a notice, a calendar) with a cap on its
size, so that a file far larger than any real one is refused before it fills the memory.

The cap is checked on the size the file system gives and again while reading: a device, a
pipe or a file that grows reports a size that does not hold, so no more than cap + 1 bytes
are ever read.
"""

from __future__ import annotations

from pathlib import Path

MiB = 1 << 20


class TooLarge(ValueError):
    """The file is larger than its kind of file may be."""

    def __init__(self, size: int, limit: int, at_least: bool = False):
        self.size, self.limit = size, limit
        super().__init__(f"is {'more than ' if at_least else ''}{mib(size)}")

    def refusal(self, kind: str) -> str:
        """`is 70.2 MiB; a campaign file may be at most 64 MiB`."""
        return f"{self}; {kind} may be at most {mib(self.limit)}"


def mib(size: int) -> str:
    return f"{size / MiB:.0f} MiB" if size % MiB == 0 else f"{size / MiB:.1f} MiB"


def read_capped(path: Path, limit: int) -> bytes:
    """The file's bytes, or `TooLarge`; OSError (not found, a folder) is the caller's to say."""
    with path.open("rb") as stream:
        size = path.stat().st_size
        if size > limit:
            raise TooLarge(size, limit)
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit, limit, at_least=True)
    return data
