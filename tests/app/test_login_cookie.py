"""A built-in login survives a reload, a new tab and a server restart (issue 4 §2–3): after the password check
the store opens a login and the browser is told to keep its token in a cookie; a new session that brings the
cookie is logged in again; logging out ends the login in the store and clears the cookie.

The browser half (the cookie really set by Chromium and sent back on reload) is in
tests/browser/test_review_browser.py."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.review_fixtures import APP, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def log_in_with_form(username: str, password: str = "shinsa-demo") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    no_exception(at)
    return at


def cookie_scripts(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "document.cookie" in h.proto.body]


def new_session_with_cookie(monkeypatch, token: str | None) -> AppTest:
    """A fresh Streamlit session (a reload, a new tab, or after a server restart) whose request carries the
    login cookie ``token``."""
    import app.auth

    monkeypatch.setattr(app.auth, "_cookie_token", lambda: token)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    no_exception(at)
    return at


def test_login_opens_a_store_login_and_sets_the_cookie_once(store):
    at = log_in_with_form("R01")
    token = at.session_state["auth_token"]
    assert store.users.resume_session(token).username == "R01"
    [script] = cookie_scripts(at)
    assert re.search(rf'"shinsa_session_[0-9a-f]{{8}}={token};', script) and "SameSite=Strict" in script
    assert "Max-Age=43200" in script and "Secure" in script          # 12 h; Secure when served over HTTPS
    at.run()
    assert cookie_scripts(at) == []                                   # written once, not on every run


def test_a_new_session_with_the_cookie_is_logged_in(store, monkeypatch):
    token = log_in_with_form("R01").session_state["auth_token"]
    at = new_session_with_cookie(monkeypatch, token)
    assert at.session_state["auth_user"].username == "R01"
    assert "担当案件" in texts(at) and "ログイン中：委員 山田 太郎" in texts(at)
    assert "login_username" not in [w.key for w in at.text_input]


def test_logout_ends_the_login_and_clears_the_cookie(store, monkeypatch):
    at = log_in_with_form("C01")
    token = at.session_state["auth_token"]
    at.button(key="logout").click().run()
    no_exception(at)
    assert "auth_user" not in at.session_state and "auth_token" not in at.session_state
    assert store.users.resume_session(token) is None
    [script] = cookie_scripts(at)
    assert re.search(r'"shinsa_session_[0-9a-f]{8}=;', script) and "Max-Age=0" in script
    again = new_session_with_cookie(monkeypatch, token)               # the old cookie, if the browser kept it
    assert "auth_user" not in again.session_state and "ログイン" in texts(again)


@pytest.mark.parametrize("token", ["not-a-token", "x" * 500])
def test_an_unknown_cookie_shows_the_login_and_is_cleared(store, monkeypatch, token):
    at = new_session_with_cookie(monkeypatch, token)
    assert "auth_user" not in at.session_state and "ログイン" in texts(at)
    [script] = cookie_scripts(at)
    assert "Max-Age=0" in script


def test_the_cookie_name_differs_per_database(store, tmp_path, monkeypatch):
    """Two instances on one host (ports share cookies) never read or clear each other's login."""
    from app import auth, session

    here = auth.cookie_name()
    assert re.fullmatch(r"shinsa_session_[0-9a-f]{8}", here) and auth.cookie_name() == here
    monkeypatch.setenv("SHINSA_DATA_DIR", str(tmp_path / "other"))
    session.reset_store()
    try:
        assert auth.cookie_name() != here
    finally:
        session.reset_store()


def test_no_cookie_no_login_and_no_script(store, monkeypatch):
    at = new_session_with_cookie(monkeypatch, None)
    assert "auth_user" not in at.session_state and cookie_scripts(at) == []


def test_a_new_password_logs_other_sessions_out(store, monkeypatch):
    from scoring.store import SYSTEM

    token = log_in_with_form("R02").session_state["auth_token"]
    store.users.set_password(SYSTEM, "R02", "another secret 123")
    at = new_session_with_cookie(monkeypatch, token)
    assert "auth_user" not in at.session_state


def test_a_fresh_installation_says_how_to_create_the_first_chair(tmp_path, monkeypatch):
    """No demo, no account yet: the login page names the command; once an account exists it says nothing."""
    from app import session
    from scoring.store import SYSTEM, Store

    monkeypatch.setenv("SHINSA_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SHINSA_DEMO", raising=False)
    session.reset_store()
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        no_exception(at)
        assert any("python -m scoring user add" in str(i.value) for i in at.info)
        Store().users.add_user(SYSTEM, "C1", "委員長", "chair", "chair-password-1")
        again = AppTest.from_file(APP, default_timeout=120)
        again.run()
        assert not any("python -m scoring user add" in str(i.value) for i in again.info)
    finally:
        session.reset_store()
