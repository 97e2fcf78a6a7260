"""Issue 14 in the browser, the round administration: a created round becomes the selected one, and every
destructive action names the round it acts on (§1)."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def test_a_created_round_becomes_the_selected_round_and_actions_name_it(store):
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    demo = store.rounds.list_rounds(store.users.get("C01"))[0]
    assert at.selectbox(key="app_round_pick").value == demo.id
    at.text_input(key="adm_round_name").input("令和9年度 2次公募")
    at.multiselect(key="adm_round_packs").select("autonomous_l4")
    at.button(key="adm_round_create").click().run()
    no_exception(at)
    new = next(r for r in store.rounds.list_rounds(store.users.get("C01")) if r.name == "令和9年度 2次公募")
    assert at.selectbox(key="app_round_pick").value == new.id          # the import now goes to the new round
    assert "令和9年度 2次公募" in at.button(key="adm_import_run").label
    assert "令和9年度 2次公募" in at.button(key="adm_lock").label
    assert "ラウンド「令和9年度 2次公募」" in texts(at)
    # it stays selected on the next run and on another page
    at.run()
    assert at.selectbox(key="app_round_pick").value == new.id
    at.switch_page("app/pages/chair_progress.py").run()
    assert at.selectbox(key="app_round_pick").value == new.id
