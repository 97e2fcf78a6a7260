"""Who can reach what (issue 4 §2): navigation per role, the second lock in every page, and reviews that are
not one's own — also when asked for by URL (query parameters) or by running the page script directly."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app.navigation import page_ids_for
from tests.app.review_fixtures import ROOT, app_as, no_exception, texts, user
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

CHAIR_PAGES = ["chair_ranking", "chair_progress", "chair_proposal", "admin_round"]


def test_navigation_per_role():
    assert set(CHAIR_PAGES).isdisjoint(page_ids_for("reviewer"))
    assert set(CHAIR_PAGES) | {"reviewer_home", "reviewer_scoring"} <= set(page_ids_for("chair"))
    assert "chair_ranking" not in page_ids_for("secretariat") and "reviewer_scoring" not in page_ids_for("secretariat")
    assert page_ids_for(None) == ["login", "dry_run"]


@pytest.mark.parametrize("page", CHAIR_PAGES)
def test_reviewer_cannot_switch_to_a_chair_page(store, page):
    at = app_as(store, "R01")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"app/pages/{page}.py")


@pytest.mark.parametrize("page", CHAIR_PAGES)
def test_chair_page_script_refuses_a_reviewer(store, page):
    """Even run directly (not through the navigation), a chair page shows nothing to a reviewer."""
    at = AppTest.from_file(str(ROOT / "app" / "pages" / f"{page}.py"), default_timeout=60)
    at.session_state["auth_user"] = user(store, "R01")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["この操作・画面の権限がありません。"]
    assert not at.dataframe and not at.get("plotly_chart")


def test_anonymous_sees_only_login_and_self_check(store):
    at = app_as(store, None)
    no_exception(at)
    assert "ログイン" in texts(at)
    with pytest.raises(ValueError):
        at.switch_page("app/pages/reviewer_scoring.py")
    page = AppTest.from_file(str(ROOT / "app" / "pages" / "reviewer_scoring.py"), default_timeout=60)
    page.run()
    assert [e.value for e in page.error] == ["この操作・画面の権限がありません。"]


def test_reviewer_cannot_open_an_unassigned_or_conflicted_proposal_by_url(store):
    # R03 is conflicted with L4-006; R01 is not assigned to PS-001 … only to what the demo gives
    at = app_as(store, "R03", "reviewer_scoring", query={"round": "1", "proposal": "L4-006"})
    no_exception(at)
    assert "L4-006" not in texts(at)
    assert not [r for r in at.radio if r.key and r.key.startswith("rv_level_")]
    mine = {a.proposal_id for a in store.assignments.list_assignments_for(store.users.get("R01"))}
    other = next(p.id for p in store.rounds.list_proposals(store.users.get("C01"), 1) if p.id not in mine)
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": other})
    assert other not in texts(at)
    assert not [r for r in at.radio if r.key and r.key.startswith("rv_level_")]


def test_reviewer_never_sees_other_reviewers_levels_or_comments(store):
    """R02's submitted comment on L4-002 is nowhere on R01's scoring page of the same proposal — under the review
    visibility policy ``never`` (issue 16 §8; the default ``after_own_submit`` shows them once R01 has submitted,
    tests/app/test_discussion_pages.py)."""
    chair = store.users.get("C01")
    store.discussion.set_round_visibility(chair, 1, "never")
    other = store.reviews.get_review(chair, 1, "L4-002", reviewer="R02")
    comments = [c for c in other.comments.values() if c]
    mine = store.reviews.get_review(chair, 1, "L4-002", reviewer="R01")
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-002"})
    no_exception(at)
    shown = texts(at) + "\n".join(str(w.value) for w in at.text_area)
    leaked = [c for c in comments if c in shown and c not in mine.comments.values()]
    assert comments and not leaked


def test_secretariat_sees_progress_but_no_scores(store):
    from scoring.store import SYSTEM

    store.users.add_user(SYSTEM, "S02", "事務局 一郎", "secretariat", password="x" * 12)
    at = app_as(store, "S02")
    no_exception(at)
    assert "進捗" in texts(at)
    with pytest.raises(ValueError):
        at.switch_page("app/pages/chair_ranking.py")
    matrix = at.dataframe[0].value
    assert set(matrix.iloc[:, 1:].stack()) <= {"○", "✎", "✔", "✖", ""}


def test_login_with_password_lockout_and_logout(store, monkeypatch):
    from scoring.store import SYSTEM

    store.users.set_password(SYSTEM, "R02", "correct horse battery")
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "3")
    at = app_as(store, None)
    at.text_input(key="login_username").input("R02")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["ユーザー名またはパスワードが違います"]
    for _ in range(2):
        at.text_input(key="login_password").input("wrong again")
        at.button[0].click().run()
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    assert any("ロックされています" in str(e.value) for e in at.error)      # even the right password
    store.users.unlock(SYSTEM, "R02")
    at.text_input(key="login_password").input("correct horse battery")
    at.button[0].click().run()
    no_exception(at)
    assert "担当案件" in texts(at) and at.session_state["auth_user"].username == "R02"
    at.button(key="logout").click().run()
    assert "auth_user" not in at.session_state
    assert "ログイン" in texts(at)


def test_demo_accounts_are_listed_only_in_demo_mode(store, monkeypatch):
    at = app_as(store, None)
    assert "shinsa-demo" not in texts(at)
    monkeypatch.setenv("SHINSA_DEMO", "1")
    at = app_as(store, None)
    assert "shinsa-demo" in texts(at) and "C01" in texts(at)
    assert any("デモ" in str(w.value) for w in at.sidebar.warning)
