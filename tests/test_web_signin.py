"""Signing in under attack, sessions that end on the server, and numbers in requests that are
out of range: against a real `duban web` process, its database and its log. Each client
connects from a loopback address of its own (127.0.x.y), which the server sees as a client
of its own."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from config.clock import parse_instant
from tasks.accounts import save_account
from tests.campaigns import snapshot
from tests.receivers import SmtpReceiver
from tests.web_helpers import (
    PASSWORD,
    PDF,
    SERVER_NOW,
    USER,
    Department,
    coordinator_account,
    form_fields,
    launch_units,
    rows,
    scalar,
)
from tests.web_server import web_process, web_server

LOCK_SECONDS = 3  # the first lock, in these tests (a minute by default)
THROTTLED = "登录尝试过于频繁，请1分钟后再试。"


def browser(base: str, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=base, transport=transport, follow_redirects=False, timeout=60)


def sign_in(client: httpx.Client, password: str, username: str = USER) -> httpx.Response:
    return client.post("/login", data={"username": username, "password": password, "next": "/"})


def throttled(answer: httpx.Response) -> None:
    assert answer.status_code == 429, (answer.status_code, answer.text[:300])
    assert THROTTLED in answer.text
    assert 1 <= int(answer.headers["retry-after"]) <= LOCK_SECONDS
    assert "duban_session" not in answer.headers.get("set-cookie", "")


def no_traceback(log: Path) -> None:
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "Exception" not in text, text[-3000:]


def test_wrong_passwords_are_throttled_per_account_and_address_then_let_through() -> None:
    coordinator_account()
    save_account("second", "another-account-pw")
    with web_process(DUBAN_SIGNIN_LOCK_SECONDS=str(LOCK_SECONDS)) as server:
        base = server.base
        # One address, one account: five wrong passwords are checked, then the account is
        # locked for that address, even for the right password.
        desk = browser(base, "127.0.1.1")
        assert [sign_in(desk, f"wrong-{i}").status_code for i in range(5)] == [401] * 5
        throttled(sign_in(desk, "wrong-5"))
        throttled(sign_in(desk, PASSWORD))
        # From another address the owner signs in: the account itself is not locked.
        office = browser(base, "127.0.1.2")
        assert sign_in(office, PASSWORD).status_code == 303
        assert "duban_known" in office.cookies
        # After the lock, the right password is let through, and the counts start again.
        time.sleep(LOCK_SECONDS + 0.5)
        assert sign_in(desk, PASSWORD).status_code == 303

        # One address trying many names: the twenty-first is refused, whatever the name.
        sprayer = browser(base, "127.0.2.1")
        answers = [sign_in(sprayer, "guess-123456", f"name-{i}").status_code for i in range(20)]
        assert answers == [401] * 20
        throttled(sign_in(sprayer, "guess-123456", "name-20"))
        throttled(sign_in(sprayer, "another-account-pw", "second"))

        # Many addresses guessing one account: after twenty failures the account is locked
        # for any browser that never signed in to it, from anywhere...
        for n in range(5):
            guesser = browser(base, f"127.0.3.{n + 1}")
            assert [sign_in(guesser, f"w-{n}-{i}").status_code for i in range(4)] == [401] * 4
        throttled(sign_in(browser(base, "127.0.4.1"), PASSWORD))
        throttled(sign_in(browser(base, "127.0.1.2"), PASSWORD))
        # ...but not for the browser the owner signed in with before.
        assert sign_in(office, PASSWORD).status_code == 303
        # Another account is not concerned.
        assert sign_in(browser(base, "127.0.4.2"), "another-account-pw", "second").is_redirect
        # The counts are kept in the database, where every worker process reads them.
        keys = {k for (k,) in rows("SELECT key FROM signinfailures WHERE locked_until IS NOT NULL")}
        assert {f"account:{USER}", "address:127.0.2.1"} <= keys
        time.sleep(LOCK_SECONDS + 0.5)
        assert sign_in(browser(base, "127.0.4.1"), PASSWORD).status_code == 303
        no_traceback(server.log)


async def _burst(base: str, count: int, spread: bool) -> Counter[int]:
    """The answers to `count` wrong sign-ins sent at once (the clients are made before: each
    costs this process tens of milliseconds)."""
    clients = [
        httpx.AsyncClient(
            base_url=base,
            transport=httpx.AsyncHTTPTransport(
                local_address=f"127.0.{10 + i // 250}.{1 + i % 250}" if spread else "127.0.9.1"
            ),
            timeout=120,
        )
        for i in range(count)
    ]

    async def one(i: int) -> int:
        name = f"someone-{i}" if spread else USER
        data = {"username": name, "password": f"wrong-{i}", "next": "/"}
        return (await clients[i].post("/login", data=data)).status_code

    try:
        return Counter(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        for client in clients:
            await client.aclose()


def _burst_alone(base: str, count: int, spread: bool) -> Counter[int]:
    """`_burst` on a thread of its own: the session's browser (Playwright's sync API) keeps an
    event loop running on this thread once a browser test has run in this worker."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(_burst(base, count, spread))).result()


def test_a_burst_of_wrong_sign_ins_costs_the_server_little_memory() -> None:
    coordinator_account()
    with web_process() as server:
        one_account = _burst_alone(server.base, 300, spread=False)
        # Five or six checked (two run at once), the rest refused without a check.
        assert one_account[401] <= 6 and one_account[429] >= 294, one_account
        # Every request another name from another address: none is throttled, each needs a
        # check, and they wait in line for one of the two, or are told to come back.
        spread = _burst_alone(server.base, 300, spread=True)
        assert set(spread) <= {401, 503} and spread[401] >= 10, spread
        peak_mb = server.status_kb("VmHWM") / 1024
        # Without the bound, 300 checks at once took the server from 118 MB to 898 MB.
        assert peak_mb < 300, peak_mb
        assert sign_in(browser(server.base, "127.0.8.1"), PASSWORD).status_code == 303
        no_traceback(server.log)


@pytest.mark.prefect
def test_signing_out_ends_the_session_on_the_server(tmp_path: Path, smtp: SmtpReceiver) -> None:
    launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        desk = browser(base, "127.0.1.1")
        assert sign_in(desk, PASSWORD).status_code == 303
        cookie = desk.cookies["duban_session"]
        page = desk.get("/c/test-campaign/u/a").text
        fields = form_fields(page, "/u/a/extend")
        logout = form_fields(page, "/logout")
        assert desk.post("/logout", data=logout).headers["location"] == "/login"
        assert scalar("SELECT count(*) FROM coordinatorsession WHERE revoked_at IS NULL") == 0

        # The cookie a copy of the browser kept: the dashboard sends it to sign in...
        old = browser(base, "127.0.1.1")
        old.cookies.set("duban_session", cookie)
        answer = old.get("/c/test-campaign/u/a")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        # ...and its form, with the CSRF token that matched it, changes nothing.
        before, mails = snapshot(), len(smtp.mails)
        answer = old.post("/c/test-campaign/u/a/extend", data={**fields, "due": "2021-12-31"})
        assert answer.status_code == 403 and "请先登录" in answer.text
        assert snapshot() == before and len(smtp.mails) == mails


def test_a_new_password_ends_every_session_of_the_account() -> None:
    coordinator_account()
    save_account("second", "another-account-pw")
    with web_server() as base:
        desks = [browser(base, f"127.0.1.{i}") for i in (1, 2)]
        for desk in desks:
            assert sign_in(desk, PASSWORD).status_code == 303
        other = browser(base, "127.0.1.3")
        assert sign_in(other, "another-account-pw", "second").status_code == 303
        refused = _coordinator_add("short")  # too short: nothing changes
        assert refused.returncode == 2
        assert all(desk.get("/").status_code == 200 for desk in desks)
        done = _coordinator_add("a-brand-new-password")
        assert done.returncode == 0 and "signed out" in done.stdout
        for desk in desks:
            answer = desk.get("/")
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert other.get("/").status_code == 200


def _coordinator_add(password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "coordinator", "add", USER, "--password-stdin"],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_session_left_idle_ends() -> None:
    coordinator_account()
    start = parse_instant(SERVER_NOW)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    with web_server(DUBAN_NOW=at(0)) as base:
        desk = browser(base, "127.0.1.1")
        assert sign_in(desk, PASSWORD).status_code == 303
    # 119 minutes later the session is used, which counts as its last use...
    with web_server(DUBAN_NOW=at(119)) as base:
        desk = _same_browser(base, desk)
        assert desk.get("/").status_code == 200
    # ...so two hours after the sign-in it still holds; two hours after that use, it ends.
    with web_server(DUBAN_NOW=at(200)) as base:
        desk = _same_browser(base, desk)
        assert desk.get("/").status_code == 200
    with web_server(DUBAN_NOW=at(321)) as base:
        desk = _same_browser(base, desk)
        answer = desk.get("/")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    # The idle time is a setting.
    with web_server(DUBAN_NOW=at(0)) as base:
        short = browser(base, "127.0.1.2")
        assert sign_in(short, PASSWORD).status_code == 303
    with web_server(DUBAN_NOW=at(6), DUBAN_SESSION_IDLE_MINUTES="5") as base:
        assert _same_browser(base, short).get("/").status_code == 303


def _same_browser(base: str, client: httpx.Client) -> httpx.Client:
    """The browser's cookies, against a server restarted on another port."""
    again = browser(base, "127.0.1.1")
    again.cookies.set("duban_session", client.cookies["duban_session"])
    return again


@pytest.mark.prefect
def test_numbers_out_of_range_in_a_request_are_a_404_or_a_sign_in(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    huge, long = "9" * 23, "1" * 5000
    with web_process(DUBAN_NOW=SERVER_NOW) as server:
        base = server.base
        assert Department(base, tokens["a"]).submit("总结", [("a.pdf", PDF)]).is_redirect
        before = snapshot()
        desk = browser(base, "127.0.1.1")
        assert sign_in(desk, PASSWORD).status_code == 303
        link = f"/d/{tokens['a']}"
        for path in (
            f"{link}/files/{huge}",
            f"{link}/files/{2**63}",
            f"{link}/files/%C2%B2",  # ², which str.isdigit takes for a digit
            f"{link}/files/%EF%BC%91",  # a full-width 1
            f"{link}/files/0",
            f"{link}/receipt/{long}",
            f"{link}/receipt/{huge}",
            f"/c/test-campaign/files/{huge}",
            f"/c/test-campaign/files/{2**63}",
            f"/c/{huge}",
            f"/campaigns/{huge}",
            f"/c/test-campaign?page={long}",
            "/c/test-campaign?page=%C2%B2",
            f"/c/test-campaign?page={huge}",
        ):
            answer = desk.get(path)
            assert answer.status_code == 404, (path[:80], answer.status_code)
            assert "页面不存在" in answer.text
        # The largest page number in range is the last page.
        assert desk.get(f"/c/test-campaign?page={2**63 - 1}").status_code == 200
        # A number too large for a row in a form: refused as a bad form, nothing changes.
        page = desk.get("/c/test-campaign/u/a").text
        for version in (huge, str(2**63), "²", long):
            fields = {**form_fields(page, "/u/a/accept"), "version": version}
            answer = desk.post("/c/test-campaign/u/a/accept", data=fields)
            assert answer.status_code == 400, (version[:30], answer.status_code)
        # A CSRF token that is not ASCII, from a live session: refused, not an error.
        answer = desk.post("/c/test-campaign/u/a/accept", data={"csrf": "é" * 32, "version": "1"})
        assert answer.status_code == 403 and "页面已过期" in answer.text
        # Cookies of any shape: the sign-in page, never an error.
        for cookie in (f"1.{long}.x", f"{huge}.{huge}.x", "².².x", "1.²", f"{long}", "é.ü"):
            # As bytes: a browser sends what the cookie holds, UTF-8 or not.
            headers = {"Cookie": f"duban_session={cookie}".encode()}
            anonymous = browser(base, "127.0.1.2")
            answer = anonymous.get("/c/test-campaign", headers=headers)
            assert answer.status_code == 303, (cookie[:30], answer.status_code)
            posted = anonymous.post(
                "/c/test-campaign/u/a/accept", data={"csrf": "é"}, headers=headers
            )
            assert posted.status_code == 403, (cookie[:30], posted.status_code)
        # A body's declared size that is not a plain number.
        for length in ("²", long, huge):
            status = _raw_post(base, link, length)
            assert status in (400, 411, 413), (length[:30], status)
        assert snapshot() == before
        no_traceback(server.log)


def _raw_post(base: str, path: str, length: str) -> int:
    """A POST whose Content-Length header is `length`, sent as bytes (latin-1, as HTTP
    headers are); the status of the answer."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode("latin-1") + b"action=acknowledge")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return int(received.split(b" ", 2)[1])
