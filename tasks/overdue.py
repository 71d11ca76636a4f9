"""The overdue list of every open campaign, as the monitor publishes it to Prefect (a table
artifact per campaign), so that a coordinator watching the Prefect UI sees it there too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from config.clock import days_overdue, format_local
from config.settings import get_settings
from models import queries as q
from models.db import get_engine

# An artifact is for a glance; the dashboard and its CSV hold the whole list.
MAX_ROWS = 500


@dataclass(frozen=True)
class OverdueTable:
    key: str
    slug: str
    title: str
    total: int
    rows: list[dict[str, Any]]

    @property
    def description(self) -> str:
        shown = f"（列出前{len(self.rows)}个）" if len(self.rows) < self.total else ""
        url = f"{get_settings().public_url.rstrip('/')}/c/{self.slug}?status=overdue"
        return f"**{self.title}**：逾期未报 {self.total} 个单位{shown}。完整名单：{url}"


def artifact_key(kind: str, slug: str) -> str:
    """`overdue-<slug>`: Prefect keys take lower-case letters, digits and dashes only."""
    return f"{kind}-" + (re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-") or "campaign")


def overdue_tables(now: datetime) -> list[OverdueTable]:
    tables = []
    with get_engine().connect() as conn:
        for campaign in q.open_campaigns(conn):
            found = q.campaign_by_slug(conn, campaign["slug"])
            assert found is not None
            tz = found["timezone"]
            total = q.dashboard_count(conn, found["id"], "overdue", now)
            units = q.dashboard_rows(conn, found["id"], now, status="overdue", limit=MAX_ROWS)
            messages = q.messages_of(conn, [u["assignment_id"] for u in units])
            rows = []
            for u in units:
                sent = [m for m in messages[u["assignment_id"]] if m["state"] == "sent"]
                rows.append(
                    {
                        "单位代码": u["code"],
                        "单位": u["name"],
                        "截止时间": format_local(u["due_at"], tz),
                        "逾期天数": days_overdue(u["due_at"], now, tz),
                        "签收": "已签收" if u["acknowledged_at"] else "未签收",
                        "已送达通知与提醒": len(sent),
                    }
                )
            tables.append(
                OverdueTable(
                    artifact_key("overdue", found["slug"]),
                    found["slug"],
                    found["title"],
                    total,
                    rows,
                )
            )
    return tables


@task(name="publish-overdue-list", cache_policy=NO_CACHE)
def publish_overdue(now: datetime) -> list[OverdueTable]:
    tables = overdue_tables(now)
    for table in tables:
        create_table_artifact(table.rows, key=table.key, description=table.description)
    return tables
