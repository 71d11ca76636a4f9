"""Security of the link pages and the dashboard, against a real `duban web` process: campaigns
launched with real mail, departments and a coordinator posting forms over HTTP, and the
database and the attachments folder checked after every refusal."""

from __future__ import annotations

import re
import secrets
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from config.clock import parse_instant
from models import queries as q
from tasks.accounts import Coordinator, save_account
from tasks.sessions import csrf_token, open_session
from tests.campaigns import snapshot
from tests.receivers import SmtpReceiver
from tests.web_helpers import (
    EXE,
    JPEG,
    PASSWORD,
    PDF,
    SERVER_NOW,
    USER,
    Dashboard,
    Department,
    address,
    coordinator_account,
    execute,
    form_fields,
    has_form,
    headed,
    launch_units,
    page_error,
    rows,
    scalar,
    stored_files,
    wait_until,
)
from tests.web_server import web_server

pytestmark = pytest.mark.prefect

MIB = 1024 * 1024
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"


def unit_state(code: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row that belongs to one unit, across the tables."""
    ids = {"c": code}
    by_unit = {
        "department": "SELECT d.* FROM department d WHERE d.code = :c",
        "assignment": "SELECT a.* FROM assignment a JOIN department d ON d.id = a.department_id "
        "WHERE d.code = :c",
        "linktoken": "SELECT t.* FROM linktoken t JOIN assignment a ON a.id = t.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE d.code = :c",
        "notification": "SELECT n.* FROM notification n "
        "JOIN assignment a ON a.id = n.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE d.code = :c",
        "submission": "SELECT s.* FROM submission s JOIN assignment a ON a.id = s.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE d.code = :c",
        "attachment": "SELECT f.* FROM attachment f JOIN submission s ON s.id = f.submission_id "
        "JOIN assignment a ON a.id = s.assignment_id "
        "JOIN department d ON d.id = a.department_id WHERE d.code = :c",
    }
    return {
        table: sorted(tuple(map(str, r)) for r in rows(sql, **ids))
        for table, sql in by_unit.items()
    }


def attachment_ids(code: str) -> list[int]:
    return [
        int(i)
        for (i,) in rows(
            "SELECT f.id FROM attachment f JOIN submission s ON s.id = f.submission_id "
            "JOIN assignment a ON a.id = s.assignment_id "
            "JOIN department d ON d.id = a.department_id WHERE d.code = :c ORDER BY f.id",
            c=code,
        )
    ]


def versions_of(code: str) -> list[tuple[int, str, bool]]:
    return [
        (int(v), str(k), bool(late))
        for v, k, late in rows(
            "SELECT s.version, s.form_key, s.late FROM submission s "
            "JOIN assignment a ON a.id = s.assignment_id "
            "JOIN department d ON d.id = a.department_id WHERE d.code = :c ORDER BY s.version",
            c=code,
        )
    ]


def no_trace(answer: httpx.Response) -> None:
    for word in ("Traceback", "Internal Server Error", "Exception", 'File "/'):
        assert word not in answer.text, answer.text[:2000]


# --- a GET never changes state -----------------------------------------------------------------


def test_no_get_of_any_page_changes_anything(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        sent = a.submit("甲单位的活动总结。", [("现场.jpg", JPEG), ("总结.pdf", PDF)])
        assert sent.status_code == 303 and sent.headers["location"].endswith("/receipt/1")
        jpg_id, pdf_id = attachment_ids("a")
        desk = Dashboard(base)
        before, files, mails = snapshot(), stored_files(duban_env), len(smtp.mails)
        assert len(files) == 2 and before["submission"] and before["attachment"]

        link_a, link_b = f"/d/{tokens['a']}", f"/d/{tokens['b']}"
        department_pages = {
            link_a: "甲单位的活动总结。",
            link_b: "b局",
            link_a + "?action=acknowledge": "已于2021-09-24 10:00签收",
            link_b + "?action=acknowledge&summary=x&form_key=k": "签收任务",
            link_a + "/receipt/1": "（第1版）",
            "/login": "督办工作台",
            "/login?next=/c/test-campaign": 'value="/c/test-campaign"',
        }
        for path, expected in department_pages.items():
            answer = a.client.get(path)
            assert answer.status_code == 200, path
            assert expected in answer.text, path
            # A link checker's HEAD: the GET's status and headers, no body, nothing changed.
            head = a.client.head(path)
            assert head.status_code == 200 and head.content == b"", path
            assert head.headers["content-type"] == answer.headers["content-type"], path
            allowed = a.client.options(path)
            assert allowed.status_code == 204, path
            assert {"GET", "HEAD"} <= set(allowed.headers["allow"].split(", ")), path
        for attachment, content in ((jpg_id, JPEG), (pdf_id, PDF)):
            for client, path in (
                (a.client, f"{link_a}/files/{attachment}"),
                (desk.client, f"/c/test-campaign/files/{attachment}"),
            ):
                answer = client.get(path)
                assert answer.status_code == 200 and answer.content == content, path

        dashboard_pages = [
            ("/", "测试“质量月”活动"),
            ("/c/test-campaign", 'data-code="a"'),
            ("/c/test-campaign/u/a", "甲单位的活动总结。"),
            ("/c/test-campaign/u/b?done=accepted", "已验收该单位的材料。"),
            ("/c/test-campaign/u/a?done=returned&version=1&comment=x", "退回修改"),
            ("/c/test-campaign?page=2", "第 1 / 1 页"),
            ("/c/test-campaign?page=-3&status=nonsense&sort=evil&order=x", 'data-code="b"'),
        ]
        dashboard_pages += [
            (f"/c/test-campaign?status={status}", "共 ") for status in [*q.DASHBOARD_FILTERS]
        ]
        dashboard_pages += [
            (f"/c/test-campaign?sort={sort}&order={order}", 'data-code="a"')
            for sort in q.DASHBOARD_SORTS
            for order in ("asc", "desc")
        ]
        dashboard_pages += [
            ("/c/test-campaign/export.csv", "a局"),
            ("/c/test-campaign/export.csv?status=submitted&sort=name&order=desc", "a局"),
        ]
        for path, expected in dashboard_pages:
            answer = desk.get(path)
            assert answer.status_code == 200, path
            assert expected in answer.text, path
            head = desk.client.head(path)
            assert head.status_code == 200 and head.content == b"", path
        # Signed out, HEAD is sent to sign in as GET is; an action answers OPTIONS with POST.
        assert a.client.head("/c/test-campaign").headers["location"].startswith("/login?next=")
        action = a.client.options("/c/test-campaign/u/a/accept")
        assert action.status_code == 204 and action.headers["allow"] == "OPTIONS, POST"
        assert a.client.options("/no/such/page").status_code == 404
        # A GET of an action's URL is not the action.
        for path in ("/c/test-campaign/u/a/accept?version=1", "/c/test-campaign/u/a/reassign"):
            assert desk.get(path).status_code == 405
        assert a.client.get("/logout").status_code == 405
        assert a.client.head("/logout").status_code == 405

        assert snapshot() == before
        assert stored_files(duban_env) == files
        assert len(smtp.mails) == mails
        # Still signed in: the GETs did not touch the session either.
        assert desk.get("/").status_code == 200


# --- one unit's token reaches only that unit ---------------------------------------------------


def test_a_token_reads_and_writes_only_its_own_unit(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    launch_units(tmp_path, smtp, ["c"], slug="other-campaign")
    coordinator_account()
    secret_bytes = b"%PDF-1.4\nB-ONLY-BYTES-7f3a\n%%EOF\n"
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a, b = Department(base, tokens["a"]), Department(base, tokens["b"])
        assert b.submit("乙单位内部总结 SECRET-B1", [("乙单位.pdf", secret_bytes)]).is_redirect
        assert b.submit("乙单位内部总结 SECRET-B2").headers["location"].endswith("/receipt/2")
        assert a.submit("甲单位总结", [("甲单位.jpg", JPEG)]).is_redirect
        (a_file,) = attachment_ids("a")
        (b_file,) = attachment_ids("b")

        assert a.client.get(f"/d/{tokens['a']}/files/{a_file}").content == JPEG
        for attachment in (b_file, b_file + 100, 0, -1):
            answer = a.client.get(f"/d/{tokens['a']}/files/{attachment}")
            assert answer.status_code == 404, attachment
            assert b"B-ONLY-BYTES" not in answer.content
            assert "乙单位" not in answer.text
        # B's own link does serve it: the refusal above is about the token, not the file.
        assert b.client.get(f"/d/{tokens['b']}/files/{b_file}").content == secret_bytes

        missing = a.client.get(f"/d/{tokens['a']}/receipt/2")  # only B has a version 2
        assert missing.status_code == 404
        assert "SECRET-B" not in missing.text and "乙单位" not in missing.text
        own = a.client.get(f"/d/{tokens['a']}/receipt/1")
        assert "甲单位总结" in own.text and "SECRET-B" not in own.text

        page = a.page().text
        assert "甲单位总结" in page and "a局" in page
        for secret in ("SECRET-B", "乙单位", "b局", f"/files/{b_file}", tokens["b"]):
            assert secret not in page

        # The coordinator reaches a file only through its own campaign.
        desk = Dashboard(base)
        assert desk.get(f"/c/test-campaign/files/{b_file}").content == secret_bytes
        assert desk.get(f"/c/other-campaign/files/{b_file}").status_code == 404
        assert desk.get("/c/other-campaign/u/b").status_code == 404

        # Whatever A posts, even naming B in the form, changes A only.
        b_before, c_before = unit_state("b"), unit_state("c")
        a_before = unit_state("a")
        campaigns_before = snapshot()["campaign"]
        assert a.acknowledge().is_redirect
        forged = a.client.post(
            f"/d/{tokens['a']}",
            data={
                "action": "submit",
                "form_key": secrets.token_urlsafe(16),
                "summary": "甲单位第二版",
                "assignment_id": "2",
                "code": "b",
                "token": tokens["b"],
            },
            files=[("attachments", ("第二版.pdf", PDF, "application/pdf"))],
        )
        assert forged.headers["location"] == f"/d/{tokens['a']}/receipt/2"
        assert unit_state("b") == b_before and unit_state("c") == c_before
        assert snapshot()["campaign"] == campaigns_before
        after = unit_state("a")
        assert after != a_before
        assert [v for v, _, _ in versions_of("a")] == [1, 2]
        assert [v for v, _, _ in versions_of("b")] == [1, 2]
        assert "甲单位第二版" in b.client.get(f"/d/{tokens['a']}").text
        assert "甲单位第二版" not in b.page().text
        assert len(stored_files(duban_env)) == 3


# --- revoked and wrong links -----------------------------------------------------------------


def test_revoked_and_wrong_links_get_a_clear_refusal_and_write_nothing(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        old = Department(base, tokens["a"])
        assert old.submit("甲单位总结 FIRST", [("a.pdf", PDF)]).is_redirect
        (a_file,) = attachment_ids("a")
        desk = Dashboard(base)
        moved = desk.act("a", "reassign", notify=address("new-a"), person="新联系人")
        assert moved.status_code == 303, moved.text
        # DUBAN_SMTP_URL is unset in the server: a plain address lands in the outbox folder.
        assert wait_until(
            lambda: (
                ("sent",) in rows("SELECT state FROM notification WHERE kind LIKE 'reassigned:%'")
            )
        )
        before, files = snapshot(), stored_files(duban_env)

        def refused(answer: httpx.Response, status: int, title: str) -> None:
            assert answer.status_code == status, (answer.status_code, answer.text[:300])
            assert f"<h1>{title}</h1>" in answer.text
            no_trace(answer)
            assert "FIRST" not in answer.text and "a局" not in answer.text
            assert "form_key" not in answer.text

        revoked = f"/d/{tokens['a']}"
        refused(old.client.get(revoked), 410, "链接已失效")
        assert "重新指派" in old.client.get(revoked).text
        refused(old.client.get(revoked + "/receipt/1"), 410, "链接已失效")
        refused(old.acknowledge(), 410, "链接已失效")
        refused(old.submit("改过的总结", [("b.pdf", PDF)], form_key="k" * 20), 410, "链接已失效")
        gone = old.client.get(f"{revoked}/files/{a_file}")
        assert gone.status_code == 404 and PDF not in gone.content

        wrong = [
            secrets.token_urlsafe(32),  # well formed, never issued
            tokens["b"][:-1],  # cut short by a mail client
            tokens["b"] + "A",
            tokens["b"].upper(),
            "garbage!$&'()*+,;=",
            "x" * 5000,
            "中文链接",
            "%00%0d%0a",
            "' OR '1'='1",
        ]
        for token in wrong:
            client = Department(base, token)
            refused(client.page(), 404, "链接无效")
            assert "请检查链接是否完整" in client.page().text
            refused(client.acknowledge(), 404, "链接无效")
            refused(client.submit("总结", [("c.pdf", PDF)], form_key="k" * 20), 404, "链接无效")
            assert client.client.get(f"{client.url}/receipt/1").status_code == 404
            assert client.client.get(f"{client.url}/files/{a_file}").status_code == 404
            client.close()

        assert snapshot() == before
        assert stored_files(duban_env) == files


# --- files -------------------------------------------------------------------------------------


def _raw_post(base: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """Send a request's head and only `body` of it; return the status and page it got."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=15) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode("ascii") + body)
        received = b""
        while b"\r\n\r\n" not in received or not _complete(received):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    status = int(received.split(b" ", 2)[1])
    return status, received.split(b"\r\n\r\n", 1)[1].decode("utf-8", "replace")


def _complete(received: bytes) -> bool:
    head, _, body = received.partition(b"\r\n\r\n")
    found = re.search(rb"content-length: (\d+)", head, re.I)
    return found is not None and len(body) >= int(found.group(1))


def test_oversized_and_disallowed_files_are_refused_and_nothing_is_stored(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (2 * MIB)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    refused = [
        ([("大视频.mp4", mp4)], "附件“大视频.mp4”超过单个文件1MB的上限"),
        ([("setup.exe", EXE)], "附件“setup.exe”的类型不允许上传"),
        ([("总结.pdf.exe", EXE)], "附件“总结.pdf.exe”的类型不允许上传"),
        ([("page.html", b"<html><script>alert(1)</script></html>")], "附件“page.html”的类型不允许"),
        ([("photo.jpg", EXE)], "附件“photo.jpg”的内容与其类型不符"),
        ([("logo.svg", svg)], "附件“logo.svg”的类型不允许上传"),
        ([("好的.pdf", PDF), ("工具.exe", EXE)], "附件“工具.exe”的类型不允许上传"),
        ([("好的.jpg", JPEG), ("大.mp4", mp4)], "附件“大.mp4”超过单个文件1MB的上限"),
    ]
    with web_server(
        DUBAN_NOW=SERVER_NOW, DUBAN_UPLOAD_MAX_FILE_MB="1", DUBAN_UPLOAD_MAX_TOTAL_MB="1"
    ) as base:
        a = Department(base, tokens["a"])
        before = snapshot()
        assert "单个不超过1MB" in a.page().text  # the limits are stated on the page
        for files, message in refused:
            answer = a.submit("本单位总结，附件见后。", files)
            assert 400 <= answer.status_code < 500, (files[-1][0], answer.status_code)
            assert message in page_error(answer.text), (message, page_error(answer.text))
            assert "本单位总结，附件见后。" in answer.text  # kept for the next try
            assert has_form(answer.text, f"/d/{tokens['a']}")
            no_trace(answer)
            assert snapshot() == before
            assert stored_files(duban_env) == []

        # More than the whole form may carry is refused on its declared length, before a
        # byte of the body is read: the server answers though the body never comes.
        key = a.form_key()
        boundary = "duban-test-boundary"
        start = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="form_key"\r\n\r\n{key}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        status, page = _raw_post(
            base,
            f"/d/{tokens['a']}",
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(3 * MIB + 1),
            },
            start + mp4[:1024],
        )
        assert status == 413
        assert "提交内容过大，未保存" in page and "单个不超过1MB" in page
        # A body of unstated length is not read either.
        status, page = _raw_post(
            base,
            f"/d/{tokens['a']}",
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Transfer-Encoding": "chunked",
            },
            f"{len(start):x}\r\n".encode() + start + b"\r\n",
        )
        assert status == 411 and "请通过本页面的表单提交" in page
        assert snapshot() == before
        assert stored_files(duban_env) == []

        # Within the limits the same form goes through: the refusals were about the files.
        assert a.submit("本单位总结。", [("现场.jpg", JPEG)]).is_redirect
        assert len(stored_files(duban_env)) == 1


# --- markup is text; headers -----------------------------------------------------------------


def _no_inline_code(html: str) -> None:
    """What the CSP forbids is not on the page either: every script is a file."""
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", html) == []  # no event handlers


def test_markup_from_departments_and_the_coordinator_shows_as_text(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    name = "<b>测试</b>局&amp;"
    _, tokens = launch_units(tmp_path, smtp, ["a"], names={"a": name})
    coordinator_account()
    summary = f"活动总结：{XSS}\n第二行 & \"引号\" '单引号'"
    comment = "请补充图片<script>alert(3)</script><a href='javascript:alert(4)'>x</a>"
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        sent = a.submit(summary, [("a&b'c<x>.pdf", PDF)])
        receipt_url = sent.headers["location"]
        desk = Dashboard(base)

        pages = {
            "link": a.page(),
            "receipt": a.client.get(receipt_url),
            "unit": desk.get("/c/test-campaign/u/a"),
        }
        for label, answer in pages.items():
            html = answer.text
            assert answer.status_code == 200, label
            assert XSS not in html and "<img src=x" not in html and "alert(1)</script>" not in html
            assert XSS_SHOWN in html, label
            assert "&amp; &#34;引号&#34; &#39;单引号&#39;" in html, label
            assert "a&amp;b&#39;cx.pdf" in html, label  # the file's shown name, escaped
            assert "<b>测试</b>" not in html and "&lt;b&gt;测试&lt;/b&gt;局&amp;amp;" in html
            _no_inline_code(html)

        listing = desk.get("/c/test-campaign").text
        assert "<b>测试</b>" not in listing and "&lt;b&gt;测试&lt;/b&gt;局&amp;amp;" in listing
        _no_inline_code(listing)
        export = desk.get("/c/test-campaign/export.csv")
        assert export.headers["content-type"].startswith("text/csv")
        assert export.headers["content-disposition"].startswith("attachment;")
        (row,) = [line for line in export.text.splitlines() if line.startswith("a,")]
        assert row.startswith(f"a,{name},已报送,")  # verbatim: a CSV is data, not markup

        returned = desk.act("a", "return", comment=comment)
        assert returned.status_code == 303, returned.text
        link = a.page().text
        assert "<script>alert(3)" not in link and "<a href='javascript" not in link
        shown = "请补充图片&lt;script&gt;alert(3)&lt;/script&gt;&lt;a href=&#39;javascript:alert(4)"
        assert shown in link
        assert re.search(r"<h3>退回修改意见</h3>\s*<p class=\"text\">" + re.escape(shown), link)
        assert shown in desk.get("/c/test-campaign/u/a").text
        _no_inline_code(link)
        # The mail is plain text: the comment reaches the department exactly as written.
        mails = wait_until(lambda: headed(smtp, address("a"), "退回修改"))
        assert comment in mails[0]

        # Headers: no inline script, no referrer, no cache for a unit's page.
        checked = {
            "link": a.page(),
            "receipt": a.client.get(receipt_url),
            "refusal": a.client.get("/d/" + "x" * 43),
            "file": a.client.get(f"/d/{tokens['a']}/files/{attachment_ids('a')[0]}"),
            "login": a.client.get("/login"),
            "unit": desk.get("/c/test-campaign/u/a"),
            "csv": desk.get("/c/test-campaign/export.csv"),
        }
        for label, answer in checked.items():
            csp = answer.headers["content-security-policy"]
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, label
            assert answer.headers["referrer-policy"] == "no-referrer", label
            assert answer.headers["x-content-type-options"] == "nosniff", label
            assert "no-store" in answer.headers["cache-control"], label
        assert checked["file"].headers["content-disposition"].startswith("attachment;")
        assert checked["file"].headers["content-type"] == "application/octet-stream"
        assert '<meta name="referrer" content="no-referrer">' in checked["link"].text


# --- the dashboard's door ----------------------------------------------------------------------


ACTIONS: dict[str, dict[str, str]] = {
    "accept": {"version": "1"},
    "return": {"version": "1", "comment": "请修改"},
    "extend": {"due": "2021-10-15"},
    "resend": {"form_key": "resend-key-1"},
    "reassign": {"notify": "evil@attacker.test", "person": "攻击者"},
}


def test_the_dashboard_refuses_whoever_is_not_signed_in(tmp_path: Path, smtp: SmtpReceiver) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    save_account("second", "another-account-pw")
    server_now = parse_instant(SERVER_NOW)
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        sent = Department(base, tokens["a"]).submit(
            "甲单位总结 SEEN-ONLY-SIGNED-IN", [("SEEN-ONLY.pdf", PDF)]
        )
        assert sent.is_redirect
        (file_id,) = attachment_ids("a")
        me = Coordinator(scalar("SELECT id FROM coordinator WHERE username = :u", u=USER), USER)
        before, mails = snapshot(), len(smtp.mails)
        anonymous = httpx.Client(base_url=base, follow_redirects=False)

        def locked_out(client: httpx.Client, cookie: str | None = None) -> None:
            headers = {"Cookie": f"duban_session={cookie}"} if cookie is not None else None
            for path in (
                "/",
                "/c/test-campaign",
                "/c/test-campaign?status=submitted",
                "/c/test-campaign/u/a",
                "/c/test-campaign/export.csv",
                "/c/test-campaign/report",
                "/c/test-campaign/report.docx",
                f"/c/test-campaign/files/{file_id}",
            ):
                answer = client.get(path, headers=headers)
                assert answer.status_code == 303, (path, answer.status_code)
                location = answer.headers["location"]
                assert location.startswith("/login?next=/c/") or location == "/login?next=/"
                for data in ("a局", "SEEN-ONLY", "测试“质量月”活动", "单位代码", "%PDF"):
                    assert data not in answer.text
            for action, fields in ACTIONS.items():
                data = {**fields}
                if cookie:  # a token that would match the cookie, had the cookie been valid
                    data["csrf"] = csrf_token(cookie)
                answer = client.post(f"/c/test-campaign/u/a/{action}", data=data, headers=headers)
                assert answer.status_code == 403, (action, answer.status_code)
                assert "请先登录" in answer.text
                no_trace(answer)

        locked_out(anonymous)
        valid = open_session(me, now=server_now)
        session_id, signature = valid.split(".")
        other_id = open_session(me, now=server_now).split(".")[0]
        forged = [
            "",
            "garbage",
            "1.2",
            "1.9999999999.AAAA",  # the shape cookies had before sessions were kept
            f"{other_id}.{signature}",  # another session, this one's signature
            f"{session_id}.{signature[:-2]}",
            f"{session_id}.{signature}.x",
            open_session(me, now=server_now.replace(year=2020)),  # past its 12 hours
            valid.replace(".", ".0", 1),
        ]
        for cookie in forged:
            locked_out(anonymous, cookie)
        assert snapshot() == before and len(smtp.mails) == mails

        # A wrong password or an unknown name: 401 and no session.
        for username, password in ((USER, "wrong-password-1"), ("nobody", "whatever-pw-1")):
            answer = anonymous.post(
                "/login", data={"username": username, "password": password, "next": "/"}
            )
            assert answer.status_code == 401 and "用户名或密码不正确" in answer.text
            assert "set-cookie" not in answer.headers
            assert "duban_session" not in anonymous.cookies

        # Signed in, a POST without the session's CSRF token changes nothing.
        desk, other = Dashboard(base), Dashboard(base, login=False)
        other.login("second", "another-account-pw")
        other_csrf = form_fields(other.page("/"), "/logout")["csrf"]
        for action, fields in ACTIONS.items():
            for csrf in (None, "", "x" * 32, other_csrf):
                data = {**fields, **({"csrf": csrf} if csrf is not None else {})}
                answer = desk.client.post(f"/c/test-campaign/u/a/{action}", data=data)
                assert answer.status_code == 403, (action, csrf)
                assert "页面已过期，请刷新后重试" in answer.text
        assert desk.client.post("/logout").status_code == 403
        assert snapshot() == before and len(smtp.mails) == mails
        assert "SEEN-ONLY-SIGNED-IN" in desk.page("/c/test-campaign/u/a")

        # Where the login sends the coordinator afterwards: only a path on this site.
        credentials = {"username": USER, "password": PASSWORD}
        for target, expected in (
            ("//evil.example", "/"),
            ("https://evil.example", "/"),
            ("http:evil.example", "/"),
            ("/\\evil.example", "/"),
            ("\\\\evil.example", "/"),
            ("/c/test-campaign?status=overdue", "/c/test-campaign?status=overdue"),
        ):
            fresh = httpx.Client(base_url=base, follow_redirects=False)
            shown = fresh.get("/login", params={"next": target}).text
            assert f'name="next" value="{expected}"' in shown.replace("&amp;", "&"), target
            answer = fresh.post("/login", data={**credentials, "next": target})
            assert answer.status_code == 303
            assert answer.headers["location"] == expected, target
        for target in ("/\t/evil.example", "/\r\n/evil.example", "/%2F/evil.example"):
            answer = httpx.Client(base_url=base, follow_redirects=False).post(
                "/login", data={**credentials, "next": target}
            )
            # What a browser makes of the Location: it drops tabs and newlines.
            location = re.sub(r"[\t\r\n]", "", answer.headers["location"])
            resolved = httpx.URL(base).join(location)
            assert resolved.host == "127.0.0.1", (target, location)

        # A new password signs out every session made with the old one.
        assert desk.get("/").status_code == 200
        old_csrf = form_fields(desk.page("/"), "/logout")["csrf"]
        save_account(USER, "a-brand-new-password")
        answer = desk.get("/c/test-campaign/u/a")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        refused = desk.client.post(
            "/c/test-campaign/u/a/accept", data={"csrf": old_csrf, "version": "1"}
        )
        assert refused.status_code == 403
        assert other.get("/").status_code == 200  # another account's session is not affected
        stale = Dashboard(base, login=False).client.post("/login", data=credentials)
        assert stale.status_code == 401  # the old password no longer signs in
        desk.login(USER, "a-brand-new-password")
        assert "SEEN-ONLY-SIGNED-IN" in desk.page("/c/test-campaign/u/a")
        assert snapshot()["assignment"] == before["assignment"]
        assert snapshot()["submission"] == before["submission"]
        assert len(smtp.mails) == mails


# --- double submission, late, accepted, closed --------------------------------------------------


def test_one_form_is_one_submission_and_late_accepted_and_closed_units(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"])
    # A second campaign whose deadline has passed by the server's clock.
    _, early = launch_units(tmp_path, smtp, ["c"], slug="early-campaign", due="2021-09-17")
    coordinator_account()
    big = b"%PDF-1.4\n" + secrets.token_bytes(512 * 1024)
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        key = a.form_key()
        first = a.submit("第一版", [("现场.jpg", JPEG), ("总结.pdf", PDF)], form_key=key)
        again = a.submit("第一版", [("现场.jpg", JPEG), ("总结.pdf", PDF)], form_key=key)
        receipt = f"/d/{tokens['a']}/receipt/1"
        assert first.headers["location"] == again.headers["location"] == receipt
        assert versions_of("a") == [(1, key, False)]
        assert len(attachment_ids("a")) == 2 and len(stored_files(duban_env)) == 2
        shown = a.client.get(receipt).text
        assert "（第1版）" in shown and "逾期报送" not in shown

        # The same form posted from two threads at the same moment.
        key2 = a.form_key()
        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def post() -> None:
            client = Department(base, tokens["a"])
            barrier.wait()
            answers.append(client.submit("第二版", [("全文.pdf", big)], form_key=key2))
            client.close()

        threads = [threading.Thread(target=post) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r.headers["location"] for r in answers] == [f"/d/{tokens['a']}/receipt/2"] * 2
        assert versions_of("a") == [(1, key, False), (2, key2, False)]
        assert len(attachment_ids("a")) == 3
        assert len(stored_files(duban_env)) == 3  # the losing request's file was removed
        sizes = sorted(size for _, size in stored_files(duban_env))
        assert sizes == sorted([len(JPEG), len(PDF), len(big)])
        third = a.submit("第三版")
        assert third.headers["location"] == f"/d/{tokens['a']}/receipt/3"

        # After the deadline: stored, and marked late.
        c = Department(base, early["c"])
        assert "已逾期" in c.page().text
        late = c.submit("迟交的总结", [("迟交.pdf", PDF)])
        assert late.is_redirect
        late_receipt = c.client.get(late.headers["location"]).text
        assert "逾期报送" in late_receipt and "迟交的总结" in late_receipt
        assert versions_of("c")[0][0] == 1 and versions_of("c")[0][2] is True
        assert scalar("SELECT late FROM assignment WHERE id = (SELECT max(id) FROM assignment)")

        # Accepted: no more versions.
        desk = Dashboard(base)
        accepted = desk.act("a", "accept")
        assert accepted.status_code == 303, accepted.text
        before, files = snapshot(), stored_files(duban_env)
        page = a.page().text
        assert "已通过验收" in page and "form_key" not in page
        refused = a.submit("验收后又改", [("又改.pdf", PDF)], form_key="after-accept-key")
        assert refused.status_code == 400
        assert "已通过验收" in refused.text and "验收后又改" not in refused.text
        assert snapshot() == before and stored_files(duban_env) == files

        # A closed campaign: a clear page, and no posts.
        execute("UPDATE campaign SET status = 'closed' WHERE slug = 'test-campaign'")
        b = Department(base, tokens["b"])
        closed = b.page()
        assert closed.status_code == 200
        assert "本次活动已结束，不再接收材料" in closed.text and "form_key" not in closed.text
        assert "签收任务" not in closed.text
        before = snapshot()
        for answer in (
            b.acknowledge(),
            b.submit("结束后提交", [("晚.pdf", PDF)], form_key="closed-form-key"),
        ):
            assert answer.status_code == 409
            assert "本次活动已结束，不再接收材料" in answer.text
            no_trace(answer)
        assert snapshot() == before and stored_files(duban_env) == files


def test_a_value_that_is_not_a_number_gets_a_page_not_json(smtp: SmtpReceiver) -> None:
    with web_server() as base:
        receipt = httpx.get(f"{base}/d/some-token/receipt/first")
        assert receipt.status_code == 404
        assert receipt.headers["content-type"].startswith("text/html")
        assert "页面不存在" in receipt.text and "int_parsing" not in receipt.text
        form = httpx.get(f"{base}/d/some-token/files/1.5")
        assert form.status_code == 404 and "页面不存在" in form.text
