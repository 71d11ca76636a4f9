"""Where a campaign stands: one row per department."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from config.clock import format_local, format_remaining, local
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine


class UnknownCampaign(LookupError):
    pass


@dataclass(frozen=True)
class StatusRow:
    code: str
    name: str
    status: str
    due: str  # ISO-8601 in the campaign's timezone
    due_text: str
    seconds_left: int  # negative when overdue
    time_left: str
    notices_sent: int
    notices_failed: int
    notices_pending: int
    notices_unconfirmed: int
    last_error: str | None
    in_file: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CampaignStatus:
    slug: str
    title: str
    timezone: str
    rows: list[StatusRow]


def campaign_status(slug: str, now: datetime | None = None) -> CampaignStatus:
    at = clock_now(now)
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        raw = q.status_rows(conn, campaign["id"])
    tz = campaign["timezone"]
    rows = [
        StatusRow(
            code=r["code"],
            name=r["name"],
            status=r["status"],
            due=local(r["due_at"], tz).isoformat(),
            due_text=format_local(r["due_at"], tz),
            seconds_left=int((r["due_at"] - at).total_seconds()),
            time_left=format_remaining(r["due_at"], at),
            notices_sent=r["sent"],
            notices_failed=r["failed"],
            notices_pending=r["pending"],
            notices_unconfirmed=r["unconfirmed"],
            last_error=r["last_error"] if r["failed"] else None,
            in_file=bool(r["in_file"]),
        )
        for r in raw
    ]
    return CampaignStatus(campaign["slug"], campaign["title"], tz, rows)
