"""Helpers for tests that drive `duban web` over HTTP: a launched campaign with real mail, a
department posting its form, a coordinator signed in with the CSRF token read off the page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from config.clock import parse_instant
from flows.launch import launch_flow
from models.db import get_engine
from tasks.accounts import save_account
from tests.campaigns import LAUNCH_DAY, dept, links_in, write_campaign
from tests.receivers import SmtpReceiver

TZ = "Asia/Shanghai"
LAUNCHED = parse_instant(LAUNCH_DAY)
# The server's clock in most tests: a Friday before the default ladder's first reminder
# (Monday 2021-09-27) and the deadline (2021-09-30).
SERVER_NOW = "2021-09-24T10:00:00+08:00"
USER = "office"
PASSWORD = "correct-horse-battery"
OFFICE = "office@county.test"

# The smallest files each check lets through: real magic numbers, nothing else.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def address(code: str) -> str:
    return f"{code}@county.test"


def launch_units(
    tmp_path: Path,
    smtp: SmtpReceiver,
    codes: list[str],
    *,
    slug: str = "test-campaign",
    extra_notify: dict[str, list[str]] | None = None,
    names: dict[str, str] | None = None,
    **campaign: Any,
) -> tuple[Path, dict[str, str]]:
    """Launch a campaign whose units get their notices at the test SMTP server; returns the
    campaign file and each unit's token, read from its notice."""
    extra_notify = extra_notify or {}
    names = names or {}
    departments = [
        dept(
            code,
            smtp.url(address(code)),
            *extra_notify.get(code, []),
            name=names.get(code, f"{code}局"),
            duties=[f"{code}局开展质量宣传活动。"],
        )
        for code in codes
    ]
    campaign.setdefault(
        "coordinator", {"name": "测试办公室", "phone": "0598-0000000", "notify": [smtp.url(OFFICE)]}
    )
    path = write_campaign(tmp_path / f"{slug}.yaml", departments, slug=slug, **campaign)
    launch_flow(path=str(path), now=LAUNCHED)
    return path, {code: latest_link(smtp, address(code)) for code in codes}


def latest_link(smtp: SmtpReceiver, to: str) -> str:
    mails = smtp.to(to)
    assert mails, f"no mail to {to}"
    (token,) = links_in(mails[-1].body)
    return token


def headed(smtp: SmtpReceiver, to: str, heading: str) -> list[str]:
    """Bodies of the mails to `to` whose subject starts with 【heading】."""
    return [
        m.body.replace("\r\n", "\n") for m in smtp.to(to) if m.subject.startswith(f"【{heading}】")
    ]


def wait_until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def stored_files(data_dir: Path) -> list[tuple[str, int]]:
    """Every file under the attachments folder (temporary parts included), with its size."""
    root = data_dir / "attachments"
    if not root.exists():
        return []
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    )


def rows(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with get_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def execute(sql: str, **params: Any) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(sql), params)


def scalar(sql: str, **params: Any) -> Any:
    with get_engine().connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def unit_status(code: str) -> str:
    return str(
        scalar(
            "SELECT a.status FROM assignment a JOIN department d ON d.id = a.department_id "
            "WHERE d.code = :c",
            c=code,
        )
    )


def ledger(code: str) -> list[tuple[str, str, str]]:
    """(kind, channel, state) of every message to or about a unit, in order."""
    return [
        (str(k), str(c), str(s))
        for k, c, s in rows(
            "SELECT n.kind, n.channel, n.state FROM notification n "
            "JOIN assignment a ON a.id = n.assignment_id "
            "JOIN department d ON d.id = a.department_id WHERE d.code = :c ORDER BY n.id",
            c=code,
        )
    ]


# --- pages -----------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action -> the values of its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            self.forms[-1][1][a.get("name", "")] = a.get("value", "")


def form_fields(html: str, action_suffix: str) -> dict[str, str]:
    """The hidden fields of the one form on the page whose action ends with `action_suffix`."""
    parser = _Forms()
    parser.feed(html)
    found = [fields for action, fields in parser.forms if action.endswith(action_suffix)]
    assert len(found) == 1, f"{len(found)} forms posting to …{action_suffix}"
    return found[0]


def has_form(html: str, action_suffix: str) -> bool:
    parser = _Forms()
    parser.feed(html)
    return any(action.endswith(action_suffix) for action, _ in parser.forms)


def submit_form(html: str) -> dict[str, str]:
    """The hidden fields of a link page's submission form (it has a `form_key`)."""
    parser = _Forms()
    parser.feed(html)
    (fields,) = [f for _, f in parser.forms if "form_key" in f]
    return fields


def page_error(html: str) -> str:
    found = re.findall(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    return " ".join(found)


class Department:
    """A department with its link: reads its page and posts its form like a browser does."""

    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.token = token
        self.url = f"/d/{token}"

    def page(self) -> httpx.Response:
        return self.client.get(self.url)

    def form_key(self) -> str:
        page = self.page()
        assert page.status_code == 200, page.text
        return submit_form(page.text)["form_key"]

    def acknowledge(self) -> httpx.Response:
        return self.client.post(self.url, data={"action": "acknowledge"})

    def submit(
        self,
        summary: str,
        files: list[tuple[str, bytes]] | None = None,
        form_key: str | None = None,
        headline: str | None = None,
    ) -> httpx.Response:
        key = form_key if form_key is not None else self.form_key()
        parts = [
            ("attachments", (name, data, "application/octet-stream")) for name, data in files or []
        ]
        data = {"action": "submit", "form_key": key, "summary": summary}
        if headline is not None:  # the optional 标题 field, as a browser sends it filled in
            data["headline"] = headline
        return self.client.post(self.url, data=data, files=parts or None)

    def close(self) -> None:
        self.client.close()


class Dashboard:
    """A coordinator in a browser: signs in, reads pages, posts the forms it finds on them."""

    def __init__(self, base: str, *, login: bool = True) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        if login:
            self.login()

    def login(self, username: str = USER, password: str = PASSWORD) -> httpx.Response:
        answer = self.client.post(
            "/login", data={"username": username, "password": password, "next": "/"}
        )
        assert answer.status_code == 303, answer.text
        assert "duban_session" in self.client.cookies
        return answer

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def page(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        return answer.text

    def unit(self, code: str, slug: str = "test-campaign") -> str:
        return self.page(f"/c/{slug}/u/{code}")

    def act(
        self,
        code: str,
        action: str,
        *,
        page: str | None = None,
        slug: str = "test-campaign",
        **fields: str,
    ) -> httpx.Response:
        """Post the unit page's form for `action`, with its hidden fields (the CSRF token, the
        version read, the form key) as the page gave them, plus `fields`."""
        html = page if page is not None else self.unit(code, slug)
        data = {**form_fields(html, f"/u/{code}/{action}"), **fields}
        return self.client.post(f"/c/{slug}/u/{code}/{action}", data=data)

    def close(self) -> None:
        self.client.close()


def coordinator_account() -> None:
    save_account(USER, PASSWORD)
