"""The gazetteer of government and public bodies' names (`gazetteer.yaml`, with its
sources): how offices shorten lines of work, what they were called before the 2018 and 2023
reforms, the bodies whose names end unusually, the provinces, the central bodies. Read
once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("gazetteer.yaml")


@dataclass(frozen=True)
class Gazetteer:
    short: tuple[tuple[str, str], ...]  # long → short, longest first
    renamed: tuple[tuple[str, str], ...]  # historical → today's line of work
    related: dict[str, tuple[str, ...]]
    bodies: frozenset[str]
    provinces: tuple[str, ...]
    central: tuple[str, ...]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return Gazetteer(
        short=tuple((a, b) for a, b in data["short"]),
        renamed=tuple((a, b) for a, b in data["renamed"]),
        related={k: tuple(v) for k, v in data["related"].items()},
        bodies=frozenset(data["bodies"]),
        provinces=tuple(data["provinces"]),
        central=tuple(data["central"]),
    )
