"""Logins and accounts under hostile input (issue 12): the lockout holds against parallel guesses, a refusal
costs the same bcrypt work whatever the reason, passwords are never truncated and common ones are refused, and
no account can take a name the system uses (``(cli)``). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import bcrypt
import pytest
from sqlalchemy import select

from scoring.cli import main
from scoring.errors import InputError
from scoring.store import SYSTEM, AccountLocked, AccountRefused, AuthenticationFailed
from scoring.store.schema import User, utcnow

from .conftest import small_proposals, write_files


@pytest.fixture
def checks(monkeypatch):
    """Every bcrypt.checkpw call: the hash each one checked against (the test's spy)."""
    seen: list[bytes] = []
    lock = threading.Lock()
    original = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        with lock:
            seen.append(bytes(hashed))
        return original(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return seen


def cost(hashed: bytes) -> int:
    return int(hashed.split(b"$")[2])   # $2b$<cost>$<salt+hash>


def stored_hash(store, username: str) -> bytes:
    with store.db.read() as s:
        return s.scalar(select(User.password_hash).where(User.username == username)).encode("ascii")


# -- item 2: the lockout counts parallel guesses -------------------------------------------------------------------

def test_parallel_wrong_guesses_reach_the_password_check_at_most_the_limit(backend, chair, checks, monkeypatch):
    """20 threads × 8 wrong passwords, each thread with its own Store (own engine and connections): at most
    SHINSA_LOCKOUT_FAILURES of them are checked against the real hash, then the account is locked."""
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "5")
    real = stored_hash(backend.store, "chair")
    stores = [backend.new_store() for _ in range(20)]
    start = threading.Barrier(len(stores))
    refused: list[type] = []

    def guess(st) -> None:
        start.wait()
        for i in range(8):
            try:
                st.users.authenticate("chair", f"wrong-guess-{i}")
            except AuthenticationFailed as exc:
                refused.append(type(exc))

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            list(pool.map(guess, stores))
    finally:
        for st in stores:
            st.close()
    assert len(refused) == 160                               # every guess refused …
    assert sum(h == real for h in checks) <= 5               # … at most 5 checked against the real password
    assert len(checks) == 160                                # (the others against the dummy: one check each)
    with pytest.raises(AccountLocked):                       # locked: even the right password is refused
        backend.store.users.authenticate("chair", "chair-password-1")
    lockouts = [e for e in backend.store.audit.query(SYSTEM) if e.action == "user.lockout"]
    assert len(lockouts) == 1


def test_a_right_password_resets_the_count_and_an_expired_lock_starts_a_new_one(store, chair, monkeypatch):
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "3")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            store.users.authenticate("chair", "wrong-password")
    assert store.users.authenticate("chair", "chair-password-1").username == "chair"   # the 3rd: right, resets
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as exc:
            store.users.authenticate("chair", "wrong-password")
        assert not isinstance(exc.value, AccountLocked)
    with pytest.raises(AccountLocked):
        store.users.authenticate("chair", "wrong-password")
    with pytest.raises(AccountLocked):
        store.users.authenticate("chair", "chair-password-1")
    with store.db.write() as s:                                 # a lock that has ended: the count starts again
        s.scalar(select(User).where(User.username == "chair")).locked_until = utcnow() - timedelta(minutes=1)
    with pytest.raises(AuthenticationFailed) as exc:
        store.users.authenticate("chair", "wrong-password")
    assert not isinstance(exc.value, AccountLocked)
    assert store.users.authenticate("chair", "chair-password-1").username == "chair"


# -- item 3: the same bcrypt work for every refusal ----------------------------------------------------------------

def test_every_refusal_checks_one_hash_of_the_configured_cost(store, checks, monkeypatch):
    """Unknown user, no password, deactivated, locked, wrong password, an over-long password: each is one
    bcrypt check of the configured cost — nothing in the work done tells whether the username exists."""
    monkeypatch.setenv("SHINSA_BCRYPT_ROUNDS", "5")   # not the tests' default 4: the dummy must follow the setting
    store.users.add_user(SYSTEM, "r1", "r1", "reviewer", "reviewer-password-1")
    store.users.add_user(SYSTEM, "nopw", "nopw", "reviewer")
    store.users.add_user(SYSTEM, "gone", "gone", "reviewer", "reviewer-password-1")
    store.users.update_user(SYSTEM, "gone", active=False)
    store.users.add_user(SYSTEM, "locked", "locked", "reviewer", "reviewer-password-1")
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "1")
    with pytest.raises(AccountLocked):
        store.users.authenticate("locked", "wrong-password")
    monkeypatch.setenv("SHINSA_LOCKOUT_FAILURES", "5")
    work = {}
    for username, password in [("nobody", "reviewer-password-1"), ("nopw", "reviewer-password-1"),
                               ("gone", "reviewer-password-1"), ("locked", "reviewer-password-1"),
                               ("r1", "wrong-password"), ("r1", "x" * 100)]:
        checks.clear()
        with pytest.raises(AuthenticationFailed):
            store.users.authenticate(username, password)
        work[(username, password[:20])] = [cost(h) for h in checks]
    assert set(map(tuple, work.values())) == {(5,)}, work


# -- item 11: no truncation, no common or blank passwords --------------------------------------------------------

def test_a_72_byte_password_does_not_log_in_with_any_suffix(store):
    password = "審査委員会のパスワード" + "あ" * 13          # 24 characters, 72 bytes in UTF-8
    assert len(password.encode("utf-8")) == 72
    store.users.add_user(SYSTEM, "r1", "r1", "reviewer", password)
    assert store.users.authenticate("r1", password).username == "r1"
    for suffix in ("x", "あ", "anything at all"):
        with pytest.raises(AuthenticationFailed):
            store.users.authenticate("r1", password + suffix)
    with pytest.raises(AccountRefused) as exc:
        store.users.set_password(SYSTEM, "r1", password + "x")
    assert exc.value.reason == "password_long" and "72 bytes" in str(exc.value)


@pytest.mark.parametrize("password, reason", [
    ("password", "password_common"), ("12345678", "password_common"), ("Password1", "password_common"),
    ("ＰＡＳＳＷＯＲＤ", "password_common"), ("qwertyuiop", "password_common"),
    (" " * 8, "password_blank"), ("\u3000" * 8, "password_blank"), ("\t \n" * 3, "password_blank"),
    ("short", "password_short"), ("x" * 73, "password_long"),
])
def test_common_blank_short_and_long_passwords_are_refused_and_nothing_is_written(store, chair, password, reason):
    with pytest.raises(AccountRefused) as exc:
        store.users.add_user(SYSTEM, "r1", "r1", "reviewer", password)
    assert exc.value.reason == reason and isinstance(exc.value, InputError)
    assert "r1" not in [u.username for u in store.users.list_users(SYSTEM)]
    with pytest.raises(AccountRefused):
        store.users.set_password(chair, "chair", password)
    assert store.users.authenticate("chair", "chair-password-1").username == "chair"   # unchanged


def test_the_command_line_refuses_a_common_password_with_a_clear_message(backend, capsys, monkeypatch):
    monkeypatch.setenv("SHINSA_PASSWORD", "12345678")
    code = main(["user", "add", "r1", "--role", "reviewer", "--db", backend.url])
    err = capsys.readouterr().err
    assert code == 2 and "password" in err and "most common passwords" in err
    monkeypatch.setenv("SHINSA_PASSWORD", " " * 8)
    assert main(["user", "add", "r1", "--role", "reviewer", "--db", backend.url]) == 2
    assert "only spaces" in capsys.readouterr().err
    assert "r1" not in [u.username for u in backend.store.users.list_users(SYSTEM)]


# -- item 8: the system's names are reserved -----------------------------------------------------------------------

RESERVED = ["(cli)", "(CLI)", "（ｃｌｉ）", " (cli) ", "(cli)\u200b", "\u200b(cli)", "﹙cli﹚", "(system)", "(import)",
            "x)", "(x"]


@pytest.mark.parametrize("name", RESERVED)
def test_no_account_can_take_a_name_the_system_uses(store, secretariat, name):
    with pytest.raises(AccountRefused) as exc:
        store.users.add_user(secretariat, name, "偽のコマンドライン", "reviewer", "reviewer-password-1")
    assert exc.value.reason == "username_reserved"
    assert [u.username for u in store.users.list_users(SYSTEM)] == ["jimu"]
    assert not [e for e in store.audit.query(SYSTEM) if e.action == "user.add" and e.subject != "jimu"]


def test_ordinary_names_are_still_accepted(store, secretariat):
    for name in ("R01", "yamada.taro", "山田（外部）委員", "a(b)c"):
        assert store.users.add_user(secretariat, name, name, "reviewer").username == name


def test_a_reviewers_file_cannot_create_a_reserved_account(store, tmp_path):
    r = store.rounds.create_round(SYSTEM, "R", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(2), [("A", "委員A", "reviewer", ""),
                                                       ("（cli）", "偽", "reviewer", "")])
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, **files)
    assert any(p.row == "3" and p.field == "reviewer_id" and "reserved" in p.message for p in exc.value.problems)
    assert store.users.list_users(SYSTEM) == []


def test_the_command_line_refuses_a_reserved_name_before_asking_for_a_password(backend, capsys, monkeypatch):
    monkeypatch.delenv("SHINSA_PASSWORD", raising=False)
    code = main(["user", "add", "(cli)", "--role", "reviewer", "--db", backend.url])
    err = capsys.readouterr().err
    assert code == 2 and "reserved" in err and "terminal" not in err
