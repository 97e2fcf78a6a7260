"""Conflicts of interest hold for every reader (docs/security/coi.md): a chair conflicted with a proposal reads
no reviewer's levels, comments or bonus marks of it — not through the audit log, the export, the chair's call
or the chair workbook — while the ranked list keeps its aggregate figures."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from openpyxl import load_workbook

from scoring.io.chair_workbook import chair_workbook
from scoring.io.xlsx_style import wl
from scoring.store import SYSTEM
from scoring.store.errors import ConflictOfInterest

from .conftest import LEVELS, login

SECRET = {"T-002": "T-002の秘密の所見", "T-003": "T-003の秘密の所見"}   # the chair is conflicted with both
OPEN = "T-001の所見"                                                   # the chair may read this one


@pytest.fixture
def conflicted(store, small_round, chair):
    """The chair conflicted with T-002 (by proposal) and with 株式会社みちのく (so with T-003); A reviews
    T-001, T-002 and T-003 with comments (T-002 submitted); a second chair, chair2, has no conflict."""
    store.assignments.set_conflict(chair, small_round, "chair", proposal_id="T-002", reason="元所属")
    store.assignments.declare_conflict(chair, small_round, organisation="株式会社みちのく", reason="顧問")
    a = login(store, "A")
    for pid in ("T-001", "T-002", "T-003"):
        store.assignments.assign(chair, small_round, pid, "A")
        text = SECRET.get(pid, OPEN)
        v = store.reviews.save_draft(a, small_round, pid, levels=LEVELS, comments={"service_need": text},
                                     overall_comment=f"総評 {text}")
        if pid == "T-002":
            store.reviews.submit(a, small_round, pid, v)
    chair2 = store.users.add_user(SYSTEM, "chair2", "副委員長", "chair", "chair2-password-1")
    return chair, chair2


def _dump(entries) -> str:
    return json.dumps([[e.before, e.after] for e in entries], ensure_ascii=False, default=str)


def test_audit_query_keeps_the_lines_but_withholds_the_content_from_a_conflicted_chair(store, small_round,
                                                                                       conflicted):
    chair, chair2 = conflicted
    lines = store.audit.query(chair, small_round, proposal_id="T-002")
    reviews = [e for e in lines if e.entity == "review"]
    # the fact stays: who did what, when, to which proposal (the log is complete) …
    assert [e.action for e in reviews] == ["review.submit", "review.save"]
    assert all(e.actor == "A" and e.subject == "A" and e.withheld for e in reviews)
    # … the content does not: no level, comment or bonus mark, only the status and version
    assert reviews[0].after == {"status": "submitted", "version": 2}
    assert all(set(e.after) <= {"status", "version"} and set(e.before or {}) <= {"status", "version"}
               for e in reviews)
    everything = store.audit.query(chair, small_round)
    text = _dump(everything)
    assert not any(s in text for s in SECRET.values()) and "service_need" not in _dump(
        [e for e in everything if e.proposal_id in SECRET])
    assert {e.proposal_id for e in everything if e.withheld} == {"T-002", "T-003"}
    # the proposal the chair is not conflicted with is shown whole
    [t1] = [e for e in everything if e.proposal_id == "T-001" and e.entity == "review"]
    assert not t1.withheld and t1.after["comments"] == {"service_need": OPEN} and t1.after["levels"] == LEVELS
    # another chair, and the command line, read every line in full
    for reader in (chair2, SYSTEM):
        full = _dump(store.audit.query(reader, small_round))
        assert all(s in full for s in SECRET.values())
        assert not any(e.withheld for e in store.audit.query(reader, small_round))


def test_a_conflicted_chair_cannot_export_the_round_and_nothing_is_written(store, small_round, conflicted, tmp_path):
    chair, chair2 = conflicted
    out = tmp_path / "export-by-conflicted-chair"
    with pytest.raises(ConflictOfInterest, match=r"chair has a conflict of interest with T-002, T-003: the export "
                                                 r"holds every review"):
        store.rounds.export_files(chair, small_round, out)
    assert not out.exists()
    for reader, name in ((chair2, "by-chair2"), (SYSTEM, "by-cli")):
        paths = store.rounds.export_files(reader, small_round, tmp_path / name)
        reviews = (tmp_path / name / "reviews.csv").read_text(encoding="utf-8-sig")
        assert len(paths) == 6 and all(s in reviews for s in SECRET.values())   # + documents.zip


def test_the_chairs_call_withholds_comments_but_keeps_the_aggregates(store, small_round, conflicted):
    chair, chair2 = conflicted
    call, res = store.rounds.call(chair, small_round)
    full, res2 = store.rounds.call(chair2, small_round)
    assert call.withheld == {"T-002", "T-003"} and full.withheld == frozenset()
    assert {pid for _, pid in call.reviews.comments} == {"T-001"}
    assert {pid for _, pid in full.reviews.comments} == {"T-001", "T-002", "T-003"}
    mine, theirs = call.rank(None, res), full.rank(None, res2)
    for a, b in ((mine.total, theirs.total), (mine.base, theirs.base), (mine.decision, theirs.decision),
                 (mine.agg.raw_totals, theirs.agg.raw_totals)):
        np.testing.assert_array_equal(a, b)


def _workbook_texts(data: bytes) -> dict[str, str]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
            for ws in wb.worksheets}


def test_the_chair_workbook_of_a_conflicted_chair_has_no_individual_review_of_those_proposals(store, small_round,
                                                                                               conflicted):
    chair, chair2 = conflicted
    rev, com = wl("sheet.reviewers"), wl("sheet.comments")
    call, res = store.rounds.call(chair, small_round)
    sheets = _workbook_texts(chair_workbook(call.rank(None, res), call, round_name="小テスト"))
    assert (rev, com) == ("委員別", "所見")
    text = "\n".join(sheets.values())
    assert not any(s in text for s in SECRET.values())
    assert OPEN in sheets[com]                                       # what the chair may read is there
    assert sheets[com].count(wl("withheld_comments")) == 2          # one line per withheld proposal
    # 委員別: A's score of T-001 is there, of T-002 / T-003 only 「非表示（利益相反）」
    wb = load_workbook(io.BytesIO(chair_workbook(call.rank(None, res), call)), read_only=True)
    rows = {r[1]: r for r in wb[rev].iter_rows(min_row=2, values_only=True)}
    header = next(wb[rev].iter_rows(max_row=1, values_only=True))
    col = next(k for k, h in enumerate(header) if str(h).startswith("A "))
    assert isinstance(rows["T-001"][col], (int, float))
    assert rows["T-002"][col] == rows["T-003"][col] == wl("withheld")
    # an unconflicted chair's workbook shows everything
    full, res2 = store.rounds.call(chair2, small_round)
    all_text = "\n".join(_workbook_texts(chair_workbook(full.rank(None, res2), full)).values())
    assert all(s in all_text for s in SECRET.values()) and wl("withheld") not in all_text


def test_list_reviews_and_get_review_stay_closed_and_progress_holds_no_content(store, small_round, conflicted):
    chair, chair2 = conflicted
    assert {r.proposal_id for r in store.reviews.list_reviews(chair, small_round)} == {"T-001"}
    with pytest.raises(ConflictOfInterest):
        store.reviews.get_review(chair, small_round, "T-003", reviewer="A")
    m = store.rounds.progress(chair, small_round)
    assert m.cell("A", "T-002") == "submitted" and m.cell("chair", "T-002") == "conflict"
    assert set(m.cells.values()) <= {"assigned", "draft", "submitted", "conflict"}


def test_analyses_of_a_conflicted_chairs_call_leave_their_reviews_out_of_the_calibration(store, small_round,
                                                                                          conflicted):
    from scoring.analytics import analyze

    chair, chair2 = conflicted
    call, res = store.rounds.call(chair, small_round)
    assert analyze(call, n_resamples=20, portfolio_time_limit=5)["calibration"]["excluded"] == ["T-002", "T-003"]
    full, _ = store.rounds.call(chair2, small_round)
    assert analyze(full, n_resamples=20, portfolio_time_limit=5)["calibration"]["excluded"] == []
