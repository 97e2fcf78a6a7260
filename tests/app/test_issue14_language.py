"""The language stays what the user chose (issue 14 item 6): across 「評価する」 on 担当案件 and the menu, in a
new session of the same user (a reload, a typed address: the store keeps it), and for an anonymous browser (a
cookie). The browser half (a real reload and a typed URL) is in tests/browser/test_issue14_browser.py."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.review_fixtures import APP, PAGES, app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def lang_cookie_scripts(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if "shinsa_lang=" in h.proto.body]


def test_score_on_my_proposals_keeps_english(store):
    at = app_as(store, "R01", "reviewer_home")
    at.radio(key="lang").set_value("en").run()
    assert [e.value for e in at.title] == ["My proposals"]
    at.button(key="rv_home_open_1").click().run()              # 「評価する」 → 評価入力
    no_exception(at)
    assert at.radio(key="lang").value == "en"
    assert "Scoring" in texts(at) and "評価" not in "".join(e.value for e in at.header)
    at.switch_page(PAGES["reviewer_home"]).run()              # and back by the menu
    assert [e.value for e in at.title] == ["My proposals"]


def test_a_new_session_of_the_user_starts_in_their_language(store):
    at = app_as(store, "R01", "reviewer_home")
    at.radio(key="lang").set_value("en").run()
    assert store.users.get("R01").language == "en"              # kept for the user, not only this session
    again = app_as(store, "R01", "reviewer_home")               # a reload / a typed URL: a new session
    assert again.radio(key="lang").value == "en"
    assert [e.value for e in again.title] == ["My proposals"]
    assert store.users.get("R02").language is None
    other = app_as(store, "R02", "reviewer_home")               # another user's choice is not theirs
    assert [e.value for e in other.title] == ["担当案件"]


def test_logging_in_switches_to_the_users_language(store):
    store.users.set_language(store.users.get("R01"), "en")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert at.radio(key="lang").value == "ja"                   # an anonymous browser with no cookie: Japanese
    at.text_input(key="login_username").input("R01")
    at.text_input(key="login_password").input("shinsa-demo")
    at.button[0].click().run()
    no_exception(at)
    assert at.radio(key="lang").value == "en" and [e.value for e in at.title] == ["My proposals"]
    assert any('"shinsa_lang=en;' in s for s in lang_cookie_scripts(at))   # and the browser keeps it


def test_an_anonymous_browser_keeps_its_choice_in_a_cookie(store, monkeypatch):
    import app.language

    at = app_as(store, None, "dry_run")
    assert lang_cookie_scripts(at) == []                        # nothing chosen: nothing written
    at.radio(key="lang").set_value("en").run()
    [script] = lang_cookie_scripts(at)
    assert '"shinsa_lang=en;' in script and "SameSite=Lax" in script and "Max-Age=31536000" in script
    at.run()
    assert lang_cookie_scripts(at) == []                        # written once
    monkeypatch.setattr(app.language, "_cookie_lang", lambda: "en")   # the next session brings the cookie
    again = app_as(store, None, "dry_run")
    no_exception(again)
    assert again.radio(key="lang").value == "en"
    assert [e.value for e in again.title] == ["Pre-application self-check"]
