"""`duban campaigns`: every campaign in the database, newest first, with its units counted as
the dashboard counts them; and the refusal that names the known slugs when one is mistyped."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.exits import EXIT_OK, Refused
from cli.text import pad

if TYPE_CHECKING:
    from cli.exits import Commands


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    listing = commands.add_parser(
        "campaigns", parents=[clock], help="list the campaigns in the database, newest first"
    )
    listing.set_defaults(run=run)


def _campaigns() -> list[dict[str, object]]:
    from config.clock import now as clock_now
    from models import queries as q
    from models.db import get_engine

    with get_engine().connect() as conn:
        return q.campaigns_progress(conn, clock_now())


def run(args: argparse.Namespace) -> int:
    from config.clock import local

    found = _campaigns()
    if not found:
        print("数据库中还没有活动：先执行 duban launch 活动文件.yaml")
        return EXIT_OK
    print(pad("活动代号", 32) + pad("报送截止", 12) + "单位  已报送  逾期未报  名称")
    for c in found:
        counts: dict[str, int] = c["counts"]  # type: ignore[assignment]
        delivered = sum(counts.get(s, 0) for s in ("submitted", "late", "accepted", "returned"))
        due = local(c["due_at"], str(c["timezone"])).date().isoformat()  # type: ignore[arg-type]
        print(
            pad(str(c["slug"]), 32)
            + pad(due, 12)
            + f"{counts.get('total', 0):>4}  {delivered:>6}  {counts.get('overdue', 0):>8}  "
            + str(c["title"])
        )
    return EXIT_OK


def no_campaign(slug: str) -> Refused:
    """A slug the database does not have, said with the ones it has."""
    try:
        known = [str(c["slug"]) for c in _campaigns()]
    except Exception:  # the listing is a help, never a second failure
        known = []
    said = f"没有代号为「{slug}」的活动"
    if known:
        said += "；已有：" + "、".join(known[:20]) + ("……" if len(known) > 20 else "")
        said += "（duban campaigns 列出全部）"
    else:
        said += "；数据库中还没有活动，先执行 duban launch 活动文件.yaml"
    return Refused(said)
