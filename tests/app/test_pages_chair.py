"""The chair's pages with AppTest (issue 4 §4): ranking with the funding line, what-if, scenarios, progress,
proposal detail, downloads, administration."""

from __future__ import annotations

import io
import json

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
    return next(df.value for df in at.dataframe if "提案ID" in df.value.columns and "交付額（万円）" in df.value.columns)


def test_ranking_shows_decisions_funding_line_and_reasons(store):
    at = ranking_page(store)
    df = table(at)
    ids = list(df["提案ID"])
    line = ids.index("━━━━")
    selected = [i for i, d in zip(ids, df["結果"]) if "採択" in d and "補欠" not in d and "ライン" not in d]
    assert len(selected) == 11 and ids[:line] == selected        # the funding line right after the last selected
    assert ids[line + 1] == "L4-011" and "補欠 1" in df["結果"].iloc[line + 1]
    assert 156_200 in set(df["累計（万円）"].dropna())         # cumulative of the selected, in 万円 (a number)
    shown = texts(at)
    assert "採択 11" in shown and "補欠 3" in shown
    reasons = dict(zip(df["提案ID"], df["理由"]))                    # reasons beside every proposal not selected
    assert "予算残額" in reasons["L4-011"] and reasons[selected[0]] == ""
    assert len([c for c in at.get("plotly_chart")]) >= 1          # the cumulative chart
    assert "予算の使用" in texts(at) and at.get("progress")           # the budget gauge


def test_ranking_table_is_one_numeric_table_formatted_by_column(store):
    """One Arrow table: numbers stay numbers (sortable, formatted in the browser: thousands separators for
    money in 万円, two decimals for scores, rounded half up), no separate reasons table."""
    import json

    at = ranking_page(store)
    frames = [d for d in at.dataframe if "提案ID" in d.value.columns]
    assert len(frames) == 1
    df = frames[0].value
    assert str(df["交付額（万円）"].dtype) == "Float64" and str(df["合計点"].dtype) == "float64"
    assert all(round(v, 2) == v for v in df["合計点"].dropna())
    config = json.loads(frames[0].proto.columns)
    assert config["交付額（万円）"]["type_config"]["format"] == "%,f"
    assert config["合計点"]["type_config"]["format"] == "%.2f"
    # empty cells (the funding-line row, the rank of unranked proposals, the cumulative of the non-selected)
    # are drawn blank, not as a grey "None"
    assert df["累計（万円）"].isna().any() and frames[0].proto.placeholder == ""
    assert frames[0].proto.HasField("placeholder")


def test_ranked_table_scores_are_rounded_as_every_other_score_is_shown():
    import numpy as np

    from app.ui import score
    from scoring.money import round_half_up

    values = np.array([2.675, 1.005, 81.125, 0.0, 99.994999, 12.3449999999])
    assert [f"{v:.2f}" for v in round_half_up(values)] == [score(v) for v in values]
    assert np.isnan(round_half_up(np.array([np.nan])))[0]
    ranking = large_ranking(40)                 # the table the page draws takes its columns from the core
    cols = ranking.display_columns("ja")
    for shown, raw in zip(cols["total"], ranking.total[ranking.order]):
        assert f"{shown:.2f}" == score(raw)


def test_cumulative_chart_stays_a_few_svg_paths_for_a_large_call():
    """A call of 1,000 proposals: a handful of SVG traces (no WebGL, no bar per proposal), so a what-if
    redraws little."""
    from tests.app.review_fixtures import ROOT

    ns = {"__name__": "chair_ranking_module"}
    src = (ROOT / "app" / "pages" / "chair_ranking.py").read_text("utf-8").split("\nwith error_boundary(")[0]
    exec(compile(src, "chair_ranking", "exec"), ns)
    ranking = large_ranking(1000)
    fig = ns["cumulative_chart"](ranking)
    assert fig.data and all(tr.type == "scatter" for tr in fig.data) and len(fig.data) <= 2
    assert sum(len(tr.x) for tr in fig.data) <= int(ranking.counts()["selected"]) + 1
    assert any("採択ライン" in str(a.text) for a in fig.layout.annotations)
    small = ns["cumulative_chart"](large_ranking(40))     # a small call: one path per decision + cumulative
    assert all(tr.type == "scatter" for tr in small.data) and 2 <= len(small.data) <= 9


def large_ranking(n: int):
    """A synthetic call of ``n`` proposals × 5 reviewers of autonomous_l4, ranked with a budget."""
    import copy
    import json
    import random

    import pandas as pd

    from scoring.io.call import load_call
    from scoring.io.packs import load_pack
    from scoring.selection import Params
    from tests.app.review_fixtures import ROOT

    pack = load_pack("autonomous_l4")
    sample = next(p for p in json.loads((ROOT / "sample_proposals" / "proposals.json").read_text("utf-8"))
                  if p["id"] == "L4-001")
    rng = random.Random(7)
    props, rows = [], []
    for k in range(n):
        p = copy.deepcopy(sample)
        p.update(id=f"L4-{k + 1:04d}", title=f"合成 {k + 1}", requested_yen=rng.randrange(50, 150) * 1_000_000)
        props.append(p)
        q = rng.random()
        for r in range(5):
            for c in pack.criteria:
                rows.append({"reviewer_id": f"B{r}", "proposal_id": p["id"], "item": c.id,
                             "value": min(5, max(1, round(1 + 4 * q + rng.gauss(0, 0.8)))), "status": "submitted"})
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="shinsa-large-") as tmp:
        (Path(tmp) / "proposals.json").write_text(json.dumps(props, ensure_ascii=False), "utf-8")
        pd.DataFrame(rows).to_csv(Path(tmp) / "reviews.csv", index=False)
        call = load_call("autonomous_l4", Path(tmp) / "proposals.json", Path(tmp) / "reviews.csv")
    return call.rank(Params.from_pack(pack, budget=n * 10_000_000))


def test_whatif_budget_changes_decisions_not_the_stored_round(store):
    at = ranking_page(store)
    at.text_input(key="chair_budget").input("20億円").run()
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
    at.text_input(key="chair_budget").input("20億円").run()
    at.text_input(key="chair_scenario_name").input("予算20億").run()
    at.button(key="chair_scenario_save").click().run()
    no_exception(at)
    saved = ScenarioService(store).list_scenarios(chair(store), 1, "autonomous_l4")
    assert [(s.name, s.overrides["budget"]) for s in saved] == [("予算20億", 2_000_000_000)]
    assert store.rounds.rank_round(chair(store), 1, "autonomous_l4").counts()["selected"] == 11
    fresh = ranking_page(store)
    assert fresh.text_input(key="chair_budget").value == "17億円"
    fresh.selectbox(key="chair_scenario_pick").set_value("予算20億").run()
    fresh.button(key="chair_scenario_load").click().run()
    assert fresh.text_input(key="chair_budget").value == "20億円"
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
    # the CSV offered for download is the one ranking CSV of the round's official ranking, as the CLI writes it
    import csv

    from scoring.io import csv_bytes

    downloaded = at.session_state["chair_files"][1]["csv"]
    call, resolutions = store.rounds.call(chair(store), 1, "autonomous_l4")
    official = call.rank(None, resolutions)
    assert downloaded == csv_bytes(*official.csv_table("ja"))
    rows = list(csv.DictReader(io.StringIO(downloaded.decode("utf-8-sig"))))
    assert len(rows) == official.table.n
    assert sum(r["decision"] == "selected" for r in rows) == 11
    assert [r["proposal_id"] for r in rows[:3]] == [official.table.ids[i] for i in official.order[:3]]


def download_names(at) -> list[str]:
    """The file names the download buttons offer: Streamlit's media id hashes the bytes, type and file name."""
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    xlsx = at.session_state["chair_xlsx"][1]
    files = at.session_state["chair_files"][1]
    offered = [(xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "chair.xlsx"),
               (files["csv"], "text/csv", "ranking.csv"), (files["json"], "application/json", "ranking.json")]
    urls = [b.proto.url for b in at.get("download_button")]
    names = []
    for (data, mime, tail), url in zip(offered, urls):
        for stem in ("autonomous_l4", "autonomous_l4_試算"):
            if _calculate_file_id(data, mime, f"{stem}_{tail}") in url:
                names.append(f"{stem}_{tail}")
    return names


def test_downloads_made_under_a_whatif_are_marked_as_such(store):
    at = ranking_page(store)
    at.text_input(key="chair_budget").input("20億円").run()
    at.button(key="chair_xlsx_prepare").click().run()
    no_exception(at)
    wb = openpyxl.load_workbook(io.BytesIO(at.session_state["chair_xlsx"][1]))
    assert wb.sheetnames[0] == "試算_概要" and all(n.startswith("試算_") for n in wb.sheetnames)
    assert download_names(at) == ["autonomous_l4_試算_chair.xlsx", "autonomous_l4_試算_ranking.csv",
                                  "autonomous_l4_試算_ranking.json"]
    marked = json.loads(at.session_state["chair_files"][1]["json"])["whatif"]       # and inside the JSON
    assert marked["official"] is False and marked["changes"][0]["setting"] == "budget"
    assert marked["changes"][0]["whatif"] == 2_000_000_000
    at.button(key="chair_whatif_reset").click().run()
    at.button(key="chair_xlsx_prepare").click().run()
    assert download_names(at) == ["autonomous_l4_chair.xlsx", "autonomous_l4_ranking.csv",
                                  "autonomous_l4_ranking.json"]
    assert "whatif" not in json.loads(at.session_state["chair_files"][1]["json"])
    assert openpyxl.load_workbook(io.BytesIO(at.session_state["chair_xlsx"][1])).sheetnames[0] == "概要"


def test_analyses_run_once_with_the_default_seed_and_show_every_tab(store):
    at = ranking_page(store)
    at.button(key="chair_analysis_run").click().run()
    no_exception(at)
    # the bootstrap uses scoring.analytics' defaults: 1,000 resamples, seed 0 (selection.md §10)
    from scoring.analytics import analyze

    key, result = at.session_state["chair_analysis"]
    assert result["uncertainty"]["n_resamples"] == 1000 and result["uncertainty"]["seed"] == 0
    call, resolutions = store.rounds.call(chair(store), 1, "autonomous_l4")
    ranking = call.rank(None, resolutions)
    expected = analyze(ranking, ranking.reviews, reviewers=call.reviewers, portfolio_time_limit=20)
    assert result["uncertainty"] == expected["uncertainty"]
    shown = texts(at)
    assert "グレーゾーン" in shown and "最適な組合せの合計点" in shown
    charts = [c.proto for c in at.get("plotly_chart")]
    assert sum("chair_calibration_chart" in c.id for c in charts) == 1


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
    levels = [r for r in rv.radio if r.key and r.key.startswith("rv_level_")]
    assert levels and all(r.disabled for r in levels)                        # readable, nothing left to edit
    assert not [b for b in rv.button if b.key in ("rv_submit", "rv_conflict_declare")]
    assert "確定済み" in texts(rv)
    assert not store.reviews.get_review(store.users.get("R01"), 1, "L4-001").exists


def test_proposal_detail_shows_builtin_rule_labels_not_ids(store):
    """The built-in rules (申請額の記載, 上限額以内) are shown by the label the core gives them."""
    me = chair(store)
    call, resolutions = store.rounds.call(me, 1, "autonomous_l4")
    ranking = call.rank(None, resolutions)
    builtin = {r.id: r.label.ja for r in ranking.elig.rules if r.id in ("amount", "cap")}
    assert builtin                                                     # the pack has a built-in rule
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    at.selectbox(key="chair_detail_pick").set_value("L4-001").run()
    no_exception(at)
    shown = "\n".join(str(m.value) for m in at.markdown)
    for rule_id, label in builtin.items():
        assert f"**{label}**" in shown and f"**{rule_id}**" not in shown


def test_reminder_texts_per_reviewer_with_titles_and_deadline(store):
    import json
    from pathlib import Path

    store.rounds.set_deadline(chair(store), 1, "2027-01-15")
    at = app_as(store, "C01", "chair_progress")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    assert len(at.code) == 0 and any("督促の文面" in e.label for e in at.expander)   # closed: its texts not drawn
    at.session_state["chair_reminders_open"] = True               # the chair opens it (a rerun draws them)
    at.run()
    texts_ = [c.value for c in at.code]
    reminders = at.dataframe[1].value
    assert len(texts_) == len(reminders)                         # one text per reviewer with something left
    [r01] = [x for x in texts_ if x.startswith("委員 山田 太郎 様")]
    titles = {p["id"]: p["title"] for p in json.loads(
        (Path(__file__).resolve().parents[2] / "sample_proposals" / "proposals.json").read_text("utf-8"))}
    assert f"- L4-001　{titles['L4-001']}（未着手）" in r01
    assert "評価締切：2027-01-15" in r01 and "未提出です" in r01
    assert "L4-002" not in r01                                   # submitted: not in the reminder


def test_a_resolution_made_elsewhere_meanwhile_is_shown_not_overwritten(store):
    """Chair A's page shows AC-010's check unresolved; chair B resolves it; A's page says so on its next run and
    A's removal of what A never saw is refused."""
    from scoring.store import SYSTEM

    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("advanced_comms").run()
    at.selectbox(key="chair_detail_pick").set_value("AC-010").run()
    rule = next(b.key for b in at.button if b.key and b.key.startswith("chair_resolve_"))[len("chair_resolve_"):]
    store.users.add_user(SYSTEM, "C02", "副委員長", "chair", "chair-password-2")
    b_res = store.rounds.resolve_needs_check(store.users.get("C02"), 1, "AC-010", rule, "fail", note="B の判断")
    at.button(key=f"chair_resolve_{rule}").click().run()     # A clicks on the page that showed it unresolved
    no_exception(at)
    assert any("別の画面" in str(w.value) for w in at.warning)
    assert store.rounds.list_resolutions(chair(store), 1) == [b_res]          # B's resolution stands
    # B changes it again; A (whose page shows B's first resolution) clicks 「判断を取り消す」: refused
    b_res2 = store.rounds.resolve_needs_check(store.users.get("C02"), 1, "AC-010", rule, "pass", note="再検討",
                                              expected=b_res)
    at.button(key=f"chair_unresolve_{rule}").click().run()
    no_exception(at)
    assert store.rounds.list_resolutions(chair(store), 1) == [b_res2]
    assert any("別の画面" in str(m.value) for m in list(at.warning) + list(at.error))


def test_analyses_show_the_figures_of_issue_13_in_japanese_and_english(store):
    at = ranking_page(store)
    at.button(key="chair_analysis_run").click().run()
    no_exception(at)
    _, result = at.session_state["chair_analysis"]
    shown = texts(at)
    al = result["calibration"]["agreement"]["all"]
    # agreement on all reviews first, with the reviews used; the complete block only as a caption
    assert "平均点の信頼性 ICC(A,k)" in shown and "委員間の一致 α" in shown and f"使用した評価数 {al['n_reviews']}" in shown
    assert result["calibration"]["agreement"]["reading"] in shown and "参考：全員が評価した部分" in shown
    assert "採択ライン（11位と次の間）" in shown and "委員の甘辛を補正した順位（参考）" in shown
    assert result["leniency_adjusted"]["reading"] in shown
    frames = [df.value for df in at.dataframe]
    assert any("期待順位" in f.columns and "SUCRA（1に近いほど上位）" in f.columns for f in frames)
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    shown = texts(at)
    assert "Reliability of the mean, ICC(A,k)" in shown and "after rank 11" in shown
    assert result["leniency_adjusted"]["reading_en"] in shown


def test_progress_puts_reminders_in_the_outbox_and_lists_their_status(store):
    from scoring.store.outbox import OutboxDraft

    at = app_as(store, "C01", "chair_progress")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    at.session_state["chair_reminders_open"] = True               # the reminders' texts shown (read below)
    at.run()
    assert "送信トレイは空です。" in [c.value for c in at.caption]
    at.button(key="rm_outbox_add").click().run()           # no address typed: nothing is added, the page says so
    no_exception(at)
    assert "メールアドレスが入力された委員がいません。" in [e.value for e in at.error]
    assert store.outbox.list(chair(store), 1) == []
    # a reminder put in by another chair's page (an address typed there) is listed here with its status
    texts_ = {c.value.split(" 様")[0]: c.value for c in at.code}
    store.outbox.add_reminders(chair(store), 1, "autonomous_l4", [OutboxDraft(
        "reminder", "R01", "r01@example.jp", "【評価のお願い】x", texts_["委員 山田 太郎"])])
    at.run()
    no_exception(at)
    outbox = next(d.value for d in at.dataframe if "状態" in d.value.columns)
    assert list(outbox["ユーザー名"]) == ["R01"] and list(outbox["状態"]) == ["未送信"]
    assert list(outbox["メールアドレス"]) == ["r01@example.jp"]
    assert "メール送信サーバ（SMTP）が設定されていないため送信できません。上の文面をコピーしてお送りください。" in [
        i.value for i in at.info]
