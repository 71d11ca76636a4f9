"""Launching a campaign end to end, with real SMTP and HTTP channels."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from config.clock import parse_instant
from flows.launch import launch_flow
from models.db import get_engine
from tasks.messages.tokens import token_hash
from tests.campaigns import LAUNCH_DAY, dept, links_in, write_campaign
from tests.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.prefect

NOW = parse_instant(LAUNCH_DAY)


def _mixed_departments(smtp: SmtpReceiver, http: HttpReceiver, n: int) -> list[dict]:
    """Half by e-mail through the SMTP server, half by a JSON webhook."""
    return [
        dept(
            f"d{i:02d}",
            smtp.url(f"d{i:02d}@county.test") if i % 2 else http.url(f"ok/d{i:02d}"),
            duties=[f"第{i}项任务：开展质量宣传。"],
        )
        for i in range(n)
    ]


def _received(smtp: SmtpReceiver, http: HttpReceiver, code: str) -> list[str]:
    """Bodies of every message the department `code` received, on either channel."""
    return [m.body for m in smtp.to(f"{code}@county.test")] + [
        p["message"] for p in http.to(f"ok/{code}")
    ]


def test_every_department_gets_one_notice_with_its_own_link(
    tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    departments = _mixed_departments(smtp, http, 12)
    path = write_campaign(tmp_path / "c.yaml", departments)

    summary = launch_flow(path=str(path), now=NOW)

    assert summary.delivery.sent == 12 and not summary.delivery.failed
    links = {}
    for d in departments:
        bodies = _received(smtp, http, d["code"])
        assert len(bodies) == 1, d["code"]
        body = bodies[0]
        assert body.startswith(f"{d['name']}：")
        assert d["duties"][0] in body
        assert "请于2021年9月30日（星期四）24时前报送" in body
        (link,) = links_in(body)
        links[d["code"]] = link
    assert len(set(links.values())) == 12
    assert all(len(token) >= 43 for token in links.values())  # 256 bits, base64url

    with get_engine().connect() as conn:
        hashes = dict(
            conn.execute(
                text(
                    "SELECT d.code, t.token_hash FROM linktoken t "
                    "JOIN assignment a ON a.id = t.assignment_id "
                    "JOIN department d ON d.id = a.department_id"
                )
            ).all()
        )
        dump = " ".join(
            str(v)
            for t in ("linktoken", "notification", "assignment", "campaign")
            for row in conn.execute(text(f"SELECT * FROM {t}"))
            for v in row
        )
    assert hashes == {code: token_hash(token) for code, token in links.items()}
    assert not any(token in dump for token in links.values())  # only hashes are stored


def test_second_launch_sends_nothing_and_a_new_department_gets_only_its_notice(
    tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    departments = _mixed_departments(smtp, http, 6)
    path = write_campaign(tmp_path / "c.yaml", departments)
    launch_flow(path=str(path), now=NOW)
    before = len(smtp.mails) + len(http.posts)

    again = launch_flow(path=str(path), now=NOW)
    assert (again.assignments_created, again.messages_planned, again.delivery.sent) == (0, 0, 0)
    assert len(smtp.mails) + len(http.posts) == before

    departments.append(dept("late", smtp.url("late@county.test")))
    write_campaign(path, departments)
    third = launch_flow(path=str(path), now=NOW)
    assert (third.assignments_created, third.delivery.sent) == (1, 1)
    assert len(smtp.mails) + len(http.posts) == before + 1
    assert len(smtp.to("late@county.test")) == 1
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM assignment")).scalar_one() == 7
        assert conn.execute(text("SELECT count(*) FROM notification")).scalar_one() == 7


def test_refusing_and_stalled_channels_fail_with_reason_and_are_retried(
    tmp_path: Path, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    departments = [
        dept("good1", smtp.url("good1@county.test")),
        dept("refuse", http.url("refuse/x")),
        dept("slow", http.url("slow/x")),
        dept("nosmtp", f"mailto://127.0.0.1:{_closed_port()}?from=a@duban.test&to=n@county.test"),
        dept("good2", http.url("ok/good2")),
    ]
    path = write_campaign(tmp_path / "c.yaml", departments)

    summary = launch_flow(path=str(path), now=NOW)

    failed = {f.department_code: f.reason for f in summary.delivery.failed}
    assert set(failed) == {"refuse", "slow", "nosmtp"}
    assert "500" in failed["refuse"]
    assert "timed out" in failed["slow"].lower() or "timeout" in failed["slow"].lower()
    assert "refused" in failed["nosmtp"].lower() or "connection" in failed["nosmtp"].lower()
    assert len(smtp.to("good1@county.test")) == 1 and len(http.to("ok/good2")) == 1
    with get_engine().connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "SELECT d.code, n.state || ':' || n.attempts FROM notification n "
                    "JOIN assignment a ON a.id = n.assignment_id "
                    "JOIN department d ON d.id = a.department_id"
                )
            ).all()
        )
    assert rows == {
        "good1": "sent:1",
        "good2": "sent:1",
        "refuse": "failed:1",
        "slow": "failed:1",
        "nosmtp": "failed:1",
    }

    http.refusing = False
    http.slow_seconds = 0
    retry = launch_flow(path=str(path), now=NOW)
    assert retry.delivery.sent == 2  # refuse and slow; good ones are not sent again
    assert {f.department_code for f in retry.delivery.failed} == {"nosmtp"}
    assert len(http.to("refuse/x")) == 1 and len(http.to("slow/x")) == 1
    assert len(smtp.to("good1@county.test")) == 1 and len(http.to("ok/good2")) == 1


def test_two_launches_at_once_send_each_notice_once(tmp_path: Path, smtp: SmtpReceiver) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tasks.messages.send import send_batch

    departments = [dept(f"d{i}", smtp.url(f"d{i}@county.test")) for i in range(40)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    launch_flow(path=str(path), now=NOW)
    assert len(smtp.mails) == 40
    with get_engine().begin() as conn:  # as if the launch had been stopped before sending
        conn.execute(text("UPDATE notification SET state = 'pending'"))
    with get_engine().connect() as conn:
        ids = [i for (i,) in conn.execute(text("SELECT id FROM notification"))]
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: send_batch.fn(ids, NOW), range(2)))
    assert sum(r.sent for r in reports) == 40
    assert sum(r.skipped for r in reports) == 40
    assert len(smtp.mails) == 80  # each of the 40 exactly once more


def test_email_addresses_go_through_the_relay_when_one_is_set(
    tmp_path: Path, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("DUBAN_SMTP_URL", smtp.relay_url())
    get_settings.cache_clear()
    path = write_campaign(
        tmp_path / "c.yaml",
        [dept("a", "a@county.test"), dept("b", "mailto:b@county.test", "b2@county.test")],
    )
    summary = launch_flow(path=str(path), now=NOW)
    assert summary.delivery.sent == 3 and not summary.delivery.outbox
    assert {r for m in smtp.mails for r in m.rcpt} == {
        "a@county.test",
        "b@county.test",
        "b2@county.test",
    }
    # Both of b's addresses carry the same personal link.
    assert links_in(smtp.to("b@county.test")[0].body) == links_in(smtp.to("b2@county.test")[0].body)


def test_without_a_relay_mail_lands_in_the_outbox(tmp_path: Path, duban_env: Path) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test"), dept("b", "b@c.test")])
    summary = launch_flow(path=str(path), now=NOW)
    assert summary.delivery.sent == 2
    files = sorted((duban_env / "outbox" / "test-campaign").glob("*.eml"))
    assert [f.name.split("-")[0] for f in files] == ["a", "b"]
    from email import message_from_bytes, policy

    mail = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert mail["To"] == "a@county.test"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    printed = {c.department_code: c.link for c in summary.delivery.outbox}
    assert links_in(body) == [printed["a"].rsplit("/", 1)[1]]
    assert "8bit" in files[0].read_text(encoding="utf-8")  # readable in a text editor


def _closed_port() -> int:
    from tests.receivers import free_port

    return free_port()


def _ledger() -> dict[str, str]:
    with get_engine().connect() as conn:
        return {
            f"{code}:{channel}": state
            for code, channel, state in conn.execute(
                text(
                    "SELECT d.code, n.channel, n.state FROM notification n "
                    "JOIN assignment a ON a.id = n.assignment_id "
                    "JOIN department d ON d.id = a.department_id"
                )
            )
        }


def test_a_corrected_address_replaces_the_failed_one(tmp_path: Path, smtp: SmtpReceiver) -> None:
    wrong = f"mailto://127.0.0.1:{_closed_port()}?from=a@duban.test&to=x@county.test"
    departments = [dept("a", smtp.url("a@county.test")), dept("x", wrong)]
    path = write_campaign(tmp_path / "c.yaml", departments)
    assert len(launch_flow(path=str(path), now=NOW).delivery.failed) == 1

    departments[1] = dept("x", smtp.url("x@county.test"))
    write_campaign(path, departments)
    fixed = launch_flow(path=str(path), now=NOW)
    assert fixed.delivery.sent == 1 and not fixed.delivery.failed
    assert len(smtp.to("x@county.test")) == 1 and len(smtp.to("a@county.test")) == 1
    assert _ledger()[f"x:{wrong}"] == "withdrawn"

    again = launch_flow(path=str(path), now=NOW)  # the wrong address is not tried again
    assert again.delivery.sent == 0 and not again.delivery.failed


def test_a_department_taken_out_of_the_file_is_kept_and_not_notified(
    tmp_path: Path, http: HttpReceiver
) -> None:
    from tasks.status import campaign_status

    departments = [dept("a", http.url("ok/a")), dept("gone", http.url("refuse/gone"))]
    path = write_campaign(tmp_path / "c.yaml", departments)
    launch_flow(path=str(path), now=NOW)
    write_campaign(path, departments[:1])
    http.refusing = False
    summary = launch_flow(path=str(path), now=NOW)
    assert summary.absent_codes == ["gone"]
    assert summary.delivery.sent == 0 and not summary.delivery.failed
    assert http.to("refuse/gone") == []
    rows = {r.code: r for r in campaign_status("test-campaign", NOW).rows}
    assert not rows["gone"].in_file and rows["a"].in_file

    write_campaign(path, departments)  # put back: its notice is due again
    back = launch_flow(path=str(path), now=NOW)
    assert back.delivery.sent == 1 and len(http.to("refuse/gone")) == 1


def test_a_new_deadline_moves_every_assignment_still_on_the_old_one(tmp_path: Path) -> None:
    from tasks.status import campaign_status

    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    launch_flow(path=str(path), now=NOW)
    write_campaign(path, [dept("a", "a@county.test"), dept("b", "b@county.test")], due="2021-10-15")
    launch_flow(path=str(path), now=NOW)
    rows = campaign_status("test-campaign", NOW).rows
    assert [r.due for r in rows] == ["2021-10-15T23:59:59+08:00"] * 2


def test_a_secret_in_a_channel_never_reaches_the_recorded_reason(tmp_path: Path) -> None:
    from tasks.status import campaign_status

    secret = "S3CRETKEY0123456789"
    url = f"json://127.0.0.1:{_closed_port()}/cgi-bin/webhook/send?key={secret}&cto=1"
    path = write_campaign(tmp_path / "c.yaml", [dept("a", url)])
    summary = launch_flow(path=str(path), now=NOW)
    (failure,) = summary.delivery.failed
    assert "refused" in failure.reason.lower()
    assert secret not in failure.reason
    (row,) = campaign_status("test-campaign", NOW).rows
    assert row.last_error and secret not in row.last_error


def test_an_unconfirmed_notice_is_not_resent_unless_asked(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    from models import queries as q
    from tasks.status import campaign_status

    path = write_campaign(
        tmp_path / "c.yaml",
        [dept("a", smtp.url("a@county.test")), dept("b", smtp.url("b@county.test"))],
    )
    launch_flow(path=str(path), now=NOW)
    with get_engine().begin() as conn:
        # As a launch killed after sending b's notice and before recording it leaves it.
        conn.execute(text("UPDATE notification SET state = 'pending' WHERE channel LIKE '%to=b@%'"))
        (bid,) = conn.execute(text("SELECT id FROM notification WHERE state = 'pending'")).one()
        assert q.claim(conn, [bid], NOW) == [bid]

    again = launch_flow(path=str(path), now=NOW)
    assert again.delivery.sent == 0 and again.unconfirmed == 1
    assert len(smtp.to("b@county.test")) == 1
    rows = {r.code: r for r in campaign_status("test-campaign", NOW).rows}
    assert rows["b"].notices_unconfirmed == 1

    resent = launch_flow(path=str(path), now=NOW, resend_unconfirmed=True)
    assert (resent.released, resent.delivery.sent, resent.unconfirmed) == (1, 1, 0)
    assert len(smtp.to("b@county.test")) == 2


def test_a_changed_link_key_fails_the_notice_instead_of_sending_a_dead_link(
    tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.settings import get_settings

    path = write_campaign(tmp_path / "c.yaml", [dept("a", http.url("refuse/a"))])
    launch_flow(path=str(path), now=NOW)
    monkeypatch.setenv("DUBAN_SECRET_KEY", "another-key-of-at-least-32-characters!")
    get_settings.cache_clear()
    http.refusing = False
    retry = launch_flow(path=str(path), now=NOW)
    (failure,) = retry.delivery.failed
    assert "link key" in failure.reason
    assert http.to("refuse/a") == []
