"""The chair's pages with AppTest (issue 4 §4): ranking with the funding line, what-if, scenarios, progress,
proposal detail, downloads, administration."""

from __future__ import annotations

import io

import openpyxl

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def chair(store):
    return store.users.get("C01")


def ranking_page(store, pack="autonomous_l4"):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value(pack).run()
    no_exception(at)
    return at


def table(at):
    return next(df.value for df in at.dataframe if "提案ID" in df.value.columns and "交付額" in df.value.columns)


def test_ranking_shows_decisions_funding_line_and_reasons(store):
    at = ranking_page(store)
    df = table(at)
    ids = list(df["提案ID"])
    line = ids.index("━━━━")
    selected = [i for i, d in zip(ids, df["結果"]) if "採択" in d and "補欠" not in d]
    assert len(selected) == 11 and ids[:line] == selected        # the funding line right after the last selected
    assert ids[line + 1] == "L4-011" and "補欠 1" in df["結果"].iloc[line + 1]
    assert "1,562,000,000円" in set(df["累計"])                  # cumulative of the selected, in yen
    shown = texts(at)
    assert "採択 11" in shown and "補欠 3" in shown
    reasons = next(d.value for d in at.dataframe if "理由" in d.value.columns)
    assert any("予算残額" in r for r in reasons["理由"])             # why the waitlisted are not selected
    assert len([c for c in at.get("plotly_chart")]) >= 2          # gauge and cumulative chart


def test_whatif_budget_changes_decisions_not_the_stored_round(store):
    at = ranking_page(store)
    at.number_input(key="chair_budget").set_value(2_000_000_000).run()
    no_exception(at)
    df = table(at)
    selected = [i for i, d in zip(df["提案ID"], df["結果"]) if d.startswith("◎")]
    expected = store.rounds.rank_round(chair(store), 1, "autonomous_l4", budget=2_000_000_000)
    assert selected == [r["proposal_id"] for r in expected.results() if r["decision"] == "selected"]
    assert len(selected) > 11 and "L4-011" in selected
    assert any("試算中" in str(w.value) for w in at.warning)
    # the stored round is unchanged
    official = store.rounds.rank_round(chair(store), 1, "autonomous_l4")
    assert official.counts()["selected"] == 11 and official.budget_dict()["total_yen"] == 1_700_000_000
    at.number_input(key="chair_pass_line").set_value(75.0).run()
    df = table(at)
    assert sum(1 for d in df["結果"] if d.startswith("◎")) < len(selected)
    at.button(key="chair_whatif_reset").click().run()
    assert sum(1 for d in table(at)["結果"] if d.startswith("◎")) == 11


def test_whatif_aggregation_and_selection_method(store):
    at = ranking_page(store)
    at.selectbox(key="chair_aggregation").set_value("median").run()
    no_exception(at)
    selected = {i for i, d in zip(table(at)["提案ID"], table(at)["結果"]) if d.startswith("◎")}
    assert "L4-011" in selected and "L4-015" not in selected      # the flip the analytics sample shows
    assert store.rounds.rank_round(chair(store), 1, "autonomous_l4").counts()["selected"] == 11


def test_named_scenario_is_saved_and_loaded_without_changing_the_round(store):
    from scoring.store.scenarios import ScenarioService

    at = ranking_page(store)
    at.number_input(key="chair_budget").set_value(2_000_000_000).run()
    at.text_input(key="chair_scenario_name").input("予算20億").run()
    at.button(key="chair_scenario_save").click().run()
    no_exception(at)
    saved = ScenarioService(store).list_scenarios(chair(store), 1, "autonomous_l4")
    assert [(s.name, s.overrides["budget"]) for s in saved] == [("予算20億", 2_000_000_000)]
    assert store.rounds.rank_round(chair(store), 1, "autonomous_l4").counts()["selected"] == 11
    fresh = ranking_page(store)
    assert fresh.number_input(key="chair_budget").value == 1_700_000_000
    fresh.selectbox(key="chair_scenario_pick").set_value("予算20億").run()
    fresh.button(key="chair_scenario_load").click().run()
    assert fresh.number_input(key="chair_budget").value == 2_000_000_000
    assert sum(1 for d in table(fresh)["結果"] if d.startswith("◎")) > 11


def test_chair_workbook_and_csv_downloads(store):
    at = ranking_page(store)
    at.button(key="chair_xlsx_prepare").click().run()
    no_exception(at)
    assert [b for b in at.get("download_button") if b.proto.id and "chair_dl_xlsx" in b.proto.id]
    data = at.session_state["chair_xlsx"][1]
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert len(wb.sheetnames) >= 5
    text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    assert "L4-012" in text and "L4-011" in text


def test_analyses_tabs(store):
    at = ranking_page(store)
    at.button(key="chair_analysis_run").click().run()
    no_exception(at)
    shown = texts(at)
    assert "グレーゾーン" in shown and "最適な組合せの合計点" in shown
    assert any(c.key == "chair_calibration_chart" for c in at.get("plotly_chart") if hasattr(c, "key")) or \
        "委員ごとの甘辛" in str([c.proto for c in at.get("plotly_chart")])


def test_progress_matrix_and_reminders(store):
    at = app_as(store, "C01", "chair_progress")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    matrix = at.dataframe[0].value
    row = matrix[matrix["委員"] == "委員 山田 太郎"].iloc[0]
    assert row["L4-001"] == "○" and row["L4-002"] == "✔"
    r03 = matrix[matrix["委員"] == "委員 鈴木 一郎"].iloc[0]
    assert r03["L4-006"] in ("✖", "")
    reminders = at.dataframe[1].value
    assert "R01" in set(reminders["ユーザー名"]) and "L4-001" in reminders[reminders["ユーザー名"] == "R01"].iloc[0]["未提出の提案"]


def test_proposal_detail_radar_reviews_and_needs_check_resolution(store):
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    at.selectbox(key="chair_detail_pick").set_value("AC-010").run()
    no_exception(at)
    assert at.get("plotly_chart")
    levels = at.dataframe[0].value
    assert len(levels) == 5 and set(levels["委員"]) <= {f"委員{x}" for x in "ABCDEFG"}   # anonymised by the pack
    at.toggle(key="chair_anonymise").set_value(False).run()
    assert "委員 伊藤 由紀" in set(at.dataframe[0].value["委員"])
    rules = [b.key for b in at.button if b.key and b.key.startswith("chair_resolve_")]
    assert rules
    rule = rules[0][len("chair_resolve_"):]
    at.selectbox(key=f"chair_resolve_status_{rule}").set_value("pass").run()
    at.text_input(key=f"chair_resolve_note_{rule}").input("Wi-Fi 6E は対象と確認").run()
    at.button(key=f"chair_resolve_{rule}").click().run()
    no_exception(at)
    res = store.rounds.list_resolutions(chair(store), 1)
    assert [(r.proposal_id, r.rule, r.status, r.note) for r in res] == [("AC-010", rule, "pass", "Wi-Fi 6E は対象と確認")]
    assert any(e.action.startswith("resolution") for e in store.audit.query(chair(store), 1, proposal_id="AC-010"))
    assert "委員長の判断" in texts(at)


def test_admin_auto_assign_reopen_and_lock(store):
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    at.selectbox(key="adm_pack_pick").set_value("planning_support").run()
    at.number_input(key="adm_auto_k").set_value(6).run()
    at.button(key="adm_auto_assign").click().run()
    no_exception(at)
    assert any("自動割り当て" in str(s.value) for s in at.success)
    # reopen a submitted review
    me = chair(store)
    at.selectbox(key="adm_reopen_pick").set_value(("L4-002", "R01")).run()
    at.text_input(key="adm_reopen_reason").input("再確認").run()
    at.button(key="adm_reopen").click().run()
    assert store.reviews.get_review(me, 1, "L4-002", reviewer="R01").status == "draft"
    # lock: needs the confirmation, then nothing changes any more
    assert at.button(key="adm_lock").disabled
    at.checkbox(key="adm_lock_confirm").check().run()
    at.button(key="adm_lock").click().run()
    assert store.rounds.get_round(me, 1).status == "locked"
    rv = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-001"})
    no_exception(rv)
    assert not [r for r in rv.radio if r.key and r.key.startswith("rv_level_")]   # nothing left to edit
    assert not store.reviews.get_review(store.users.get("R01"), 1, "L4-001").exists
