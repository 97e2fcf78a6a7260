"""Text alternatives of the chair's charts (issue 19, WCAG 2.1 SC 1.1.1 and 1.4.1), with AppTest.

The radar on 提案の詳細 has its figures as a table beside it; the cumulative chart on 順位・採択 points to the
ranked table, whose decisions are words (採択 / 補欠), never colour alone; every chart has a short accessible name.
"""

from __future__ import annotations

import json
import re

from app.i18n import t
from scoring.models import Decision

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def charts(at) -> list:
    return [e.proto for e in at.get("plotly_chart")]


def test_radar_figures_are_also_a_table(store):
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    at.selectbox(key="chair_detail_pick").set_value("L4-001").run()
    no_exception(at)
    [radar] = charts(at)
    assert radar.alt == "評価項目ごとの平均評点率のレーダーチャート（数値は下の表）"
    trace = json.loads(radar.spec)["data"][0]
    [table] = at.table
    rows = table.value
    assert list(rows.columns) == ["No.", "評価項目", "平均評点率"]
    assert len(rows) == len(trace["r"]) - 1 == 5                          # the radar closes its line: 5 spokes
    assert [f"{r:.2f}" for r in trace["r"][:-1]] == list(rows["平均評点率"])  # the chart's figures, in words
    assert [s.split(". ", 1)[0] for s in trace["theta"][:-1]] == list(rows["No."])
    assert rows["評価項目"].iloc[0].startswith(trace["customdata"][0][:8])   # the full label of spoke 1
    assert "上のグラフの数値" in texts(at)


def test_radar_table_in_english(store):
    at = app_as(store, "C01", "chair_proposal")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    assert list(at.table[0].value.columns) == ["No.", "Criterion", "Mean ratio"]
    assert charts(at)[0].alt.startswith("Radar chart of the mean ratio per criterion")


def test_cumulative_chart_points_to_the_ranked_table_whose_decisions_are_words(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    cumulative = next(c for c in charts(at) if "上の順位表" in c.alt)
    assert cumulative.alt.startswith("交付額と採択額の累計のグラフ")
    assert "上の順位表に文字で示しています" in texts(at)
    ranked = next(df.value for df in at.dataframe if "結果" in df.value.columns)
    decisions = [d for i, d in zip(ranked["提案ID"], ranked["結果"]) if i != "━━━━"]
    words = {t(f"decision.{d.value}", "ja") for d in Decision}
    assert decisions and all(re.sub(r"^\S+ | \d+$", "", d) in words for d in decisions), decisions
    assert sum("補欠" in d for d in decisions) == 3
