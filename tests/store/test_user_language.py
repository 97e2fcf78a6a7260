"""A user's choice of the app's language is kept in the store (issue 14 item 6, migration 0005) — on SQLite
and PostgreSQL: it outlives a restart and a new login, is the user's own, and only ja/en are taken."""

from __future__ import annotations

import pytest

from scoring.errors import InputError
from scoring.store import SYSTEM, PermissionDenied


def test_the_choice_is_kept_for_the_next_login_after_a_restart(backend, chair):
    assert chair.language is None                       # no choice yet: the app uses the browser's or Japanese
    backend.store.users.set_language(chair, "en")
    restarted = backend.new_store()
    try:
        again = restarted.users.resume_session(restarted.users.open_session("chair"))
        assert again.language == "en"
        assert restarted.users.get("chair").language == "en"
    finally:
        restarted.close()
    backend.store.users.set_language(chair, "ja")
    assert backend.store.users.get("chair").language == "ja"


def test_only_the_apps_languages_are_taken_and_only_by_a_user(store, chair):
    for bad in ("fr", "", "en; drop table users", None):
        with pytest.raises(InputError) as exc:
            store.users.set_language(chair, bad)
        assert exc.value.problems[0].field == "language"
    assert store.users.get("chair").language is None
    with pytest.raises(PermissionDenied):
        store.users.set_language(SYSTEM, "en")
