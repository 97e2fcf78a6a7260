"""The hearing stage in the store (stages.md; docs/store.md "Hearing stage") — on SQLite and PostgreSQL: a pack's
stage moved by the chair only, logged and reversible with a reason; shortlist edits and their refusals; hearing
reviews with the document reviews' guarantees; document reviews read-only once the pack moved on; and the
store's two-stage ranking equal to the core's on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.call import assemble
from scoring.errors import InputError
from scoring.hearing_ranking import HearingParams, ShortlistEdit
from scoring.io.packs import load_pack
from scoring.models import Proposal, Reviewer
from scoring.params import Params
from scoring.store import (SYSTEM, ConflictOfInterest, IncompleteReview, PermissionDenied, ReviewLocked, RoundLocked,
                           StaleReview)

from .conftest import LEVELS, login, small_proposals, write_files

CRIT = list(LEVELS)
HEAR = ["plan_presentation", "safety_answers", "local_commitment"]     # autonomous_l4's hearing criteria
DOC = {"T-001": [5, 5, 5, 5, 5], "T-002": [4, 4, 4, 4, 4], "T-003": [4, 4, 4, 4, 4], "T-004": [4, 4, 4, 4, 3],
       "T-005": [4, 4, 3, 4, 3], "T-006": [1, 1, 1, 1, 1]}             # T-002/T-003 tie; T-006 fails the pass line
TOP2 = HearingParams(shortlist_method="top_n", n=2, combine="weighted", document_weight=0.4, hearing_weight=0.6,
                     pass_line=60.0, min_reviews=3)
HEARD = {("A", "T-001"): [3, 3, 3], ("B", "T-001"): [3, 4, 3], ("D", "T-001"): [3, 3, 4],
         ("A", "T-003"): [5, 5, 5], ("B", "T-003"): [5, 4, 5], ("D", "T-003"): [4, 5, 5],
         ("A", "T-004"): [4, 4, 4], ("B", "T-004"): [4, 4, 4], ("D", "T-004"): [4, 4, 4]}


def doc_rows():
    return [[rv, pid, c, v, "submitted", ""] for pid, lv in DOC.items() for rv in "ABD" for c, v in zip(CRIT, lv)]


@pytest.fixture
def heard_round(store, tmp_path):
    """small_round's people, document reviews by A, B, D of T-001…T-006, all submitted (C is conflicted with
    T-003 through 株式会社みちのく)."""
    r = store.rounds.create_round(SYSTEM, "ヒアリング", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(6, members={"T-003": ["株式会社みちのく"]}),
                        [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", ""),
                         ("C", "委員C", "reviewer", "株式会社みちのく"), ("D", "委員D", "reviewer", "")], doc_rows())
    store.rounds.import_files(SYSTEM, r.id, **files)
    for u in "ABCD":
        store.users.set_password(SYSTEM, u, f"password-{u}-123")
    return r.id


@pytest.fixture
def member_chair(store, chair, heard_round):
    store.rounds.add_reviewer(SYSTEM, heard_round, "chair", "chair")
    return chair


def hear(store, rid, who, pid, levels, submit=True):
    me = login(store, who)
    v = store.reviews.save_draft(me, rid, pid, dict(zip(HEAR, levels)), {HEAR[0]: f"{who} の質問"}, None, "",
                                 base_version=store.reviews.get_review(me, rid, pid, stage="hearing").version,
                                 stage="hearing")
    if submit:
        store.reviews.submit(me, rid, pid, v, stage="hearing")


def to_hearing(store, chair, rid, hearing=TOP2):
    store.hearings.set_stage(chair, rid, None, "shortlist", hearing=hearing)
    return store.hearings.set_stage(chair, rid, None, "hearing")


def test_stage_moves_only_by_the_chair_one_step_forward_back_with_a_reason_logged(store, chair, secretariat,
                                                                                  heard_round):
    assert store.hearings.get_stage(login(store, "A"), heard_round).stage == "document"
    for who in (login(store, "A"), secretariat):
        with pytest.raises(PermissionDenied):
            store.hearings.set_stage(who, heard_round, None, "shortlist")
    with pytest.raises(InputError, match=r"stage: .*the next stage is shortlist, not hearing"):
        store.hearings.set_stage(chair, heard_round, None, "hearing")
    with pytest.raises(InputError, match="already in stage document"):
        store.hearings.set_stage(chair, heard_round, None, "document")
    with pytest.raises(InputError, match="'closed' is not one of"):
        store.hearings.set_stage(chair, heard_round, None, "closed")
    info = store.hearings.set_stage(chair, heard_round, "autonomous_l4", "shortlist", hearing=TOP2)
    assert (info.stage, info.shortlist, info.hearing_params["n"]) == ("shortlist", None, 2)
    with pytest.raises(InputError, match="reason: moving pack autonomous_l4 back from shortlist to document needs"):
        store.hearings.set_stage(chair, heard_round, None, "document", reason="  ")
    assert store.hearings.get_stage(chair, heard_round).stage == "shortlist"
    back = store.hearings.set_stage(chair, heard_round, None, "document", reason="評価の追加")
    assert (back.stage, back.hearing_params) == ("document", None)
    log = store.audit.query(chair, heard_round, entity="stage")
    assert [(e.action, e.before["stage"], e.after["stage"], e.after["reason"]) for e in log] == [
        ("stage.set", "shortlist", "document", "評価の追加"), ("stage.set", "document", "shortlist", "")]
    assert {e.actor for e in log} == {"chair"}
    store.rounds.lock_round(chair, heard_round)
    with pytest.raises(RoundLocked):
        store.hearings.set_stage(chair, heard_round, None, "shortlist")


def test_a_pack_without_hearing_goes_from_document_to_decided_only(store, chair):
    r = store.rounds.create_round(SYSTEM, "補助金", ["subsidy"])
    with pytest.raises(InputError, match="pack subsidy has no hearing section: its stages are"):
        store.hearings.set_stage(chair, r.id, None, "shortlist")
    assert store.hearings.set_stage(chair, r.id, None, "decided").stage == "decided"
    assert store.hearings.set_stage(chair, r.id, None, "document", reason="再審査").stage == "document"


def test_entering_the_hearing_fixes_the_shortlist_and_going_back_clears_it(store, chair, heard_round):
    info = to_hearing(store, chair, heard_round)
    assert info.shortlist == ("T-001", "T-002", "T-003")          # top 2 and T-003 tied with the 2nd
    [fixed] = [e for e in store.audit.query(chair, heard_round, entity="stage") if e.after["stage"] == "hearing"]
    assert fixed.after["shortlist"] == ["T-001", "T-002", "T-003"]
    back = store.hearings.set_stage(chair, heard_round, None, "shortlist", reason="対象の見直し")
    assert (back.stage, back.shortlist, back.hearing_params["n"]) == ("shortlist", None, 2)


def test_shortlist_edits_are_the_chairs_in_the_shortlist_stage_with_the_cores_refusals(store, chair, heard_round):
    with pytest.raises(InputError, match="stage: pack autonomous_l4 is in stage document"):
        store.hearings.add_to_shortlist(chair, heard_round, None, "T-004", "地域性")
    store.hearings.set_stage(chair, heard_round, None, "shortlist", hearing=TOP2)
    with pytest.raises(PermissionDenied):
        store.hearings.add_to_shortlist(login(store, "A"), heard_round, None, "T-004", "地域性")
    refusals = [("add", "T-006", "x", "does not qualify at the document stage"),
                ("add", "T-001", "x", "already shortlisted"),
                ("remove", "T-004", "x", "is not shortlisted: it cannot be removed"),
                ("add", "T-004", " ", "a shortlist change needs a reason"),
                ("add", "T-999", "x", "is not a proposal of pack autonomous_l4")]
    for action, pid, reason, message in refusals:
        edit = store.hearings.add_to_shortlist if action == "add" else store.hearings.remove_from_shortlist
        with pytest.raises(InputError, match=message):
            edit(chair, heard_round, None, pid, reason)
    assert store.hearings.list_edits(chair, heard_round) == []                   # nothing written
    added = store.hearings.add_to_shortlist(chair, heard_round, None, "T-004", "地域への波及")
    store.hearings.remove_from_shortlist(chair, heard_round, None, "T-002", "辞退の申し出")
    edits = store.hearings.list_edits(chair, heard_round)
    assert [(e.proposal_id, e.action, e.reason, e.by) for e in edits] == [
        ("T-004", "add", "地域への波及", "chair"), ("T-002", "remove", "辞退の申し出", "chair")]
    assert edits[0].row == added.row and edits[0].at
    with pytest.raises(InputError, match="'T-002' is not shortlisted"):
        store.hearings.remove_from_shortlist(chair, heard_round, None, "T-002", "再度")
    log = store.audit.query(chair, heard_round, entity="stage")
    assert [(e.action, e.proposal_id, e.after.get("reason")) for e in log[:2]] == [
        ("shortlist.remove", "T-002", "辞退の申し出"), ("shortlist.add", "T-004", "地域への波及")]
    assert store.hearings.set_stage(chair, heard_round, None, "hearing").shortlist == ("T-001", "T-003", "T-004")
    with pytest.raises(InputError, match="stage: pack autonomous_l4 is in stage hearing"):
        store.hearings.add_to_shortlist(chair, heard_round, None, "T-005", "x")


def test_document_reviews_are_read_only_once_the_pack_left_the_document_stage(store, chair, heard_round):
    a = login(store, "A")
    store.reviews.reopen(chair, heard_round, "T-001", "A", "見直し")
    v = store.reviews.get_review(a, heard_round, "T-001").version
    store.hearings.set_stage(chair, heard_round, None, "shortlist", hearing=TOP2)
    with pytest.raises(ReviewLocked, match="the document stage .* of pack autonomous_l4 is over .* read-only"):
        store.reviews.save_draft(a, heard_round, "T-001", LEVELS, base_version=v)
    with pytest.raises(ReviewLocked, match="read-only"):
        store.reviews.submit(a, heard_round, "T-001", v)
    with pytest.raises(ReviewLocked, match="read-only"):
        store.reviews.reopen(chair, heard_round, "T-002", "A", "見直し")
    assert store.reviews.get_review(a, heard_round, "T-001").version == v        # still readable, unchanged
    store.hearings.set_stage(chair, heard_round, None, "document", reason="A の再評価")
    assert store.reviews.save_draft(a, heard_round, "T-001", LEVELS, base_version=v) == v + 1


def test_hearing_reviews_only_of_the_fixed_shortlist_while_in_the_hearing_stage(store, chair, heard_round):
    a, c = login(store, "A"), login(store, "C")
    with pytest.raises(ReviewLocked, match="not in the hearing stage"):
        store.reviews.save_draft(a, heard_round, "T-001", {HEAR[0]: 4}, stage="hearing")
    to_hearing(store, chair, heard_round)
    with pytest.raises(ReviewLocked, match="T-004 is not on the hearing shortlist of pack autonomous_l4"):
        store.reviews.save_draft(a, heard_round, "T-004", {HEAR[0]: 4}, stage="hearing")
    with pytest.raises(ConflictOfInterest):                     # C is conflicted with T-003: no hearing form
        store.reviews.save_draft(c, heard_round, "T-003", {HEAR[0]: 4}, stage="hearing")
    with pytest.raises(ConflictOfInterest):
        store.reviews.get_review(c, heard_round, "T-003", stage="hearing")
    with pytest.raises(PermissionDenied, match="not on the committee"):    # the chair user is not a member
        store.reviews.save_draft(chair, heard_round, "T-001", {HEAR[0]: 4}, stage="hearing")
    with pytest.raises(InputError, match=r"(?s)levels.service_need: not a hearing criterion .*bonus_marks.x"):
        store.reviews.save_draft(a, heard_round, "T-001", {"service_need": 4}, bonus_marks={"x": 1},
                                 stage="hearing")
    # C was never assigned T-001, yet hears it: the whole committee hears every proposal it is not conflicted with
    assert store.reviews.save_draft(c, heard_round, "T-001", {HEAR[0]: 4}, stage="hearing") == 1
    v = store.reviews.save_draft(a, heard_round, "T-001", {HEAR[0]: 4}, {HEAR[0]: "質問"}, stage="hearing")
    with pytest.raises(StaleReview, match="changed elsewhere"):
        store.reviews.save_draft(a, heard_round, "T-001", {HEAR[0]: 2}, base_version=0, stage="hearing")
    with pytest.raises(IncompleteReview) as exc:
        store.reviews.submit(a, heard_round, "T-001", v, stage="hearing")
    assert exc.value.missing == HEAR[1:]
    v = store.reviews.save_draft(a, heard_round, "T-001", dict(zip(HEAR, [4, 3, 5])), base_version=v,
                                 stage="hearing")
    assert store.reviews.submit(a, heard_round, "T-001", v, stage="hearing") == v + 1
    with pytest.raises(ReviewLocked, match="already submitted"):
        store.reviews.submit(a, heard_round, "T-001", v + 1, stage="hearing")
    got = store.reviews.get_review(a, heard_round, "T-001", stage="hearing")
    assert (got.stage, got.status, got.levels) == ("hearing", "submitted", dict(zip(HEAR, [4, 3, 5])))
    doc = store.reviews.get_review(a, heard_round, "T-001")     # the document review is its own row, unchanged
    assert (doc.stage, doc.status, doc.version, doc.levels) == ("document", "submitted", 1, dict(zip(CRIT, DOC["T-001"])))
    assert [r.stage for r in store.reviews.list_reviews(chair, heard_round, stage="hearing")] == ["hearing"] * 2
    assert len(store.reviews.list_reviews(chair, heard_round)) == 18             # the document reviews
    store.reviews.reopen(chair, heard_round, "T-001", "A", "記入漏れ", stage="hearing")
    store.hearings.set_stage(chair, heard_round, None, "decided")
    with pytest.raises(ReviewLocked, match="not in the hearing stage"):
        store.reviews.save_draft(a, heard_round, "T-001", dict(zip(HEAR, [4, 3, 5])), base_version=v + 2,
                                 stage="hearing")


def core_data(with_hearing: dict):
    pack = load_pack("autonomous_l4")
    proposals = [Proposal.model_validate(p) for p in small_proposals(6, members={"T-003": ["株式会社みちのく"]})]
    rows = doc_rows() + [[rv, pid, f"hearing:{c}", v, "submitted", ""]
                         for (rv, pid), lv in with_hearing.items() for c, v in zip(HEAR, lv)]
    df = pd.DataFrame(rows, columns=["reviewer_id", "proposal_id", "item", "value", "status", "comment"])
    reviewers = [Reviewer(reviewer_id=u, conflicts=("株式会社みちのく",) if u == "C" else ()) for u in "ABCD"]
    return assemble(pack, proposals, df, reviewers)


def test_rank_hearing_round_equals_the_cores_rank_hearing_on_the_same_data(store, chair, member_chair, heard_round):
    store.hearings.set_stage(chair, heard_round, None, "shortlist", hearing=TOP2)
    store.hearings.add_to_shortlist(chair, heard_round, None, "T-004", "地域への波及")
    store.hearings.remove_from_shortlist(chair, heard_round, None, "T-002", "辞退")
    to = store.hearings.set_stage(chair, heard_round, None, "hearing")
    for (who, pid), lv in HEARD.items():
        hear(store, heard_round, who, pid, lv)
    got = store.hearings.rank_hearing_round(chair, heard_round)
    edits = [ShortlistEdit("T-004", "add", "地域への波及"), ShortlistEdit("T-002", "remove", "辞退")]
    want = core_data(HEARD).rank_hearing(Params.from_pack(load_pack("autonomous_l4")), edits, TOP2)
    assert got.shortlist_ids() == want.shortlist_ids() == list(to.shortlist) == ["T-001", "T-003", "T-004"]
    for name in ("decision", "rank", "shortlisted", "waitlist_position", "cumulative"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    assert np.allclose(got.total, want.total) and np.allclose(got.hearing_base, want.hearing_base, equal_nan=True)
    assert [r["proposal_id"] for r in got.results()] == [r["proposal_id"] for r in want.results()]
    assert got.rank[got.table.index_of()["T-003"]] == 1                       # the hearing reorders T-001/T-003
    # a what-if of the combination: the same data through the core with the same parameters
    alone = HearingParams(shortlist_method="top_n", n=2, combine="hearing_only", min_reviews=3)
    got = store.hearings.rank_hearing_round(chair, heard_round, hearing=alone)
    want = core_data(HEARD).rank_hearing(Params.from_pack(load_pack("autonomous_l4")), edits, alone)
    assert np.allclose(got.total, want.total) and np.array_equal(got.rank, want.rank)
    # the stored edits apply to a what-if's cut too: one that no longer applies is refused, naming the stored row
    top1 = HearingParams(shortlist_method="top_n", n=1, combine="hearing_only", min_reviews=3)
    with pytest.raises(InputError, match=r"shortlist \(stored\):\d+:proposal_id: 'T-002' is not shortlisted"):
        store.hearings.rank_hearing_round(chair, heard_round, hearing=top1, strict=False)
    with pytest.raises(PermissionDenied):
        store.hearings.rank_hearing_round(login(store, "A"), heard_round)


def test_a_shortlist_leaving_out_a_heard_proposal_is_refused(store, chair, heard_round):
    to_hearing(store, chair, heard_round)
    hear(store, heard_round, "A", "T-002", [4, 4, 4], submit=False)
    store.hearings.set_stage(chair, heard_round, None, "shortlist", reason="T-002 辞退")
    store.hearings.remove_from_shortlist(chair, heard_round, None, "T-002", "辞退")
    with pytest.raises(InputError, match="T-002.*not shortlisted"):
        store.hearings.set_stage(chair, heard_round, None, "hearing")
    assert store.hearings.get_stage(chair, heard_round).stage == "shortlist"
