"""A campaign's list as a CSV file: what the page lists, in its order, every unit at once."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from models.kinds import NOTICE
from tasks.messages.labels import STATUS_LABELS, message_label
from tasks.spreadsheet import SafeWriter
from web.dashboard.rows import OverdueDays, View, campaign_or_404
from web.deps import SignedIn
from web.pages import short_time

router = APIRouter()
SLICE = 1000  # units read per query: the file streams while the rest is read
HEADER = [
    "单位代码",
    "单位名称",
    "状态",
    "截止时间",
    "逾期天数",
    "签收时间",
    "提交时间",
    "联系人",
    "电话",
    "已送达提醒",
    "最近一次提醒",
]


@router.get("/c/{slug}/export.csv")
def export_csv(
    slug: str,
    session: SignedIn,
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
) -> Response:
    view = View.of(status, sort, order)
    now = clock_now()
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
    filename = f"{slug}-{view.status or 'all'}.csv"
    return StreamingResponse(
        _csv_rows(found, view, now),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_rows(found: dict[str, Any], view: View, now: datetime) -> Iterator[str]:
    """The whole list, read a slice at a time; a BOM so that Excel reads UTF-8."""
    tz, spec = found["timezone"], found["spec"]
    overdue = OverdueDays(now, tz)
    out = io.StringIO()
    writer = SafeWriter(out)
    out.write("\ufeff")
    writer.writerow(HEADER)
    offset = 0
    while True:
        with get_engine().connect() as conn:
            rows = view.rows(conn, found["id"], now, offset, SLICE)
            messages = q.messages_of(conn, [r["assignment_id"] for r in rows])
        for r in rows:
            ledger = messages[r["assignment_id"]]
            sent = [m for m in ledger if m["state"] == "sent" and m["kind"] != NOTICE]
            last = sent[-1] if sent else None
            writer.writerow(
                [
                    r["code"],
                    r["name"],
                    STATUS_LABELS[q.display_status(r["status"], r["late"])],
                    short_time(r["due_at"], tz),
                    overdue(r["status"], r["due_at"]),
                    short_time(r["acknowledged_at"], tz),
                    short_time(r["submitted_at"], tz),
                    r["person"] or "",
                    r["phone"] or "",
                    len(sent),
                    f"{message_label(last['kind'], last['recipient'], spec)} "
                    f"{short_time(last['sent_at'], tz)}"
                    if last
                    else "",
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < SLICE:
            return
        offset += SLICE
