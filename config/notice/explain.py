"""`duban import --explain`: for each value of the draft and each unit, the words of the notice
it was read from, or why nothing was read; and the page noise taken off first."""

from __future__ import annotations

from typing import Any

from config.campaign.schema import Requirements
from config.notice.model import Draft


def explain(draft: Draft) -> str:
    lines = [f"notice: {draft.notice_title or '(no title found)'}"]
    if draft.noise:
        lines.append(f"dropped as page noise: {'; '.join(draft.noise)}")
    for name, found in draft.values():
        value = _value(found.value)
        lines.append(f"{name}: {value}")
        if found.source:
            lines.append(f"  from {_short(found.source)}")
        if found.doubt:
            lines.append(f"  check: {found.doubt}")
    lines.append(f"departments: {len(draft.units)}")
    if draft.salutation:
        lines.append(f"  the salutation: 「{_short(draft.salutation, 300)}」")
    for unit in draft.units:
        lines.append(f"  {unit.name} ({unit.code})")
        if unit.named_in:
            lines.append(f"    named in {unit.named_in}")
        for where in unit.duty_from:
            lines.append(f"    duties from {_short(where)}")
        if unit.doubt:
            lines.append(f"    check: {unit.doubt}")
    if draft.groups:
        lines.append(f"groups (not units): {'；'.join(draft.groups)}")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "(not found)"
    if isinstance(value, tuple):
        return " to ".join(v.isoformat() for v in value)
    if isinstance(value, Requirements):
        return _short(value.note or "a summary")
    return _short(value.isoformat() if hasattr(value, "isoformat") else str(value))


def _short(text: str, most: int = 120) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
