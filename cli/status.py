"""`duban status CAMPAIGN`: one row per department, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from cli.campaigns import no_campaign
from cli.exits import EXIT_OK
from cli.text import pad

if TYPE_CHECKING:
    from cli.exits import Commands
    from tasks.status import CampaignStatus

HEADER = ("code", "department", "status", "due", "time left", "sent", "failed")
WIDTHS = (12, 24, 12, 28, 18, 5, 6)


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status", parents=[clock], help="one row per department of a campaign"
    )
    status.add_argument("campaign", help="the campaign's slug")
    status.add_argument("--json", action="store_true", help="print a JSON list of objects")
    status.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tasks.status import UnknownCampaign, campaign_status

    try:
        status = campaign_status(args.campaign)
    except UnknownCampaign:
        raise no_campaign(args.campaign) from None
    if args.json:
        print(json.dumps([r.as_json() for r in status.rows], ensure_ascii=False, indent=2))
    else:
        print_table(status)
    return EXIT_OK


def print_table(status: CampaignStatus) -> None:
    print(f"{status.slug}: {status.title} ({status.timezone})")
    print(" ".join(pad(h, w) for h, w in zip(HEADER, WIDTHS, strict=True)))
    for r in status.rows:
        cells = (
            r.code,
            r.name,
            r.status,
            r.due_text,
            r.time_left,
            str(r.notices_sent),
            str(r.notices_failed),
        )
        print(" ".join(pad(c, w) for c, w in zip(cells, WIDTHS, strict=True)).rstrip())
        sent = [
            f"{m['message']}{'' if m['to'] == 'department' else '→' + m['to']} "
            f"{m['sent_at'][5:16].replace('T', ' ')}"
            for m in r.messages
            if m["sent_at"]
        ]
        if sent:
            print(f"{'':13}sent: {'; '.join(sent)}")
        if not r.in_file:
            print(f"{'':13}no longer in the campaign file: kept, not notified")
        if r.last_error:
            print(f"{'':13}last error: {r.last_error}")
        for m in r.messages:
            if m["state"] == "misconfigured":
                print(
                    f"{'':13}misconfigured: {m['message']} to {m['channel']}: {m['error']} "
                    "(not retried; fix the channel, then run launch again)"
                )
        if r.notices_unconfirmed:
            print(
                f"{'':13}{r.notices_unconfirmed} notice(s) unconfirmed: the sender stopped "
                "mid-send; check with the department before resending"
            )
