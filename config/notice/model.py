"""A draft campaign read from a notice: every value with where it came from, and a doubt when
it was recovered, guessed or not found at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from config.campaign.schema import Requirements

T = TypeVar("T")


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value and, when the coordinator should look at it, why. `value` None: not found."""

    value: T | None
    doubt: str | None = None
    source: str | None = None  # where in the notice, for the draft's comments


@dataclass
class DraftUnit:
    name: str
    code: str
    duties: list[str] = field(default_factory=list)
    duty_from: list[str] = field(default_factory=list)  # 四(二) 工信部门
    doubt: str | None = None
    named_in: str | None = None  # where the notice names it: the salutation, the signature…


@dataclass
class Draft:
    notice_title: str | None
    title: Found[str]
    slug: str
    lead_office: Found[str]
    document_number: Found[str]
    cited_numbers: list[str]
    theme: Found[str]
    guidance: Found[str]
    period: Found[tuple[date, date]]
    due: Found[date]
    common_duties: list[str]
    common_source: str | None
    requirements: Found[Requirements]
    units: list[DraftUnit]
    groups: list[str]  # addressees that are not units (各有关企业)
    duty_parts: list[str]  # the parts whose items gave units their duties (四)
    noise: list[str] = field(default_factory=list)  # page noise dropped before reading
    salutation: str | None = None  # the addressees as the notice writes them

    def values(self) -> list[tuple[str, Found[Any]]]:
        """The draft's values read from the notice, by their keys, in the draft's order."""
        return [
            ("title", self.title),
            ("lead_office", self.lead_office),
            ("document_number", self.document_number),
            ("theme", self.theme),
            ("guidance", self.guidance),
            ("period", self.period),
            ("due", self.due),
            ("requirements", self.requirements),
        ]

    def doubts(self) -> list[str]:
        """Every value to check, in the draft's order."""
        out = [f"{name}: {f.doubt}" for name, f in self.values() if f.doubt]
        out += [f"departments {u.name}: {u.doubt}" for u in self.units if u.doubt]
        return out
