"""Attachments: which files a department may upload, how their names are shown, where they land."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import stat
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from tasks.link.names import kind_of, safe_name
from tasks.link.policy import AttachmentRefused, Limits
from tasks.link.sniffing import check, check_all
from tasks.link.storage import STALE_PART_S, path_of, remove, store, sweep_parts
from tests.web_server import ROOT, web_server

LIMITS = Limits(max_files=3, max_file_bytes=1000, max_total_bytes=2500)
BIG = Limits(max_files=3, max_file_bytes=100_000, max_total_bytes=100_000)


def png_bytes() -> bytes:
    """A real 1x1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# SOI, a JFIF APP0 segment, then EOI: the opening every camera and phone JPEG shares.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

pytestmark = pytest.mark.pure
# What `MZ` executables start with (the DOS header of every Windows .exe).
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", "<w:document>大田县质量月总结</w:document>")
    return out.getvalue()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("现场照片.png", png_bytes(), "image"),
        ("IMG_0001.JPG", JPEG, "image"),
        ("通知.pdf", PDF, "document"),
        ("大田县质量月总结.docx", docx_bytes(), "document"),
        ("old-wps.wps", docx_bytes(), "document"),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16, "video"),
    ],
)
def test_real_files_are_accepted(name: str, content: bytes, kind: str) -> None:
    assert check(name, content[:2048], len(content), LIMITS) == name
    assert kind_of(name) == kind


def test_pdf_header_after_leading_junk_is_accepted_within_first_kib() -> None:
    assert check("scan.pdf", b"\x00" * 500 + PDF, 500 + len(PDF), LIMITS) == "scan.pdf"
    with pytest.raises(AttachmentRefused, match="内容与其类型不符"):
        check("scan.pdf", b" " * 1100 + PDF[:900], 2000, Limits(3, 5000, 5000))


def test_renamed_executable_is_refused() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check("照片.jpg", EXE, len(EXE), LIMITS)
    assert str(refused.value) == "附件“照片.jpg”的内容与其类型不符，未上传。"


@pytest.mark.parametrize(
    ("content", "name"),
    [(png_bytes(), "report.pdf"), (docx_bytes(), "old.doc"), (PDF, "a.mp4")],
)
def test_content_contradicting_extension_is_refused(content: bytes, name: str) -> None:
    with pytest.raises(AttachmentRefused, match="内容与其类型不符"):
        check(name, content, len(content), LIMITS)


@pytest.mark.parametrize(
    "name",
    ["page.html", "logo.svg", "setup.exe", "run.js", "all.zip", "README", "photo.jpg.exe"],
)
def test_types_outside_the_list_are_refused(name: str) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check(name, b"<svg onload=alert(1)>", 21, LIMITS)
    assert str(refused.value) == f"附件“{name}”的类型不允许上传。"
    with pytest.raises(AttachmentRefused):
        kind_of(name)


def test_right_to_left_override_cannot_disguise_an_executable() -> None:
    # Displayed by a browser as "报告exe.jpg"; it is an .exe.
    name = "报告\u202egpj.exe"
    with pytest.raises(AttachmentRefused) as refused:
        check(name, JPEG, len(JPEG), LIMITS)
    assert str(refused.value) == "附件“报告gpj.exe”的类型不允许上传。"


def test_text_in_utf8_or_gb18030_is_accepted_binary_is_not() -> None:
    text = "通知：\n" + "各科室：请于周五前报送质量月活动总结。\n" * 200
    utf8, gbk = text.encode("utf-8"), text.encode("gb18030")
    # The heads are cut at 2048 bytes, mid-character for both encodings.
    for encoded, encoding in ((utf8, "utf-8"), (gbk, "gb18030")):
        with pytest.raises(UnicodeDecodeError):
            encoded[:2048].decode(encoding)
    assert check("说明.txt", utf8[:2048], len(utf8), BIG) == "说明.txt"
    assert check("名单.csv", gbk[:2048], len(gbk), BIG) == "名单.csv"
    utf16 = text.encode("utf-16")
    with pytest.raises(AttachmentRefused, match="内容与其类型不符"):
        check("说明.txt", utf16[:2048], len(utf16), BIG)
    # UTF-16 without a byte order mark: valid UTF-8 byte for byte, but full of NULs.
    utf16le = "Quality month summary".encode("utf-16-le")
    with pytest.raises(AttachmentRefused, match="内容与其类型不符"):
        check("summary.csv", utf16le, len(utf16le), BIG)
    with pytest.raises(AttachmentRefused, match="内容与其类型不符"):
        check("readme.txt", EXE, len(EXE), LIMITS)


def test_empty_and_oversize_files_are_refused_by_check() -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check("e.txt", b"", 0, LIMITS)
    assert str(refused.value) == "附件“e.txt”是空文件。"
    limits = Limits.from_settings()
    with pytest.raises(AttachmentRefused) as refused:
        check("v.mp4", b"\x00\x00\x00\x18ftypmp42", 200 * 1024 * 1024 + 1, limits)
    assert str(refused.value) == "附件“v.mp4”超过单个文件200MB的上限。"
    assert check("v.mp4", b"\x00\x00\x00\x18ftypmp42", 200 * 1024 * 1024, limits) == "v.mp4"


def test_check_all_limits_count_and_total_and_returns_shown_names() -> None:
    png = png_bytes()
    ok = [("C:\\照片\\a.png", png, 900), ("../b.pdf", PDF, 900)]
    assert check_all(ok, LIMITS) == ["a.png", "b.pdf"]
    with pytest.raises(AttachmentRefused) as refused:
        check_all(ok * 2, LIMITS)
    assert str(refused.value) == "附件过多：最多3个。"
    with pytest.raises(AttachmentRefused) as refused:
        check_all([*ok, ("c.png", png, 701)], LIMITS)
    assert str(refused.value) == "附件合计超过2500字节的上限。"
    with pytest.raises(AttachmentRefused) as refused:
        check_all([*ok[:1], ("x.exe", EXE, 64), ("y.exe", EXE, 64)], LIMITS)
    assert str(refused.value) == "附件“x.exe”的类型不允许上传。"


def test_limits_follow_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("DUBAN_UPLOAD_MAX_FILES", "5")
    monkeypatch.setenv("DUBAN_UPLOAD_MAX_FILE_MB", "50")
    monkeypatch.setenv("DUBAN_UPLOAD_MAX_TOTAL_MB", "120")
    get_settings.cache_clear()
    limits = Limits.from_settings()
    assert limits == Limits(5, 50 * 1024 * 1024, 120 * 1024 * 1024)
    text = limits.describe()
    assert text.startswith("最多5个文件，单个不超过50MB，合计不超过120MB；允许的类型：")
    for shown in ("图片（jpg", "视频（mp4", "文档（pdf", "docx", "wps", "ofd"):
        assert shown in text
    for absent in ("html", "svg", "exe", "zip"):
        assert absent not in text


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("大田县质量月总结.docx", "大田县质量月总结.docx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\报告.docx", "报告.docx"),
        ("  .hidden. ", "hidden"),
        ("x.exe. . ", "x.exe"),
        ("a\x00b\x07c\x1b.pdf", "abc.pdf"),
        ("总结\u202egpj.exe", "总结gpj.exe"),
        ("零\u200b宽.pdf", "零宽.pdf"),
        ('计划<2024>:"一|二"?*.xlsx', "计划2024一二.xlsx"),
        ("a  \t\n  b .pdf", "a b.pdf"),
        ("cafe\u0301.pdf", "caf\u00e9.pdf"),
        (".pdf", "附件.pdf"),
        ("<>?", "附件"),
        ("", "附件"),
    ],
)
def test_safe_name(given: str, shown: str) -> None:
    assert safe_name(given) == shown


def test_safe_name_caps_long_names_keeping_the_extension() -> None:
    # 307 characters; Windows would also drop the trailing dot and space.
    long = "关于开展质量月活动的通知" * 25 + ".docx. "
    shown = safe_name(long)
    assert len(shown) == 120
    assert shown.endswith(".docx")
    assert long.startswith(shown[: -len(".docx")]) and len(shown) > 100
    assert kind_of(long) == "document"


def test_store_keeps_content_under_a_random_name_in_the_assignment_folder(
    duban_env: Path,
) -> None:
    content = os.urandom(2 * 1024 * 1024 + 123)  # spans three 1 MiB reads
    stored = store(io.BytesIO(content), 7, 42, max_bytes=len(content), shown_name="../报告.docx")
    root = duban_env / "attachments"
    assert files_under(root) == [root / "7" / "42" / Path(stored.relpath).name]
    campaign, assignment, name = stored.relpath.split("/")
    assert (campaign, assignment) == ("7", "42")
    assert len(name) == 32 and int(name, 16) >= 0
    assert "报告" not in stored.relpath and "docx" not in stored.relpath
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert path_of(stored.relpath).read_bytes() == content
    # A second upload never overwrites the first.
    again = store(io.BytesIO(content), 7, 42, max_bytes=len(content))
    assert again.relpath != stored.relpath and len(files_under(root)) == 2


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_stored_files_are_private_to_the_service_account(tmp_path: Path) -> None:
    root = tmp_path / "att"
    stored = store(io.BytesIO(b"%PDF-1.7 x"), 1, 2, max_bytes=100, root=root)
    assert stat.S_IMODE(path_of(stored.relpath, root).stat().st_mode) == 0o600
    for folder in (root, root / "1", root / "1" / "2"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_store_refuses_a_stream_longer_than_declared_and_leaves_nothing(
    duban_env: Path,
) -> None:
    # The client said 10 bytes, so check() passed; the body is really longer than the limit.
    assert check("v.mp4", b"\x00\x00\x00\x18ftypmp42", 10, LIMITS) == "v.mp4"
    body = io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * LIMITS.max_file_bytes)
    with pytest.raises(AttachmentRefused) as refused:
        store(body, 3, 4, max_bytes=LIMITS.max_file_bytes, shown_name="v.mp4")
    assert str(refused.value) == "附件“v.mp4”超过单个文件1000字节的上限。"
    assert files_under(duban_env / "attachments") == []


def test_store_refuses_an_empty_stream_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(AttachmentRefused, match="是空文件"):
        store(io.BytesIO(b""), 3, 4, max_bytes=100, root=tmp_path)
    assert files_under(tmp_path) == []


def test_path_of_refuses_paths_leaving_the_attachments_folder(tmp_path: Path) -> None:
    root = tmp_path / "att"
    stored = store(io.BytesIO(JPEG), 1, 1, max_bytes=100, root=root)
    assert path_of(stored.relpath, root) == (root / stored.relpath).resolve()
    for bad in ("../x", "1/1/../../../x", "/etc/passwd", "", "."):
        with pytest.raises(ValueError, match="escapes"):
            path_of(bad, root)


def test_remove_deletes_stored_files_quietly_and_nothing_outside(tmp_path: Path) -> None:
    root = tmp_path / "att"
    kept = store(io.BytesIO(JPEG), 1, 1, max_bytes=100, root=root)
    gone = [store(io.BytesIO(PDF), 1, 2, max_bytes=1000, root=root) for _ in range(2)]
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    remove([g.relpath for g in gone] + ["1/2/missing", "../outside.txt"], root)
    assert [p.resolve() for p in files_under(root)] == [path_of(kept.relpath, root)]
    assert outside.read_text() == "keep me"


# --- what a killed upload leaves behind -------------------------------------------------------

# A department's upload being copied into storage, slowly: its first MiB is written, then it
# waits (the process is killed there).
_KILLED_UPLOAD = """
import io, sys, time
from pathlib import Path
from tasks.link.storage import store

class Slow(io.RawIOBase):
    given = False

    def read(self, n=-1):
        if not self.given:
            self.given = True
            return b"\\xff" * 1024 * 1024
        time.sleep(3600)

store(Slow(), 1, 2, max_bytes=10**9, root=Path(sys.argv[1]))
"""


def killed_upload(root: Path) -> Path:
    """The part a `kill -9` during an upload really leaves: `store` killed mid-copy."""
    child = subprocess.Popen([sys.executable, "-c", _KILLED_UPLOAD, str(root)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not (parts := list(root.glob("1/2/.upload-*.part"))) or parts[0].stat().st_size < (
            1024 * 1024
        ):
            assert time.monotonic() < deadline and child.poll() is None, "no part appeared"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (part,) = parts
    return part


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_sweep_parts_removes_only_parts_unwritten_past_the_bound(tmp_path: Path) -> None:
    root = tmp_path / "att"
    kept = store(io.BytesIO(JPEG), 1, 2, max_bytes=100, root=root)
    stale = killed_upload(root)
    age(stale, STALE_PART_S + 60)
    live = root / "1" / "2" / ".upload-live.part"  # another process's upload, being written
    live.write_bytes(b"\x00" * 100)
    age(live, STALE_PART_S - 60)
    old_stored = path_of(kept.relpath, root)
    age(old_stored, 10 * STALE_PART_S)  # a stored file is never a leftover, however old

    assert sweep_parts(root) == (1, 1024 * 1024)
    assert files_under(root) == sorted([live, old_stored])
    assert sweep_parts(root) == (0, 0)
    assert sweep_parts(tmp_path / "missing") == (0, 0)


def test_duban_web_removes_stale_parts_at_start_up_and_keeps_a_live_one(duban_env: Path) -> None:
    root = duban_env / "attachments"
    stale = killed_upload(root)
    age(stale, STALE_PART_S + 60)
    live = root / "1" / "2" / ".upload-live.part"
    live.write_bytes(b"\x00" * 100)
    log = duban_env.parent / "web.log"
    with web_server(log):
        assert not stale.exists()
        assert live.exists()
    assert "removed 1 upload leftover(s) (.part files), 1048576 bytes" in log.read_text()
