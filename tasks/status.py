"""Where a campaign stands: one row per department."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from config.campaign.channels import redact
from config.clock import format_remaining, local
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from models.kinds import rung_name
from tasks.messages.labels import STATUS_LABELS, message_label
from tasks.messages.render import format_deadline


class UnknownCampaign(LookupError):
    pass


@dataclass(frozen=True)
class StatusRow:
    code: str
    name: str
    status: str
    shown_status: str  # as the dashboard shows it: `late` for a late submission, …
    status_label: str  # its words: 逾期报送, 未签收, …
    open: bool  # still owes its summary (not submitted or accepted)
    due: str  # ISO-8601 in the campaign's timezone
    due_text: str
    seconds_left: int  # negative when overdue
    time_left: str
    notices_sent: int
    notices_failed: int
    notices_pending: int
    notices_unconfirmed: int
    notices_misconfigured: int
    last_error: str | None
    in_file: bool
    # Every message to or about the unit: the notice, then each rung of the ladder.
    messages: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CampaignStatus:
    slug: str
    title: str
    timezone: str
    rows: list[StatusRow]
    at: datetime
    # Units by dashboard status, with `overdue` and `total`: the dashboard's own count.
    counts: dict[str, int] = field(default_factory=dict)


def campaign_status(slug: str, now: datetime | None = None) -> CampaignStatus:
    at = clock_now(now)
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        raw = q.status_rows(conn, campaign["id"])
        ledger = q.ledger_of_campaign(conn, campaign["id"])
        counts = q.status_counts(conn, campaign["id"], at)
    tz = campaign["timezone"]
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in ledger:
        messages[m["code"]].append(
            {
                "message": rung_name(m["kind"]),
                "label": message_label(m["kind"], m["recipient"], campaign["spec"]),
                "to": m["recipient"],
                "channel": redact(m["channel"]),
                # The channel refused it for its own configuration: not retried.
                "state": "misconfigured" if m["misconfigured"] else m["state"],
                "attempts": m["attempts"],
                "sent_at": local(m["sent_at"], tz).isoformat() if m["sent_at"] else None,
                "error": q.without_mark(m["last_error"]) if m["state"] == "failed" else None,
            }
        )
    rows = [
        StatusRow(
            code=r["code"],
            name=r["name"],
            status=r["status"],
            shown_status=(shown := q.display_status(r["status"], bool(r["late"]))),
            status_label=STATUS_LABELS[shown],
            open=not r["settled"],
            due=local(r["due_at"], tz).isoformat(),
            due_text=format_deadline(r["due_at"], tz),
            seconds_left=int((r["due_at"] - at).total_seconds()),
            time_left=format_remaining(r["due_at"], at),
            notices_sent=r["sent"],
            notices_failed=r["failed"],
            notices_pending=r["pending"],
            notices_unconfirmed=r["unconfirmed"],
            notices_misconfigured=r["misconfigured"],
            last_error=r["last_error"] if r["failed"] else None,
            in_file=bool(r["in_file"]),
            messages=messages[r["code"]],
        )
        for r in raw
    ]
    return CampaignStatus(campaign["slug"], campaign["title"], tz, rows, at, counts)
