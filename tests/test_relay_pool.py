"""Mail through the office's relay over kept connections: a dropped connection costs no unit
its notice and sends none twice; a refused address fails only its own message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from models.db import get_engine
from tasks.status import campaign_status
from tests.campaigns import LAUNCH_DAY, dept, notice_ledger, write_campaign
from tests.receivers import FaultySmtpReceiver

pytestmark = pytest.mark.prefect

NOW = parse_instant(LAUNCH_DAY)
UNITS = 30
OFFICE = "office@county.test"


def _relay(monkeypatch: pytest.MonkeyPatch, **faults: object) -> Iterator[FaultySmtpReceiver]:
    receiver = FaultySmtpReceiver(**faults)  # type: ignore[arg-type]
    receiver.start()
    monkeypatch.setenv("DUBAN_SMTP_URL", receiver.relay_url())
    get_settings.cache_clear()
    yield receiver
    receiver.stop()


@pytest.fixture
def dropping(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultySmtpReceiver]:
    yield from _relay(monkeypatch, drop_after=7)


@pytest.fixture
def losing(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultySmtpReceiver]:
    yield from _relay(monkeypatch, drop_after=7, lose_answer=True)


def _launch(tmp_path: Path, **extra: object) -> tuple[Path, list[str]]:
    addresses = [f"u{i:02d}@county.test" for i in range(UNITS)]
    departments = [dept(a.split("@")[0], a) for a in addresses]
    path = write_campaign(tmp_path / "c.yaml", departments, **extra)
    return path, addresses


def _notices(relay: FaultySmtpReceiver, address: str) -> int:
    return sum(m.subject.startswith("【任务通知】") for m in relay.to(address))


def _states() -> dict[str, int]:
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT state, count(*) FROM notification GROUP BY state"))
        return {state: n for state, n in rows.all()}


def test_a_connection_dropped_between_messages_costs_no_unit_its_notice(
    tmp_path: Path, dropping: FaultySmtpReceiver
) -> None:
    path, addresses = _launch(tmp_path)

    summary = launch_flow(path=str(path), now=NOW)
    monitor_flow(now=NOW + timedelta(hours=1))

    # The message after the 7th met a dead connection before anything was sent: it went out
    # on a new one. Every unit has its notice, once; all are recorded sent.
    assert summary.delivery.sent == UNITS and not summary.delivery.failed
    assert {a: _notices(dropping, a) for a in addresses} == {a: 1 for a in addresses}
    assert _states() == {"sent": UNITS}
    # Kept connections: a few for the whole campaign, not one per message.
    assert len(dropping.peers) <= get_settings().send_workers + 1


def test_a_message_whose_answer_was_lost_is_unconfirmed_and_not_sent_twice(
    tmp_path: Path, losing: FaultySmtpReceiver
) -> None:
    path, addresses = _launch(tmp_path)

    summary = launch_flow(path=str(path), now=NOW)
    after = monitor_flow(now=NOW + timedelta(hours=1))

    # The 7th message reached the relay and the connection died before its answer: only
    # that message is unconfirmed (left `sending`, shown by `status`), never resent blindly;
    # the others, before and after it on the same connections, are sent and recorded.
    assert summary.delivery.sent == UNITS - 1 and not summary.delivery.failed
    assert summary.delivery.unconfirmed == 1 and summary.unconfirmed == 1
    assert after.delivery.sent == 0
    assert {a: _notices(losing, a) for a in addresses} == {a: 1 for a in addresses}
    assert _states() == {"sent": UNITS - 1, "sending": 1}
    rows = campaign_status("test-campaign", NOW).rows
    (lost,) = [r.code for r in rows if r.notices_unconfirmed]
    assert lost == losing.mails[6].rcpt[0].split("@")[0]


def test_a_refused_address_fails_for_good_and_the_coordinator_is_told(
    tmp_path: Path, dropping: FaultySmtpReceiver
) -> None:
    dropping.drop_after = 0
    dropping.refuse = {"u03@county.test"}
    path, addresses = _launch(tmp_path, coordinator={"name": "办公室", "notify": [OFFICE]})

    summary = launch_flow(path=str(path), now=NOW)

    (failure,) = summary.delivery.failed
    assert failure.department_code == "u03"
    assert "550" in failure.reason and "mailbox unavailable" in failure.reason
    assert {a: _notices(dropping, a) for a in addresses} == {
        a: 0 if a == "u03@county.test" else 1 for a in addresses
    }
    # A 5xx is the relay's final word: marked, no retry planned, the coordinator told once.
    row = notice_ledger()["u03"]
    assert row["state"] == "failed" and row["next_attempt_at"] is None, row
    assert str(row["last_error"]).startswith("misconfigured: relay refused at RCPT: 550"), row
    told = [m for m in dropping.to(OFFICE) if m.subject.startswith("【渠道配置有误】")]
    assert len(told) == 1 and "550" in told[0].body
    rows = {r.code: r for r in campaign_status("test-campaign", NOW).rows}
    assert "550" in (rows["u03"].last_error or "")
    for hours in (1, 5, 30):
        monitor_flow(now=NOW + timedelta(hours=hours))
    assert _notices(dropping, "u03@county.test") == 0
    assert len([m for m in dropping.to(OFFICE) if m.subject.startswith("【渠道配置有误】")]) == 1


def test_a_relay_that_asks_to_come_back_later_gets_the_message_once_later(
    tmp_path: Path, dropping: FaultySmtpReceiver
) -> None:
    dropping.drop_after = 0
    dropping.defer = {"u05@county.test": 2, "u06@county.test": 1}
    path, addresses = _launch(tmp_path)

    summary = launch_flow(path=str(path), now=NOW)

    assert sorted(f.department_code for f in summary.delivery.failed) == ["u05", "u06"]
    ledger = notice_ledger()
    for code in ("u05", "u06"):
        row = ledger[code]
        # A 4xx is not the channel's fault: failed, not marked, tried again after the backoff.
        assert row["state"] == "failed" and row["next_attempt_at"] is not None, row
        assert str(row["last_error"]).startswith("relay refused at RCPT: 451"), row
    for hours in (1, 5, 30):
        monitor_flow(now=NOW + timedelta(hours=hours))
    assert {a: _notices(dropping, a) for a in addresses} == dict.fromkeys(addresses, 1)
    assert _states() == {"sent": UNITS}
