"""The typing slips a clerk makes in a campaign file, found by line and said in their terms.

libyaml reports where its parser gave up, which is often the line after the slip, in its own
words (`could not find expected ':'`). A Chinese input method types a full-width colon after a
key (`due：2021-09-30`); a list entry loses the space after its dash (`-code: kjj`); a key
loses the space after its colon (`due:2021-09-30`); an editor indents with a tab. Each of these
is looked for on the lines up to where the parser stopped, and the first one found is said
instead, on its own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A key is written in ASCII (`due`, `notify`, `departments`), optionally after a list dash.
_KEY = r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)"
_FULL_WIDTH_COLON = re.compile(_KEY + r"\s*：")
_NO_SPACE_AFTER_COLON = re.compile(_KEY + r":(?P<rest>[^\s/:][^#]*)$")
_NO_SPACE_AFTER_DASH = re.compile(r"^(?P<indent>\s*)-(?P<rest>[A-Za-z_\"'\[{][^#]*)$")
_TAB = re.compile(r"^\s*\t")


@dataclass(frozen=True)
class Slip:
    line: int  # 1-based
    message: str


def find_slip(text: str, until_line: int | None) -> Slip | None:
    """The first slip on lines 1..`until_line` (all lines when None), if any."""
    lines = text.splitlines()
    last = min(until_line or len(lines), len(lines))
    for number, line in enumerate(lines[:last], start=1):
        slip = _slip_on(line)
        if slip:
            return Slip(number, slip)
    return None


def _slip_on(line: str) -> str | None:
    if _TAB.match(line):
        return "这一行用制表符（Tab）缩进；YAML 只认空格，请把 Tab 换成空格"
    found = _FULL_WIDTH_COLON.match(line)
    if found:
        key = found.group("key")
        return f"「{key}」后面是全角冒号「：」，请改为半角冒号加空格：「{key}: 」"
    found = _NO_SPACE_AFTER_DASH.match(line)
    if found:
        return f"「-」后面少了一个空格：应写作「- {found.group('rest').strip()}」"
    found = _NO_SPACE_AFTER_COLON.match(line)
    # Not after a dash: a list entry may be `- sms:138…` or `- mailto:…`, a value, not a key.
    if found and not found.group("dash"):
        key, rest = found.group("key"), found.group("rest").strip()
        return f"「{key}:」后面少了一个空格：应写作「{key}: {rest}」"
    return None
