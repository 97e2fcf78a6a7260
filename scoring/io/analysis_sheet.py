"""The sheet 「分析」 of the chair workbook: the analyses of :func:`scoring.analytics.analyze`.

``write_analysis_sheet(wb, analysis)`` adds the sheet to an openpyxl Workbook; :mod:`scoring.io.chair_workbook`
calls it when given an analysis, and :func:`analysis_workbook` (``python -m scoring analyze --format xlsx``)
makes a workbook with this sheet alone. Text cells go through :func:`scoring.io.safe_text` (never a formula);
figures are numbers. The sheet is in Japanese.
"""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ..labels import has, label
from .safe import safe_text
from .xlsx_style import FILL_HEADER, FILL_WAITLIST, workbook_bytes, wl

SHEET = wl("sheet.analysis")


def _decision(value: str) -> str:
    """The decision's Japanese label (``decision.*``); 「順位付け」 for ranked, shorter than the workbook's."""
    if value == "ranked":
        return wl("analysis.decision.ranked")
    key = f"decision.{value}"
    return label(key) if has(key) else value


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        return safe_text(v)
    if isinstance(v, bool):
        return "○" if v else ""
    return v


def _interval(iv: list | None) -> str:
    if not iv:
        return ""
    lo, hi = iv
    if lo is None and hi is None:
        return "順位外"
    return f"{lo if lo is not None else '順位外'}〜{hi if hi is not None else '順位外'}"


def write_analysis_sheet(wb, analysis: dict, title: str = SHEET):
    """Add the sheet 「分析」 to ``wb`` (an openpyxl Workbook) and return it. Refuses a second one."""
    if title in wb.sheetnames:
        raise ValueError(f"the workbook already has a sheet named {title!r}")
    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    head_font = Font(bold=True, size=13)
    head_fill = FILL_HEADER
    gray_fill = FILL_WAITLIST
    flag_fill = PatternFill("solid", fgColor="F8CBAD")
    row = [1]

    def line(*values, font=None, fill=None, number_formats: dict | None = None):
        r = row[0]
        for c, v in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=_cell(v))
            if font is not None:
                cell.font = font
            if fill is not None:
                cell.fill = fill
            if number_formats and c in number_formats and isinstance(v, (int, float)) and not isinstance(v, bool):
                cell.number_format = number_formats[c]
        row[0] += 1
        return r

    def section(text: str):
        row[0] += 1
        line(text, font=head_font)

    def header(*names):
        line(*names, font=bold, fill=head_fill)

    def note(text: str | None):
        if text:
            r = line(text)
            ws.cell(row=r, column=1).alignment = Alignment(wrap_text=False)

    a = analysis
    line(f"分析（参考情報：正式な採択結果は変更しません） — {a.get('pack', '')} {a.get('pack_version', '')}", font=head_font)
    params = a.get("parameters", {})
    line("集計方法", params.get("aggregation"), "採択方式", params.get("selection"), "合格点", params.get("pass_line"))

    # 1. portfolio ------------------------------------------------------------------------------------------
    p = a.get("portfolio") or {}
    section("1. 最適ポートフォリオ（予算内で合計点が最大の組合せ）と順位順の採択")
    if not p.get("available"):
        note(p.get("reason"))
    else:
        money = "#,##0"
        unit = "件" if p.get("unit") == "count" else "円"
        header("", "件数", "合計点", f"使用額（{unit}）", f"未使用（{unit}）")
        for label, side in (("順位順（貪欲法）", p["greedy"]), ("最適", p["optimal"])):
            line(label, side["n"], side["total_score"], side["used"], side["unused"],
                 number_formats={3: "0.00", 4: money, 5: money})
        line("合計点の差（最適 − 順位順）", p["score_gain"], number_formats={2: "0.00"})
        line("解の状態", "最適性を確認済み" if p.get("status") == "optimal" else str(p.get("status")))
        note(p.get("reading"))
        if p["only_in_optimal"] or p["only_in_greedy"]:
            header("区分", "提案ID", "順位", "判定", "合計点", f"交付額（{unit}）")
            for label, rows in (("最適のみ", p["only_in_optimal"]), ("順位順のみ", p["only_in_greedy"])):
                for r in rows:
                    line(label, r["proposal_id"], r["rank"], _decision(r["decision"]),
                         r["total_score"], r["funded"], number_formats={5: "0.00", 6: money})

    # 2. uncertainty ----------------------------------------------------------------------------------------
    u = a.get("uncertainty") or {}
    section(f"2. 順位の不確実性（評価の再標本化 {u.get('n_resamples', 0):,} 回、乱数シード {u.get('seed')}）")
    note(u.get("reading"))
    rule = u.get("gray_zone_rule") or {}
    pct = round(100 * (u.get("level") or 0.95))
    if rule.get("line_after_rank") is not None:
        note(f"グレーゾーン（selection.md §10）：順位の{pct}%区間が採択ライン（{rule['line_after_rank']}位と次の間）を"
             "またぐ提案。採択確率は参考として併記（標準誤差は再標本化の回数による誤差）。")
    st = u.get("stability") or {}
    if st.get("unstable"):
        need = st.get("draws_needed")
        note(f"乱数シードにより判定が変わり得る提案：{'、'.join(st['unstable'])}"
             + (f"（安定させるには約{need:,}回の再標本化が必要）。" if need else "。"))
    note("期待順位：再標本化での順位の平均（合格しない回は合格した提案の後の中間順位）。SUCRA：1 に近いほど上位"
         "（(候補数 − 期待順位) ÷ (候補数 − 1)）。")
    header("提案ID", "順位", "判定", "合計点", "順位の中央値", "80%区間", "95%区間", "採択確率", "合格確率", "グレーゾーン",
           "採択確率の標準誤差", "期待順位", "SUCRA", "50%区間")
    for r in u.get("proposals", []):
        fill = gray_fill if r.get("gray_zone") else None
        line(r["proposal_id"], r["rank"], _decision(r["decision"]), r["total_score"],
             r["median_rank"], _interval(r["rank_80"]), _interval(r["rank_95"]), r["p_selected"], r["p_qualifying"],
             "★" if r.get("gray_zone") else "", r.get("p_selected_mcse"), r.get("expected_rank"), r.get("sucra"),
             _interval(r.get("rank_50")), fill=fill,
             number_formats={4: "0.00", 8: "0.0%", 9: "0.0%", 11: "0.0%", 12: "0.00", 13: "0.000"})

    # 3. calibration ----------------------------------------------------------------------------------------
    c = a.get("calibration") or {}
    section("3. 評価委員のキャリブレーション（寛厳）と一致度")
    ag = c.get("agreement") or {}
    al = ag.get("all") or {}
    note(ag.get("reading"))
    if al:
        line("全評価での一致度", "評価数", al.get("n_reviews"), "提案数", al.get("n_proposals"), "委員数",
             al.get("n_reviewers"), font=bold)
        header("指標", "値", "95%区間（下）", "95%区間（上）", "説明")
        for name, key, text in (
                ("ICC(A,k̂)", "icc_ak", f"平均点（委員 k̂ = {al.get('k_hat') or 0:.2f} 名）の信頼性：委員の甘辛も誤差に含む"),
                ("ICC(C,k̂)", "icc_ck", "平均点の信頼性：委員の甘辛を除く（順位の一貫性）"),
                ("ICC(A,1)", "icc_a1", "委員1名の評価の信頼性"),
                ("Krippendorff の α", "alpha", "委員どうしの一致（間隔尺度）。0.8 以上で高い、0.667 未満は低い")):
            lo, hi = al.get(f"{key}_ci") or [None, None]
            line(name, al.get(key), lo, hi, text, number_formats={2: "0.000", 3: "0.000", 4: "0.000"})
        note(f"交差ランダム効果モデル（REML）と Krippendorff の α による。区間は提案の再標本化 {al.get('ci_resamples', 0)} 回。")
    line("完全な組での参考値", font=bold)
    line("ICC(2,k)", ag.get("icc2k"), "ICC(3,k)", ag.get("icc3k"), "Kendall の W", ag.get("kendall_w"),
         number_formats={2: "0.000", 4: "0.000", 6: "0.000"})
    note(ag.get("reason"))
    note(ag.get("block_reading"))
    crit_ids: list[str] = []
    for r in c.get("reviewers", []):
        crit_ids = list(r.get("criteria_leniency", {}).keys())
        break
    header("委員ID", "氏名", "評価件数", "平均点", "標準偏差", "他委員の平均", "寛厳（平均差）", "要注意",
           *[f"項目:{cid}" for cid in crit_ids], "所見")
    for r in c.get("reviewers", []):
        fill = flag_fill if r.get("flagged") else None
        fmt = {4: "0.00", 5: "0.00", 6: "0.00", 7: "+0.00;-0.00;0.00"}
        fmt.update({9 + j: "+0.00;-0.00;0.00" for j in range(len(crit_ids))})
        line(r["reviewer_id"], r.get("name", ""), r["n_reviews"], r["mean"], r["sd"], r["panel_mean"], r["leniency"],
             "⚠" if r.get("flagged") else "", *[r["criteria_leniency"].get(cid) for cid in crit_ids], r.get("reading"),
             fill=fill, number_formats=fmt)
    note(f"寛厳：同じ提案を評価した他の委員の平均との差の平均（点）。±{c.get('threshold', 10):g} 点を超えると要注意。")
    line("提案ごとの評価のばらつき（標準偏差の大きい順：委員会で優先して議論）", font=bold)
    header("提案ID", "順位", "判定", "評価数", "平均", "標準偏差", "最小", "最大", "範囲")
    for r in c.get("disagreement", []):
        line(r["proposal_id"], r["rank"], _decision(r["decision"]), r["n"], r["mean"], r["sd"],
             r["min"], r["max"], r["range"], number_formats={5: "0.00", 6: "0.00", 7: "0.00", 8: "0.00", 9: "0.00"})

    # 4. sensitivity ----------------------------------------------------------------------------------------
    s = a.get("sensitivity") or {}
    section("4. 感度分析（配点 ±20%・集計方法の変更）")
    note(s.get("reading"))
    header("変更", "新たに採択", "採択から外れる", "判定が変わる提案数", "順位が変わる提案数", "最大の順位変動", "合格点")
    for r in s.get("criteria", []):
        line(f"{r['label']}（{r['criterion']}）×{r['factor']:g}", "、".join(r["entered"]), "、".join(r["left"]),
             len(r["decision_changes"]), r["n_rank_changes"], r["max_rank_shift"], r.get("pass_line"),
             number_formats={7: "0.00"})
    for r in s.get("aggregation", []):
        line(f"集計方法 = {r['aggregation']}", "、".join(r["entered"]), "、".join(r["left"]),
             len(r["decision_changes"]), r["n_rank_changes"], r["max_rank_shift"])

    # 5. leniency-adjusted ranking ---------------------------------------------------------------------------
    adj = a.get("leniency_adjusted") or {}
    if adj:
        section("5. 委員の甘辛を補正した順位（参考：正式な順位は変わりません）")
        note(adj.get("reading"))
        if adj.get("available"):
            note("全評価に混合モデル（提案・委員の交差ランダム効果、REML）を当てはめ、各委員の効果を評価から除いた平均＋加点で並べ直したもの。")
            header("提案ID", "正式な順位", "補正後の順位", "順位の変化", "合計点", "補正後の点")
            for r in adj.get("proposals", []):
                fill = gray_fill if r["proposal_id"] in adj.get("crossing", []) else None
                line(r["proposal_id"], r["rank"], r["adjusted_rank"], r["shift"], r["total_score"],
                     r["adjusted_score"], fill=fill, number_formats={5: "0.00", 6: "0.00", 4: "+0;-0;0"})
            header("委員ID", "推定された甘辛（点）")
            for r in adj.get("reviewers", []):
                line(r["reviewer_id"], r["effect"], number_formats={2: "+0.00;-0.00;0.00"})

    widths = {"A": 34, "B": 14, "C": 14, "D": 12, "E": 12, "F": 14, "G": 14, "H": 10, "I": 10, "J": 12}
    for col, wdt in widths.items():
        ws.column_dimensions[col].width = wdt
    ws.freeze_panes = "A2"
    return ws



def analysis_workbook(analysis: dict) -> bytes:
    """A workbook (.xlsx bytes) with the sheet 「分析」 alone."""
    wb = Workbook()
    wb.remove(wb.active)
    write_analysis_sheet(wb, analysis)
    return workbook_bytes(wb)


__all__ = ["write_analysis_sheet", "analysis_workbook", "SHEET"]
