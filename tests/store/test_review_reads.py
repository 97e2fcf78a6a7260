"""One proposal's reviews read from the database (issue 15: 提案の詳細 read every review of the round and kept one
proposal's), with the chair's conflicts of interest holding as for the whole list."""

from __future__ import annotations

from .conftest import LEVELS, login


def test_list_reviews_of_one_proposal_reads_that_proposal_only_and_keeps_conflicts_closed(store, small_round, chair):
    a, b = login(store, "A"), login(store, "B")
    for pid in ("T-001", "T-002", "T-003"):
        for who, name in ((a, "A"), (b, "B")):
            store.assignments.assign(chair, small_round, pid, name)
            store.reviews.save_draft(who, small_round, pid, levels=LEVELS, comments={"service_need": f"{pid} {name}"})
    every = store.reviews.list_reviews(chair, small_round)
    one = store.reviews.list_reviews(chair, small_round, proposal_id="T-002")
    assert [(r.proposal_id, r.reviewer) for r in one] == [("T-002", "A"), ("T-002", "B")]
    assert one == [r for r in every if r.proposal_id == "T-002"]
    assert store.reviews.list_reviews(chair, small_round, proposal_id="T-404") == []
    # a conflicted chair reads none of that proposal's reviews, filtered or not
    store.assignments.set_conflict(chair, small_round, "chair", proposal_id="T-002", reason="元所属")
    assert store.reviews.list_reviews(chair, small_round, proposal_id="T-002") == []
    assert [r.proposal_id for r in store.reviews.list_reviews(chair, small_round, proposal_id="T-003")] == ["T-003"] * 2
