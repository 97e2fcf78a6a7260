"""Issue 14 item 10: the chair's 分析 tab shows labelled columns, decisions in words and money per language, not
the analytics' raw keys (proposal_id, waitlisted, n_rank_changes) and unformatted yen."""

from __future__ import annotations

from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

RAW = {"proposal_id", "decision", "funded", "total_score", "criterion", "label", "factor", "entered", "left",
       "n_rank_changes", "max_rank_shift", "pass_line", "rank"}


def analysed(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    at.button(key="chair_analysis_run").click().run()
    no_exception(at)
    return at


def test_sensitivity_and_portfolio_tables_are_labelled_in_both_languages(store):
    at = analysed(store)
    frames = [df.value for df in at.dataframe]
    assert not any(RAW & set(map(str, f.columns)) for f in frames)
    sens = next(f for f in frames if "順位が変わる提案数" in f.columns)
    assert list(sens.columns) == ["評価項目", "配点の倍率", "合格点", "順位が変わる提案数", "順位の最大変動",
                                  "新たに採択", "採択から外れる"]
    assert all(not str(c).startswith("[") for c in sens["新たに採択"])   # ids joined, not a Python list
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    frames = [df.value for df in at.dataframe]
    assert not any(RAW & set(map(str, f.columns)) for f in frames)
    assert any("Proposals changing rank" in f.columns and "Criterion" in f.columns for f in frames)


def test_portfolio_rows_show_decisions_in_words_and_money_per_language():
    from app.ranking_view import portfolio_rows, sensitivity_rows

    p = {"unit": "yen",
         "only_in_optimal": [{"proposal_id": "AC-004", "rank": 4, "decision": "waitlisted", "total_score": 71.25,
                              "funded": 148_000_000}],
         "only_in_greedy": [{"proposal_id": "AC-002", "rank": 2, "decision": "selected", "total_score": 80.0,
                             "funded": 300_000_000}]}
    ja, en = portfolio_rows(p, "ja"), portfolio_rows(p, "en")
    assert ja[0] == {"どちらの組合せか": "最適な組合せのみ", "提案ID": "AC-004", "順位": "4", "結果": "補欠",
                     "合計点": "71.25", "交付額": "1億4,800万円"}
    assert ja[1]["結果"] == "採択" and ja[1]["交付額"] == "3億円"
    assert en[0]["Decision"] != "waitlisted" and en[0]["Funded"] == "¥148,000,000"
    assert en[1]["Selected in"] == "Rank-order selection only"
    s = {"criteria": [{"criterion": "need", "label": "必要性", "label_en": "Need", "factor": 0.5, "pass_line": 60.0,
                       "n_rank_changes": 3, "max_rank_shift": 2, "entered": ["AC-004", "AC-005"], "left": []}]}
    assert sensitivity_rows(s, "ja") == [{"評価項目": "必要性", "配点の倍率": "×0.5", "合格点": "60.00",
                                          "順位が変わる提案数": 3, "順位の最大変動": 2,
                                          "新たに採択": "AC-004、AC-005", "採択から外れる": "—"}]
    assert sensitivity_rows(s, "en")[0]["Criterion"] == "Need"
