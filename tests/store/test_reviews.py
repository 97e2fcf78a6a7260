"""Saving reviews: optimistic concurrency (no lost updates), many concurrent writers, submit and reopen."""

from __future__ import annotations

import re
import threading

import pytest

from scoring.errors import InputError
from scoring.store import SYSTEM, IncompleteReview, ReviewLocked, StaleReview

from .conftest import LEVELS, login, small_proposals, write_files


def test_first_review_is_an_empty_draft_at_version_0(store, small_round):
    a = login(store, "A")
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    r = store.reviews.get_review(a, small_round, "T-001")
    assert (r.version, r.status, r.levels, r.exists) == (0, "draft", {}, False)


def test_save_draft_round_trips_the_whole_content(store, small_round):
    a = login(store, "A")
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    v = store.reviews.save_draft(a, small_round, "T-001", {"service_need": 4, "rollout_plan": None},
                                 {"service_need": "=SUM(A1) 需要が明確"}, {}, "全体として良い", base_version=0)
    assert v == 1
    r = store.reviews.get_review(a, small_round, "T-001")
    assert r.levels == {"service_need": 4}
    assert r.comments == {"service_need": "=SUM(A1) 需要が明確"}
    assert r.overall_comment == "全体として良い"
    assert (r.version, r.status, r.updated_by) == (1, "draft", "A")


def test_two_sessions_editing_the_same_review_second_is_refused_and_nothing_lost(backend, small_round):
    store1, store2 = backend.store, backend.new_store()
    try:
        store1.assignments.assign(SYSTEM, small_round, "T-001", "A")
        tab1 = login(store1, "A")
        tab2 = login(store2, "A")
        base1 = store1.reviews.get_review(tab1, small_round, "T-001").version
        base2 = store2.reviews.get_review(tab2, small_round, "T-001").version
        assert base1 == base2 == 0
        v = store1.reviews.save_draft(tab1, small_round, "T-001", {"service_need": 5}, {"service_need": "first"},
                                      {}, "tab one", base_version=base1)
        with pytest.raises(StaleReview, match=r"^this review was changed elsewhere at \d\d:\d\d") as exc:
            store2.reviews.save_draft(tab2, small_round, "T-001", {"service_need": 1}, {}, {}, "tab two",
                                      base_version=base2)
        assert exc.value.current.version == v == 1
        assert exc.value.current.levels == {"service_need": 5}
        kept = store2.reviews.get_review(tab2, small_round, "T-001")
        assert (kept.version, kept.levels, kept.overall_comment) == (1, {"service_need": 5}, "tab one")
        # the same again once a row exists: both at version 1, the second to save is refused
        v2 = store2.reviews.save_draft(tab2, small_round, "T-001", {"service_need": 3}, {}, {}, "tab two",
                                       base_version=1)
        with pytest.raises(StaleReview, match="changed elsewhere"):
            store1.reviews.save_draft(tab1, small_round, "T-001", {"service_need": 2}, {}, {}, "tab one again",
                                      base_version=1)
        final = store1.reviews.get_review(tab1, small_round, "T-001")
        assert (final.version, final.levels, final.overall_comment) == (v2, {"service_need": 3}, "tab two")
    finally:
        store2.close()


def test_concurrent_saves_on_one_review_exactly_one_wins(backend, small_round):
    store = backend.store
    store.assignments.assign(SYSTEM, small_round, "T-002", "B")
    b = login(store, "B")
    base = store.reviews.save_draft(b, small_round, "T-002", {"service_need": 1}, {}, {}, "", base_version=0)
    results: dict[int, object] = {}
    barrier = threading.Barrier(8)

    def worker(i):
        barrier.wait()
        try:
            results[i] = store.reviews.save_draft(b, small_round, "T-002", {"service_need": 1 + i % 5},
                                                  {}, {}, f"writer {i}", base_version=base)
        except StaleReview as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, r in results.items() if r == base + 1]
    assert len(winners) == 1, results
    assert all(isinstance(r, StaleReview) for i, r in results.items() if i not in winners)
    final = store.reviews.get_review(b, small_round, "T-002")
    assert final.version == base + 1 and final.overall_comment == f"writer {winners[0]}"


def test_20_threads_each_saving_50_reviews_all_1000_present_with_right_content(backend, tmp_path):
    store = backend.store
    r = store.rounds.create_round(SYSTEM, "並行", ["autonomous_l4"])
    reviewers = [(f"W{j:02d}", f"委員{j}", "reviewer", "") for j in range(20)]
    store.rounds.import_files(SYSTEM, r.id, **write_files(tmp_path, small_proposals(50, "P"), reviewers))
    rep = store.assignments.auto_assign(SYSTEM, r.id, "autonomous_l4", k=20)
    assert len(rep.added) == 1000 and not rep.unsatisfied
    actors = {f"W{j:02d}": store.users.get(f"W{j:02d}") for j in range(20)}
    crit = list(LEVELS)
    errors = []

    def content(j, i):
        return {c: 1 + (j + i + k) % 5 for k, c in enumerate(crit)}, f"W{j:02d} on P-{i:03d}"

    def writer(j):
        try:
            me = actors[f"W{j:02d}"]
            for i in range(1, 51):
                levels, text = content(j, i)
                store.reviews.save_draft(me, r.id, f"P-{i:03d}", levels, {"service_need": text}, {}, text,
                                         base_version=0)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(j,)) for j in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    chair = store.users.add_user(SYSTEM, "chair", "委員長", "chair", "chair-password-1")
    saved = store.reviews.list_reviews(chair, r.id)
    assert len(saved) == 1000
    for rv in saved:
        j, i = int(rv.reviewer[1:]), int(rv.proposal_id[2:])
        levels, text = content(j, i)
        assert (rv.levels, rv.overall_comment, rv.comments, rv.version) == (levels, text, {"service_need": text}, 1)
    assert len(store.audit.query(chair, r.id, entity="review", limit=5000)) == 1000


def test_submit_needs_every_criterion_then_locks_until_the_chair_reopens(store, small_round, chair):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    v = store.reviews.save_draft(a, small_round, "T-001", {"service_need": 4}, {}, {}, "", base_version=0)
    with pytest.raises(IncompleteReview, match="no level for: verification_items") as exc:
        store.reviews.submit(a, small_round, "T-001", version=v)
    assert exc.value.missing == ["verification_items", "verification_environment", "remote_monitoring_safety",
                                 "rollout_plan"]
    assert store.reviews.get_review(a, small_round, "T-001").status == "draft"
    v = store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "", base_version=v)
    v = store.reviews.submit(a, small_round, "T-001", version=v)
    assert store.reviews.get_review(a, small_round, "T-001").status == "submitted"
    with pytest.raises(ReviewLocked):
        store.reviews.save_draft(a, small_round, "T-001", {"service_need": 1}, {}, {}, "", base_version=v)
    assert store.reviews.get_review(a, small_round, "T-001").levels == LEVELS
    v = store.reviews.reopen(chair, small_round, "T-001", "A", reason="記入誤りの訂正")
    assert store.reviews.get_review(a, small_round, "T-001").status == "draft"
    store.reviews.save_draft(a, small_round, "T-001", {**LEVELS, "service_need": 2}, {}, {}, "", base_version=v)
    log = store.audit.query(chair, small_round, entity="review", proposal_id="T-001")
    actions = [e.action for e in reversed(log)]
    assert actions == ["review.save", "review.save", "review.submit", "review.reopen", "review.save"]
    reopen = [e for e in log if e.action == "review.reopen"][0]
    assert (reopen.actor, reopen.subject, reopen.before["status"], reopen.after["status"], reopen.after["reason"]) \
        == ("chair", "A", "submitted", "draft", "記入誤りの訂正")
    last = log[0]
    assert last.before["levels"] == LEVELS and last.after["levels"]["service_need"] == 2


def test_stale_submit_is_refused(store, small_round):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    v = store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "", base_version=0)
    store.reviews.save_draft(a, small_round, "T-001", {**LEVELS, "rollout_plan": 1}, {}, {}, "", base_version=v)
    with pytest.raises(StaleReview, match="changed elsewhere"):
        store.reviews.submit(a, small_round, "T-001", version=v)
    assert store.reviews.get_review(a, small_round, "T-001").status == "draft"


def test_levels_off_the_scale_or_unknown_criteria_are_refused_with_the_field(store, small_round):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    with pytest.raises(InputError) as exc:
        store.reviews.save_draft(a, small_round, "T-001", {"service_need": 7, "no_such": 3}, {}, {"x": 1}, "",
                                 base_version=0)
    text = str(exc.value)
    assert "levels.service_need: 7 is not a level of the scale [1, 2, 3, 4, 5]" in text
    assert "levels.no_such: not a criterion of pack autonomous_l4" in text
    assert "bonus_marks.x: not a judged bonus" in text
    assert store.reviews.get_review(a, small_round, "T-001").version == 0
    assert re.search(r"review of T-001", text)
