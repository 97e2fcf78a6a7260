"""The panel's discussion (issue 16 §7–9) on SQLite and PostgreSQL: who reads the thread and the others' reviews
under each review-visibility policy and role, conflicts of interest, chairs-only comments, edit history, the
audit log and the per-user "new since you last looked" markers."""

from __future__ import annotations

import json

import pytest

from scoring.errors import InputError
from scoring.store import SYSTEM, ConflictOfInterest, PermissionDenied, RoundLocked, StaleReview

from .conftest import LEVELS, ROOT, login, small_proposals, write_files


@pytest.fixture
def panel(store, small_round, chair):
    """A and B assigned to T-001 and T-003, C to T-001 only: C is conflicted with T-003 (株式会社みちのく)."""
    for pid, users in (("T-001", "ABC"), ("T-003", "AB")):
        for u in users:
            store.assignments.assign(chair, small_round, pid, u)
    return {u: login(store, u) for u in "ABCD"} | {"chair": chair}


def _submit(store, rid, user, pid, text="所見"):
    v = store.reviews.save_draft(user, rid, pid, levels=LEVELS, comments={"service_need": text})
    store.reviews.submit(user, rid, pid, v)


def _bodies(thread):
    return [c.body for c in thread.comments]


def test_after_own_submit_is_the_default_and_gates_thread_and_others_reviews(store, small_round, panel):
    a, b = panel["A"], panel["B"]
    assert store.discussion.policy(a, small_round, "autonomous_l4") == "after_own_submit"
    store.discussion.post(a, small_round, "T-001", "Aの意見")
    _submit(store, small_round, a, "T-001", "Aの所見")
    # B has not submitted: sees only their own comments, nothing of A's review, and how many are withheld
    t = store.discussion.thread(b, small_round, "T-001")
    assert _bodies(t) == [] and t.hidden == 1 and not t.sees_others
    assert store.discussion.others_reviews(b, small_round, "T-001") == []
    store.discussion.post(b, small_round, "T-001", "Bの意見")
    assert _bodies(store.discussion.thread(b, small_round, "T-001")) == ["Bの意見"]
    _submit(store, small_round, b, "T-001")
    t = store.discussion.thread(b, small_round, "T-001")
    assert _bodies(t) == ["Aの意見", "Bの意見"] and t.sees_others and t.hidden == 0
    others = store.discussion.others_reviews(b, small_round, "T-001")
    assert [(r.reviewer, r.comments) for r in others] == [("A", {"service_need": "Aの所見"})]


def test_never_and_always(store, small_round, panel):
    a, b, chair = panel["A"], panel["B"], panel["chair"]
    store.discussion.post(a, small_round, "T-001", "Aの意見")
    _submit(store, small_round, a, "T-001")
    store.discussion.set_round_visibility(chair, small_round, "always")
    assert _bodies(store.discussion.thread(b, small_round, "T-001")) == ["Aの意見"]
    assert [r.reviewer for r in store.discussion.others_reviews(b, small_round, "T-001")] == ["A"]
    store.discussion.set_round_visibility(chair, small_round, "never")
    _submit(store, small_round, b, "T-001")
    assert _bodies(store.discussion.thread(b, small_round, "T-001")) == []
    assert store.discussion.others_reviews(b, small_round, "T-001") == []
    # the chair always reads everything
    assert _bodies(store.discussion.thread(chair, small_round, "T-001")) == ["Aの意見"]
    assert {r.reviewer for r in store.discussion.others_reviews(chair, small_round, "T-001")} == {"A", "B"}
    log = [e for e in store.audit.query(chair, small_round) if e.action == "round.visibility"]
    assert [e.after for e in reversed(log)] == [{"review_visibility": "always"}, {"review_visibility": "never"}]
    assert store.rounds.get_round(chair, small_round).review_visibility == "never"
    with pytest.raises(InputError, match="review_visibility"):
        store.discussion.set_round_visibility(chair, small_round, "sometimes")
    with pytest.raises(PermissionDenied):
        store.discussion.set_round_visibility(a, small_round, "always")


def test_pack_setting_applies_unless_the_round_sets_one(store, chair, tmp_path):
    text = (ROOT / "criteria" / "autonomous_l4.yaml").read_text(encoding="utf-8")
    (tmp_path / "l4.yaml").write_text(text + "\nreview_visibility: always\n", encoding="utf-8")
    r = store.rounds.create_round(SYSTEM, "方針テスト", [tmp_path / "l4.yaml"]).id
    store.rounds.import_files(SYSTEM, r, **write_files(tmp_path, small_proposals(1), [
        ("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", "")]))
    for u in "AB":
        store.users.set_password(SYSTEM, u, f"password-{u}-123")
        store.assignments.assign(chair, r, "T-001", u)
    a, b = login(store, "A"), login(store, "B")
    store.discussion.post(a, r, "T-001", "Aの意見")
    assert store.discussion.policy(b, r, "autonomous_l4") == "always"
    assert _bodies(store.discussion.thread(b, r, "T-001")) == ["Aの意見"]
    store.discussion.set_round_visibility(chair, r, "never")
    assert _bodies(store.discussion.thread(b, r, "T-001")) == []
    store.discussion.set_round_visibility(chair, r, None)
    assert store.discussion.policy(b, r, "autonomous_l4") == "always"


def test_chairs_only_comments_are_hidden_from_reviewers(store, small_round, panel):
    a, b, chair = panel["A"], panel["B"], panel["chair"]
    store.discussion.set_round_visibility(chair, small_round, "always")
    store.discussion.post(chair, small_round, "T-001", "委員長メモ", visibility="chairs")
    store.discussion.post(a, small_round, "T-001", "委員長だけに", visibility="chairs")
    store.discussion.post(a, small_round, "T-001", "皆さんへ")
    assert _bodies(store.discussion.thread(b, small_round, "T-001")) == ["皆さんへ"]
    assert _bodies(store.discussion.thread(a, small_round, "T-001")) == ["委員長だけに", "皆さんへ"]
    assert _bodies(store.discussion.thread(chair, small_round, "T-001")) == ["委員長メモ", "委員長だけに", "皆さんへ"]
    hidden = store.discussion.thread(chair, small_round, "T-001").comments[0]
    from scoring.store import NotFound
    with pytest.raises(NotFound):
        store.discussion.history(b, small_round, hidden.id)
    with pytest.raises(InputError, match="visibility"):
        store.discussion.post(a, small_round, "T-001", "x", visibility="public")


def test_a_conflicted_member_sees_no_thread_and_no_review_in_any_reader(store, small_round, panel):
    a, b, c, chair = panel["A"], panel["B"], panel["C"], panel["chair"]
    store.discussion.set_round_visibility(chair, small_round, "always")
    store.discussion.post(a, small_round, "T-003", "T-003の秘密の議論")
    _submit(store, small_round, a, "T-003")
    for call in (lambda: store.discussion.thread(c, small_round, "T-003"),
                 lambda: store.discussion.others_reviews(c, small_round, "T-003"),
                 lambda: store.discussion.post(c, small_round, "T-003", "x"),
                 lambda: store.discussion.mark_read(c, small_round, "T-003")):
        with pytest.raises(ConflictOfInterest):
            call()
    assert "T-003" not in store.discussion.unread(c, small_round)
    # a chair conflicted with it: no thread, and the audit lines keep no text
    store.assignments.set_conflict(chair, small_round, "chair", proposal_id="T-003", reason="元所属")
    with pytest.raises(ConflictOfInterest):
        store.discussion.thread(chair, small_round, "T-003")
    assert "T-003" not in store.discussion.unread(chair, small_round)
    lines = [e for e in store.audit.query(chair, small_round) if e.entity == "discussion"]
    assert lines and all(e.withheld for e in lines)
    assert "秘密" not in json.dumps([[e.before, e.after] for e in lines], ensure_ascii=False)
    # unassigned reviewers and the secretariat take no part
    with pytest.raises(PermissionDenied):
        store.discussion.thread(panel["D"], small_round, "T-003")
    jimu = store.users.add_user(SYSTEM, "jimu", "事務局", "secretariat", "jimu-password-1")
    with pytest.raises(PermissionDenied):
        store.discussion.thread(jimu, small_round, "T-001")


def test_edits_keep_history_only_the_author_edits_and_everything_is_audited(store, small_round, panel):
    a, b, chair = panel["A"], panel["B"], panel["chair"]
    c = store.discussion.post(a, small_round, "T-001", "#service_need が弱い", criteria=["rollout_plan"])
    assert c.criteria == ("service_need", "rollout_plan") and c.version == 1
    v = store.discussion.edit(a, small_round, c.id, "#service_need はやや弱い", base_version=1)
    assert v == 2
    with pytest.raises(StaleReview):
        store.discussion.edit(a, small_round, c.id, "古い版から", base_version=1)
    with pytest.raises(PermissionDenied):
        store.discussion.edit(chair, small_round, c.id, "他人の", base_version=2)
    hist = store.discussion.history(chair, small_round, c.id)
    assert [(h.version, h.body, h.by) for h in hist] == [(1, "#service_need が弱い", "A"),
                                                        (2, "#service_need はやや弱い", "A")]
    now = store.discussion.thread(chair, small_round, "T-001").comments[0]
    assert now.body == "#service_need はやや弱い" and now.edited and now.criteria == ("service_need", "rollout_plan")
    log = [e for e in store.audit.query(chair, small_round, entity="discussion")]
    assert [e.action for e in log] == ["discussion.edit", "discussion.post"]
    assert log[0].before["body"] == "#service_need が弱い" and log[0].after["body"] == "#service_need はやや弱い"
    with pytest.raises(InputError) as exc:
        store.discussion.post(a, small_round, "T-001", "  ", criteria=["no_such"])
    assert {p.field for p in exc.value.problems} == {"body", "criteria"}
    with pytest.raises(InputError, match="at most"):
        store.discussion.post(a, small_round, "T-001", "あ" * 5001)
    store.rounds.lock_round(chair, small_round)
    with pytest.raises(RoundLocked):
        store.discussion.post(a, small_round, "T-001", "締め切り後")
    assert not store.discussion.thread(a, small_round, "T-001").can_post


def test_unread_markers_per_user(store, small_round, panel):
    a, b, chair = panel["A"], panel["B"], panel["chair"]
    store.discussion.post(a, small_round, "T-001", "一つ目")
    store.discussion.post(a, small_round, "T-001", "委員長へ", visibility="chairs")
    assert store.discussion.unread(chair, small_round) == {"T-001": 2}
    assert store.discussion.unread(a, small_round) == {}          # one's own posts are never new
    assert store.discussion.unread(b, small_round) == {}          # not submitted yet: nothing B may read
    store.discussion.mark_read(b, small_round, "T-001")           # looking before submitting marks nothing
    _submit(store, small_round, b, "T-001")
    assert store.discussion.unread(b, small_round) == {"T-001": 1}
    t = store.discussion.thread(b, small_round, "T-001")
    assert [c.body for c in t.comments if c.id in t.unread] == ["一つ目"]
    store.discussion.mark_read(b, small_round, "T-001")
    store.discussion.mark_read(chair, small_round, "T-001")
    assert store.discussion.unread(b, small_round) == {} and store.discussion.unread(chair, small_round) == {}
    # an edit is news again, for everyone who may read it
    first = t.comments[0]
    store.discussion.edit(a, small_round, first.id, "一つ目（修正）", base_version=first.version)
    assert store.discussion.unread(b, small_round) == {"T-001": 1}
    assert store.discussion.unread(chair, small_round) == {"T-001": 1}
    # markers are per user: B's reading leaves the chair's count alone
    store.discussion.mark_read(b, small_round, "T-001")
    assert store.discussion.unread(b, small_round) == {} and store.discussion.unread(chair, small_round) == {"T-001": 1}


def test_mark_read_writes_only_when_the_marker_moves(store, small_round, panel, monkeypatch):
    """Issue 15: pages mark the thread read on every run; with nothing new since the last look no write
    transaction is opened (the check is a read); a first look and a newer version are still recorded."""
    a, chair = panel["A"], panel["chair"]
    writes = []
    real_write = store.db.write

    def counting_write():
        writes.append(1)
        return real_write()
    monkeypatch.setattr(store.db, "write", counting_write)
    store.discussion.mark_read(chair, small_round, "T-001")        # a first look: recorded
    assert len(writes) == 1
    store.discussion.mark_read(chair, small_round, "T-001")        # nothing new: no write
    store.discussion.mark_read(chair, small_round, "T-001")
    assert len(writes) == 1
    monkeypatch.setattr(store.db, "write", real_write)
    store.discussion.post(a, small_round, "T-001", "新しい所見")
    assert store.discussion.unread(chair, small_round) == {"T-001": 1}
    monkeypatch.setattr(store.db, "write", counting_write)
    store.discussion.mark_read(chair, small_round, "T-001")        # a newer version: recorded
    assert len(writes) == 2
    assert store.discussion.unread(chair, small_round) == {}
    with pytest.raises(ConflictOfInterest):                         # refusals as before
        store.discussion.mark_read(panel["C"], small_round, "T-003")
