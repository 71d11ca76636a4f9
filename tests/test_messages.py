"""Messages' words, without a database or a flow: the days overdue that a reminder states
count the same as everywhere else (`config.clock.days_overdue`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.calendars import WorkCalendar
from config.campaign.schema import CampaignSettings
from config.clock import days_overdue, end_of_day
from models.queries import Outgoing
from tasks.messages.render import render

pytestmark = pytest.mark.pure

TZ = "Asia/Shanghai"
SPEC = CampaignSettings.stored(
    {
        "slug": "quality-month",
        "title": "2021年质量月活动",
        "due": "2021-09-30T17:00",
        "timezone": TZ,
        "escalation": [{"name": "overdue", "days": 0, "wording": "overdue"}],
    }
)
# 2021-09-30 17:00 in Asia/Shanghai: a deadline with a time, so its own day goes on after it.
DUE = datetime(2021, 9, 30, 9, 0, tzinfo=UTC)


def overdue_notice(now: datetime, spec: CampaignSettings = SPEC) -> str:
    item = Outgoing(
        notification_id=1,
        kind="overdue@202109301000",
        channel="mailto:zlb@example.test",
        recipient="department",
        assignment_id=1,
        due_at=DUE,
        department_code="zlb",
        department_name="县质监局",
        department_contact=None,
        duties=[],
        salt=None,
        token_hash=None,
        slug="quality-month",
        campaign_spec=spec,
    )
    return render(item, "http://duban.test/d/x", now, WorkCalendar()).body


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2021, 9, 30, 10, 0, tzinfo=UTC), 1),  # 18:00, the deadline's own day
        (datetime(2021, 9, 30, 15, 59, tzinfo=UTC), 1),  # 23:59, still its own day
        (datetime(2021, 9, 30, 16, 0, tzinfo=UTC), 1),  # 00:00 the next day
        (datetime(2021, 10, 8, 1, 0, tzinfo=UTC), 8),
    ],
)
def test_a_reminder_states_the_days_overdue_the_clock_counts(now: datetime, days: int) -> None:
    assert days_overdue(DUE, now, TZ) == days
    assert f"已超过报送时限{days}个自然日" in overdue_notice(now)


def test_nothing_is_overdue_until_the_deadline_passes() -> None:
    assert days_overdue(DUE, datetime(2021, 9, 30, 8, 59, tzinfo=UTC), TZ) == 0
    assert days_overdue(DUE, DUE, TZ) == 0
    # A deadline at the end of its day is past only on the next day.
    day_end = end_of_day(DUE.date(), TZ)
    assert days_overdue(day_end, datetime(2021, 9, 30, 15, 0, tzinfo=UTC), TZ) == 0
    assert days_overdue(day_end, datetime(2021, 9, 30, 16, 0, tzinfo=UTC), TZ) == 1


def test_a_duban_sets_its_new_limit_in_working_days_or_asks_at_once() -> None:
    friday = datetime(2021, 10, 8, 1, 0, tzinfo=UTC)  # 09:00 on the first day after the holiday
    # A rung without `reply_within` asks for delivery at once.
    assert "请接此通知后立即报送，并书面说明逾期原因" in overdue_notice(friday)
    # Three working days on: the make-up Saturday 10-9, Monday 10-11, Tuesday 10-12.
    rung = {"name": "overdue", "days": 0, "wording": "overdue", "reply_within": 3}
    spec = CampaignSettings.stored({**SPEC.model_dump(mode="json"), "escalation": [rung]})
    said = overdue_notice(friday, spec)
    assert "请于2021年10月12日（星期二）24时前报送，并书面说明逾期原因" in said
    assert "立即" not in said
