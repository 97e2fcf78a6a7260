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


def test_declaring_a_conflict_needs_a_reason_and_a_confirmation(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    no_exception(at)
    assert at.button(key="rv_conflict_declare").disabled                       # no reason, no confirmation
    at.text_input(key="rv_conflict_reason").input("申請者と共同研究中").run()
    assert at.button(key="rv_conflict_declare").disabled                       # reason, not yet confirmed
    at.checkbox(key="rv_conflict_confirm").check().run()
    at.button(key="rv_conflict_declare").click().run()
    no_exception(at)
    [c] = [c for c in store.assignments.list_conflicts(store.users.get("C01"), 1) if c.source == "declared"]
    assert (c.reviewer, c.proposal_id, c.reason) == ("R01", "L4-003", "申請者と共同研究中")


def test_a_panel_a_conflict_left_short_is_flagged_and_reassigned_in_one_click(store):
    from scoring.store import SYSTEM

    r01 = store.users.get("R01")
    store.assignments.declare_conflict(r01, 1, proposal_id="L4-003", reason="共同研究中")
    before = {a.reviewer for a in store.assignments.list_assignments(SYSTEM, 1) if a.proposal_id == "L4-003"}
    for page, prefix in (("chair_progress", "app_pack_pick"), ("admin_round", "adm_pack_pick")):
        at = app_as(store, "C01", page)
        at.selectbox(key=prefix).set_value("autonomous_l4").run()
        no_exception(at)
        assert "L4-003：利益相反により委員が 4 名になりました（必要 5 名）" in texts(at)
    at.button(key="adm_reassign_L4-003").click().run()
    no_exception(at)
    after = {a.reviewer for a in store.assignments.list_assignments(SYSTEM, 1) if a.proposal_id == "L4-003"}
    [new] = after - before
    assert new != "R01" and not store.assignments.is_conflicted(1, "L4-003", new)
    assert any(f"L4-003 に {new} を割り当てました" in str(s.value) for s in at.success)
    assert not [b for b in at.button if b.key == "adm_reassign_L4-003"]          # the flag is gone


def test_secretariat_adds_and_withdraws_a_conflict_with_a_reason_logged(store):
    from scoring.store import SYSTEM

    at = app_as(store, "S01", "admin_round")        # the demo's secretariat account (§14)
    no_exception(at)
    at.selectbox(key="adm_coi_reviewer").set_value("R02").run()
    at.selectbox(key="adm_coi_proposal").set_value("L4-005").run()
    at.button(key="adm_coi_add").click().run()
    assert any("理由を入力してください" in str(e.value) for e in at.error)     # no reason: nothing recorded
    assert not store.assignments.is_conflicted(1, "L4-005", "R02")
    at.text_input(key="adm_coi_reason").input("申請者の役員を兼務").run()
    at.button(key="adm_coi_add").click().run()
    no_exception(at)
    assert store.assignments.is_conflicted(1, "L4-005", "R02")
    [c] = [c for c in store.assignments.list_conflicts(SYSTEM, 1) if c.reviewer == "R02"]
    at.selectbox(key="adm_coi_remove_pick").set_value(c.id).run()
    at.text_input(key="adm_coi_remove_reason").input("兼務は昨年度で終了").run()
    assert at.button(key="adm_coi_remove").disabled                            # not yet confirmed
    at.checkbox(key="adm_coi_remove_confirm").check().run()
    at.button(key="adm_coi_remove").click().run()
    no_exception(at)
    assert not store.assignments.is_conflicted(1, "L4-005", "R02")
    log = [(e.actor, e.action) for e in store.audit.query(store.users.get("C01"), 1, entity="conflict")]
    assert log[:2] == [("S01", "conflict.remove"), ("S01", "conflict.add")]


def test_demo_has_a_secretariat_account_that_sets_the_deadline(store):
    import datetime as dt

    from app.demo import DEMO_PASSWORD

    s01 = store.users.authenticate("S01", DEMO_PASSWORD)           # demo mode's secretariat logs in
    assert s01.role == "secretariat"
    at = app_as(store, "S01", "admin_round")
    no_exception(at)
    at.date_input(key="adm_deadline_1").set_value(dt.date(2027, 1, 15)).run()
    at.button(key="adm_deadline_set").click().run()
    no_exception(at)
    assert store.rounds.get_round(s01, 1).deadline == dt.date(2027, 1, 15)
    assert any("2027-01-15" in str(s.value) for s in at.success)
