"""The coordinator's notes for the report, written on the dashboard before the final one:
存在的问题, 下一步工作 and the units commended (表扬). The report prints what is there and leaves
out what is empty (`tasks.report.wording.closing_sections`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from tasks.status import UnknownCampaign

NOTE_MAX = 5000  # characters a section of notes keeps: a page or two of the report


def notes_of(slug: str) -> dict[str, Any]:
    """The campaign, its units (code, name, delivered) in the notice's order, and its notes."""
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        units = q.dashboard_rows(conn, campaign["id"], clock_now(), sort="file", limit=None)
        notes = q.report_notes(conn, campaign["id"]) or {}
    return {
        "campaign": campaign,
        "units": [(u["code"], u["name"], u["submitted_at"] is not None) for u in units],
        "problems": notes.get("problems", ""),
        "next_steps": notes.get("next_steps", ""),
        "commended": set(notes.get("commended") or []),
    }


def save_notes(
    slug: str,
    problems: str,
    next_steps: str,
    commended: list[str],
    by: str,
    now: datetime | None = None,
) -> None:
    """Replace the campaign's notes. Codes that name no unit of the campaign are dropped: a
    form is data, and a unit is commended only by its own code."""
    with get_engine().begin() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        if campaign is None:
            raise UnknownCampaign(slug)
        units = q.dashboard_rows(conn, campaign["id"], clock_now(now), sort="file", limit=None)
        known = {u["code"] for u in units}
        q.save_report_notes(
            conn,
            {
                "campaign_id": campaign["id"],
                "problems": problems.replace("\r\n", "\n").strip()[:NOTE_MAX],
                "next_steps": next_steps.replace("\r\n", "\n").strip()[:NOTE_MAX],
                "commended": sorted(set(commended) & known),
                "updated_at": clock_now(now),
                "updated_by": by,
            },
        )
