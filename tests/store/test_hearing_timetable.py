"""The hearing timetable and the members' hearing forms in the store (docs/store.md "Hearing timetable", "Hearing
forms") — on SQLite and PostgreSQL: the chair's settings persisted, audited and checked; the order follows the
shortlist; conflicted members absent from their slots and given no form; question prompts only for readers who
may see them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scoring.errors import InputError
from scoring.store import SYSTEM, ConflictOfInterest, PermissionDenied, ReviewLocked, RoundLocked
from scoring.timetable import JST

from .conftest import login, small_proposals, write_files
from .test_hearing_stage import CRIT, DOC, HEAR, TOP2, hear, to_hearing

START = datetime(2027, 2, 3, 10, 0, tzinfo=JST)


def doc_rows_with_comments():
    """A, B, D review T-001…T-006 (all submitted); A and D comment on T-001 (D also overall via the first item)."""
    rows = []
    for pid, lv in DOC.items():
        for rv in "ABD":
            for c, v in zip(CRIT, lv):
                text = ""
                if pid == "T-001" and rv == "A" and c == CRIT[0]:
                    text = "需要の根拠が弱い"
                if pid == "T-001" and rv == "D" and c == CRIT[1]:
                    text = "検証項目の数値目標は"
                rows.append([rv, pid, c, v, "submitted", text])
    return rows


@pytest.fixture
def heard(store, tmp_path):
    r = store.rounds.create_round(SYSTEM, "ヒアリング日程", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(6, members={"T-003": ["株式会社みちのく"]}),
                        [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", ""),
                         ("C", "委員C", "reviewer", "株式会社みちのく"), ("D", "委員D", "reviewer", "")],
                        doc_rows_with_comments())
    store.rounds.import_files(SYSTEM, r.id, **files)
    for u in "ABCD":
        store.users.set_password(SYSTEM, u, f"password-{u}-123")
    return r.id


def hm(slots):
    return [(s.proposal_id, f"{s.start:%H:%M}–{s.end:%H:%M}") for s in slots]


def test_the_chair_sets_the_timetable_it_is_stored_audited_and_lists_the_conflicted_absent(store, backend, chair,
                                                                                           heard):
    to_hearing(store, chair, heard)
    empty = store.timetables.get_timetable(chair, heard)
    assert (empty.start, empty.slots, empty.stored) == (None, (), False)
    assert (empty.order, empty.slot_minutes, empty.break_minutes) == (("T-001", "T-002", "T-003"), 40, 10)
    tt = store.timetables.set_timetable(chair, heard, None, START)
    assert hm(tt.slots) == [("T-001", "10:00–10:40"), ("T-002", "10:50–11:30"), ("T-003", "11:40–12:20")]
    t3 = tt.slots[2]
    assert [m.member_id for m in t3.present] == ["A", "B", "D"]
    assert [(a.member.member_id, a.member.name, a.reason) for a in t3.absent] == [
        ("C", "委員C", "conflict_of_interest")]
    assert (t3.title, t3.applicant) == ("実証 T-003", "株式会社テスト3")
    # stored: another store on the same database reads the same, the start in JST
    other = backend.new_store()
    again = other.timetables.get_timetable(chair, heard)
    other.close()
    assert hm(again.slots) == hm(tt.slots) and again.stored and again.start == START
    assert again.start.utcoffset() == timedelta(hours=9)
    # the chair's order and minutes; a start given in UTC is the same instant in JST
    tt2 = store.timetables.set_timetable(chair, heard, None, datetime(2027, 2, 3, 4, 0, tzinfo=timezone.utc),
                                         ["T-003", "T-001", "T-002"], 30, 5)
    assert hm(tt2.slots) == [("T-003", "13:00–13:30"), ("T-001", "13:35–14:05"), ("T-002", "14:10–14:40")]
    log = store.audit.query(chair, heard, entity="stage")
    sets = [e for e in log if e.action == "timetable.set"]
    assert [e.after["order"] for e in sets] == [["T-003", "T-001", "T-002"], ["T-001", "T-002", "T-003"]]
    assert sets[0].before["start"] == "2027-02-03T10:00:00+09:00" and sets[0].after["slot_minutes"] == 30
    assert sets[1].before is None and sets[0].actor == "chair"


def test_bad_settings_are_refused_all_at_once_and_nothing_is_written(store, chair, heard):
    to_hearing(store, chair, heard)
    with pytest.raises(InputError) as e:
        store.timetables.set_timetable(chair, heard, None, START, ["T-001", "T-006", "T-001"], -10, -1)
    text = str(e.value)
    assert "timetable:2:order: 'T-006' is not a shortlisted proposal" in text
    assert "timetable:3:order: 'T-001' is in the order twice" in text
    assert "slot_minutes" in text and "break_minutes" in text and len(e.value.problems) == 4
    assert not store.timetables.get_timetable(chair, heard).stored
    assert not [x for x in store.audit.query(chair, heard, entity="stage") if x.action == "timetable.set"]


def test_only_the_chair_and_only_in_the_shortlist_and_hearing_stages(store, chair, secretariat, heard):
    with pytest.raises(InputError, match="stage: pack autonomous_l4 is in stage document"):
        store.timetables.set_timetable(chair, heard, None, START)
    to_hearing(store, chair, heard)
    for who in (login(store, "A"), secretariat):
        with pytest.raises(PermissionDenied):
            store.timetables.set_timetable(who, heard, None, START)
        with pytest.raises(PermissionDenied):
            store.timetables.get_timetable(who, heard)
    store.rounds.lock_round(chair, heard)
    with pytest.raises(RoundLocked):
        store.timetables.set_timetable(chair, heard, None, START)


def test_the_order_follows_the_shortlist_removed_leaves_added_goes_last(store, chair, heard):
    store.hearings.set_stage(chair, heard, None, "shortlist", hearing=TOP2)
    tt = store.timetables.set_timetable(chair, heard, None, START, ["T-003", "T-001", "T-002"])
    assert [s.proposal_id for s in tt.slots] == ["T-003", "T-001", "T-002"]
    store.hearings.remove_from_shortlist(chair, heard, None, "T-001", "辞退")
    store.hearings.add_to_shortlist(chair, heard, None, "T-004", "地域性")
    tt = store.timetables.get_timetable(chair, heard)
    assert hm(tt.slots) == [("T-003", "10:00–10:40"), ("T-002", "10:50–11:30"), ("T-004", "11:40–12:20")]
    fixed = store.hearings.set_stage(chair, heard, None, "hearing")
    assert set(fixed.shortlist) == {"T-002", "T-003", "T-004"}
    assert store.timetables.get_timetable(chair, heard).order == ("T-003", "T-002", "T-004")


def test_members_see_their_own_slots_only_never_a_conflicted_one_nor_who_is_absent(store, chair, heard):
    to_hearing(store, chair, heard)
    assert store.timetables.my_slots(login(store, "A")) == []          # no timetable yet
    store.timetables.set_timetable(chair, heard, None, START)
    mine_a = store.timetables.my_slots(login(store, "A"))
    assert [(m.round_name, m.pack_id, m.slot.proposal_id) for m in mine_a] == [
        ("ヒアリング日程", "autonomous_l4", "T-001"), ("ヒアリング日程", "autonomous_l4", "T-002"),
        ("ヒアリング日程", "autonomous_l4", "T-003")]
    assert all(m.slot.absent == () for m in mine_a)
    assert [m.slot.proposal_id for m in store.timetables.my_slots(login(store, "C"))] == ["T-001", "T-002"]
    store.hearings.set_stage(chair, heard, None, "shortlist", reason="見直し")
    assert store.timetables.my_slots(login(store, "A")) == []          # only packs in the hearing stage


def test_hearing_forms_for_every_member_but_none_of_a_conflicted_proposal(store, chair, heard):
    assert store.hearing_forms.list_for(login(store, "A")) == []       # document stage: no hearing forms
    to_hearing(store, chair, heard)
    forms = store.hearing_forms.list_for(login(store, "A"))
    assert [(f.proposal_id, f.title, f.status) for f in forms] == [
        ("T-001", "実証 T-001", "assigned"), ("T-002", "実証 T-002", "assigned"), ("T-003", "実証 T-003", "assigned")]
    hear(store, heard, "A", "T-001", [4, 4, 4])
    hear(store, heard, "A", "T-002", [3, 3, 3], submit=False)
    assert [f.status for f in store.hearing_forms.list_for(login(store, "A"), heard)] == [
        "submitted", "draft", "assigned"]
    # C (conflicted with T-003 through 株式会社みちのく) has no form for it and cannot write or read one
    c = login(store, "C")
    assert [f.proposal_id for f in store.hearing_forms.list_for(c)] == ["T-001", "T-002"]
    with pytest.raises(ConflictOfInterest):
        store.reviews.save_draft(c, heard, "T-003", dict(zip(HEAR, [5, 5, 5])), stage="hearing")
    with pytest.raises(ConflictOfInterest):
        store.reviews.get_review(c, heard, "T-003", stage="hearing")
    with pytest.raises(ConflictOfInterest):
        store.hearing_forms.prompts(c, heard, "T-003")
    with pytest.raises(ConflictOfInterest):
        store.hearing_forms.get_proposal(c, heard, "T-003")
    # C is assigned nothing, yet hears T-001: the hearing form shows the proposal
    with pytest.raises(PermissionDenied):
        store.rounds.get_proposal(c, heard, "T-001")
    assert store.hearing_forms.get_proposal(c, heard, "T-001").title == "実証 T-001"
    with pytest.raises(ReviewLocked):
        store.hearing_forms.get_proposal(c, heard, "T-005")           # not shortlisted


def test_prompts_are_the_counted_document_comments_anonymous_to_members_named_for_the_chair(store, chair, heard):
    a = login(store, "A")
    with pytest.raises(ReviewLocked):                                  # not before the shortlist is fixed
        store.hearing_forms.prompts(a, heard, "T-001")
    to_hearing(store, chair, heard)
    got = store.hearing_forms.prompts(login(store, "B"), heard, "T-001")
    assert [(p.item, p.text, p.number, p.reviewer) for p in got] == [
        (CRIT[0], "需要の根拠が弱い", 1, None), (CRIT[1], "検証項目の数値目標は", 2, None)]
    assert [(p.text, p.reviewer) for p in store.hearing_forms.prompts(chair, heard, "T-001")] == [
        ("需要の根拠が弱い", "A"), ("検証項目の数値目標は", "D")]
    with pytest.raises(ReviewLocked):                                  # not shortlisted
        store.hearing_forms.prompts(a, heard, "T-005")
    # D declares a conflict with T-001: D's review no longer counts, so its comment is no prompt; D has no form
    d = login(store, "D")
    store.assignments.declare_conflict(d, heard, proposal_id="T-001", reason="共同研究先")
    assert [p.text for p in store.hearing_forms.prompts(a, heard, "T-001")] == ["需要の根拠が弱い"]
    assert "T-001" not in [f.proposal_id for f in store.hearing_forms.list_for(d)]
    # someone outside the committee reads nothing
    outsider = store.users.add_user(SYSTEM, "E", "委員E", "reviewer", "password-E-123")
    with pytest.raises(PermissionDenied):
        store.hearing_forms.prompts(outsider, heard, "T-001")


def test_one_member_to_rounds_query_serves_the_hearing_forms_and_the_slots(store, chair, heard, tmp_path,
                                                                          monkeypatch):
    """``ServiceBase._member_hearing_packs``: the packs in the hearing stage of the rounds a member sits on, in
    round order (one round if asked), none for the command line or someone outside; ``hearing_forms.list_for``
    and ``timetables.my_slots`` both take their rounds from it."""
    from scoring.store.base import ServiceBase

    second = store.rounds.create_round(SYSTEM, "ヒアリング日程 2", ["autonomous_l4"])
    store.rounds.import_files(SYSTEM, second.id, **write_files(
        tmp_path, small_proposals(6), [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", ""),
                                       ("D", "委員D", "reviewer", "")], doc_rows_with_comments()))
    outsider = store.users.add_user(SYSTEM, "E", "委員E", "reviewer", "password-E-123")
    svc = store.hearing_forms

    def packs(actor, round_id=None):
        with store.db.read() as s:
            return [(r.id, k.pack_id) for r, k in svc._member_hearing_packs(s, svc._who(s, actor), round_id)]

    a = login(store, "A")
    assert packs(a) == []                                              # both rounds in the document stage
    to_hearing(store, chair, heard)
    assert packs(a) == [(heard, "autonomous_l4")] and packs(login(store, "C")) == [(heard, "autonomous_l4")]
    to_hearing(store, chair, second.id)
    assert packs(a) == [(heard, "autonomous_l4"), (second.id, "autonomous_l4")]
    assert packs(a, second.id) == [(second.id, "autonomous_l4")]
    assert packs(login(store, "C")) == [(heard, "autonomous_l4")]     # C sits on the first round only
    assert packs(outsider) == [] and packs(SYSTEM) == [] and packs(chair) == []
    store.rounds.lock_round(chair, second.id)                          # locked rounds stay listed (read-only)
    assert packs(a, second.id) == [(second.id, "autonomous_l4")]
    store.timetables.set_timetable(chair, heard, None, START)
    assert {f.round_id for f in store.hearing_forms.list_for(a)} == {heard, second.id}
    assert {m.round_id for m in store.timetables.my_slots(a)} == {heard}   # the second round has no timetable

    # both services ask the one query: narrowed to the second round, both follow
    real = ServiceBase._member_hearing_packs
    monkeypatch.setattr(ServiceBase, "_member_hearing_packs",
                        lambda self, s, who, round_id=None: [(r, k) for r, k in real(self, s, who, round_id)
                                                             if r.id == second.id])
    assert {f.round_id for f in store.hearing_forms.list_for(a)} == {second.id}
    assert store.timetables.my_slots(a) == []
