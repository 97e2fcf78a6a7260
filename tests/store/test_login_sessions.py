"""Logins that survive a page reload or a server restart (migration 0003) — on SQLite and PostgreSQL.

The browser keeps a random token in a cookie; the store keeps only its SHA-256 and answers who it belongs to
until it expires, is ended by logging out, or the account changes (new password, other role, deactivated)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from scoring.store import SYSTEM
from scoring.store.schema import LoginSession, utcnow


def test_a_token_resumes_its_user_from_another_store_on_the_same_database(backend, chair):
    user = backend.store.users.authenticate("chair", "chair-password-1")
    token = backend.store.users.open_session(user)
    restarted = backend.new_store()    # a server restart: new engine and connections, same database
    try:
        again = restarted.users.resume_session(token)
    finally:
        restarted.close()
    assert again is not None and (again.username, again.role) == ("chair", "chair")


def test_only_the_tokens_hash_is_stored(store, chair):
    token = store.users.open_session(chair)
    with store.db.read() as s:
        stored = s.scalars(select(LoginSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored


def test_unknown_empty_or_oversized_tokens_log_nobody_in(store, chair):
    store.users.open_session(chair)
    for token in (None, "", "x" * 43, "y" * 5000, 123):
        assert store.users.resume_session(token) is None


def test_logging_out_ends_the_token_only(store, chair):
    first, second = store.users.open_session(chair), store.users.open_session(chair)
    store.users.end_session(first)
    assert store.users.resume_session(first) is None
    assert store.users.resume_session(second).username == "chair"   # another browser stays logged in
    store.users.end_session(first)   # twice is harmless
    store.users.end_session(None)


def test_an_expired_token_logs_nobody_in_and_is_swept(store, chair, monkeypatch):
    old = store.users.open_session(chair)
    with store.db.write() as s:
        s.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert store.users.resume_session(old) is None
    monkeypatch.setenv("SHINSA_SESSION_HOURS", "0.5")
    new = store.users.open_session(chair)
    with store.db.read() as s:
        rows = s.scalars(select(LoginSession)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(new.encode()).hexdigest()]   # the expired one is gone
    lasts = rows[0].expires_at - rows[0].created_at
    assert timedelta(minutes=29) < lasts <= timedelta(minutes=30)


def test_a_new_password_ends_every_login_of_the_account(store, chair, secretariat):
    mine, theirs = store.users.open_session(chair), store.users.open_session(secretariat)
    store.users.set_password(chair, "chair", "a-new-password-2")
    assert store.users.resume_session(mine) is None
    assert store.users.resume_session(theirs).username == "jimu"


def test_deactivating_or_changing_the_role_ends_the_logins(store, chair):
    store.users.add_user(SYSTEM, "r1", "委員1", "reviewer", "reviewer-password-1")
    r1 = store.users.authenticate("r1", "reviewer-password-1")
    token = store.users.open_session(r1)
    store.users.update_user(chair, "r1", display_name="委員 一")     # a new name keeps the login
    assert store.users.resume_session(token).display_name == "委員 一"
    store.users.update_user(chair, "r1", role="chair")
    assert store.users.resume_session(token) is None
    token = store.users.open_session(store.users.get("r1"))
    store.users.update_user(chair, "r1", active=False)
    assert store.users.resume_session(token) is None


def test_a_locked_account_is_not_resumed_until_the_lock_ends(store, chair, monkeypatch):
    token = store.users.open_session(chair)
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "2")
    for _ in range(2):
        try:
            store.users.authenticate("chair", "wrong-password")
        except Exception:
            pass
    assert store.users.resume_session(token) is None
    store.users.unlock(SYSTEM, "chair")
    assert store.users.resume_session(token).username == "chair"
