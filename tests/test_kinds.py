"""The ledger-key grammar (`models.kinds`): pure functions, no database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import column
from sqlalchemy.dialects import sqlite

from models.kinds import (
    EXTENDED,
    NOTICE,
    RETURNED,
    action_kind,
    deadline_key,
    is_rung,
    is_rung_sql,
    rung_kind,
    rung_name,
)

DUE = datetime(2021, 9, 30, 23, 59, 59, tzinfo=timezone(timedelta(hours=8)))


pytestmark = pytest.mark.pure


def test_a_rung_key_names_its_rung_and_its_deadline_in_utc() -> None:
    kind = rung_kind("urgent", DUE)
    assert kind == "urgent@202109301559"
    assert rung_name(kind) == "urgent"
    assert is_rung(kind)
    assert rung_kind("urgent", DUE + timedelta(days=1)) != kind  # a new deadline, new keys


def test_action_keys_and_the_notice_are_not_rungs() -> None:
    returned = action_kind(RETURNED, 17)
    assert returned == "returned:17"
    extended = action_kind(EXTENDED, deadline_key(DUE))
    assert extended == "extended:202109301559"
    for kind, name in ((returned, RETURNED), (extended, EXTENDED), (NOTICE, NOTICE)):
        assert rung_name(kind) == name
        assert not is_rung(kind)


def test_the_sql_twin_matches_what_is_rung_matches() -> None:
    condition = is_rung_sql(column("kind"))
    sql = condition.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    assert str(sql) == "kind LIKE '%@%'"


def test_every_message_that_is_no_rung_has_an_sms_template() -> None:
    from config.campaign.sms import ACTION_TEMPLATES
    from models import kinds

    names = {kinds.NOTICE, kinds.RETURNED, kinds.EXTENDED, kinds.RESENT, kinds.REASSIGNED}
    assert set(ACTION_TEMPLATES) == names
