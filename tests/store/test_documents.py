"""Proposal documents (issue 16 items 1, 2, 4, 5) on SQLite and PostgreSQL: storage, the same bytes stored once,
all-or-nothing intake with every file's problem, access by role and conflict of interest, export ∘ import."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from scoring.errors import InputError
from scoring.store import SYSTEM
from scoring.store.errors import ConflictOfInterest, PermissionDenied, RoundLocked
from scoring.store.schema import Document

from .conftest import login


def pdf(pages: int = 2, title: str = "", encrypt: bool = False) -> bytes:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    w.add_metadata({"/Title": title or f"{pages} pages"})
    if encrypt:
        w.encrypt("secret")
    b = io.BytesIO()
    w.write(b)
    return b.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
XLSX = b"PK\x03\x04" + b"\0" * 64   # only the type's first bytes are checked for an attachment


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def docs(store, small_round):
    """T-001: 提案書 (3 pages) + an xlsx 別紙; T-002: 提案書 — added by the command line."""
    return store.documents.add_documents(SYSTEM, small_round, [
        ("T-001_提案書.pdf", pdf(3, "T-001")), ("T-001_別紙1_経費明細.xlsx", XLSX), ("T-002_提案書.pdf", pdf(2, "T-002"))])


def test_a_batch_is_stored_with_kind_pages_sha_and_who(store, small_round, docs, chair):
    listed = store.documents.list_documents(chair, small_round, "T-001")
    assert [(d.file_name, d.kind, d.pages, d.content_type) for d in listed] == [
        ("T-001_提案書.pdf", "proposal", 3, "application/pdf"),
        ("T-001_別紙1_経費明細.xlsx", "attachment", None,
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]
    assert all(d.uploaded_by == "(cli)" and d.uploaded_at.tzinfo is not None for d in listed)
    data = store.documents.read(chair, small_round, "T-001", listed[0].id)
    assert data == pdf(3, "T-001") and len(data) == listed[0].size
    import hashlib
    assert hashlib.sha256(data).hexdigest() == listed[0].sha256
    assert store.documents.list_documents(chair, small_round, "T-003") == []
    assert store.documents.counts(chair, small_round) == {"T-001": 2, "T-002": 1}


def test_the_same_bytes_are_stored_once(store, small_round, chair):
    same = pdf(2, "同じ")
    store.documents.add_documents(chair, small_round, [("T-001_提案書.pdf", same), ("T-002_提案書.pdf", same),
                                                       ("T-003_別紙.pdf", same)])
    with store.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1
    ids = {d.sha256 for pid in ("T-001", "T-002", "T-003") for d in store.documents.list_documents(chair, small_round, pid)}
    assert len(ids) == 1


def test_the_first_pdf_is_the_proposal_when_no_name_says_so(store, small_round, chair):
    store.documents.add_documents(chair, small_round, [("T-004_申請書.pdf", pdf(2)), ("T-004_図面.pdf", pdf(1)),
                                                       ("T-004.png", PNG)])
    kinds = {d.file_name: d.kind for d in store.documents.list_documents(chair, small_round, "T-004")}
    assert kinds == {"T-004_申請書.pdf": "other", "T-004_図面.pdf": "proposal", "T-004.png": "other"} or \
        kinds == {"T-004_図面.pdf": "proposal", "T-004_申請書.pdf": "other", "T-004.png": "other"}


def test_a_bad_batch_is_refused_whole_listing_every_file(store, small_round, chair, monkeypatch):
    monkeypatch.setenv("SHINSA_DOC_MAX_MB", "1")
    big = pdf(1) + b"%" + b"x" * (1024 * 1024)
    batch = [("T-001_提案書.pdf", pdf(2)),                     # fine on its own
             ("X-999_提案書.pdf", pdf(2)),                     # unknown proposal
             ("T-002_提案書.pdf", b"%PDF-1.7 garbage"),        # not a PDF pypdf opens
             ("T-003_提案書.pdf", pdf(2, encrypt=True)),       # encrypted
             ("T-004_提案書.pdf", big),                        # over 1 MB
             ("T-005_メモ.txt", b"hello"),                     # unsupported type
             ("T-006_写真.png", b"not a png")]                 # content does not match its type
    with pytest.raises(InputError) as e:
        store.documents.add_documents(chair, small_round, batch, name="upload")
    text = str(e.value)
    assert "X-999_提案書.pdf" in text and "no proposal of round" in text
    assert "T-002_提案書.pdf" in text and "not a readable PDF" in text
    assert "T-003_提案書.pdf" in text and "encrypted" in text
    assert "T-004_提案書.pdf" in text and "over the limit of 1.0 MB" in text
    assert "T-005_メモ.txt" in text and "unsupported type .txt" in text
    assert "T-006_写真.png" in text and "not a .png" in text
    assert len(e.value.problems) == 6
    for pid in ("T-001", "T-002"):   # nothing was written
        assert store.documents.list_documents(chair, small_round, pid) == []
    with store.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0


def test_a_second_proposal_document_or_a_name_again_is_refused(store, small_round, docs, chair):
    with pytest.raises(InputError, match="T-001 would have a second 提案書"):
        store.documents.add_documents(chair, small_round, [("T-001_改訂版_提案書.pdf", pdf(1))])
    with pytest.raises(InputError, match="already stored for T-002"):
        store.documents.add_documents(chair, small_round, [("T-002_提案書.pdf", pdf(4))])
    with pytest.raises(InputError, match="a 提案書 must be a PDF"):
        store.documents.add_documents(chair, small_round, [("T-005_提案書.png", PNG)])


def test_a_zip_is_read_with_its_bounds(store, small_round, chair):
    added = store.documents.add_documents(chair, small_round, zipped({"提出物/T-005_提案書.pdf": pdf(2),
                                                                      "提出物/T-005_別紙.png": PNG,
                                                                      "__MACOSX/._x": b"junk"}), name="batch.zip")
    assert sorted(d.file_name for d in added) == ["T-005_別紙.png", "T-005_提案書.pdf"]
    bomb = zipped({"T-006_提案書.pdf": pdf(1) + b"%" + b"\0" * (5 * 1024 * 1024)})   # 5 MB of zeros: ratio ≫ 100
    with pytest.raises(InputError, match="expands .* times, over the limit of 100"):
        store.documents.add_documents(chair, small_round, bomb, name="bomb.zip")
    with pytest.raises(InputError, match="not a readable zip"):
        store.documents.add_documents(chair, small_round, b"PK not really", name="broken.zip")


def test_a_folder_is_read(store, small_round, chair, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "T-006_提案書.pdf").write_bytes(pdf(2))
    (folder / ".DS_Store").write_bytes(b"junk")
    added = store.documents.add_documents(SYSTEM, small_round, folder)
    assert [d.file_name for d in added] == ["T-006_提案書.pdf"]


def test_access_follows_the_proposal(store, small_round, docs, chair, secretariat):
    """Chair and secretariat read every proposal's documents; a reviewer only assigned ones; nobody conflicted."""
    store.assignments.assign(chair, small_round, "T-001", "A")
    a, b = login(store, "A"), login(store, "B")
    doc = store.documents.list_documents(a, small_round, "T-001")[0]
    assert store.documents.read(a, small_round, "T-001", doc.id) == pdf(3, "T-001")
    assert store.documents.list_documents(secretariat, small_round, "T-001")
    with pytest.raises(PermissionDenied, match="not assigned"):   # unassigned reviewer: refused on every route
        store.documents.list_documents(b, small_round, "T-001")
    with pytest.raises(PermissionDenied, match="not assigned"):
        store.documents.read(b, small_round, "T-001", doc.id)
    # a conflict (declared after the assignment) closes the documents to the reviewer and to a chair alike
    store.assignments.set_conflict(chair, small_round, "A", proposal_id="T-001", reason="元所属")
    with pytest.raises(ConflictOfInterest):
        store.documents.read(a, small_round, "T-001", doc.id)
    with pytest.raises(ConflictOfInterest):
        store.documents.list_documents(a, small_round, "T-001")
    store.assignments.set_conflict(chair, small_round, "chair", proposal_id="T-002", reason="顧問")
    t2 = store.documents.list_documents(secretariat, small_round, "T-002")[0]
    with pytest.raises(ConflictOfInterest):
        store.documents.read(chair, small_round, "T-002", t2.id)
    with pytest.raises(ConflictOfInterest):
        store.documents.list_documents(chair, small_round, "T-002")
    # a document id of another proposal is not found through an allowed one
    from scoring.store.errors import NotFound
    with pytest.raises(NotFound):
        store.documents.read(secretariat, small_round, "T-001", t2.id)
    # only the administrative roles add documents
    with pytest.raises(PermissionDenied):
        store.documents.add_documents(a, small_round, [("T-003_提案書.pdf", pdf(1))])


def test_reads_and_additions_are_audited(store, small_round, docs, chair):
    doc = store.documents.list_documents(chair, small_round, "T-002")[0]
    store.documents.read(chair, small_round, "T-002", doc.id)
    lines = store.audit.query(chair, small_round, entity="document")
    assert [e.action for e in lines] == ["document.read", "document.add"]
    assert lines[0].actor == "chair" and lines[0].proposal_id == "T-002" and lines[0].subject == "T-002_提案書.pdf"
    assert [f["file_name"] for f in lines[1].after["files"]] == ["T-001_提案書.pdf", "T-001_別紙1_経費明細.xlsx",
                                                                 "T-002_提案書.pdf"]


def test_a_locked_round_takes_no_documents(store, small_round, chair):
    store.rounds.lock_round(chair, small_round)
    with pytest.raises(RoundLocked):
        store.documents.add_documents(chair, small_round, [("T-001_提案書.pdf", pdf(1))])


def test_export_then_import_is_the_identity(store, small_round, docs, chair, tmp_path):
    store.documents.add_documents(chair, small_round, [("T-003.png", PNG)])
    paths = store.rounds.export_files(chair, small_round, tmp_path / "out")
    assert tmp_path / "out" / "documents.zip" in paths
    r2 = store.rounds.create_round(SYSTEM, "複製", ["autonomous_l4"])
    out = tmp_path / "out"
    store.rounds.import_files(SYSTEM, r2.id, out / "proposals.json", out / "reviewers.csv", out / "reviews.csv",
                              out / "stages.json")
    store.documents.add_documents(SYSTEM, r2.id, out / "documents.zip")

    def state(rid):
        rows = []
        for pid in ("T-001", "T-002", "T-003", "T-004"):
            for d in store.documents.list_documents(SYSTEM, rid, pid):
                rows.append((d.proposal_id, d.file_name, d.kind, d.content_type, d.size, d.sha256, d.pages,
                             d.uploaded_by, d.uploaded_at, store.documents.read(SYSTEM, rid, pid, d.id)))
        return rows

    before, after = state(small_round), state(r2.id)
    assert before == after and len(before) == 4
    assert {x[7] for x in before} == {"(cli)", "chair"}     # who uploaded is kept, not the importer
    with store.db.read() as s:                               # the bytes were not stored a second time
        assert s.scalar(select(func.count()).select_from(Document)) == 4
    store.rounds.export_files(chair, r2.id, tmp_path / "again")
    assert (tmp_path / "again" / "documents.zip").read_bytes() == (out / "documents.zip").read_bytes()
