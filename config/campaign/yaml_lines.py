"""Where each value of a YAML file stands: its text read without guessing types, and the line
of any key or item, so that a problem is reported as `file:line: field: message`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

Loc = tuple[str | int, ...]


class TextLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe loader that reads every plain scalar as text, except null (`~`, empty).

    The schema types the values. So `code: 010` stays "010" instead of the octal number 8,
    `code: yes` stays "yes" instead of True, and a date that does not exist (2021-02-30) is
    reported by the schema with its line instead of crashing the YAML constructor.
    """

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and value in _NULLS:
            return "tag:yaml.org,2002:null"
        return str(super().resolve(kind, value, implicit))


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
# With no implicit resolvers left, PyYAML's resolve is a quick dictionary miss per scalar.
TextLoader.yaml_implicit_resolvers = {}


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str
    message: str


def duplicate_keys(node: yaml.Node) -> list[Problem]:
    problems: list[Problem] = []
    stack: list[tuple[yaml.Node, Loc]] = [(node, ())]
    while stack:
        current, loc = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in current.value:
                if not isinstance(key, yaml.ScalarNode):
                    problems.append(
                        Problem(key.start_mark.line + 1, dotted(loc), "a key must be a plain word")
                    )
                    continue
                name = key.value
                if name in seen:
                    problems.append(
                        Problem(
                            key.start_mark.line + 1,
                            dotted((*loc, name)),
                            f"key {name!r} appears twice (also on line {seen[name]})",
                        )
                    )
                else:
                    seen[name] = key.start_mark.line + 1
                stack.append((value, (*loc, name)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(current.value))
    return sorted(problems, key=lambda p: p.line or 0)


def line_of(node: yaml.Node, loc: Loc) -> int | None:
    """The line of the deepest node along `loc` (1-based)."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line, node = key.start_mark.line + 1, value
                    if not isinstance(value, yaml.CollectionNode):
                        line = value.start_mark.line + 1
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def dotted(loc: Loc, units: Sequence[str | None] = ()) -> str:
    """`departments[1]（县科技局）.notify[0]`: the key path as the file writes it, and the
    unit's own name where the path runs through a department, so that the coordinator finds
    it by name, not by counting entries."""
    out = ""
    for i, part in enumerate(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        if i == 1 and loc[0] == "departments" and isinstance(part, int) and part < len(units):
            name = units[part]
            out += f"（{name}）" if name else ""
    return out
