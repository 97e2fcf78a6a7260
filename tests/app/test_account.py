"""アカウント: a logged-in user changes their own password — the current one is checked, the new one twice, the
store's rules apply; other logins of the account end, this browser keeps a fresh one."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app.navigation import page_ids_for
from tests.app.review_fixtures import APP, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def logged_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input("shinsa-demo")
    at.button[0].click().run()
    at.switch_page("app/pages/account.py").run()
    no_exception(at)
    return at


def submit(at, current: str, new: str, again: str | None = None) -> None:
    at.text_input(key="account_current").input(current)
    at.text_input(key="account_new").input(new)
    at.text_input(key="account_again").input(new if again is None else again)
    [b for b in at.button if "変更する" in str(b.label)][0].click().run()
    no_exception(at)


def test_every_logged_in_role_has_the_page_and_anonymous_does_not():
    assert all("account" in page_ids_for(r) for r in ("reviewer", "chair", "secretariat"))
    assert "account" not in page_ids_for(None)


def test_change_password_checks_and_keeps_this_login(store):
    at = logged_in("R02")
    other_browser = store.users.open_session("R02")
    submit(at, "wrong-password", "a-new-password-9")
    assert "現在のパスワードが違います。" in texts(at)
    submit(at, "shinsa-demo", "a-new-password-9", again="something-else")
    assert "新しいパスワードが確認欄と一致しません。" in texts(at)
    submit(at, "shinsa-demo", "short")
    assert "パスワードは8文字以上にしてください。" in texts(at)
    submit(at, "shinsa-demo", "12345678")                             # the store's rule, in the user's language
    assert "よく使われるパスワードのため使えません。別のものにしてください。" in texts(at)
    submit(at, "shinsa-demo", " " * 8)
    assert "空白だけのパスワードは使えません。" in texts(at)
    submit(at, "shinsa-demo", "あ" * 25)
    assert "パスワードは72バイト以下（日本語なら24文字程度まで）にしてください。" in texts(at)
    store.users.authenticate("R02", "shinsa-demo")                     # nothing changed so far
    submit(at, "shinsa-demo", "a-new-password-9")
    assert "パスワードを変更しました" in texts(at)
    assert store.users.authenticate("R02", "a-new-password-9").username == "R02"
    assert store.users.resume_session(other_browser) is None           # other browsers log in again
    assert store.users.resume_session(at.session_state["auth_token"]).username == "R02"   # this one does not


def test_admin_sets_an_imported_reviewers_first_password_and_unlocks(store, monkeypatch):
    from scoring.store import SYSTEM, AuthenticationFailed
    import pytest

    from tests.app.review_fixtures import app_as

    store.users.add_user(SYSTEM, "NEW1", "新任 委員", "reviewer")       # as an import creates them: no password
    with pytest.raises(AuthenticationFailed):
        store.users.authenticate("NEW1", "anything-at-all")
    at = app_as(store, "C01", "admin_round")
    assert at.button(key="adm_pw_set").disabled
    at.selectbox(key="adm_pw_user").set_value("NEW1").run()
    at.text_input(key="adm_pw_new").input("first-password-1").run()
    at.button(key="adm_pw_set").click().run()
    no_exception(at)
    assert "NEW1 のパスワードを設定しました" in texts(at)
    assert store.users.authenticate("NEW1", "first-password-1").username == "NEW1"
    at.text_input(key="adm_pw_new").input("password1").run()
    at.button(key="adm_pw_set").click().run()
    assert "よく使われるパスワードのため使えません。別のものにしてください。" in texts(at)
    assert store.users.authenticate("NEW1", "first-password-1").username == "NEW1"     # unchanged
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "2")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            store.users.authenticate("NEW1", "wrong-password")
    at.button(key="adm_pw_unlock").click().run()
    assert "NEW1 のロックを解除しました。" in texts(at)
    assert store.users.authenticate("NEW1", "first-password-1").username == "NEW1"


def test_the_secretariat_is_not_offered_chair_accounts(store):
    from scoring.store import SYSTEM

    from tests.app.review_fixtures import app_as

    store.users.add_user(SYSTEM, "S02", "事務局 一郎", "secretariat", password="x" * 12)
    at = app_as(store, "S02", "admin_round")
    no_exception(at)
    assert at.selectbox(key="adm_user_role").options == ["評価委員", "事務局"]
    assert "C01（委員長 渡辺 誠）" not in at.selectbox(key="adm_pw_user").options
    assert any(o.startswith("R01") for o in at.selectbox(key="adm_pw_user").options)


def test_the_secretariat_cannot_add_an_account_named_like_the_command_line(store):
    from scoring.store import SYSTEM

    from tests.app.review_fixtures import app_as

    store.users.add_user(SYSTEM, "S02", "事務局 一郎", "secretariat", password="x" * 12)
    at = app_as(store, "S02", "admin_round")
    at.text_input(key="adm_user_name").input("（cli）")
    at.text_input(key="adm_user_password").input("reviewer-password-1")
    at.button(key="adm_user_add").click().run()
    no_exception(at)
    assert any("このユーザー名はシステム用に予約されています" in str(e.value) for e in at.error)
    assert "（cli）" not in [u.username for u in store.users.list_users(SYSTEM)]
    chair = app_as(store, "C01", "admin_round")
    assert "委員長" in chair.selectbox(key="adm_user_role").options
