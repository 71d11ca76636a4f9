"""The ledger key: what a message is, as `notification.kind` stores it. One grammar, written
here once, with its SQL twin next to it:

    notice                      the launch notice
    <rung>@<deadline>           a rung of the ladder for one deadline ("urgent@202109301559"):
                                a new deadline (an extension) makes new keys, so the old
                                date's reminders never go out; only these are re-planned by
                                the monitor
    <action>:<key>              a message sent on a coordinator's action ("returned:17"), the
                                key naming the action (a submission, a new deadline, a form),
                                so that the same action twice sends one message

A rung's name cannot hold either separator (see `config.ladder.Rung.name`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from config.clock import to_utc

NOTICE = "notice"
RETURNED = "returned"  # a submission returned for revision, with the coordinator's comment
EXTENDED = "extended"  # a new deadline for one unit
RESENT = "resent"  # the notice again, on request
REASSIGNED = "reassigned"  # the notice, with a new link, to the unit's new contact
# The coordinator told that a channel refused a message as misconfigured; keyed by the
# refused message's ledger id ("misconfigured:42"), so each refusal is reported once.
MISCONFIGURED = "misconfigured"

_RUNG = "@"
_ACTION = ":"


def deadline_key(due_at: datetime) -> str:
    """A deadline as keys spell it, to the minute in UTC (`202109301559`)."""
    return f"{to_utc(due_at):%Y%m%d%H%M}"


def rung_kind(rung: str, due_at: datetime) -> str:
    """The key of a rung of the ladder for one deadline: a new deadline gives new keys."""
    return f"{rung}{_RUNG}{deadline_key(due_at)}"


def action_kind(action: str, key: object) -> str:
    return f"{action}{_ACTION}{key}"


def rung_name(kind: str) -> str:
    """The message of a key: the rung (`urgent@202109301559` -> `urgent`), the coordinator's
    action (`returned:17` -> `returned`), or `notice`."""
    return kind.split(_RUNG, 1)[0].split(_ACTION, 1)[0]


def is_rung(kind: str) -> bool:
    return _RUNG in kind


def is_rung_sql(kind: Any) -> ColumnElement[bool]:
    """`is_rung` in SQL, for the column `kind`."""
    return kind.like(f"%{_RUNG}%")
