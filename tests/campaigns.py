"""Campaign files for tests, written the way a coordinator would write them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from models.db import get_engine

EXAMPLES = Path(__file__).resolve().parent.parent / "config" / "examples"
DATIAN = EXAMPLES / "datian-2021.yaml"
DATIAN_SLUG = "datian-quality-month-2021"
LAUNCH_DAY = "2021-09-13T09:00:00+08:00"
LINK_RE = re.compile(r"http://duban\.test/d/([A-Za-z0-9_-]+)")


def write_campaign(
    path: Path, departments: list[dict[str, Any]], slug: str = "test-campaign", **extra: Any
) -> Path:
    data: dict[str, Any] = {
        "slug": slug,
        "title": "测试“质量月”活动",
        "lead_office": "测试县质量强县工作领导小组办公室",
        "due": "2021-09-30",
        "departments": departments,
        **extra,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def dept(code: str, *notify: str, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": name or f"{code}局", "notify": list(notify), **extra}


def links_in(text_: str) -> list[str]:
    return LINK_RE.findall(text_)


# Sign-in's own rows: written by signing in, by a wrong password, and by a page read in a
# session (its last use, once a minute). The tests of sign-in look at them by name.
SIGN_IN_TABLES = {"coordinatorsession", "signinfailures"}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every duban table the database has, to show that a refused input wrote
    nothing (the report tables included: a GET or a refused form must not make or send a
    report). Sign-in's own rows are left out (`SIGN_IN_TABLES`)."""
    with get_engine().connect() as conn:
        present = set(inspect(conn).get_table_names()) - SIGN_IN_TABLES
        tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name in present]
        return {
            t: sorted(tuple(map(str, row)) for row in conn.execute(text(f"SELECT * FROM {t}")))
            for t in tables
        }


def notice_ledger() -> dict[str, dict[str, object]]:
    """Each department's notice as the ledger holds it, by department code."""
    query = text(
        "SELECT d.code, n.state, n.attempts, n.last_error, n.next_attempt_at "
        "FROM notification n JOIN assignment a ON a.id = n.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE n.kind = 'notice'"
    )
    with get_engine().connect() as conn:
        return {row.code: dict(row._mapping) for row in conn.execute(query)}
