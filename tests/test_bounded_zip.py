"""The one bounded zip reader (scoring/io/bounded.py: ``open_zip``, ``BoundedZip``, ``entry_name``) and its three
callers — a notice template (.docx, ``docx_guard``), a workbook (.xlsx, ``xlsx_guard``), a batch of proposal
documents (``documents.read_zip``): each bound refused at the reader with the caller's words, each caller going
through it, and the messages the callers gave before the reader was shared."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from scoring.errors import InputError
from scoring.io import bounded, docx_guard, documents, xlsx_guard
from scoring.io.bounded import BoundedZip, ZipLimits, ZipRefused, ZipWording, entry_name, open_zip
from tests.excel.hostile import deflated, intake_bytes, patched, raw_zip

MiB = 1024 * 1024

WORDS = ZipWording(
    file_bytes="file {size} > {limit}", directory="directory {size} > {limit} ({n} entries, at most {members})",
    not_zip="not a zip: {type}", members="{n:,} entries > {limit:,}", method="method {method}",
    member_bytes="entry {size} > {limit}", ratio="ratio {ratio:,.0f} ({packed} to {size}) > {limit}",
    total="total > {limit}", unreadable="unreadable: {type}: {error}", too_long="longer than {limit}")
LIMITS = ZipLimits(members=10, member_bytes=4 * MiB, total_bytes=2 * MiB, file_bytes=1 * MiB,
                   directory_bytes=4096)


def zipped(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def refusal(data: bytes, limits: ZipLimits = LIMITS, read: bool = False) -> ZipRefused:
    with pytest.raises(ZipRefused) as exc:
        z = open_zip(data, limits, WORDS)
        z.check_all()
        if read:
            for info in z.infos:
                z.read(info, limits.member_bytes)
    return exc.value


# --- the reader, bound by bound --------------------------------------------------------------------------------------

def test_a_zip_bomb_by_ratio_is_refused_from_the_directory_without_inflating_it(monkeypatch):
    bomb = zipped({"ok.txt": b"fine", "bomb.bin": b"\0" * (3 * MiB)})     # 3 MB of zeros: a few KB packed
    assert len(bomb) < 10_000
    inflated = []
    monkeypatch.setattr(BoundedZip, "chunks", lambda self, info: inflated.append(info) or iter(()))
    r = refusal(bomb, ZipLimits(members=10, member_bytes=4 * MiB, total_bytes=8 * MiB))
    assert (r.why, r.entry) == ("ratio", "bomb.bin")
    assert r.message.startswith("ratio ") and r.message.endswith(" to 3.0 MB) > 100")
    assert inflated == []
    monkeypatch.undo()
    # under the floor (1 MB) the same ratio is an ordinary small XML part
    small = zipped({"part.xml": b"\0" * (MiB - 1)})
    z = open_zip(small, ZipLimits(members=10, member_bytes=4 * MiB, total_bytes=8 * MiB), WORDS)
    z.check_all()
    assert z.read(z.infos[0], MiB) == b"\0" * (MiB - 1)


def test_too_many_entries_are_refused_before_any_is_checked():
    many = raw_zip([deflated(f"x/{i}.bin", b"") for i in range(11)])
    r = refusal(many, ZipLimits(members=10, member_bytes=MiB, total_bytes=MiB))
    assert (r.why, r.entry, r.message) == ("members", None, "11 entries > 10")
    assert open_zip(raw_zip([deflated(f"x/{i}.bin", b"") for i in range(10)]),
                    ZipLimits(members=10, member_bytes=MiB, total_bytes=MiB), WORDS).infos


def test_too_large_a_total_is_refused_at_the_entry_that_passes_it():
    blob = os.urandom(800 * 1024)                      # incompressible: no ratio, each under the entry limit
    data = zipped({"a.bin": blob, "b.bin": blob, "c.bin": blob})
    r = refusal(data, ZipLimits(members=10, member_bytes=MiB, total_bytes=2 * MiB))
    assert (r.why, r.entry, r.message) == ("total", "c.bin", "total > 2.0 MB")
    # checked one by one (a batch of documents skips some entries), the running total is the same
    z = open_zip(data, ZipLimits(members=10, member_bytes=MiB, total_bytes=2 * MiB), WORDS)
    z.check(z.infos[0])
    z.check(z.infos[1])
    assert z.total == 2 * len(blob)


def test_one_entry_too_large_the_file_too_large_its_directory_too_large():
    blob = os.urandom(300 * 1024)
    r = refusal(zipped({"big.bin": blob}), ZipLimits(members=10, member_bytes=200 * 1024, total_bytes=MiB))
    assert (r.why, r.entry, r.message) == ("member_bytes", "big.bin", "entry 307,200 bytes > 204,800 bytes")
    r = refusal(zipped({"a.bin": os.urandom(MiB + 1)}))
    assert (r.why, r.entry) == ("file_bytes", None) and r.message.startswith("file 1.0 MB > 1.0 MB")
    names = {f"{'n' * 200}{i}.txt": b"" for i in range(30)}           # 30 entries, a directory of ~7 KB
    r = refusal(zipped(names), ZipLimits(members=100, member_bytes=MiB, total_bytes=MiB, directory_bytes=4096))
    assert r.why == "directory" and r.message.endswith("> 4,096 bytes (30 entries, at most 100)")


def test_not_a_zip_another_method_a_lying_entry_and_a_cap_on_reading():
    assert refusal(b"hello, not a zip").message == "not a zip: BadZipFile"
    r = refusal(zipped({"a.txt": b"x" * 100}, zipfile.ZIP_BZIP2))
    assert (r.why, r.entry, r.message) == ("method", "a.txt", "method 12")
    liar = deflated("liar.xml", b"<a>" + b"A" * 200_000 + b"</a>")
    liar.declared = 40_000                             # the directory says 40 KB: reading stops there
    r = refusal(raw_zip([liar]), ZipLimits(members=10, member_bytes=MiB, total_bytes=MiB), read=True)
    assert (r.why, r.entry, r.message) == ("unreadable", "liar.xml", "unreadable: BadZipFile: Bad CRC-32 for file "
                                                                     "'liar.xml'")
    z = open_zip(zipped({"a.bin": b"12345"}), LIMITS, WORDS)
    assert sum(len(c) for c in z.chunks(z.infos[0])) == 5
    with pytest.raises(ZipRefused, match="longer than 4 bytes"):
        z.read(z.infos[0], 4)


def test_path_traversal_names_are_only_ever_their_base_name(tmp_path, monkeypatch):
    names = {"../../etc/passwd.pdf": b"1", "/abs/root.pdf": b"2", "..\\..\\win.pdf": b"3", "C:\\Windows\\drive.pdf":
             b"4", "ok/../..": b"5", "folder/": b""}
    monkeypatch.chdir(tmp_path)
    z = open_zip(zipped(names), LIMITS, WORDS)
    z.check_all()
    got = {entry_name(i.filename): z.read(i, 10) for i in z.infos}
    assert got == {"passwd.pdf": b"1", "root.pdf": b"2", "win.pdf": b"3", "drive.pdf": b"4", "": b""}
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent.parent / "etc" / "passwd.pdf").exists()
    # a batch of documents keeps the base names; '..' and folders are no files
    files, problems = documents.read_zip(zipped(names), "batch.zip")
    assert problems == [] and sorted(n for n, _ in files) == ["drive.pdf", "passwd.pdf", "root.pdf", "win.pdf"]


# --- each caller goes through it, with its own words -------------------------------------------------------------

@pytest.fixture
def spy(monkeypatch):
    """The entries the shared reader checked and read."""
    seen = {"check": [], "chunks": []}
    check, chunks = BoundedZip.check, BoundedZip.chunks

    def spy_check(self, info):
        seen["check"].append(info.filename)
        return check(self, info)

    def spy_chunks(self, info):
        seen["chunks"].append(info.filename)
        return chunks(self, info)

    monkeypatch.setattr(BoundedZip, "check", spy_check)
    monkeypatch.setattr(BoundedZip, "chunks", spy_chunks)
    return seen


def test_a_notice_template_is_read_by_the_shared_reader(spy):
    from scoring.io.notices import default_template

    data = default_template("adopted")
    docx_guard.check_docx(data, "tpl.docx")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert spy["check"] == names and "word/document.xml" in spy["chunks"]
    assert docx_guard.open_zip is bounded.open_zip
    bomb = zipped({"word/document.xml": b"<a>" + b" " * (40 * MiB) + b"</a>"})
    with pytest.raises(InputError) as exc:
        docx_guard.check_docx(bomb, "bomb.docx")
    assert str(exc.value) == "bomb.docx: word/document.xml: this part expands to 40.0 MB, over the limit of 32.0 MB"
    with pytest.raises(InputError) as exc:
        docx_guard.check_docx(raw_zip([deflated(f"x/{i}.xml", b"") for i in range(301)]), "many.docx")
    assert str(exc.value) == "many.docx: (file): the zip has 301 parts, over the limit of 300: not a Word document"


def test_a_workbook_is_read_by_the_shared_reader(spy):
    data = intake_bytes()
    xlsx_guard.check_xlsx(data, "x.xlsx")
    assert spy["check"] == zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "xl/worksheets/sheet1.xml" in spy["chunks"] and xlsx_guard.open_zip is bounded.open_zip
    spaces = patched(data, {"xl/padding.xml": b"<p>" + b" " * (8 * MiB) + b"</p>"})
    with pytest.raises(InputError) as exc:
        xlsx_guard.check_xlsx(spaces, "応募一覧.xlsx")
    info = zipfile.ZipFile(io.BytesIO(spaces)).getinfo("xl/padding.xml")
    ratio = info.file_size / info.compress_size
    assert str(exc.value) == (f"応募一覧.xlsx:xl/padding.xml:(file): this part expands {ratio:,.0f} times "
                              f"({info.compress_size:,} bytes to 8.0 MB), over the limit of 100 "
                              "(SHINSA_XLSX_MAX_RATIO)")


def test_a_batch_of_documents_is_read_by_the_shared_reader(spy, monkeypatch):
    pdf = b"%PDF-1.4 not checked here"
    data = zipped({"提出物/T-1_提案書.pdf": pdf, "__MACOSX/._x": b"junk", "T-2_別紙.pdf": pdf})
    files, problems = documents.read_zip(data, "batch.zip")
    assert problems == [] and files == [("T-1_提案書.pdf", pdf), ("T-2_別紙.pdf", pdf)]
    assert spy["check"] == ["提出物/T-1_提案書.pdf", "T-2_別紙.pdf"] == spy["chunks"]
    assert documents.open_zip is bounded.open_zip
    bomb = zipped({"T-3_提案書.pdf": pdf + b"\0" * (5 * MiB), "T-4_提案書.pdf": pdf})
    files, problems = documents.read_zip(bomb, "bomb.zip")
    assert [n for n, _ in files] == ["T-4_提案書.pdf"]                 # every member's problem, the others read
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("T-3_提案書.pdf")
    assert [str(p) for p in problems] == [f"bomb.zip: T-3_提案書.pdf: (file): expands "
                                          f"{info.file_size / info.compress_size:,.0f} times, over the limit of 100 "
                                          "(a zip bomb?)"]
    many = raw_zip([deflated(f"T-{i}.pdf", b"") for i in range(2001)])
    assert [str(p) for p in documents.read_zip(many, "many.zip")[1]] == [
        "many.zip: (file): the zip has 2,001 members, over the limit of 2,000"]
    assert [str(p) for p in documents.read_zip(b"PK not really", "broken.zip")[1]] == [
        "broken.zip: (file): not a readable zip (BadZipFile)"]
    monkeypatch.setenv("SHINSA_DOC_MAX_BATCH_MB", "1")          # the batch's total names the zip, and stops there
    blob = os.urandom(600 * 1024)
    files, problems = documents.read_zip(zipped({"T-1_別紙.pdf": blob, "T-2_別紙.pdf": blob, "T-3_別紙.pdf": blob}),
                                         "big.zip")
    assert [n for n, _ in files] == ["T-1_別紙.pdf"]
    assert [str(p) for p in problems] == [
        "big.zip: (file): the files expand to more than 1.0 MB together (SHINSA_DOC_MAX_BATCH_MB)"]


def test_a_zip_inside_a_batch_is_a_file_never_opened():
    inner = zipped({"T-1_提案書.pdf": b"%PDF-1.4"})
    files, problems = documents.read_zip(zipped({"T-1_inner.zip": inner}), "outer.zip")
    assert problems == [] and files == [("T-1_inner.zip", inner)]
    doc, problems = documents.check_file("T-1_inner.zip", inner, "outer.zip")
    assert doc is None and "unsupported type .zip" in str(problems[0])
