"""Store reads of the chair's pages (issue 15): one proposal's reviews read from the database (提案の詳細 read every
review of the round and kept one proposal's), with the chair's conflicts of interest holding as for the whole list;
the decisions board from the call the page already holds."""

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


def test_decision_board_from_the_callers_call_is_the_board_read_from_the_database(store, chair, small_round,
                                                                                  monkeypatch):
    """The 採否・通知 page passes the chair's call it keeps per round state: the board is the same as one that
    reads the call itself, with the draft edits applied; a call of another pack is not used."""
    from dataclasses import replace

    import numpy as np

    from scoring.io.packs import load_pack
    from scoring.store.rounds import RoundService

    a = login(store, "A")
    for pid in ("T-001", "T-002", "T-004"):
        store.assignments.assign(chair, small_round, pid, "A")
        v = store.reviews.save_draft(a, small_round, pid, levels=LEVELS)
        store.reviews.submit(a, small_round, pid, v)
    store.decisions.set_edit(chair, small_round, None, "T-002", decision="not_adopted", reason="辞退")
    held = store.rounds.call(chair, small_round)
    read = store.decisions.board(chair, small_round)
    built = []
    real = RoundService._call
    monkeypatch.setattr(RoundService, "_call", lambda self, *a, **k: built.append(1) or real(self, *a, **k))
    given = store.decisions.board(chair, small_round, call=held)
    assert built == []                                    # the ranking was not rebuilt from the database
    for name in ("decision", "proposed", "awarded", "position"):
        assert np.array_equal(getattr(given.decisions, name), getattr(read.decisions, name)), name
    assert given.decisions.reasons == read.decisions.reasons and given.edits.keys() == read.edits.keys()
    another = replace(held[0], pack=load_pack("ai_edge"))
    store.decisions.board(chair, small_round, call=(another, held[1]))
    assert built == [1]                                   # another pack's call: read from the database
