"""A YAML file someone else wrote, checked before the YAML library builds anything from it.

Two shapes are refused, each with its line:
- anchors and aliases (`&a`, `*a`): a duty file has no need of them, and nine lines of aliases
  to aliases describe a billion values (the "billion laughs"): any walk of the document would
  never end;
- nesting deeper than `MAX_DEPTH`: libyaml's composer recurses once per level and 100,000
  nested `[` overflow the C stack (a crash, not an error).

The exact check reads the file's events (libyaml's parser keeps its own stack and does not
recurse); at 50,000 departments that costs a second, so it is made only when a cheap look at
the text (0.02 s) cannot rule both shapes out (see `_may_be_unsafe`): a file written in block
style, as drafts and the examples are, passes on the look alone; one with many non-empty flow
lists (`notify: [a@x.cn]` for each department) gets the exact check.
"""

from __future__ import annotations

import re

import yaml

MAX_DEPTH = 64  # a campaign file nests 4 levels deep; a calendar file 2


class UnsafeYaml(ValueError):
    """A shape refused before composing; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


ALIASES = "anchors and aliases (&name, *name) are not allowed: write each value out in full"

# An anchor, alias or tag stands at the start of a node: after a line start, a space, a flow
# indicator or `:`. (`&` inside a URL, `?a=1&b=2`, is not at a node's start.)
_PROPERTY = re.compile(r"(?:^|[\s\[\]{},:?\-\ufeff])[&*!]", re.MULTILINE)


def check_shape(text: str) -> None:
    """Raises `UnsafeYaml` for an anchor, an alias or nesting deeper than `MAX_DEPTH`; lets
    `yaml.YAMLError` through for text that is not YAML at all."""
    if not _may_be_unsafe(text):
        return
    parser = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise UnsafeYaml(line, ALIASES)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnsafeYaml(line, f"nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        parser.dispose()


def _may_be_unsafe(text: str) -> bool:
    """False only when the text can hold neither an anchor or alias nor deep nesting.

    Nesting is bounded without parsing. Every flow collection opens with `[` or `{`, so flow
    nesting is at most their count (an empty one nests nothing). A block collection nested in
    another starts in a column further right, except a sequence given as a mapping's value,
    which may start in the mapping's column: so block nesting is at most twice the number of
    columns a block collection can start in. A block collection starts at the end of its
    line's leading spaces and indicators (`- - - a: b`), unless a tag or anchor comes first,
    and those send the text to the exact check anyway. So a line whose leading run of spaces,
    `:` is short everywhere bounds the depth."""
    if any(ch in text for ch in "&*!") and _PROPERTY.search(text):
        return True
    # An empty `[]` or `{}` holds nothing: only the deepest of them adds a level (a draft has
    # `notify: []` for every department).
    empty = text.count("[]") + text.count("{}")
    flows = text.count("[") + text.count("{") - empty + (1 if empty else 0)
    # Depth ≤ flows + 2 × (longest run + 1): a run longer than `room` may be too deep.
    room = (MAX_DEPTH - flows) // 2 - 1
    if room < 0:
        return True
    for other_break in "\r\x85\u2028\u2029":  # every line break libyaml knows, as \n
        if other_break in text:
            text = text.replace(other_break, "\n")
    run = rf"[ \t?:\-\ufeff]{{{room + 1}}}"
    # Two searches: "\n" first lets the regex engine skip ahead (0.02 s for 50,000 units).
    return re.match(run, text) is not None or re.search("\n" + run, text) is not None
