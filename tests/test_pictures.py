"""Very large pictures: refused at upload over the pixel cap, skipped by the report within its
memory budget when one was stored before, and shown on the dashboard as thumbnails. Every
picture is generated here: a PNG of 13000x13000 black pixels is 500 KB on disk and 676 MB
once decoded."""

from __future__ import annotations

import io
import re
import secrets
import stat
import struct
from pathlib import Path

import pytest
from PIL import Image

from config.clock import parse_instant
from flows.launch import launch_flow
from tasks.link.policy import AttachmentRefused, Limits
from tasks.link.sniffing import check_pixels
from tasks.link.storage import path_of
from tasks.link.submission import Upload, find_unit, submit
from tasks.link.thumbnails import THUMBNAIL_SIDE
from tests.campaigns import DATIAN, LAUNCH_DAY, snapshot
from tests.campaigns import DATIAN_SLUG as SLUG
from tests.files import big_png, png_bytes
from tests.helpers import at, duban_peak, token_of
from tests.receivers import SmtpReceiver
from tests.web_helpers import (
    JPEG,
    SERVER_NOW,
    Dashboard,
    Department,
    coordinator_account,
    launch_units,
    page_error,
    rows,
    stored_files,
)
from tests.web_server import web_server

BOMB_SIDE = 13000
# Peak RSS of `duban report` with two 7000x7000 PNGs and a stored bomb, the target of the
# product's other commands. Measured here: about 410 MB (one 7000x7000 picture decodes to
# 196 MB); 1,090 MB before pictures were measured, when both were decoded at once and the
# bomb was embedded.
REPORT_PEAK_MB = 500


def refusal(name: str, size: str) -> str:
    return f"图片“{name}”像素过大（{size}），请缩小到5000万像素以内后再上传。"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("pictures") / "bomb.png"
    assert big_png(path, BOMB_SIDE, BOMB_SIDE, plain=True) < 1024 * 1024
    return path.read_bytes()


def picture(tmp_path: Path, width: int, height: int, *, plain: bool = False) -> bytes:
    path = tmp_path / f"{width}x{height}.png"
    big_png(path, width, height, plain=plain)
    return path.read_bytes()


def declared_jpeg(width: int, height: int) -> bytes:
    """A real small JPEG, with a 60 KB EXIF block first, whose frame header claims
    `width`x`height` (the pixels that follow are too few; the header alone is read)."""
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: pushes the frame header past 60 KB
    Image.new("RGB", (16, 16), "red").save(out, "JPEG", exif=exif)
    data = bytearray(out.getvalue())
    frame = data.index(b"\xff\xc0")
    assert frame > 60_000
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.pure
def test_the_upload_check_reads_a_pictures_size_from_its_header(
    tmp_path: Path, bomb: bytes
) -> None:
    # Over twice the cap (Pillow refuses it), just over it (Pillow would only warn), under it.
    with pytest.raises(AttachmentRefused) as refused:
        check_pixels("现场照片.png", io.BytesIO(bomb))
    assert str(refused.value) == refusal("现场照片.png", "13000×13000")
    with pytest.raises(AttachmentRefused) as refused:
        check_pixels("宽幅.PNG", io.BytesIO(picture(tmp_path, 8000, 6500, plain=True)))
    assert str(refused.value) == refusal("宽幅.PNG", "8000×6500")
    within = io.BytesIO(picture(tmp_path, 7000, 7000, plain=True))
    within.seek(100)
    check_pixels("大图.png", within)
    assert within.tell() == 0  # left at its start, for the store to copy it whole
    # A JPEG is read up to its frame header, past whatever a camera writes before it.
    with pytest.raises(AttachmentRefused) as refused:
        check_pixels("航拍.jpg", io.BytesIO(declared_jpeg(20000, 9000)))
    assert str(refused.value) == refusal("航拍.jpg", "20000×9000")
    # What Pillow cannot read passed the signature check and is kept as a file, as before.
    for name, data in (("相机.jpg", JPEG), ("截断.png", bomb[:40]), ("手机.heic", b"x" * 64)):
        check_pixels(name, io.BytesIO(data))


@pytest.mark.prefect
def test_a_picture_over_the_cap_is_refused_at_upload_and_the_dashboard_shows_thumbnails(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path, bomb: bytes
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    large = picture(tmp_path, 7000, 7000)
    over = picture(tmp_path, 8000, 6500, plain=True)
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        before = snapshot()
        for files, message in (
            ([("现场照片.png", bomb)], refusal("现场照片.png", "13000×13000")),
            ([("好的.jpg", JPEG), ("宽幅.png", over)], refusal("宽幅.png", "8000×6500")),
        ):
            answer = a.submit("本单位总结。", files)
            assert answer.status_code == 400
            assert page_error(answer.text) == message
            assert snapshot() == before
            assert stored_files(duban_env) == []
        assert not (duban_env / "thumbnails").exists()

        # Under the cap, however large, it is kept; the dashboard shows a thumbnail of it.
        assert a.submit("本单位总结，附现场照片。", [("现场照片.png", large)]).is_redirect
        desk = Dashboard(base)
        page = desk.unit("a")
        linked = r'<a href="([^"]+)"><img src="([^"]+)" alt="现场照片.png"'
        ((href, src),) = re.findall(linked, page)
        assert src == href + "/thumbnail"
        shown = desk.get(src)
        assert shown.status_code == 200
        # A PNG that stays small re-encoded (a chart, a screenshot, these bands) stays a PNG.
        assert shown.headers["content-type"] == "image/png"
        assert len(shown.content) < len(large) / 4
        assert Image.open(io.BytesIO(shown.content)).size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        assert desk.get(src).content == shown.content  # kept, not made again
        (thumbnail,) = [p for p in (duban_env / "thumbnails").rglob("*") if p.is_file()]
        assert stat.S_IMODE(thumbnail.stat().st_mode) == 0o600
        for folder in (duban_env / "thumbnails", thumbnail.parent, thumbnail.parent.parent):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert desk.get(href).content == large  # the original, by its link
        # With the original's authorization: not signed in, no thumbnail.
        stranger = Dashboard(base, login=False)
        refused = stranger.get(src)
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
        assert shown.content not in refused.content

        # A bomb stored before uploads were measured, and a damaged picture: a placeholder.
        for name, content in (("旧大图.png", bomb), ("损坏.png", large[: len(large) // 2])):
            assert a.submit(f"附{name}", [(name, png_bytes())]).is_redirect
            ((relpath,),) = rows("SELECT relpath FROM attachment WHERE name = :n", n=name)
            path_of(relpath).write_bytes(content)
            (src,) = re.findall(rf'<img src="([^"]+)" alt="{name}"', desk.unit("a"))
            answer = desk.get(src)
            assert answer.status_code == 200, name
            assert answer.headers["content-type"].startswith("image/svg+xml")
            assert "无法预览" in answer.text


@pytest.mark.prefect
def test_a_report_skips_a_stored_bomb_and_decodes_large_pictures_within_its_budget(
    tmp_path: Path, bomb: bytes
) -> None:
    from docx import Document

    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    large = picture(tmp_path, 7000, 7000)
    files = {"scjgj": large, "gxj": large, "gaj": png_bytes()}
    for code, data in files.items():
        upload = Upload(f"{code}现场照片.png", data[:2048], len(data), io.BytesIO(data))
        summary = f"{code}的活动总结。"
        submit(find_unit(token_of(code)), secrets.token_hex(8), summary, [upload],
               Limits.from_settings(), at("2021-09-24T16:00"))  # fmt: skip
    # gaj's picture is replaced on disk by the bomb, as a file stored before uploads were
    # measured would be.
    ((relpath,),) = rows("SELECT relpath FROM attachment WHERE name = 'gaj现场照片.png'")
    path_of(relpath).write_bytes(bomb)

    out = tmp_path / "out"
    made, peak_mb = duban_peak(
        "report", SLUG, "--out", str(out), "--latest", "--no-send", "--now", "2021-09-25T09:00",
    )  # fmt: skip
    logged = made.stderr
    assert made.returncode == 0, logged
    assert peak_mb < REPORT_PEAK_MB, peak_mb
    assert "gaj现场照片.png' not embedded: 13000x13000 pixels" in logged

    # The Word document: the chart and the two large pictures, shrunk; the bomb listed only.
    doc = Document(str(out / f"{SLUG}-report.docx"))
    texts = [p.text for p in doc.paragraphs]
    assert "报送材料：gaj现场照片.png" in texts  # named, not embedded
    assert len(doc.inline_shapes) == 3
    # The HTML page shows the two large pictures and names the bomb without showing it.
    html = (out / f"{SLUG}-report.html").read_text(encoding="utf-8")
    shown = sorted(re.findall(r'<img src="[^"]+" alt="([^"]+)"', html))
    assert shown == ["gxj现场照片.png", "scjgj现场照片.png"]
    assert "gaj现场照片.png" in html
