"""The progress counts the pages 担当案件 and 進捗 draw (app.progress), without AppTest."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace as A

from app.progress import days_left, next_open, pending_reviews, share_submitted, status_counts
from scoring.store.values import ProgressMatrix


def test_days_left_counts_whole_days_and_goes_negative_once_past():
    assert days_left(date(2027, 1, 15), today=date(2027, 1, 5)) == 10
    assert days_left(date(2027, 1, 15), today=date(2027, 1, 15)) == 0
    assert days_left(date(2027, 1, 15), today=date(2027, 1, 17)) == -2


def test_status_counts_and_the_submitted_share():
    counts = status_counts(["assigned", "draft", "submitted", "submitted"])
    assert counts == {"assigned": 1, "draft": 1, "submitted": 2}
    assert share_submitted(counts) == 0.5
    assert share_submitted(status_counts([])) == 0.0


def test_next_open_wraps_round_and_skips_submitted_and_conflicted():
    items = [A(proposal_id="P1", status="submitted"), A(proposal_id="P2", status="conflict"),
             A(proposal_id="P3", status="draft"), A(proposal_id="P4", status="assigned")]
    assert next_open(items, "P3") == "P4"
    assert next_open(items, "P4") == "P3"           # wraps round past the submitted and the conflicted
    assert next_open(items, "P1") == "P3"
    assert next_open(items[:2] + [A(proposal_id="P3", status="submitted")], "P3") is None


def test_pending_reviews_lists_only_reviewers_with_something_to_submit():
    matrix = ProgressMatrix(reviewers=["R1", "R2", "R3"], proposals=["P1", "P2", "P3"],
                            cells={("R1", "P1"): "assigned", ("R1", "P2"): "draft", ("R1", "P3"): "submitted",
                                   ("R2", "P1"): "submitted", ("R2", "P2"): "conflict",
                                   ("R3", "P3"): "assigned"})
    got = pending_reviews(matrix)
    assert [(p.reviewer, p.assigned, p.draft, p.proposals) for p in got] == [
        ("R1", 1, 1, ("P1", "P2")), ("R3", 1, 0, ("P3",))]
