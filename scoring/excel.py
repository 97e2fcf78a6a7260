"""Excel in and out (openpyxl): the chair's workbook, offline score sheets and the intake list (応募一覧).

An adapter: it calls the core (:mod:`scoring.selection`, :mod:`scoring.aggregate`, …) and never re-implements a
rule. Functions are pure — they return ``bytes`` or read paths — so the CLI, the store and the app share them.

Security: every text cell a user wrote (titles, names, comments, reasons) is stored as a string cell
(``t="inlineStr"``), never as a formula, and a text that starts with ``= + - @``, tab or CR also gets Excel's
quote-prefix flag so that editing the cell keeps it text (OWASP formula injection). Layout and columns are
documented in ``docs/excel.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from .errors import InputError, Problem
from .io import FORMULA_PREFIXES
from .models import DECISION_LABELS, CostCategory, Decision, MemberKind, Proposal, Reviewer, ReviewRow, Technology
from .money import MoneyError, parse_yen

__all__ = ["chair_workbook", "score_sheet", "read_score_sheets", "intake_template", "read_intake",
           "SCORE_SHEET", "FINGERPRINT_SHEET"]

_DECISIONS = list(Decision)
MONEY_FMT = "#,##0"
SCORE_FMT = "0.00"
RATIO_FMT = "0.00"


# --- cells and styles ------------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    """Characters XML cannot hold are dropped; Excel's cell limit is 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:32767]


class _Styles:
    """Style arrays built once per workbook and shared by the cells (fast, and write-only friendly)."""

    def __init__(self, ws):
        self._ws = ws
        self._cache: dict = {}
        self._quoted: dict = {}

    def get(self, **kw):
        key = tuple(sorted((k, repr(v)) for k, v in kw.items()))
        st = self._cache.get(key)
        if st is None:
            c = Cell(self._ws, row=1, column=1)
            for k, v in kw.items():
                setattr(c, k, v)
            st = c._style
            self._cache[key] = st
        return st

    def quoted(self, style):
        key = id(style)
        q = self._quoted.get(key)
        if q is None:
            from copy import copy

            from openpyxl.styles.cell_style import StyleArray
            q = copy(style) if style is not None else StyleArray()
            q.quotePrefix = 1
            self._quoted[key] = q
        return q


def _text(ws, styles: _Styles, value: Any, style=None) -> Cell | None:
    """A string cell that can never be a formula."""
    if value is None or value == "":
        if style is None:
            return None
        c = Cell(ws, row=1, column=1)
        c._style = style
        return c
    s = _clean(str(value))
    if style is None and not s.startswith(FORMULA_PREFIXES):
        return s  # a plain str never becomes a formula unless it starts with "="
    c = Cell(ws, row=1, column=1)
    c._value = s
    c.data_type = "s"
    if s.startswith(FORMULA_PREFIXES):
        c._style = styles.quoted(style)
    elif style is not None:
        c._style = style
    return c


def _num(ws, value: Any, style=None) -> Cell | None:
    if value is None or (isinstance(value, float) and value != value):
        if style is None:
            return None
        c = Cell(ws, row=1, column=1)
        c._style = style
        return c
    if isinstance(value, float):
        # openpyxl writes floats with 16 significant digits; repr keeps every bit (full precision)
        c = Cell(ws, row=1, column=1)
        c._value = repr(value)
        c.data_type = "n"
        if style is not None:
            c._style = style
        return c
    if style is None:
        return value
    c = Cell(ws, row=1, column=1)
    c._value = value
    c.data_type = "n"
    if style is not None:
        c._style = style
    return c


def _widths(ws, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w


def _print_setup(ws, title_rows: str | None = "1:1") -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def _table_sheet(ws, n_rows: int, n_cols: int, freeze: str = "A2") -> None:
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{max(n_rows + 1, 2)}"
    _print_setup(ws)


# --- labels ------------------------------------------------------------------------------------------------------

_L = {
    "rank": ("順位", "Rank"), "id": ("提案ID", "Proposal ID"), "title": ("提案名", "Title"),
    "applicant": ("申請者", "Applicant"), "decision": ("判定", "Decision"), "waitlist": ("補欠順位", "Waitlist #"),
    "base": ("基礎点", "Base score"), "bonus": ("加点", "Bonus"), "total": ("合計点", "Total score"),
    "n_reviews": ("評価数", "Counted reviews"), "requested": ("申請額（円）", "Requested (yen)"),
    "funded": ("交付額（円）", "Funded (yen)"), "capped": ("上限調整", "Capped"),
    "cumulative": ("累計交付額（円）", "Cumulative funded (yen)"), "reasons": ("理由", "Reasons"),
    "conditions": ("条件", "Conditions"), "requested_n": ("申請（件）", "Requested (count)"),
    "funded_n": ("交付（件）", "Funded (count)"), "cumulative_n": ("累計（件）", "Cumulative (count)"),
    "reviewer": ("委員", "Reviewer"), "criterion": ("評価項目", "Criterion"), "comment": ("所見", "Comment"),
    "rule_id": ("規則ID", "Rule ID"), "rule": ("要件", "Requirement"), "status": ("判定", "Status"),
    "reason": ("理由", "Reason"), "yes": ("あり", "yes"),
}

_S_SUMMARY, _S_LIST, _S_CRIT, _S_REV, _S_COMMENTS, _S_ELIG, _S_CHART = (
    "概要", "採択候補一覧", "評価項目別", "委員別", "所見", "要件審査", "グラフ")

_RULE_STATUS = {"pass": ("適合", "pass"), "fail": ("不適合", "fail"), "needs_check": ("要確認", "needs check"),
                "conditional": ("条件付き", "conditional")}
_AGG = {"mean": "平均", "median": "中央値", "trimmed": "最高・最低を除く平均"}
_NORM = {"none": "なし", "zscore": "委員別標準化（z-score）"}
_METHOD = {"greedy_skip": "順位順に予算内のものを採択（超過分は飛ばして続行）",
           "greedy_stop": "順位順に採択し予算超過で打ち切り"}

FILL_SELECTED = PatternFill("solid", fgColor="E2EFDA")
FILL_WAITLIST = PatternFill("solid", fgColor="FFF2CC")
FILL_HEADER = PatternFill("solid", fgColor="DDEBF7")
FILL_COI = PatternFill("solid", fgColor="D9D9D9")
FILL_BLOCK = PatternFill("solid", fgColor="F2F2F2")
FILL_INPUT = PatternFill("solid", fgColor="FFFFE0")
THICK = Side(style="thick", color="C00000")
THIN = Side(style="thin", color="808080")


def _lbl(key: str, lang: str) -> str:
    ja, en = _L[key]
    return en if lang == "en" else ja


# --- the chair's workbook -------------------------------------------------------------------------------------

def chair_workbook(ranking, call, *, round_name: str | None = None, analysis: Any = None,
                   anonymise: bool | None = None, lang: str = "ja", generated_at: datetime | None = None) -> bytes:
    """The chair's workbook (.xlsx bytes) of one ranking: summary, ranked list, per criterion, per reviewer,
    comments, eligibility, charts — and an analysis sheet when ``analysis`` is given and the analytics
    adapter (:mod:`scoring.analytics_xlsx`) is present.

    ``call`` is anything with ``.pack``, ``.reviews`` (a ReviewTable built against ``ranking.table``) and
    ``.reviewers``. ``anonymise`` defaults to the pack's ``policy.anonymise_comments``.
    """
    writer = None
    if analysis is not None:
        try:
            from . import analytics_xlsx  # type: ignore  # written by the analytics adapter
            writer = analytics_xlsx.write_analysis_sheet
        except ModuleNotFoundError as exc:
            if exc.name not in ("scoring.analytics_xlsx",):
                raise
    # write-only mode streams rows (fast, small); the analysis sheet's writer may need a regular workbook
    wb = Workbook(write_only=writer is None)
    if writer is not None:
        wb.remove(wb.active)
    pack = ranking.pack
    if anonymise is None:
        anonymise = bool(pack.policy.anonymise_comments)
    ctx = _ChairData(ranking, call, lang)

    ws = wb.create_sheet(_S_SUMMARY)
    styles = _Styles(ws)
    ctx.styles = styles
    _summary_sheet(ws, ctx, round_name, anonymise, generated_at or datetime.now().astimezone())
    _list_sheet(wb.create_sheet(_S_LIST), ctx)
    _criteria_sheet(wb.create_sheet(_S_CRIT), ctx)
    _reviewer_sheet(wb.create_sheet(_S_REV), ctx)
    _comments_sheet(wb.create_sheet(_S_COMMENTS), ctx, anonymise)
    _eligibility_sheet(wb.create_sheet(_S_ELIG), ctx)
    _chart_sheet(wb.create_sheet(_S_CHART), ctx)
    if writer is not None:
        writer(wb, analysis)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _ChairData:
    """Columns of the ranking, computed once for every sheet."""

    def __init__(self, ranking, call, lang: str):
        self.r = ranking
        self.call = call
        self.lang = lang
        self.pack = ranking.pack
        t = ranking.table
        self.t = t
        self.order = np.asarray(ranking.order, dtype=np.int64)
        self.ids = [str(x) for x in t.ids]
        self.titles = [p.title for p in t.proposals]
        self.applicants = [p.applicant.name for p in t.proposals]
        self.base = np.asarray(ranking.base, dtype=float)
        self.total = np.asarray(ranking.total, dtype=float)
        self.bonus = np.asarray(ranking.bonus.total, dtype=float)
        li = 1 if lang == "en" else 0
        self.decision_labels = [DECISION_LABELS[d][li] for d in _DECISIONS]
        self.selected_code = _DECISIONS.index(Decision.selected)
        self.waitlisted_code = _DECISIONS.index(Decision.waitlisted)
        self.styles: _Styles | None = None


def _header(ws, ctx: _ChairData, labels: Sequence[str]):
    st = ctx.styles.get(font=Font(bold=True), fill=FILL_HEADER, border=Border(bottom=THIN),
                        alignment=Alignment(wrap_text=True, vertical="center"))
    ws.append([_text(ws, ctx.styles, x, st) for x in labels])


def _summary_sheet(ws, ctx: _ChairData, round_name, anonymise, generated_at) -> None:
    r, pack, lang = ctx.r, ctx.pack, ctx.lang
    S = ctx.styles
    _widths(ws, [30, 70])
    _print_setup(ws, None)
    bold = S.get(font=Font(bold=True))
    sec = S.get(font=Font(bold=True, size=12), fill=FILL_HEADER)
    money = S.get(number_format=MONEY_FMT)
    score = S.get(number_format=SCORE_FMT)
    left = S.get(alignment=Alignment(horizontal="left"))
    p = r.params
    unit = "件" if pack.is_capacity else "円"

    def row(label, value, style=None):
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            cell = _num(ws, value.item() if hasattr(value, "item") else value, style)
        else:
            cell = _text(ws, S, "—" if value is None else value, style or left)
        ws.append([_text(ws, S, label, bold), cell])

    def section(title):
        ws.append([_text(ws, S, title, sec), _text(ws, S, "", sec)])

    ws.append([_text(ws, S, "審査結果（委員長用）", S.get(font=Font(bold=True, size=14)))])
    row("審査回", round_name or "—")
    row("評価パック", f"{pack.id}（版 {pack.version}）")
    row("事業区分", f"{pack.programme.code} {pack.programme.name.ja}")
    row("作成日時", generated_at.strftime("%Y-%m-%d %H:%M:%S %z").strip())
    row("提案数（このパック）", int(r.table.n))
    row("他パックの提案（対象外）", int(r.skipped_other_packs))
    row("評価数（提出済み・算入）", int(np.asarray(r.agg.counted).sum()))
    section("パラメータ")
    row("集計方法 (aggregation)", f"{_AGG.get(p.aggregation.value, p.aggregation.value)}（{p.aggregation.value}）")
    row("正規化 (normalization)", f"{_NORM.get(p.normalization.value, p.normalization.value)}（{p.normalization.value}）")
    row("合格点 (pass_line) — 基礎点で判定", float(p.pass_line), score)
    row("項目最低基準 (criterion_floor) — 平均評点率", float(p.criterion_floor), S.get(number_format=RATIO_FMT))
    row("最低評価数 (min_reviews)", int(p.min_reviews))
    row("最高・最低除外の最低評価数 (trim_min_reviews)", int(p.trim_min_reviews))
    row("選定方法 (selection)", f"{_METHOD.get(p.selection.value, p.selection.value)}（{p.selection.value}）")
    row("補欠数 (waitlist)", int(p.waitlist))
    limit = p.budget_limit(pack)
    row("予算" + ("（採択件数）" if pack.is_capacity else "（円）"), None if limit is None else int(limit), money)
    row("1件当たり上限額（円）", pack.funding.cap_yen, money)
    row("上限超過の扱い", {"clamp": "上限額に調整", "reject": "調整しない"}.get(pack.funding.over_cap,
                                                                            pack.funding.over_cap))
    section("判定別件数")
    counts = r.counts()
    for d in _DECISIONS:
        row(DECISION_LABELS[d][1 if lang == "en" else 0], int(counts[d.value]))
    section("予算")
    b = r.budget_dict()
    if pack.is_capacity:
        row("採択可能件数", b["capacity_count"])
        row("採択件数", b["used_count"])
        row("残り件数", b["remaining_count"])
    else:
        row("予算総額（円）", b["total_yen"], money)
        row("採択額合計（円）", b["used_yen"], money)
        row("残額（円）", b["remaining_yen"], money)
    section("凡例")
    ws.append([_text(ws, S, "採択（緑）", S.get(fill=FILL_SELECTED)),
               _text(ws, S, f"{_S_LIST}：採択の行は緑。赤の太線が採択ライン（最後の採択行の下）")])
    ws.append([_text(ws, S, "補欠（黄）", S.get(fill=FILL_WAITLIST)), _text(ws, S, f"{_S_LIST}：補欠の行は黄")])
    ws.append([_text(ws, S, "利益相反（灰）", S.get(fill=FILL_COI)),
               _text(ws, S, f"{_S_REV}：利益相反のため算入しない評価（灰色）。斜体は下書き（算入しない）")])
    ws.append([_text(ws, S, "所見の委員表示", bold), _text(ws, S, "匿名（委員A、委員B…）" if anonymise else "委員ID・氏名")])
    ws.append([_text(ws, S, "金額の単位", bold), _text(ws, S, unit)])


def _list_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    cap = ctx.pack.is_capacity
    cols = ["rank", "id", "title", "applicant", "decision", "waitlist", "base", "bonus", "total", "n_reviews",
            "requested_n" if cap else "requested", "funded_n" if cap else "funded", "capped",
            "cumulative_n" if cap else "cumulative", "reasons", "conditions"]
    # narrow enough that A4 landscape "fit to width" stays legible; long texts wrap
    _widths(ws, [5, 10, 30, 18, 12, 6, 8, 7, 8, 6, 15, 15, 6, 15, 46, 24])
    n = len(ctx.order)
    _table_sheet(ws, n, len(cols), "C2")
    _header(ws, ctx, [_lbl(c, lang) for c in cols])

    order = ctx.order
    dec = np.asarray(r.decision)
    sel = dec == ctx.selected_code
    line = r.funding_line
    line_row = int(order[line - 1]) if line else -1   # the row under which the budget line is drawn
    fills = {"plain": None, "sel": FILL_SELECTED, "wl": FILL_WAITLIST}
    borders = {"plain": None, "line": Border(bottom=THICK)}
    kinds = {}
    for fk, fill in fills.items():
        for bk, border in borders.items():
            kw = {}
            if fill is not None:
                kw["fill"] = fill
            if border is not None:
                kw["border"] = border
            kinds[(fk, bk)] = {
                "t": S.get(**kw) if kw else None,
                "n": S.get(**kw) if kw else None,
                "s": S.get(number_format=SCORE_FMT, **kw),
                "m": S.get(number_format=MONEY_FMT, **kw),
                "w": S.get(alignment=Alignment(wrap_text=True, vertical="top"), **kw),
            }
    rank = np.asarray(r.rank)
    wl = np.asarray(r.waitlist_position)
    nrev = np.asarray(r.agg.n_reviews)
    req = [p.requested_yen for p in r.table.proposals]
    funded = np.asarray(r.funded)
    capped = np.asarray(r.capped)
    cum = np.asarray(r.cumulative)
    base, bonus, total = ctx.base, ctx.bonus, ctx.total
    yes = _lbl("yes", lang)
    ids, titles, apps, dl = ctx.ids, ctx.titles, ctx.applicants, ctx.decision_labels
    sep = " / "
    for i in order.tolist():
        fk = "sel" if sel[i] else ("wl" if dec[i] == ctx.waitlisted_code else "plain")
        k = kinds[(fk, "line" if i == line_row else "plain")]
        tn, ts, tm = k["n"], k["s"], k["m"]
        tt, tw = k["t"], k["w"]
        reasons = r.reasons(i, lang)
        conds = r.elig.conditions(i, lang)
        ws.append([
            _num(ws, int(rank[i]) or None, tn),
            _text(ws, S, ids[i], tt),
            _text(ws, S, titles[i], tw),
            _text(ws, S, apps[i], tw),
            _text(ws, S, dl[dec[i]], tt),
            _num(ws, int(wl[i]) or None, tn),
            _num(ws, float(base[i]), ts),
            _num(ws, float(bonus[i]), ts),
            _num(ws, float(total[i]), ts),
            _num(ws, int(nrev[i]), tn),
            _num(ws, req[i], tm),
            _num(ws, int(funded[i]), tm),
            _text(ws, S, yes if capped[i] else "", tt),
            _num(ws, int(cum[i]) or None, tm),
            _text(ws, S, sep.join(reasons), tw),
            _text(ws, S, sep.join(conds), tw),
        ])


def _criteria_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    crit = ctx.pack.criteria
    labels = [_lbl("rank", lang), _lbl("id", lang), _lbl("title", lang)]
    labels += [f"{c.label.get(lang)}（{c.points:g}点）" if lang != "en" else f"{c.label.get(lang)} ({c.points:g})"
               for c in crit]
    labels += [_lbl("base", lang)]
    _widths(ws, [6, 12, 40] + [16] * len(crit) + [10])
    _table_sheet(ws, len(ctx.order), len(labels), "D2")
    _header(ws, ctx, labels)
    pts = np.asarray(r.agg.crit_points, dtype=float)
    sc = S.get(number_format=SCORE_FMT)
    rank = np.asarray(r.rank)
    for i in ctx.order.tolist():
        row = [_num(ws, int(rank[i]) or None), _text(ws, S, ctx.ids[i]), _text(ws, S, ctx.titles[i])]
        row += [_num(ws, v, sc) for v in pts[i].tolist()]
        row.append(_num(ws, float(ctx.base[i]), sc))
        ws.append(row)


def _reviewer_names(call) -> dict[str, str]:
    return {rv.reviewer_id: rv.name for rv in (getattr(call, "reviewers", None) or [])}


def _reviewer_sheet(ws, ctx: _ChairData) -> None:
    from .aggregate import conflict_pairs

    r, S, lang, call = ctx.r, ctx.styles, ctx.lang, ctx.call
    reviews = call.reviews
    names = _reviewer_names(call)
    rids = sorted(set(str(x) for x in reviews.reviewer) | set(names))
    col = {rid: k for k, rid in enumerate(rids)}
    labels = [_lbl("rank", lang), _lbl("id", lang), _lbl("title", lang)]
    labels += [f"{rid} {names[rid]}".strip() if names.get(rid) else rid for rid in rids]
    _widths(ws, [6, 12, 40] + [12] * len(rids))
    _table_sheet(ws, len(ctx.order), len(labels), "D2")
    _header(ws, ctx, labels)
    n, R = r.table.n, len(rids)
    value = np.full((n, R), np.nan)
    state = np.zeros((n, R), np.int8)  # 0 none, 1 counted, 2 draft, 3 conflicted
    raw = np.asarray(r.agg.raw_totals, dtype=float)
    conflicted = np.asarray(r.agg.conflicted)
    submitted = np.asarray(reviews.submitted)
    if reviews.n:
        cidx = np.array([col[str(x)] for x in reviews.reviewer], dtype=np.int64)
        pidx = np.asarray(reviews.prop, dtype=np.int64)
        value[pidx, cidx] = raw
        state[pidx, cidx] = np.where(conflicted, 3, np.where(submitted, 1, 2))
    reviewers = getattr(call, "reviewers", None)
    if reviewers:
        for rid, p in conflict_pairs(r.table, reviewers):
            if rid in col:
                state[p, col[rid]] = 3
    sc = S.get(number_format=SCORE_FMT)
    draft = S.get(number_format=SCORE_FMT, font=Font(italic=True, color="808080"))
    coi = S.get(fill=FILL_COI, alignment=Alignment(horizontal="center"))
    coi_text = "利益相反" if lang != "en" else "COI"
    rank = np.asarray(r.rank)
    for i in ctx.order.tolist():
        row = [_num(ws, int(rank[i]) or None), _text(ws, S, ctx.ids[i]), _text(ws, S, ctx.titles[i])]
        st = state[i]
        v = value[i]
        for k in range(R):
            s = st[k]
            if s == 0:
                row.append(None)
            elif s == 1:
                row.append(_num(ws, float(v[k]), sc))
            elif s == 2:
                row.append(_num(ws, float(v[k]), draft))
            else:
                row.append(_text(ws, S, coi_text, coi))
        ws.append(row)


def anonymous_labels(reviewer_ids: Iterable[str], salt: str = "", lang: str = "ja") -> dict[str, str]:
    """委員A, 委員B, … (Reviewer A, … in English) in an order that does not follow the reviewer ids (so labels
    do not reveal them)."""
    ids = sorted(set(reviewer_ids), key=lambda x: hashlib.sha256((salt + "\x1f" + x).encode()).hexdigest())
    out = {}
    for k, rid in enumerate(ids):
        name, q = "", k
        while True:
            name = chr(ord("A") + q % 26) + name
            q = q // 26 - 1
            if q < 0:
                break
        out[rid] = f"Reviewer {name}" if lang == "en" else f"委員{name}"
    return out


def _comments_sheet(ws, ctx: _ChairData, anonymise: bool) -> None:
    r, S, lang, call = ctx.r, ctx.styles, ctx.lang, ctx.call
    comments = getattr(call.reviews, "comments", None) or {}
    labels = [_lbl("id", lang), _lbl("title", lang), _lbl("reviewer", lang), _lbl("criterion", lang),
              _lbl("comment", lang)]
    _widths(ws, [12, 36, 16, 36, 90])
    wrap = S.get(alignment=Alignment(wrap_text=True, vertical="top"))
    item_label = {c.id: c.label.get(lang) for c in ctx.pack.criteria}
    item_label.update({f"bonus:{b.id}": f"加点：{b.label.get(lang)}" for b in ctx.pack.bonuses})
    item_order = {c.id: k for k, c in enumerate(ctx.pack.criteria)}
    item_order.update({f"bonus:{b.id}": len(item_order) + k for k, b in enumerate(ctx.pack.bonuses)})
    names = _reviewer_names(call)
    anon = anonymous_labels([rid for rid, _ in comments], ctx.pack.id, lang=lang) if anonymise else {}
    pos = {ctx.ids[i]: k for k, i in enumerate(ctx.order.tolist())}
    row_of = {pid: i for i, pid in enumerate(ctx.ids)}
    keys = [k for k in comments if k[1] in pos]
    keys.sort(key=lambda k: (pos[k[1]], anon.get(k[0], k[0])))
    rows = []
    for rid, pid in keys:
        items = comments[(rid, pid)]
        who = anon[rid] if anonymise else (f"{rid} {names[rid]}".strip() if names.get(rid) else rid)
        for item in sorted(items, key=lambda x: item_order.get(x, 1 << 30)):
            rows.append((pid, ctx.titles[row_of[pid]], who, item_label.get(item, item), items[item]))
    _table_sheet(ws, len(rows), len(labels), "C2")
    _header(ws, ctx, labels)
    for pid, title, who, item, text in rows:
        ws.append([_text(ws, S, pid), _text(ws, S, title), _text(ws, S, who), _text(ws, S, item),
                   _text(ws, S, text, wrap)])


def _eligibility_sheet(ws, ctx: _ChairData) -> None:
    from .eligibility import STATUS_OF_CODE

    r, S, lang = ctx.r, ctx.styles, ctx.lang
    elig = r.elig
    labels = [_lbl("id", lang), _lbl("title", lang), _lbl("rule_id", lang), _lbl("rule", lang),
              _lbl("status", lang), _lbl("reason", lang)]
    _widths(ws, [12, 36, 26, 30, 10, 90])
    li = 1 if lang == "en" else 0
    status_label = {code: _RULE_STATUS[s.value][li] for code, s in STATUS_OF_CODE.items()}
    rules = elig.rules
    rule_labels = [rl.label.get(lang) for rl in rules]
    flags = elig.expense_flags or {}
    n_rows = len(ctx.order) * len(rules) + sum(len(v) for v in flags.values())
    _table_sheet(ws, n_rows, len(labels), "C2")
    _header(ws, ctx, labels)
    bad = S.get(font=Font(color="C00000", bold=True))
    warn = S.get(font=Font(color="9C5700"))
    status = np.asarray(elig.status)
    check_label = {c.id: c.label.get(lang) for c in ctx.pack.expense_checks}
    for i in ctx.order.tolist():
        pid, title = ctx.ids[i], ctx.titles[i]
        for k, rule in enumerate(rules):
            code = int(status[i, k])
            st = bad if code == 1 else (warn if code in (2, 3) else None)
            ws.append([_text(ws, S, pid), _text(ws, S, title), _text(ws, S, rule.id), _text(ws, S, rule_labels[k]),
                       _text(ws, S, status_label[code], st), _text(ws, S, elig.reason(i, k, lang))])
        for f in flags.get(i, []):
            msg = f.get("message_en") if lang == "en" and f.get("message_en") else f.get("message", "")
            what = "注意" if f.get("status") == "flagged" else "要確認"
            ws.append([_text(ws, S, pid), _text(ws, S, title), _text(ws, S, f"経費:{f.get('check')}"),
                       _text(ws, S, check_label.get(f.get("check"), f.get("check"))), _text(ws, S, what, warn),
                       _text(ws, S, f"明細{f.get('line')}「{f.get('item') or ''}」：{msg}")])


def _chart_sheet(ws, ctx: _ChairData) -> None:
    """Data for two native charts and the charts themselves.

    A–E: every proposal with a score, by total (desc): base + bonus stacked, the pass line (it applies to the
    base score). G–K: the ranked proposals in rank order: cumulative funded as if all were funded, cumulative
    of those selected, the budget.
    """
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    pack = r.pack
    cap = pack.is_capacity
    _widths(ws, [12, 10, 10, 10, 10, 2, 12, 16, 16, 16])
    _print_setup(ws)
    ws.freeze_panes = "A2"
    scored = np.nonzero(~np.isnan(ctx.base))[0]
    if len(scored):
        ids_arr = np.array(ctx.ids, dtype=object)
        key = np.lexsort((ids_arr[scored].astype(str), -np.round(ctx.total[scored], 6)))
        scored = scored[key]
    ranked = ctx.order[np.asarray(r.rank)[ctx.order] > 0]
    funded = np.asarray(r.funded, dtype=np.int64)
    all_cum = np.cumsum(funded[ranked]) if len(ranked) else np.zeros(0, np.int64)
    sel_cum = np.maximum.accumulate(np.asarray(r.cumulative)[ranked]) if len(ranked) else np.zeros(0, np.int64)
    limit = r.params.budget_limit(pack)
    pass_line = float(r.params.pass_line)
    unit = "件" if cap else "円"
    hdr = [_lbl("id", lang), _lbl("base", lang), _lbl("bonus", lang), "合格点", _lbl("total", lang), None,
           _lbl("id", lang), f"累計交付額（順位順・全件）（{unit}）", f"累計交付額（採択分）（{unit}）",
           f"予算（{unit}）"]
    _header(ws, ctx, [h or "" for h in hdr])
    sc = S.get(number_format=SCORE_FMT)
    mo = S.get(number_format=MONEY_FMT)
    n1, n2 = len(scored), len(ranked)
    s_list, r_list = scored.tolist(), ranked.tolist()
    for k in range(max(n1, n2)):
        row: list = []
        if k < n1:
            i = s_list[k]
            row += [_text(ws, S, ctx.ids[i]), _num(ws, float(ctx.base[i]), sc), _num(ws, float(ctx.bonus[i]), sc),
                    _num(ws, pass_line, sc), _num(ws, float(ctx.total[i]), sc)]
        else:
            row += [None] * 5
        row.append(None)
        if k < n2:
            i = r_list[k]
            row += [_text(ws, S, ctx.ids[i]), _num(ws, int(all_cum[k]), mo), _num(ws, int(sel_cum[k]), mo),
                    _num(ws, None if limit is None else int(limit), mo)]
        ws.append(row)

    if n1:
        bar = BarChart()
        bar.type = "col"
        bar.grouping = "stacked"
        bar.overlap = 100
        bar.title = "合計点（基礎点＋加点）と合格点" if lang != "en" else "Total score (base + bonus) and pass line"
        bar.y_axis.title = "点" if lang != "en" else "points"
        bar.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=n1 + 1), titles_from_data=True)
        cats = Reference(ws, min_col=1, min_row=2, max_row=n1 + 1)
        bar.set_categories(cats)
        line = LineChart()
        line.add_data(Reference(ws, min_col=4, min_row=1, max_row=n1 + 1), titles_from_data=True)
        line.set_categories(cats)
        line.series[0].graphicalProperties.line.solidFill = "C00000"
        line.series[0].graphicalProperties.line.width = 25000
        line.series[0].smooth = False
        bar += line
        bar.x_axis.delete = False
        bar.y_axis.delete = False
        bar.y_axis.scaling.min = 0
        bar.width, bar.height = 26, 12
        ws.add_chart(bar, "L2")
    if n2:
        lc = LineChart()
        lc.title = "累計交付額と予算" if lang != "en" else "Cumulative funding and budget"
        lc.y_axis.title = unit
        lc.y_axis.number_format = MONEY_FMT
        cols = 3 if limit is not None else 2
        lc.add_data(Reference(ws, min_col=8, max_col=7 + cols, min_row=1, max_row=n2 + 1), titles_from_data=True)
        lc.set_categories(Reference(ws, min_col=7, min_row=2, max_row=n2 + 1))
        for s in lc.series:
            s.smooth = False
        if limit is not None:
            lc.series[-1].graphicalProperties.line.solidFill = "C00000"
            lc.series[-1].graphicalProperties.line.dashStyle = "dash"
        lc.x_axis.delete = False
        lc.y_axis.delete = False
        lc.width, lc.height = 26, 12
        ws.add_chart(lc, "L28")


# --- offline score sheets ------------------------------------------------------------------------------------

SCORE_SHEET = "評価"
FINGERPRINT_SHEET = "_fingerprint"
SHEET_FORMAT = "shinsa-score-sheet/1"
_GRID_OFFSET = 10          # the expected-cell grid starts on row 11 of the fingerprint sheet
_HEADER_ROW = 7
_COLS = ["提案ID", "項目ID", "評価項目", "配点", "評価", "所見", "評価の目安"]
_C_ID, _C_ITEM, _C_LABEL, _C_POINTS, _C_VALUE, _C_COMMENT, _C_GUIDE = range(1, 8)
_STATUS_ITEM = "status"
_STATUS_WORDS = {"提出": "submitted", "提出済み": "submitted", "submitted": "submitted", "submit": "submitted",
                 "下書き": "draft", "draft": "draft", "": "draft"}


SHEET_KEY_ENV = "SHINSA_SHEET_KEY"


def _sheet_key() -> bytes | None:
    """The committee's secret for signing score sheets (``SHINSA_SHEET_KEY``), or None: unsigned sheets."""
    key = os.environ.get(SHEET_KEY_ENV, "")
    return key.encode("utf-8") if key else None


def _digest(payload: list, key: bytes | None) -> str:
    """The fingerprint digest: HMAC-SHA256 with the committee's key when there is one (nobody without the key
    can make a sheet that imports — e.g. one altered to name another reviewer), else plain SHA-256 (detects
    accidental and casual edits only)."""
    blob = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    if key is not None:
        return hmac.new(key, blob, hashlib.sha256).hexdigest()
    return hashlib.sha256(blob).hexdigest()


def pack_hash(pack) -> str:
    from .packs import pack_to_dict

    blob = json.dumps(pack_to_dict(pack), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _canon(value: Any) -> str:
    """What a locked cell holds, as text, so that 20 and 20.0 compare equal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(float(value))
    return str(value)


def _h(value: Any) -> str:
    return hashlib.sha256(_canon(value).encode("utf-8")).hexdigest()[:16]


def _conflicted_ids(proposals: Sequence[Proposal], reviewer: Reviewer) -> set[str]:
    from .aggregate import conflict_pairs
    from .table import ProposalTable

    table = ProposalTable.from_proposals(list(proposals))
    return {str(table.ids[p]) for _, p in conflict_pairs(table, [reviewer])}


@dataclass
class _Layout:
    """The cells of one score sheet: every locked value, and where the input cells are."""

    cells: dict[tuple[int, int], Any]
    inputs: dict[tuple[int, int], tuple[str, str, str]]  # (row, col) → (proposal id, item, kind)
    max_row: int


def _score_layout(pack, proposals: Sequence[Proposal], reviewer: Reviewer, lang: str = "ja") -> _Layout:
    cells: dict[tuple[int, int], Any] = {}
    inputs: dict[tuple[int, int], tuple[str, str, str]] = {}
    scale = " ／ ".join(f"{s.level}：{s.label.get(lang)}（配点×{s.ratio:.2f}）" for s in sorted(pack.scale, key=lambda s: -s.level))
    cells[(1, 1)] = "評価シート（オフライン記入用）"
    cells[(2, 1)], cells[(2, 2)], cells[(2, 3)] = "委員", reviewer.reviewer_id, reviewer.name or ""
    cells[(3, 1)], cells[(3, 2)], cells[(3, 3)] = "評価パック", f"{pack.id}（版 {pack.version}）", \
        f"{pack.programme.code} {pack.programme.name.get(lang)}"
    cells[(4, 1)], cells[(4, 3)] = "評価尺度", scale
    cells[(5, 1)], cells[(5, 3)] = "記入方法", (
        "黄色のセルだけ記入できます。「評価」は一覧から選び、「所見」は自由記述です。提案ごとの「状態」を"
        "「提出」にすると評価が確定し（全項目の記入が必要）、「下書き」は集計に含まれません。"
        "行・列の追加や削除、記入欄以外の変更をしたシートは取り込めません。")
    for k, name in enumerate(_COLS, 1):
        cells[(_HEADER_ROW, k)] = name
    row = _HEADER_ROW + 1
    for p in proposals:
        cells[(row, _C_ID)] = p.id
        cells[(row, _C_ITEM)] = _STATUS_ITEM
        cells[(row, _C_LABEL)] = f"提案名：{p.title}　／　申請者：{p.applicant.name}"
        cells[(row, _C_POINTS)] = "状態→"
        cells[(row, _C_GUIDE)] = "状態：「下書き」または「提出」"
        inputs[(row, _C_VALUE)] = (p.id, _STATUS_ITEM, "status")
        row += 1
        for c in pack.criteria:
            cells[(row, _C_ID)] = p.id
            cells[(row, _C_ITEM)] = c.id
            cells[(row, _C_LABEL)] = c.label.get(lang)
            cells[(row, _C_POINTS)] = float(c.points)
            cells[(row, _C_GUIDE)] = "\n".join(f"{lv}：{c.guidance[lv].get(lang)}"
                                               for lv in sorted(c.guidance, reverse=True))
            inputs[(row, _C_VALUE)] = (p.id, c.id, "level")
            inputs[(row, _C_COMMENT)] = (p.id, c.id, "comment")
            row += 1
        for b in pack.judged_bonuses:
            item = f"bonus:{b.id}"
            cells[(row, _C_ID)] = p.id
            cells[(row, _C_ITEM)] = item
            cells[(row, _C_LABEL)] = f"加点：{b.label.get(lang)}"
            cells[(row, _C_POINTS)] = float(b.points)
            cells[(row, _C_GUIDE)] = "該当する＝1、該当しない＝0（過半数の委員が該当とした場合に加点）"
            inputs[(row, _C_VALUE)] = (p.id, item, "mark")
            inputs[(row, _C_COMMENT)] = (p.id, item, "comment")
            row += 1
    return _Layout(cells, inputs, row - 1)


def _fingerprint_rows(pack, reviewer_id: str, ids: Sequence[str], layout: _Layout,
                      key: bytes | None) -> tuple[list[list], str]:
    grid = []
    for r in range(1, layout.max_row + 1):
        line = []
        for c in range(1, len(_COLS) + 1):
            line.append("*" if (r, c) in layout.inputs else _h(layout.cells.get((r, c))))
        grid.append(line)
    head = [SHEET_FORMAT, pack.id, pack.version, pack_hash(pack), reviewer_id, ";".join(ids),
            str(layout.max_row)]
    return grid, _digest([head, grid], key)


# row 9 ("signature": hmac-sha256 / sha256) was added later; a sheet without it is an unsigned one
_FP_KEYS = ["format", "pack", "pack_version", "pack_hash", "reviewer_id", "proposal_ids", "max_row", "digest",
            "signature"]
SIGNED, UNSIGNED = "hmac-sha256", "sha256"


def score_sheet(pack, proposals: Sequence[Proposal], reviewer: Reviewer, conflicts: Iterable[str] | None = None,
                *, assigned: Iterable[str] | None = None, lang: str = "ja") -> bytes:
    """One reviewer's offline score sheet (.xlsx bytes) for the proposals of ``pack``.

    Conflicted proposals — ``conflicts`` (ids), by default those the reviewer's declared conflicts hit (by
    proposal id or organisation name) — are never included. ``assigned`` restricts the sheet to those ids.
    """
    mine = [p for p in proposals if p.pack == pack.id]
    coi = set(conflicts) if conflicts is not None else _conflicted_ids(mine, reviewer)
    if assigned is not None:
        want = set(assigned)
        mine = [p for p in mine if p.id in want]
    mine = [p for p in mine if p.id not in coi]
    layout = _score_layout(pack, mine, reviewer, lang)

    wb = Workbook()
    ws = wb.active
    ws.title = SCORE_SHEET
    wrap_top = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    inputs = layout.inputs
    for (r, c), v in layout.cells.items():
        cell = ws.cell(row=r, column=c)
        if isinstance(v, str):
            cell.value = _clean(v)
            cell.data_type = "s"
            if v.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True
        else:
            cell.value = v
        cell.alignment = wrap_top
    for c in range(1, len(_COLS) + 1):
        h = ws.cell(row=_HEADER_ROW, column=c)
        h.font = bold
        h.fill = FILL_HEADER
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for r in range(2, 6):
        ws.cell(row=r, column=1).font = bold
    ws.merge_cells(start_row=4, start_column=3, end_row=4, end_column=7)
    ws.merge_cells(start_row=5, start_column=3, end_row=5, end_column=7)
    ws.row_dimensions[5].height = 45
    levels = ",".join(str(s.level) for s in sorted(pack.scale, key=lambda s: -s.level))
    dv_level = DataValidation(type="list", formula1=f'"{levels}"', allow_blank=True, showErrorMessage=True,
                              errorTitle="評価", error=f"評価は {levels} から選んでください")
    dv_mark = DataValidation(type="list", formula1='"1,0"', allow_blank=True, showErrorMessage=True,
                             errorTitle="加点", error="1（該当）または 0（非該当）を選んでください")
    dv_status = DataValidation(type="list", formula1='"下書き,提出"', allow_blank=True, showErrorMessage=True,
                               errorTitle="状態", error="「下書き」または「提出」を選んでください")
    unlocked = Protection(locked=False)
    for (r, c), (_, _, kind) in inputs.items():
        cell = ws.cell(row=r, column=c)
        cell.protection = unlocked
        cell.fill = FILL_INPUT
        cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        cell.alignment = wrap_top
        ref = cell.coordinate
        if kind == "level":
            dv_level.add(ref)
        elif kind == "mark":
            dv_mark.add(ref)
        elif kind == "status":
            dv_status.add(ref)
            cell.value = "下書き"
            cell.data_type = "s"
            for cc in range(1, len(_COLS) + 1):
                if (r, cc) not in inputs:
                    ws.cell(row=r, column=cc).fill = FILL_BLOCK
                    ws.cell(row=r, column=cc).font = bold
    for dv in (dv_level, dv_mark, dv_status):
        if dv.sqref:
            ws.add_data_validation(dv)
    _widths(ws, [12, 22, 40, 7, 9, 50, 80])
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=1).coordinate
    _print_setup(ws, f"{_HEADER_ROW}:{_HEADER_ROW}")
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False

    key = _sheet_key()
    grid, digest = _fingerprint_rows(pack, reviewer.reviewer_id, [p.id for p in mine], layout, key)
    fp = wb.create_sheet(FINGERPRINT_SHEET)
    values = [SHEET_FORMAT, pack.id, pack.version, pack_hash(pack), reviewer.reviewer_id,
              ";".join(p.id for p in mine), str(layout.max_row), digest, SIGNED if key else UNSIGNED]
    for k, (key, v) in enumerate(zip(_FP_KEYS, values), 1):
        fp.cell(row=k, column=1, value=key)
        c = fp.cell(row=k, column=2)
        c.value = _clean(v)
        c.data_type = "s"
    for r, line in enumerate(grid, _GRID_OFFSET + 1):
        for c, v in enumerate(line, 1):
            fp.cell(row=r, column=c, value=v)
    fp.sheet_state = "veryHidden"
    fp.protection.sheet = True
    wb.security = WorkbookProtection(lockStructure=True)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _addr(sheet: str, row: int, col: int) -> str:
    return f"{sheet}!{get_column_letter(col)}{row}"


def _level_of(value: Any) -> int | None:
    """A level as people leave it in a cell: 4, 4.0, "4", "４", "4 優れている"; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        m = re.fullmatch(r"(-?\d+)(?:\.0+)?", s) or re.match(r"(\d+)[\s:：]", s)
        return int(m.group(1)) if m else None
    return None


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _canon(value)


def read_score_sheets(paths: Sequence[str | Path], pack, proposals: Sequence[Proposal],
                      reviewers: Sequence[Reviewer] | None = None) -> list[ReviewRow]:
    """Filled score sheets back into review rows; every problem of every file at once, with the cell address.

    Refused: a sheet whose locked cells, rows or hidden fingerprint were altered; a sheet made for another pack
    (id, version or content) or for a reviewer not in ``reviewers``; a level outside the scale; a proposal
    not in ``proposals`` or one the reviewer is conflicted on; a submitted review with a blank level; the same
    reviewer and proposal in two files.
    """
    problems: list[Problem] = []
    out: list[ReviewRow] = []
    by_id = {p.id: p for p in proposals}
    known_reviewers = {r.reviewer_id: r for r in reviewers} if reviewers is not None else None
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        rows, probs = _read_one_sheet(Path(path), pack, by_id, known_reviewers, seen)
        problems.extend(probs)
        out.extend(rows)
    if problems:
        raise InputError(problems)
    return out


def _read_one_sheet(path: Path, pack, by_id: dict[str, Proposal], known_reviewers, seen) -> tuple[list, list]:
    src = str(path)
    P: list[Problem] = []
    try:
        wb = load_workbook(path, data_only=False)
    except FileNotFoundError:
        return [], [Problem(src, None, "(file)", "file not found")]
    except Exception as exc:  # zip/xml errors: not a workbook
        return [], [Problem(src, None, "(file)", f"not a readable .xlsx workbook: {type(exc).__name__}: {exc}")]
    if SCORE_SHEET not in wb.sheetnames or FINGERPRINT_SHEET not in wb.sheetnames:
        missing = [s for s in (SCORE_SHEET, FINGERPRINT_SHEET) if s not in wb.sheetnames]
        return [], [Problem(src, None, "(sheet)", f"not a Shinsa score sheet: sheet(s) {missing} missing "
                                                  f"(sheets: {wb.sheetnames})")]
    fp, ws = wb[FINGERPRINT_SHEET], wb[SCORE_SHEET]
    head = {key: fp.cell(row=k, column=2).value for k, key in enumerate(_FP_KEYS, 1)}
    head = {k: "" if v is None else str(v) for k, v in head.items()}
    fa = lambda key: _addr(FINGERPRINT_SHEET, _FP_KEYS.index(key) + 1, 2)  # noqa: E731
    if head["format"] != SHEET_FORMAT:
        return [], [Problem(src, fa("format"), "format", f"unknown score-sheet format {head['format']!r}")]
    try:
        max_row = int(head["max_row"])
    except ValueError:
        return [], [Problem(src, fa("max_row"), "fingerprint", "the hidden fingerprint sheet was altered")]
    ncol = len(_COLS)
    grid = [[fp.cell(row=_GRID_OFFSET + r, column=c).value or "" for c in range(1, ncol + 1)]
            for r in range(1, max_row + 1)]
    ids = [x for x in head["proposal_ids"].split(";") if x]
    check = [head["format"], head["pack"], head["pack_version"], head["pack_hash"], head["reviewer_id"],
             head["proposal_ids"], head["max_row"]]
    key = _sheet_key()
    signed = head["signature"] == SIGNED
    if key is not None and not signed:
        return [], [Problem(src, fa("signature"), "fingerprint",
                            f"the sheet is not signed with the committee's key ({SHEET_KEY_ENV} is set); issue a "
                            "new sheet with `template`")]
    if key is None and signed:
        return [], [Problem(src, fa("signature"), "fingerprint",
                            f"the sheet is signed: set {SHEET_KEY_ENV} to the key it was issued with")]
    if not hmac.compare_digest(_digest([check, grid], key), head["digest"]):
        return [], [Problem(src, fa("digest"), "fingerprint",
                            "the hidden fingerprint sheet was altered; issue a new sheet with `template`"
                            + (" (or it was signed with another key)" if key is not None else ""))]
    if head["pack"] != pack.id:
        P.append(Problem(src, fa("pack"), "pack", f"the sheet was made for pack {head['pack']!r}, not {pack.id!r}"))
    elif head["pack_version"] != pack.version:
        P.append(Problem(src, fa("pack_version"), "pack",
                         f"the sheet was made for version {head['pack_version']!r} of pack {pack.id}, not "
                         f"{pack.version!r}"))
    elif head["pack_hash"] != pack_hash(pack):
        P.append(Problem(src, fa("pack_hash"), "pack",
                         f"pack {pack.id} {pack.version} was changed since the sheet was issued "
                         "(criteria, scale or guidance differ); issue new sheets"))
    rid = head["reviewer_id"]
    reviewer = None
    if known_reviewers is not None:
        reviewer = known_reviewers.get(rid)
        if reviewer is None:
            P.append(Problem(src, _addr(SCORE_SHEET, 2, 2), "reviewer_id",
                             f"reviewer {rid!r} of this sheet is not in the reviewers file"))
    # every locked cell must be as issued
    altered = []
    for r in range(1, max_row + 1):
        for c in range(1, ncol + 1):
            exp = grid[r - 1][c - 1]
            if exp == "*":
                continue
            v = ws.cell(row=r, column=c).value
            if _h(v) != exp:
                altered.append((r, c, v))
    extra = []
    for row in ws.iter_rows(min_row=1, max_row=max(ws.max_row, max_row), max_col=max(ws.max_column, ncol)):
        for cell in row:
            if cell.value is None or cell.value == "":
                continue
            if cell.row > max_row or cell.column > ncol:
                extra.append(cell)
    for r, c, v in altered[:50]:
        P.append(Problem(src, _addr(SCORE_SHEET, r, c), "structure",
                         f"locked cell was altered (now {_canon(v)[:60]!r}); rows, columns and locked cells "
                         "must stay as issued"))
    if len(altered) > 50:
        P.append(Problem(src, None, "structure", f"… and {len(altered) - 50} more altered cells"))
    for cell in extra[:20]:
        P.append(Problem(src, f"{SCORE_SHEET}!{cell.coordinate}", "structure",
                         f"content outside the issued layout ({_canon(cell.value)[:60]!r}): rows or columns were "
                         "added or moved"))
    if P:
        return [], P  # a sheet that is not as issued is not read further

    levels = sorted(pack.levels)
    conflicted = _conflicted_ids([by_id[i] for i in ids if i in by_id], reviewer) if reviewer else set()
    layout_inputs = {}
    row = _HEADER_ROW + 1
    per_prop: dict[str, dict] = {}
    # walk the issued rows (the layout is verified, so column B says what each row is)
    for r in range(_HEADER_ROW + 1, max_row + 1):
        pid = str(ws.cell(row=r, column=_C_ID).value)
        item = str(ws.cell(row=r, column=_C_ITEM).value)
        d = per_prop.setdefault(pid, {"status": None, "status_row": r, "items": []})
        if item == _STATUS_ITEM:
            d["status"] = ws.cell(row=r, column=_C_VALUE).value
            d["status_row"] = r
        else:
            d["items"].append((r, item, ws.cell(row=r, column=_C_VALUE).value,
                               ws.cell(row=r, column=_C_COMMENT).value))
    del layout_inputs, row
    rows: list[ReviewRow] = []
    for pid, d in per_prop.items():
        srow = d["status_row"]
        raw_status = "" if d["status"] is None else unicodedata.normalize("NFKC", str(d["status"])).strip()
        status = _STATUS_WORDS.get(raw_status.lower(), _STATUS_WORDS.get(raw_status))
        if status is None:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_VALUE), "status",
                             f"{raw_status!r} is not 下書き (draft) or 提出 (submitted)"))
            continue
        filled = [(r, item, v, cm) for r, item, v, cm in d["items"]
                  if (v is not None and str(v).strip() != "") or (cm is not None and str(cm).strip() != "")]
        if not filled and status == "draft":
            continue
        p = by_id.get(pid)
        if p is None:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"{pid!r} is not a proposal in the proposals file"))
            continue
        if p.pack != pack.id:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"{pid!r} belongs to pack {p.pack!r}, not {pack.id!r}"))
            continue
        if pid in conflicted:
            first = filled[0][0] if filled else srow
            P.append(Problem(src, _addr(SCORE_SHEET, first, _C_VALUE), "proposal_id",
                             f"reviewer {rid!r} has a conflict of interest with {pid!r}; this review cannot be "
                             "imported"))
            continue
        key = (rid, pid)
        if key in seen:
            P.append(Problem(src, _addr(SCORE_SHEET, srow, _C_ID), "proposal_id",
                             f"review by {rid!r} of {pid!r} is also in {seen[key]}"))
            continue
        seen[key] = src
        for r, item, v, cm in d["items"]:
            is_bonus = item.startswith("bonus:")
            comment = "" if cm is None else str(cm)
            blank = v is None or str(v).strip() == ""
            if blank:
                if status == "submitted" and not is_bonus:
                    P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value",
                                     f"submitted review of {pid!r} has no level for {item!r}"))
                elif comment.strip():
                    P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value",
                                     f"a comment on {item!r} of {pid!r} needs a level (or mark) beside it"))
                continue
            level = _level_of(v)
            allowed = [0, 1] if is_bonus else levels
            if level is None or level not in allowed:
                what = "a bonus mark is 1 or 0" if is_bonus else f"is not a level of the scale {levels}"
                P.append(Problem(src, _addr(SCORE_SHEET, r, _C_VALUE), "value", f"{_show(v)!r}: {what}"
                                 if is_bonus else f"{_show(v)!r} {what}"))
                continue
            rows.append(ReviewRow(reviewer_id=rid, proposal_id=pid, item=item, value=level, status=status,
                                  comment=comment))
    return (rows if not P else []), P


# --- intake list (応募一覧.xlsx) ------------------------------------------------------------------------------

@dataclass(frozen=True)
class IntakeColumn:
    key: str
    label: str          # the Japanese header the template writes
    required: bool
    kind: str           # text | id | money | number | member_kind | technologies | category
    note: str = ""


PROPOSAL_COLUMNS = [
    IntakeColumn("id", "提案ID", True, "id", "一意の提案番号（例 L4-003）"),
    IntakeColumn("pack", "評価パック", True, "id", "評価パックID（例 autonomous_l4）"),
    IntakeColumn("title", "提案名", False, "text"),
    IntakeColumn("applicant_name", "申請者名", True, "text", "代表申請者（コンソーシアムの構成員として数えます）"),
    IntakeColumn("applicant_kind", "申請者種別", True, "member_kind"),
    IntakeColumn("prefecture", "都道府県", False, "text"),
    IntakeColumn("municipality", "市区町村", False, "text"),
    IntakeColumn("requested_yen", "申請額", False, "money", "円。1,500万円・1.5億円・全角数字も可"),
    IntakeColumn("eligible_cost_yen", "補助対象経費", False, "money", "円（補助事業のみ）"),
    IntakeColumn("technologies", "技術", False, "technologies", "複数は「;」「、」で区切る"),
    IntakeColumn("summary", "概要", False, "text"),
]
MEMBER_COLUMNS = [
    IntakeColumn("proposal_id", "提案ID", True, "id", "応募シートの提案ID"),
    IntakeColumn("name", "構成員名", True, "text"),
    IntakeColumn("kind", "種別", True, "member_kind"),
    IntakeColumn("role", "役割", False, "text"),
]
COST_COLUMNS = [
    IntakeColumn("proposal_id", "提案ID", True, "id", "応募シートの提案ID"),
    IntakeColumn("item", "費目", False, "text"),
    IntakeColumn("category", "区分", True, "category"),
    IntakeColumn("amount_yen", "金額", True, "money", "円"),
    IntakeColumn("unit_price_yen", "単価", False, "money", "円"),
    IntakeColumn("useful_life_years", "耐用年数", False, "number", "年"),
    IntakeColumn("years", "年数", False, "number", "リース・利用の年数"),
    IntakeColumn("cannot_lease_reason", "リースできない理由", False, "text"),
]
INTAKE_SHEETS = {  # canonical name → (aliases, columns)
    "応募": (("応募", "proposals"), PROPOSAL_COLUMNS),
    "構成員": (("構成員", "members", "consortium"), MEMBER_COLUMNS),
    "経費": (("経費", "cost_lines", "costs"), COST_COLUMNS),
}
IGNORED_HEADERS = ("備考", "memo", "note", "notes")
FACT_PREFIXES = ("fact:", "事実:")

KIND_LABELS = {
    MemberKind.local_government: ("地方公共団体", "市区町村", "市町村", "自治体"),
    MemberKind.prefecture: ("都道府県",),
    MemberKind.company: ("企業", "民間企業", "株式会社"),
    MemberKind.startup: ("スタートアップ",),
    MemberKind.local_ict_company: ("地域ICT企業", "地元ICT企業"),
    MemberKind.university: ("大学", "大学等"),
    MemberKind.financial_institution: ("金融機関",),
    MemberKind.npo: ("NPO", "NPO法人"),
    MemberKind.organization: ("団体", "法人・団体"),
    MemberKind.other: ("その他",),
}
TECH_LABELS = {
    Technology.local5g: ("ローカル5G",), Technology.wifi_halow: ("Wi-Fi HaLow", "HaLow"),
    Technology.wifi7: ("Wi-Fi 7",), Technology.wifi6e: ("Wi-Fi 6E",),
    Technology.satellite_direct: ("衛星ダイレクト通信", "衛星ダイレクト"), Technology.apn: ("APN",),
    Technology.haps: ("HAPS",), Technology.lpwa: ("LPWA",), Technology.wifi: ("Wi-Fi",), Technology.lte: ("LTE",),
    Technology.other: ("その他",),
}
CATEGORY_LABELS = {
    CostCategory.lease: ("リース",), CostCategory.purchase: ("購入", "買取"),
    CostCategory.service: ("役務費", "役務"), CostCategory.licence: ("ライセンス", "license"),
    CostCategory.travel: ("旅費",), CostCategory.utilities: ("光熱水費",),
    CostCategory.rental_cloud: ("レンタル・クラウド", "レンタル", "クラウド"), CostCategory.other: ("その他",),
}
_TRUE = {"true", "yes", "y", "はい", "有", "あり", "○", "〇", "該当", "1"}
_FALSE = {"false", "no", "n", "いいえ", "無", "なし", "×", "非該当", "0"}


def _key(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-・･]", "", s)


def _enum_lookup(labels: dict) -> dict[str, str]:
    out = {}
    for member, names in labels.items():
        out[_key(member.value)] = member.value
        for n in names:
            out[_key(n)] = member.value
    return out


_KIND_OF = _enum_lookup(KIND_LABELS)
_TECH_OF = _enum_lookup(TECH_LABELS)
_CAT_OF = _enum_lookup(CATEGORY_LABELS)


def _header_key(text: Any, columns: Sequence[IntakeColumn]) -> str | None:
    """The column a header names: its Japanese label, its key, or 'label (key)'; money units are ignored."""
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    low = raw.lower().replace(" ", "")
    for pre in FACT_PREFIXES:
        if low.startswith(pre):
            name = raw.split(":", 1)[1].strip()
            return f"fact:{name}" if name else None
    k = _key(re.sub(r"[（(][^）)]*[）)]\s*$", "", raw) or raw)
    k2 = _key(raw)
    inner = re.search(r"[（(]([^）)]*)[）)]\s*$", raw)
    candidates = {k, k2} | ({_key(inner.group(1))} if inner else set())
    for col in columns:
        if candidates & {_key(col.key), _key(col.label)}:
            return col.key
    return None


def _text_value(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip().replace("\u3000", " ").strip()


def _id_value(v: Any) -> str:
    return unicodedata.normalize("NFKC", _text_value(v)).strip()


def _number_value(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(f"not a number: {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "").replace(" ", "")
    s = re.sub(r"(年|ヶ月)$", "", s)
    return float(s)


def _fact_value(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return int(v) if float(v).is_integer() else float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip()
    low = s.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    num = s.replace(",", "")
    if re.fullmatch(r"-?\d+", num):
        return int(num)
    if re.fullmatch(r"-?\d*\.\d+", num):
        return float(num)
    return _text_value(v)


def _convert(col_key: str, kind: str, v: Any) -> Any:
    """One cell to the canonical value; ValueError with a message on what cannot be read."""
    if kind == "text":
        return _text_value(v)
    if kind == "id":
        return _id_value(v)
    if kind == "money":
        try:
            return parse_yen(v if not isinstance(v, str) else v.strip())
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
    if kind == "number":
        try:
            x = _number_value(v)
        except ValueError:
            raise ValueError(f"not a number: {v!r}") from None
        if x < 0:
            raise ValueError(f"must not be negative: {v!r}")
        return x
    if kind == "member_kind":
        k = _KIND_OF.get(_key(v))
        if k is None:
            raise ValueError(f"{_text_value(v)!r} is not a member kind (use one of: "
                             + "、".join(names[0] for names in KIND_LABELS.values()) + ")")
        return k
    if kind == "category":
        k = _CAT_OF.get(_key(v))
        if k is None:
            raise ValueError(f"{_text_value(v)!r} is not a cost category (use one of: "
                             + "、".join(names[0] for names in CATEGORY_LABELS.values()) + ")")
        return k
    if kind == "technologies":
        out = []
        for part in re.split(r"[;；,，、/／\n]+", unicodedata.normalize("NFKC", str(v))):
            if not part.strip():
                continue
            t = _TECH_OF.get(_key(part))
            if t is None:
                raise ValueError(f"{part.strip()!r} is not a technology (use: "
                                 + "、".join(names[0] for names in TECH_LABELS.values()) + ")")
            if t not in out:
                out.append(t)
        return out
    if kind == "fact":
        return _fact_value(v)
    raise AssertionError(kind)  # pragma: no cover


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.replace("\u3000", " ").strip())


def _read_sheet(ws, sheet: str, columns: Sequence[IntakeColumn], src: str, P: list[Problem],
                allow_facts: bool) -> list[tuple[int, dict, dict]]:
    """(row number, values by key, cell address by key) for every non-blank row."""
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        P.append(Problem(src, f"{sheet}!A1", "(header)", "the sheet is empty: the first row must be the header"))
        return []
    col_of: dict[int, str] = {}
    for j, h in enumerate(header):
        if _blank(h):
            continue
        key = _header_key(h, columns)
        if key is None and _key(h) in {_key(x) for x in IGNORED_HEADERS}:
            continue
        addr = f"{sheet}!{get_column_letter(j + 1)}1"
        if key is None or (key.startswith("fact:") and not allow_facts):
            P.append(Problem(src, addr, "(header)", f"unknown column {str(h).strip()!r} (columns: "
                             + "、".join(c.label for c in columns) + ("、fact:<名前>" if allow_facts else "")
                             + "、備考)"))
            continue
        if key in col_of.values():
            P.append(Problem(src, addr, key, f"column {str(h).strip()!r} appears twice"))
            continue
        col_of[j] = key
    for c in columns:
        if c.required and c.key not in col_of.values():
            P.append(Problem(src, f"{sheet}!1", c.key, f"required column {c.label} ({c.key}) is missing"))
    kinds = {c.key: c for c in columns}
    out = []
    for r, values in enumerate(rows, 2):
        if all(_blank(v) for v in values):
            continue
        vals, addrs = {}, {}
        for j, key in col_of.items():
            v = values[j] if j < len(values) else None
            addr = f"{sheet}!{get_column_letter(j + 1)}{r}"
            addrs[key] = addr
            col = kinds.get(key)
            if _blank(v):
                if col is not None and col.required:
                    P.append(Problem(src, addr, key, f"{col.label} is required"))
                continue
            try:
                vals[key] = _convert(key, col.kind if col else "fact", v)
            except ValueError as exc:
                P.append(Problem(src, addr, key, str(exc)))
        out.append((r, vals, addrs))
    return out


def _find_sheet(wb, aliases: Sequence[str]):
    names = {_key(n): n for n in wb.sheetnames}
    for a in aliases:
        if _key(a) in names:
            return names[_key(a)]
    return None


def read_intake(path: str | Path) -> list[Proposal]:
    """The intake list (応募一覧.xlsx) as validated proposals; every unreadable cell listed at once."""
    from pydantic import ValidationError

    from .errors import problems_from_validation

    path = Path(path)
    src = str(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise InputError([Problem(src, None, "(file)", "file not found")]) from None
    except Exception as exc:
        raise InputError([Problem(src, None, "(file)", f"not a readable .xlsx workbook: {type(exc).__name__}: "
                                                       f"{exc}")]) from None
    P: list[Problem] = []
    try:
        found = {name: _find_sheet(wb, aliases) for name, (aliases, _) in INTAKE_SHEETS.items()}
        if found["応募"] is None:
            raise InputError([Problem(src, None, "応募", f"sheet 応募 (proposals) is missing (sheets: {wb.sheetnames})")])
        prow = _read_sheet(wb[found["応募"]], found["応募"], PROPOSAL_COLUMNS, src, P, True)
        mrow = _read_sheet(wb[found["構成員"]], found["構成員"], MEMBER_COLUMNS, src, P, False) \
            if found["構成員"] else []
        crow = _read_sheet(wb[found["経費"]], found["経費"], COST_COLUMNS, src, P, False) if found["経費"] else []
    finally:
        wb.close()
    objs: dict[str, dict] = {}
    origin: dict[str, dict] = {}
    for r, v, a in prow:
        pid = v.get("id")
        if pid is None:
            continue
        if pid in objs:
            P.append(Problem(src, a["id"], "id", f"duplicate proposal id {pid!r} (first on row {origin[pid]['row']})"))
            continue
        facts = {k[5:]: x for k, x in v.items() if k.startswith("fact:")}
        applicant = {"name": v.get("applicant_name", ""), "kind": v.get("applicant_kind", "other")}
        for k in ("prefecture", "municipality"):
            if v.get(k):
                applicant[k] = v[k]
        objs[pid] = {"id": pid, "pack": v.get("pack", ""), "title": v.get("title", ""), "applicant": applicant,
                     "consortium": [], "requested_yen": v.get("requested_yen"),
                     "eligible_cost_yen": v.get("eligible_cost_yen"), "technologies": v.get("technologies", []),
                     "facts": facts, "cost_lines": [], "summary": v.get("summary", "")}
        origin[pid] = {"row": r, "addr": a, "members": [], "costs": []}
    for rows, field, make in ((mrow, "consortium", lambda v: {k: v[k] for k in ("name", "kind", "role") if k in v}),
                              (crow, "cost_lines", lambda v: {k: x for k, x in v.items() if k != "proposal_id"})):
        for r, v, a in rows:
            pid = v.get("proposal_id")
            if pid is None:
                continue
            if pid not in objs:
                if pid not in origin:  # not a proposal at all (a duplicate row was already reported)
                    P.append(Problem(src, a["proposal_id"], "proposal_id",
                                     f"{pid!r} is not a proposal id on the 応募 sheet"))
                continue
            if field == "consortium" and v.get("name") == objs[pid]["applicant"]["name"]:
                continue  # the applicant is a member already (formats.md)
            objs[pid][field].append(make(v))
            origin[pid]["members" if field == "consortium" else "costs"].append(a)
    out = []
    for pid, obj in objs.items():
        o = origin[pid]
        try:
            out.append(Proposal.model_validate(obj))
        except ValidationError as exc:
            for prob in problems_from_validation(exc, src):
                P.append(_locate(prob, o))
    if P:
        raise InputError(P)
    return out


def _locate(prob: Problem, origin: dict) -> Problem:
    """A model error on an assembled proposal, placed back on the cell it came from."""
    f = prob.field
    m = re.match(r"(consortium|cost_lines)\[(\d+)\]\.?(\w*)", f)
    if m:
        rows = origin["members" if m.group(1) == "consortium" else "costs"]
        addrs = rows[int(m.group(2))] if int(m.group(2)) < len(rows) else {}
        key = m.group(3)
        addr = addrs.get(key) or next(iter(addrs.values()), None)
        return Problem(prob.file, addr, key or m.group(1), prob.message)
    key = {"applicant.name": "applicant_name", "applicant.kind": "applicant_kind"}.get(f, f.split(".")[0])
    if f.startswith("facts."):
        key = "fact:" + f.split(".", 1)[1]
    addr = origin["addr"].get(key) or next(iter(origin["addr"].values()), None)
    return Problem(prob.file, addr, key, prob.message)


def _template_facts(pack) -> list[str]:
    if pack is not None:
        return sorted(pack.facts_read())
    from .io.packs import load_pack
    from .packs import SHIPPED_PACKS

    names: set[str] = set()
    for pid in SHIPPED_PACKS:
        try:
            names |= load_pack(pid).facts_read()
        except Exception:  # a pack being edited must not break the template
            continue
    return sorted(names)


def intake_template(pack=None) -> bytes:
    """The empty intake list (応募一覧.xlsx) with a 説明 sheet; fact columns for ``pack`` (or every shipped pack)."""
    wb = Workbook()
    facts = _template_facts(pack)
    bold = Font(bold=True)
    dv_specs = {"member_kind": [n[0] for n in KIND_LABELS.values()],
                "category": [n[0] for n in CATEGORY_LABELS.values()]}
    first = True
    for name, (aliases, columns) in INTAKE_SHEETS.items():
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        headers = [c.label for c in columns] + ([f"fact:{f}" for f in facts] if name == "応募" else []) + ["備考"]
        for j, h in enumerate(headers, 1):
            c = ws.cell(row=1, column=j, value=h)
            c.font = bold
            c.fill = FILL_HEADER
            c.data_type = "s"
        for j, col in enumerate(columns, 1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = 40 if col.key in ("title", "summary", "cannot_lease_reason") else 18
            if col.kind in dv_specs:
                dv = DataValidation(type="list", formula1='"' + ",".join(dv_specs[col.kind]) + '"', allow_blank=True,
                                    showErrorMessage=False)
                dv.add(f"{letter}2:{letter}2000")
                ws.add_data_validation(dv)
            if col.kind in ("id", "text", "technologies"):
                for r in range(2, 202):
                    ws.cell(row=r, column=j).number_format = "@"
        ws.freeze_panes = "A2"
        _print_setup(ws)
    doc = wb.create_sheet("説明")
    doc.append(["シート", "列見出し", "キー", "必須", "内容"])
    for c in doc[1]:
        c.font = bold
        c.fill = FILL_HEADER
    for name, (aliases, columns) in INTAKE_SHEETS.items():
        for col in columns:
            note = col.note
            if col.kind == "member_kind":
                note = "、".join(n[0] for n in KIND_LABELS.values())
            elif col.kind == "category":
                note = "、".join(n[0] for n in CATEGORY_LABELS.values())
            elif col.kind == "technologies":
                note = col.note + "：" + "、".join(n[0] for n in TECH_LABELS.values())
            doc.append([f"{name}（{aliases[1]}）", col.label, col.key, "○" if col.required else "", note])
    doc.append(["応募（proposals）", "fact:<名前>", "facts.<名前>", "",
                "パックが参照する事実。はい/いいえ・TRUE/FALSE・○/×、数値、文字（例 plan_kind, course）。空欄は「要確認」"])
    doc.append(["（全シート）", "備考", "", "", "読み込みません。金額は円で、1,500万円・1.5億円・全角数字・桁区切りも可"])
    for letter, w in zip("ABCDE", (22, 20, 24, 6, 90)):
        doc.column_dimensions[letter].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
