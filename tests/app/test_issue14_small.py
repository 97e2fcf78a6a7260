"""Issue 14 §13 (small ones on the scoring page): a judged bonus's label has one pair of parentheses around its
points, and a locked round does not promise that input is saved automatically."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def test_a_judged_bonus_label_has_single_parentheses(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "AC-002"})
    no_exception(at)
    label = at.radio(key="rv_bonus_shared_use").label
    assert "（配点 " in label and "（（" not in label and "））" not in label, label
    at.radio(key="lang").set_value("en").run()
    label = at.radio(key="rv_bonus_shared_use").label
    assert " points)" in label and "((" not in label and "))" not in label, label


def test_a_locked_round_does_not_say_input_is_saved_automatically(store):
    r01 = store.users.get("R01")
    fresh = [a.proposal_id for a in store.assignments.list_assignments_for(r01)
             if a.status != "conflict" and not store.reviews.get_review(r01, 1, a.proposal_id).exists]
    assert fresh, "the demo leaves some proposals of R01 unstarted"
    open_page = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": fresh[0]})
    assert "自動保存" in "\n".join(str(c.value) for c in open_page.caption)        # an open round says it
    store.rounds.lock_round(store.users.get("C01"), 1)
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": fresh[0]})
    no_exception(at)
    assert "確定済み" in texts(at)
    assert "自動保存" not in texts(at)
