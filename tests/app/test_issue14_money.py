"""Issue 14 item 10 (money per language), in the tables: the 交付額 / 累計 columns of 順位・採択, of the stage page
(審査段階・ヒアリング対象) and of the final ranking after the hearing are numbers in 万円 in Japanese and in yen in
English — still numbers, so a column sorts by amount — and the self-check's metrics read 万円/億円 (AppTest)."""

from __future__ import annotations

import json

import pandas as pd

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

STAGE_PAGE = "app/pages/chair_stage.py"


def money_frame(at, column: str):
    """The table with ``column`` and its column configuration."""
    [d] = [d for d in at.dataframe if column in d.value.columns]
    return d.value, json.loads(d.proto.columns)


def in_both(at, ja: tuple[str, ...], en: tuple[str, ...]):
    """The table's money columns by proposal in Japanese and then in English (same page, language switched)."""
    ja_df, ja_cfg = money_frame(at, ja[0])
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    en_df, en_cfg = money_frame(at, en[0])
    assert not [c for c in en_df.columns if "万円" in str(c)]
    return ja_df, ja_cfg, en_df, en_cfg


def assert_man_and_yen(ja_df, ja_cfg, en_df, en_cfg, ja_cols, en_cols, id_ja="提案ID", id_en="Proposal"):
    ja_rows = ja_df[ja_df[id_ja] != "━━━━"].set_index(id_ja)
    en_rows = en_df[en_df[id_en] != "━━━━"].set_index(id_en)
    for cj, ce in zip(ja_cols, en_cols):
        assert str(ja_df[cj].dtype) == "Float64" and str(en_df[ce].dtype) == "Int64"   # numbers: they sort
        assert ja_cfg[cj]["type_config"]["format"] == "%,f"          # 14,800 — the label says 万円
        assert en_cfg[ce]["type_config"]["format"] == "%,d"          # 148,000,000 — the label says yen
        shown = 0
        for pid, yen in en_rows[ce].items():
            man = ja_rows.loc[pid, cj]
            if pd.isna(yen):       # no cumulative for a proposal not selected
                assert pd.isna(man)
                continue
            assert man * 10_000 == yen
            shown += yen > 0
        assert shown


def test_the_ranking_tables_money_is_man_yen_in_japanese_and_yen_in_english(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    ja_df, ja_cfg, en_df, en_cfg = in_both(at, ("交付額（万円）",), ("Funded (yen)",))
    assert "交付額（円）" not in ja_df.columns
    assert_man_and_yen(ja_df, ja_cfg, en_df, en_cfg, ("交付額（万円）", "累計（万円）"), ("Funded (yen)", "Cumulative (yen)"))
    assert 156_200 in set(ja_df["累計（万円）"].dropna()) and 1_562_000_000 in set(en_df["Cumulative (yen)"].dropna())


def test_the_stage_pages_cut_table_shows_man_yen_in_japanese_and_yen_in_english(store):
    at = app_as(store, "C01")
    at.switch_page(STAGE_PAGE)
    at.run()
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(at)
    ja_df, ja_cfg, en_df, en_cfg = in_both(at, ("交付額（万円）",), ("Funded (yen)",))
    assert_man_and_yen(ja_df, ja_cfg, en_df, en_cfg, ("交付額（万円）",), ("Funded (yen)",))


def test_the_final_ranking_after_the_hearing_shows_man_yen_in_japanese_and_yen_in_english(store):
    at = app_as(store, "C01")
    at.selectbox(key="app_pack_pick").set_value("ai_edge").run()
    at.text_input(key="chair_budget").set_value("4億").run()     # a budget: the cumulative column is filled
    no_exception(at)
    assert "最終順位" in at.dataframe[0].value.columns
    ja_df, ja_cfg, en_df, en_cfg = in_both(at, ("交付額（万円）",), ("Funded (yen)",))
    assert_man_and_yen(ja_df, ja_cfg, en_df, en_cfg, ("交付額（万円）", "累計（万円）"), ("Funded (yen)", "Cumulative (yen)"))


def test_the_cumulative_lines_hover_reads_man_oku_in_japanese_and_yen_in_english(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()

    def hover(at) -> list[str]:
        [chart] = [c for c in at.get("plotly_chart") if "chair_cumulative" in str(c.proto.id)]
        [line] = [d for d in json.loads(chart.proto.spec)["data"] if d.get("line", {}).get("color") == "#1565c0"]
        assert line["hovertemplate"] == "%{customdata[0]}<br>%{customdata[1]}<extra></extra>"
        return [row[1] for row in line["customdata"]]

    assert "15億6,200万円" in hover(at)
    at.radio(key="lang").set_value("en").run()
    assert "¥1,562,000,000" in hover(at)


def test_the_self_checks_amounts_read_man_and_oku_in_japanese_and_yen_in_english(store):
    from tests.app.test_dry_run import fill_l4, metrics, open_dry_run

    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")], requested="9,876万5,432円")
    m = metrics(at)
    assert m["申請額"] == "9,876万5,432円" and m["交付見込額"] == "9,876万5,432円"
    assert "98,765,432円（9,876万5,432円）" in texts(at)                 # under the field: both forms
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    m = metrics(at)
    assert m["Requested"] == "¥98,765,432" and "万" not in " ".join(m.values())


def test_the_scoring_page_shows_an_amount_once_in_english(store):
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-001"})
    no_exception(at)
    [requested] = [m.value for m in at.metric if m.label == "申請額"]
    assert requested == "1億4,500万円" and "145,000,000円" in [c.value for c in at.caption]   # and to the yen
    at.radio(key="lang").set_value("en").run()
    no_exception(at)
    [requested] = [m.value for m in at.metric if m.label == "Requested"]
    assert requested == "¥145,000,000"
    assert requested not in [c.value for c in at.caption]               # not repeated under the metric
