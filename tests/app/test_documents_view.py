"""The 提案書 beside the score form (issue 16 item 3): shown to an assigned reviewer and to the chair, never to a
conflicted or unassigned member; attachments as download buttons; the upload on ラウンド管理 all or nothing."""

from __future__ import annotations

import base64
import io

from pypdf import PdfWriter

from tests.app.review_fixtures import ROOT, app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

PDF_NAME = "L4-003_提案書.pdf"


def viewers(at) -> list[str]:
    """The PDFs the page hands to the viewer component, as decoded bytes' first 8 bytes and length."""
    out = []
    for el in at.get("bidi_component") or []:
        out.append(str(el.proto))
    if not out:   # AppTest shows a v2 component as an unknown element: look into its proto
        for el in at.main:
            out += _walk(el)
    return out


def _walk(node) -> list[str]:
    found = []
    proto = getattr(node, "proto", None)
    if proto is not None and "data:application/pdf;base64," in str(proto):
        found.append(str(proto))
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
        found += _walk(child)
    return found


def pdf_in(at) -> bytes | None:
    for text in viewers(at):
        start = text.index("data:application/pdf;base64,") + len("data:application/pdf;base64,")
        end = start
        while end < len(text) and (text[end].isalnum() or text[end] in "+/="):
            end += 1
        return base64.b64decode(text[start:end])
    return None


def test_an_assigned_reviewer_scores_with_the_proposal_pdf_beside_the_form(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    shown = pdf_in(at)
    assert shown == (ROOT / "sample_proposals" / "documents" / PDF_NAME).read_bytes()
    assert PDF_NAME in texts(at) and "提案書類" in texts(at)
    assert at.radio(key="rv_level_rollout_plan") is not None          # the form is on the same page
    at.radio(key="rv_level_rollout_plan").set_value(4).run()          # and works with the viewer beside it
    no_exception(at)
    assert pdf_in(at) == shown
    lines = store.audit.query(store.users.authenticate("C01", "shinsa-demo"), 1, entity="document")
    reads = [(e.actor, e.proposal_id, e.subject) for e in lines if e.action == "document.read"]
    assert reads == [("R01", "L4-003", PDF_NAME)]   # the session's first view is logged, once


def test_a_conflicted_or_unassigned_reviewer_sees_no_document(store):
    r01 = store.users.authenticate("R01", "shinsa-demo")
    store.assignments.declare_conflict(r01, 1, proposal_id="L4-003", reason="元所属")
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    assert pdf_in(at) is None and PDF_NAME not in texts(at)
    at = app_as(store, "R03", "reviewer_scoring", query={"round": "1", "proposal": "L4-006"})   # conflicted
    no_exception(at)
    assert pdf_in(at) is None and "L4-006_提案書.pdf" not in texts(at)
    at = app_as(store, "R02", "reviewer_scoring", query={"round": "1", "proposal": "AC-001"})
    assigned = {a.proposal_id for a in store.assignments.list_assignments_for(store.users.authenticate("R02", "shinsa-demo"), 1)}
    if "AC-001" not in assigned:
        assert pdf_in(at) is None and "AC-001_提案書.pdf" not in texts(at)


def test_the_chair_sees_the_documents_unless_conflicted(store):
    at = app_as(store, "C01", "chair_proposal", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    assert pdf_in(at) == (ROOT / "sample_proposals" / "documents" / PDF_NAME).read_bytes()
    c01 = store.users.authenticate("C01", "shinsa-demo")
    store.assignments.declare_conflict(c01, 1, proposal_id="L4-003", reason="元所属")
    at = app_as(store, "C01", "chair_proposal", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    assert pdf_in(at) is None and PDF_NAME not in texts(at)


def _pdf() -> bytes:
    w = PdfWriter()
    w.add_blank_page(200, 200)
    b = io.BytesIO()
    w.write(b)
    return b.getvalue()


def test_attachments_are_download_buttons_and_the_upload_is_all_or_nothing(store):
    at = app_as(store, "S01", "admin_round")
    no_exception(at)
    # AppTest cannot drive st.file_uploader: the page's store call is what the button runs
    from scoring.errors import InputError
    s01 = store.users.authenticate("S01", "shinsa-demo")
    try:
        store.documents.add_documents(s01, 1, [("L4-003_別紙1_経費明細.pdf", _pdf()), ("ZZ-999_x.pdf", _pdf())])
    except InputError as exc:
        assert "ZZ-999_x.pdf" in str(exc)
    else:
        raise AssertionError("an unknown proposal id must refuse the batch")
    store.documents.add_documents(s01, 1, [("L4-003_別紙1_経費明細.pdf", _pdf())])
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    labels = [b.label for b in at.get("download_button")]
    assert any("別紙" in x and "L4-003_別紙1_経費明細.pdf" in x for x in labels), labels
