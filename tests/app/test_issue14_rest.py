"""Issue 14, the rest of items 8, 9, 10 and 13 and the cumulative chart's axis, in the browser's words (AppTest)."""

from __future__ import annotations

import pyarrow as pa

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def _admin_table(at):
    return next(df.value for df in at.dataframe if "委員" in df.value.columns and "提案" in df.value.columns)


# --- §8 automatic assignment -----------------------------------------------------------------------------------

def test_auto_assign_refreshes_the_table_at_once_and_reports_the_panel(store):
    at = app_as(store, "C01", "admin_round")
    at.selectbox(key="adm_pack_pick").set_value("planning_support").run()
    before = len(_admin_table(at))
    at.number_input(key="adm_auto_k").set_value(6).run()
    at.button(key="adm_auto_assign").click().run()
    no_exception(at)
    done = [str(s.value) for s in at.success if "自動割り当て" in str(s.value)]
    assert done and "件を追加" in done[0]
    added = int(done[0].split("：")[1].split("件を追加")[0])
    assert added > 0 and len(_admin_table(at)) == before + added          # the table already lists them
    report = texts(at)
    assert "一つにつながっています" in report and "共通に担当する提案：最少" in report
    at.radio(key="lang").set_value("en").run()
    assert "one connected panel" in texts(at) and "Proposals shared by two reviewers" in texts(at)


# --- §9 the self-check's cost lines ----------------------------------------------------------------------------

def _dry_run(lang="ja"):
    from streamlit.testing.v1 import AppTest

    from tests.app.review_fixtures import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if lang != "ja":
        at.radio(key="lang").set_value(lang).run()
    at.switch_page("app/pages/dry_run.py").run()
    no_exception(at)
    return at


def _cost_editor(at):
    import json

    [ed] = [d for d in at.dataframe if d.proto.editing_mode]
    return ed, json.loads(ed.proto.columns)


L4_DOC = {"id": "L4-DRY", "pack": "autonomous_l4", "title": "自動運転バス",
          "applicant": {"name": "株式会社北雪モビリティ", "kind": "company"},
          "consortium": [{"name": "岩見沢市", "kind": "local_government", "role": "運行"}],
          "requested_yen": "3億円",
          "cost_lines": [{"item": "車両リース", "category": "lease", "amount_yen": 20_000_000},
                         {"item": "遠隔監視", "category": "service", "amount_yen": 7_500_000,
                          "unit_price_yen": None}]}


def _upload(at, doc, name="proposal.json"):
    import json

    gen = at.session_state["dry_run_generation"] if "dry_run_generation" in at.session_state else 0
    at.file_uploader(key=f"dr_upload_{gen}").set_value(
        (name, json.dumps([doc], ensure_ascii=False).encode(), "application/json")).run()
    no_exception(at)


def test_the_cost_category_does_not_hold_back_a_row_and_a_row_without_one_is_a_problem(store):
    import pandas as pd

    at = _dry_run()
    _, config = _cost_editor(at)
    # required=True made the browser keep a new row back until its 区分 was chosen: item and amount typed first
    # were lost, and a row left without one silently vanished
    assert not config["category"].get("required")
    at.session_state["dr_cost_base"] = pd.DataFrame([{"item": "サーバ", "category": None, "amount": "300万円"}])
    at.session_state["dr_cost_version"] = 7
    at.run()
    assert "経費明細 1行目：区分を選んでください。" in texts(at)


def test_uploaded_cost_lines_have_no_none_cells_and_are_checked_against_the_amount(store):
    at = _dry_run()
    _upload(at, L4_DOC)
    ed, _ = _cost_editor(at)
    assert len(ed.value) == 2
    # the columns keep their types (text, numbers): a column of empty cells went as Arrow "null" and showed None
    sent = pa.ipc.open_stream(ed.proto.arrow_data.data).read_all().schema
    assert [sent.field(c).type for c in ("unit_price", "useful_life_years", "years", "cannot_lease_reason")] == \
        [pa.large_string(), pa.float64(), pa.float64(), pa.large_string()]
    warn = [w.value for w in at.warning if "経費明細の合計" in w.value]
    assert warn and "2,750万円" in warn[0] and "3億円" in warn[0] and "2億7,250万円" in warn[0]
    at.radio(key="lang").set_value("en").run()
    warn = [w.value for w in at.warning if "cost lines add up to" in w.value]
    assert warn and "¥27,500,000" in warn[0] and "¥300,000,000" in warn[0]


def test_lines_that_add_up_give_no_warning(store):
    at = _dry_run()
    _upload(at, {**L4_DOC, "requested_yen": 27_500_000})
    assert not [w.value for w in at.warning if "経費明細の合計" in w.value]


def test_re_uploading_the_json_keeps_the_self_scores(store):
    at = _dry_run()
    _upload(at, L4_DOC)
    radios = [r for r in at.radio if r.key and r.key.startswith("dr_level_")]
    assert radios
    radios[0].set_value(4)
    at.text_input(key="dr_note_" + radios[0].key.removeprefix("dr_level_")).input("実証済み")
    at.run()
    _upload(at, {**L4_DOC, "title": "自動運転バス（改訂）"}, name="proposal_v2.json")
    assert at.text_input(key="dr_title").value == "自動運転バス（改訂）"          # the new file was read
    assert at.radio(key=radios[0].key).value == 4
    assert at.text_input(key="dr_note_" + radios[0].key.removeprefix("dr_level_")).value == "実証済み"


# --- §10 raw values and English ---------------------------------------------------------------------------------

def test_create_round_form_names_programmes_not_pack_ids(store):
    at = app_as(store, "C01", "admin_round")
    ms = at.multiselect(key="adm_round_packs")
    shown = [ms.format_func(o) if hasattr(ms, "format_func") else o for o in ms.options]
    assert "autonomous_l4" not in shown and any("自動運転" in x for x in shown), shown
    assert ms.placeholder == "選択してください"


def test_every_select_box_has_a_placeholder_in_the_users_language(store):
    for page in ("admin_round", "chair_ranking", "chair_proposal", "chair_progress"):
        at = app_as(store, "C01", page)
        no_exception(at)
        for w in list(at.selectbox) + list(at.multiselect):
            assert w.placeholder and w.placeholder != "Choose an option", (page, w.key)


def test_the_uploaders_button_and_hint_are_in_japanese(store):
    at = app_as(store, "C01", "admin_round")
    css = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert 'content: "ファイルを選択"' in css and "ドラッグ＆ドロップ" in css and "20MB" in css
    at.radio(key="lang").set_value("en").run()
    assert not any("ファイルを選択" in str(h.proto.body) for h in at.get("html"))


def test_the_audit_log_shows_an_automatic_assignment_in_words(store):
    chair = store.users.get("C01")
    store.assignments.auto_assign(chair, 1, "planning_support", 6)
    at = app_as(store, "C01", "admin_round")
    [frame] = [d.value for d in at.dataframe if "操作者" in d.value.columns]
    row = frame[frame["操作"] == "割り当て"].iloc[0]
    assert row["変更内容"] == "割り当て: はい; 方法: 自動割り当て", row["変更内容"]
    at.radio(key="lang").set_value("en").run()
    [frame] = [d.value for d in at.dataframe if "Change" in d.value.columns]
    changes = " ".join(frame["Change"].astype(str))
    assert "assigned: Yes; by: automatic assignment" in changes and "auto_assign" not in changes


def test_english_pages_show_money_in_yen_not_oku(store):
    at = app_as(store, "C01", "chair_ranking")
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    shown = texts(at) + " ".join(str(m.value) for m in at.metric)
    assert "億" not in shown and "万円" not in shown
    budget = at.session_state["chair_budget_value"]
    assert at.text_input(key="chair_budget").value == f"¥{budget:,}"    # the pack's budget, typed in Japanese as 億円
    assert f"¥{budget:,}" in shown


# --- §13 the menu and the what-if ------------------------------------------------------------------------------

def test_the_secretariats_progress_is_not_under_the_chair_heading(monkeypatch):
    from types import SimpleNamespace

    import app.navigation as nav

    seen = {}
    monkeypatch.setattr(nav.st, "navigation",
                        lambda pages: (seen.setdefault("pages", pages), SimpleNamespace(url_path=None))[1])
    monkeypatch.setattr(nav.st, "Page", lambda path, title, **kw: SimpleNamespace(title=title,
                                                                                 url_path=kw.get("url_path")))
    nav.build_navigation("secretariat")
    groups = {sec: [p.title for p in pages] for sec, pages in seen["pages"].items()}
    assert "委員長" not in groups
    assert "進捗" in " ".join(groups.get("管理", [])), groups
    seen.clear()
    nav.build_navigation("chair")
    assert any("進捗" in p.title for p in seen["pages"]["委員長"])      # the chair's menu as before


def _ranking(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    return at


def _has_results(at) -> bool:
    return any("提案ID" in d.value.columns for d in at.dataframe) or bool(at.get("plotly_chart"))


def test_a_negative_budget_is_named_and_no_old_results_stay(store):
    at = _ranking(store)
    assert _has_results(at)
    at.text_input(key="chair_budget").input("-5").run()
    no_exception(at)
    assert any("予算「-5」は使えません" in e.value for e in at.error)
    assert not _has_results(at)
    assert "試算の結果" in texts(at)
    assert not [b for b in at.button if b.key == "chair_xlsx_prepare"]      # no file of other values either
    at.text_input(key="chair_budget").input("20億円").run()
    assert _has_results(at) and not at.error


def test_a_pass_line_above_the_total_is_named_and_no_old_results_stay(store):
    at = _ranking(store)
    at.number_input(key="chair_pass_line").set_value(150.0).run()
    no_exception(at)
    assert any("合格点 150.00 は使えません" in e.value and "100" in e.value for e in at.error)
    assert not _has_results(at)


def test_the_budget_takes_man_and_oku(store):
    at = _ranking(store)
    at.text_input(key="chair_budget").input("1億2,000万円").run()
    no_exception(at)
    assert at.session_state["chair_budget_value"] == 120_000_000
    assert "120,000,000円（1億2,000万円）" in texts(at)


# --- the cumulative chart's axis -------------------------------------------------------------------------------

def test_the_cumulative_charts_y_axis_title_has_room(store):
    import json

    at = _ranking(store)
    at.radio(key="lang").set_value("en").run()
    [chart] = [c for c in at.get("plotly_chart") if "Amount (yen)" in c.proto.spec]
    layout = json.loads(chart.proto.spec)["layout"]
    assert layout["yaxis"]["title"]["text"] == "Amount (yen)"
    assert layout["margin"]["l"] >= 80 and layout["yaxis"]["automargin"] is True   # was l=10: "Amount (ye"
