"""Files made to hurt: a campaign file of aliases to aliases, nesting libyaml cannot survive,
files far larger than any real one, a Word notice that inflates to a gigabyte, lies about its
sizes, breaks its XML or brings an entity bomb. Each is refused at once by the real `duban`
command with exit code 2, in one line naming the file, without a traceback, in the memory a
normal notice takes, and having written nothing. Every such file is made here, by the test."""

from __future__ import annotations

import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from config.calendars import CalendarFileError, WorkCalendar
from config.campaign.loader import CampaignFileError, parse_campaign
from config.files import MiB
from config.yaml_files import MAX_DEPTH, UnsafeYaml, check_shape
from tests.campaigns import snapshot
from tests.helpers import duban, duban_peak

HEADER = "slug: hostile\ntitle: 测试\nlead_office: 测试办公室\ndue: 2030-09-30\n"
# Nine lines, 554 bytes: a billion "x" once the aliases are followed.
ALIAS_BOMB = (
    HEADER
    + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))
    + "departments: []\n"
)
FAST = 30  # seconds: every refusal here takes two or three (the command's own start-up)


def _written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused_by_both(path: Path, duban_env: Path, where: str, said: str) -> None:
    """`duban launch` and `duban import --check` refuse `path`, fast, saying `said` of
    `where` (the file and the line), and the database and the data folder are as they were."""
    before, files_before = snapshot(), _written(duban_env.parent)
    started = time.monotonic()
    launch = duban("launch", str(path), timeout=FAST * 2)
    check = duban("import", "--check", str(path), timeout=FAST * 2)
    assert time.monotonic() - started < FAST * 2
    assert launch.returncode == 2, launch.stderr
    assert f"{where}: {said}" in launch.stderr and "Traceback" not in launch.stderr
    assert check.returncode == 2, check.stdout + check.stderr
    assert f"{where}: stops the launch: {said}" in check.stdout
    assert "Traceback" not in check.stderr
    assert snapshot() == before and _written(duban_env.parent) == files_before


def test_an_alias_bomb_is_refused_at_once_with_its_line(tmp_path: Path, duban_env: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB, encoding="utf-8")
    assert len(ALIAS_BOMB.encode()) < 600
    _refused_by_both(bomb, duban_env, f"{bomb}:5", "anchors and aliases")
    # One anchor is enough: a campaign file has no use for them.
    one = HEADER + "departments:\n- &d {code: a, name: 甲, notify: [a@x.test]}\n- *d\n"
    with pytest.raises(CampaignFileError) as refused:
        parse_campaign(one, "one.yaml")
    assert str(refused.value).startswith("one.yaml:6: anchors and aliases")


@pytest.mark.parametrize(
    "nesting",
    ["[" * 100_000, "\n" + "- " * 100_000 + "x", "{a: " * 100_000],
    ids=["flow-sequences", "block-sequences", "flow-mappings"],
)
def test_nesting_libyaml_would_crash_on_is_refused_with_its_line(
    tmp_path: Path, duban_env: Path, nesting: str
) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(HEADER + "departments: " + nesting + "\n", encoding="utf-8")
    line = 6 if nesting.startswith("\n") else 5
    _refused_by_both(deep, duban_env, f"{deep}:{line}", f"nested more than {MAX_DEPTH} levels deep")


def test_a_campaign_file_larger_than_64_mib_is_not_read(tmp_path: Path, duban_env: Path) -> None:
    large = tmp_path / "large.yaml"
    with large.open("w", encoding="utf-8") as stream:
        stream.write(HEADER + "departments: []\n")
        stream.truncate(65 * MiB)  # sparse: the test writes a few bytes
    said = "is 65 MiB; a campaign file may be at most 64 MiB"
    _refused_by_both(large, duban_env, str(large), said)


def test_a_calendar_file_of_aliases_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nholidays: &h [2027-02-08]\nworkdays: *h\n", encoding="utf-8"
    )
    with pytest.raises(CalendarFileError, match=r"2027\.yaml:2: anchors and aliases"):
        WorkCalendar(tmp_path)


@pytest.mark.pure
@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.sampled_from(["seq", "map"]), min_size=1, max_size=90),
    indent=st.integers(min_value=1, max_value=6),
    flow=st.sampled_from([None, False, True]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    leaf=st.sampled_from(["x", [], {}]),
)
def test_a_file_the_shape_check_passes_is_never_nested_too_deep(
    shape: list[str], indent: int, flow: bool | None, newline: str, leaf: object
) -> None:
    """The check skips its exact pass when a look at the text rules deep nesting out: that
    look must never let a deep file through, whatever the style it is written in."""
    value: object = leaf
    for kind in reversed(shape):
        value = [value] if kind.endswith("seq") else {"k": value, "z": 1}
    text = yaml.safe_dump(value, indent=indent, default_flow_style=flow).replace("\n", newline)
    try:
        check_shape(text)
    except UnsafeYaml:
        return
    assert len(shape) + (leaf != "x") <= MAX_DEPTH


# --- Word notices -------------------------------------------------------------------------


def _word_parts() -> dict[str, bytes]:
    """The parts of a real Word notice, as python-docx writes it."""
    import io

    from docx import Document

    made = io.BytesIO()
    document = Document()
    document.add_paragraph("关于开展2030年“质量月”活动的通知")
    document.save(made)
    with zipfile.ZipFile(made) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def _word(path: Path, document: Callable[[zipfile.ZipFile], None]) -> Path:
    """A .docx with the real parts, its `word/document.xml` written by `document`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, data in _word_parts().items():
            if name == "word/document.xml":
                document(package)
            else:
                package.writestr(name, data)
    return path


def _document_xml(body: str, prolog: bytes = b"") -> Callable[[zipfile.ZipFile], None]:
    xml = _word_parts()["word/document.xml"]
    head = xml.split(b"<w:body>")[0]
    if prolog:
        head = prolog + head.split(b"?>", 1)[1]
    whole = head + f"<w:body>{body}</w:body></w:document>".encode()
    return lambda package: package.writestr("word/document.xml", whole)


def _streamed(size: int) -> Callable[[zipfile.ZipFile], None]:
    """`word/document.xml` with one paragraph of `size` bytes, streamed into the zip."""
    head = _word_parts()["word/document.xml"].split(b"<w:body>")[0]

    def write(package: zipfile.ZipFile) -> None:
        with package.open("word/document.xml", "w", force_zip64=size > 1 << 31) as stream:
            stream.write(head + b"<w:body><w:p><w:r><w:t>")
            block = "质".encode() * (MiB // 3)
            for _ in range(size // len(block)):
                stream.write(block)
            stream.write(b"</w:t></w:r></w:p></w:body></w:document>")

    return write


def _declared_size_lies(path: Path, name: str, declared: int) -> Path:
    """The zip's two headers for `name` say it inflates to `declared` bytes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        local, central = package.getinfo(name).header_offset, package.start_dir
    assert data[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 22, declared)
    while data[central + 46 : central + 46 + len(name)] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))
    return path


# Ten to the ninth "lol" if the entities were expanded.
ENTITY_BOMB = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE w:document [<!ENTITY l0 "lol">'
    + b"".join(b'<!ENTITY l%d "%s">' % (i, (b"&l%d;" % (i - 1)) * 10) for i in range(1, 10))
    + b"]>"
)


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


@pytest.fixture(scope="module")
def normal_peak(tmp_path_factory: pytest.TempPathFactory) -> float:
    """The memory `duban import` takes to read a real Word notice: what a refusal stays near."""
    folder = tmp_path_factory.mktemp("normal")
    notice = _word(folder / "notice.docx", _document_xml("<w:p><w:r><w:t>通知</w:t></w:r></w:p>"))
    done, peak = duban_peak("import", str(notice), "--out", str(folder / "draft.yaml"))
    assert done.returncode == 0, done.stderr
    return peak


HOSTILE_NOTICES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "1 GiB of document in 5 MB": (
        lambda p: _word(p, _streamed(1 << 30)),
        "word/document.xml is 1024.0 MiB; an XML part may be 8 MiB",
    ),
    "a document that says 4 KiB and inflates to 64 MiB": (
        lambda p: _declared_size_lies(_word(p, _streamed(64 * MiB)), "word/document.xml", 4096),
        "not a readable Word document (Bad CRC-32 for file 'word/document.xml')",
    ),
    "2 MiB inflated 300 times": (
        lambda p: _word(
            p, _document_xml("<w:p><w:r><w:t>" + "A" * (2 * MiB) + "</w:t></w:r></w:p>")
        ),
        "word/document.xml inflates",
    ),
    "broken XML": (
        lambda p: _word(p, _document_xml("<w:p><w:r><w:t>通知</w:r></w:p>")),
        "not a readable Word document (Opening and ending tag mismatch",
    ),
    "an entity bomb": (
        lambda p: _word(p, _document_xml("<w:p><w:r><w:t>&l9;</w:t></w:r></w:p>", ENTITY_BOMB)),
        "word/document.xml declares a document type (DTD), which Word never writes",
    ),
    "UTF-16, which would hide a DTD": (
        lambda p: _word(
            p,
            lambda package: package.writestr(
                "word/document.xml", '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
            ),
        ),
        "word/document.xml is not UTF-8 XML",
    ),
    "not a zip at all": (
        lambda p: (p.write_bytes(b"PK\x03\x04" + bytes(100)), p)[1],
        "not a readable Word document",
    ),
    "a 2 GiB text file": (
        lambda p: _sparse(p.with_suffix(".txt"), 2 << 30),
        "is 2048 MiB; a notice in text may be at most 4 MiB",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_NOTICES)
def test_a_hostile_notice_is_refused_in_the_memory_of_a_normal_one(
    case: str, tmp_path: Path, duban_env: Path, normal_peak: float
) -> None:
    make, said = HOSTILE_NOTICES[case]
    folder = tmp_path / "notices"
    folder.mkdir()
    notice = make(folder / "notice.docx")
    before, files_before = snapshot(), _written(tmp_path)

    done, peak = duban_peak("import", str(notice), "--out", str(folder / "draft.yaml"), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"duban: {notice}: ") and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert peak < 300 and peak < normal_peak + 64, (peak, normal_peak)
    checked, _ = duban_peak("import", "--check", str(notice), timeout=60)
    assert checked.returncode == 2 and said in checked.stderr
    assert snapshot() == before and _written(tmp_path) == files_before


def test_a_device_that_never_ends_is_read_no_further_than_the_cap(duban_env: Path) -> None:
    """/dev/zero says it is empty and never ends: the cap holds while reading, too."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    done = duban("import", "/dev/zero", "--out", "-", timeout=60)
    assert done.returncode == 2
    said = "duban: /dev/zero: is more than 4 MiB; a notice in text may be at most 4 MiB\n"
    assert done.stderr == said
