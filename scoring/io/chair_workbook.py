"""The chair's workbook (委員長用 .xlsx) of one ranking: summary, ranked list, per criterion, per reviewer,
comments, eligibility, charts — and the analysis sheet (:mod:`scoring.io.analysis_sheet`) when given one.

An adapter: it calls the core (:mod:`scoring.selection`, :mod:`scoring.aggregate`, …) and never re-implements a
rule; it returns ``bytes`` so the CLI, the store and the app share it. Every text a user wrote is a string cell,
never a formula (:func:`scoring.io.xlsx_style.text_cell`). Layout and columns: ``docs/excel.md``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Collection, Iterable, Sequence

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font

from ..aggregate import conflict_pairs
from ..hearing_ranking import HearingRanking
from ..eligibility import STATUS_OF_CODE
from ..labels import has, label, label_of
from ..models import Decision
from ..params import WhatIf
from .analysis_sheet import write_analysis_sheet
from .clock import local_tz
from .hearing_sheets import write_hearing_sheets
from .decision_sheets import decision_sheet
from .xlsx_style import (FILL_COI, FILL_HEADER, FILL_SELECTED, FILL_WAITLIST, MONEY_FMT, RATIO_FMT, SCORE_FMT,
                         THICK, THIN, Styles, num_cell, print_setup, set_widths, table_sheet, text_cell, wl,
                         workbook_bytes)

__all__ = ["chair_workbook", "anonymous_labels"]

_DECISIONS = list(Decision)
_S_SUMMARY, _S_LIST, _S_CRIT, _S_REV, _S_COMMENTS, _S_ELIG, _S_CHART = (
    wl(f"sheet.{k}") for k in ("summary", "list", "criteria", "reviewers", "comments", "eligibility", "chart"))


def _lbl(key: str, lang: str) -> str:
    return wl(f"col.{key}", lang)


def _param(kind: str, value: str) -> str:
    """「label（value）」 of a parameter value on the summary sheet; the bare value when it has no label."""
    key = f"workbook.{kind}.{value}"
    return f"{label(key)}（{value}）" if has(key) else f"{value}（{value}）"


def chair_workbook(ranking, call, *, round_name: str | None = None, analysis: Any = None,
                   anonymise: bool | None = None, lang: str = "ja", generated_at: datetime | None = None,
                   withheld: Collection[str] | None = None, whatif: WhatIf | None = None,
                   decisions: Any = None) -> bytes:
    """The chair's workbook (.xlsx bytes) of one ranking: summary, ranked list, per criterion, per reviewer,
    comments, eligibility, charts — for a two-stage ranking (a ``HearingRanking``) 「ヒアリング対象」 and
    「ヒアリング審査」 (:mod:`scoring.io.hearing_sheets`) — and the analysis sheet (「分析」) when ``analysis`` (the
    dict of :func:`scoring.analytics.analyze`) is given.

    ``call`` is anything with ``.pack``, ``.reviews`` (a ReviewTable built against ``ranking.table``) and
    ``.reviewers``. ``anonymise`` defaults to the pack's ``policy.anonymise_comments``.

    ``withheld``: proposals whose individual reviews the reader may not see (conflicts of interest; default the
    call's own ``withheld``, which the store sets for the acting chair). Their rows on 委員別 show 「非表示」
    instead of each reviewer's score, 所見 has one line saying so instead of their comments, and the summary
    names them; the aggregate figures (一覧, 評価項目別, charts) stay, as the committee needs the list.

    ``whatif``: the what-if the ranking was made with. Unless it is the pack's own (official) ranking, the
    workbook says so everywhere: every sheet's name starts with 「試算_」 and its printed header says it is not
    the official result, and 概要's title and a section list every value that differs from the pack.

    ``decisions``: the committee's decisions of this ranking (:class:`scoring.decisions.Decisions`, e.g. the
    confirmed version) — adds the selection record sheet 「選定結果」 (:func:`scoring.io.decision_sheets.decision_sheet`).
    """
    # write-only mode streams rows (fast, small); the analysis sheet's writer needs a regular workbook
    wb = Workbook(write_only=analysis is None and decisions is None)
    if analysis is not None or decisions is not None:
        wb.remove(wb.active)
    pack = ranking.pack
    if anonymise is None:
        anonymise = bool(pack.policy.anonymise_comments)
    ctx = _ChairData(ranking, call, lang)
    ctx.withheld = frozenset(getattr(call, "withheld", ()) if withheld is None else withheld)
    ctx.changes = whatif.changes(pack) if whatif is not None else []
    prefix = wl("whatif.sheet_prefix", lang) if ctx.changes else ""

    def sheet(name: str):
        ws = wb.create_sheet(prefix + name)
        if ctx.changes:   # printed on every page of every sheet
            ws.oddHeader.center.text = wl("whatif.banner", lang)
        return ws

    ws = sheet(_S_SUMMARY)
    styles = Styles(ws)
    ctx.styles = styles
    _summary_sheet(ws, ctx, round_name, anonymise, generated_at or datetime.now(local_tz()))
    _list_sheet(sheet(_S_LIST), ctx)
    _criteria_sheet(sheet(_S_CRIT), ctx)
    _reviewer_sheet(sheet(_S_REV), ctx)
    _comments_sheet(sheet(_S_COMMENTS), ctx, anonymise)
    _eligibility_sheet(sheet(_S_ELIG), ctx)
    _chart_sheet(sheet(_S_CHART), ctx)
    if isinstance(ranking, HearingRanking):   # the two-stage run: ヒアリング対象, ヒアリング審査 (stages.md)
        write_hearing_sheets(sheet, styles, lambda ws, labels: _header(ws, ctx, labels), ranking, lang)
    if decisions is not None:
        decision_sheet(wb.create_sheet(), decisions, lang)
    if analysis is not None:
        write_analysis_sheet(wb, analysis)
        if ctx.changes:
            added = wb.worksheets[-1]
            added.title = prefix + added.title
            added.oddHeader.center.text = wl("whatif.banner", lang)
    return workbook_bytes(wb)


def whatif_value(key: str, value, pack, lang: str) -> str:
    """A what-if setting as the summary sheet shows it."""
    if key == "budget":
        if value is None:
            return wl("whatif.no_budget", lang)
        return f"{int(value):,}" + wl("unit.count" if pack.is_capacity else "unit.yen")
    if key in ("aggregation", "normalization", "selection"):
        return _param(key, str(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


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
        self.decision_labels = [label_of("decision", d, lang) for d in _DECISIONS]
        self.selected_code = _DECISIONS.index(Decision.selected)
        self.waitlisted_code = _DECISIONS.index(Decision.waitlisted)
        self.styles: Styles | None = None
        self.withheld: frozenset[str] = frozenset()


def _header(ws, ctx: _ChairData, labels: Sequence[str]):
    st = ctx.styles.get(font=Font(bold=True), fill=FILL_HEADER, border=Border(bottom=THIN),
                        alignment=Alignment(wrap_text=True, vertical="center"))
    ws.append([text_cell(ws, ctx.styles, x, st) for x in labels])


def _summary_sheet(ws, ctx: _ChairData, round_name, anonymise, generated_at) -> None:
    r, pack, lang = ctx.r, ctx.pack, ctx.lang
    S = ctx.styles
    set_widths(ws, [30, 70])
    print_setup(ws, None)
    bold = S.get(font=Font(bold=True))
    sec = S.get(font=Font(bold=True, size=12), fill=FILL_HEADER)
    money = S.get(number_format=MONEY_FMT)
    score = S.get(number_format=SCORE_FMT)
    left = S.get(alignment=Alignment(horizontal="left"))
    p = r.params
    unit = wl("unit.count" if pack.is_capacity else "unit.yen")

    def row(label, value, style=None):
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            cell = num_cell(ws, value.item() if hasattr(value, "item") else value, style)
        else:
            cell = text_cell(ws, S, "—" if value is None else value, style or left)
        ws.append([text_cell(ws, S, label, bold), cell])

    def section(title):
        ws.append([text_cell(ws, S, title, sec), text_cell(ws, S, "", sec)])

    title = wl("whatif.title", lang) if ctx.changes else "審査結果（委員長用）"
    ws.append([text_cell(ws, S, title, S.get(font=Font(bold=True, size=14)))])
    if ctx.changes:
        section(wl("whatif.section", lang))
        for key, own, mine in ctx.changes:
            row(wl(f"whatif.key.{key}", lang),
                f"{whatif_value(key, own, pack, lang)} → {whatif_value(key, mine, pack, lang)}")
    row("審査回", round_name or "—")
    row("評価パック", f"{pack.id}（版 {pack.version}）")
    row("事業区分", f"{pack.programme.code} {pack.programme.name.ja}")
    if generated_at.tzinfo is not None:   # the committee's time zone (SHINSA_TZ), as the UI shows times
        generated_at = generated_at.astimezone(local_tz())
    row("作成日時", generated_at.strftime("%Y-%m-%d %H:%M:%S %z").strip())
    row("提案数（このパック）", int(r.table.n))
    row("他パックの提案（対象外）", int(r.skipped_other_packs))
    row("評価数（提出済み・算入）", int(np.asarray(r.agg.counted).sum()))
    section("パラメータ")
    row("集計方法 (aggregation)", _param("aggregation", p.aggregation.value))
    row("正規化 (normalization)", _param("normalization", p.normalization.value))
    row("合格点 (pass_line) — 基礎点で判定", float(p.pass_line), score)
    row("項目最低基準 (criterion_floor) — 平均評点率", float(p.criterion_floor), S.get(number_format=RATIO_FMT))
    row("最低評価数 (min_reviews)", int(p.min_reviews))
    row("最高・最低除外の最低評価数 (trim_min_reviews)", int(p.trim_min_reviews))
    row("選定方法 (selection)", _param("selection", p.selection.value))
    row("補欠数 (waitlist)", int(p.waitlist))
    limit = p.budget_limit(pack)
    row("予算" + ("（採択件数）" if pack.is_capacity else "（円）"), None if limit is None else int(limit), money)
    row("1件当たり上限額（円）", pack.funding.cap_yen, money)
    over_cap = f"workbook.over_cap.{pack.funding.over_cap}"
    row("上限超過の扱い", label(over_cap) if has(over_cap) else pack.funding.over_cap)
    section("判定別件数")
    counts = r.counts()
    for d in _DECISIONS:
        row(label_of("decision", d, lang), int(counts[d.value]))
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
    ws.append([text_cell(ws, S, "採択（緑）", S.get(fill=FILL_SELECTED)),
               text_cell(ws, S, f"{_S_LIST}：採択の行は緑。赤の太線が採択ライン（最後の採択行の下）")])
    ws.append([text_cell(ws, S, "補欠（黄）", S.get(fill=FILL_WAITLIST)), text_cell(ws, S, f"{_S_LIST}：補欠の行は黄")])
    ws.append([text_cell(ws, S, "利益相反（灰）", S.get(fill=FILL_COI)),
               text_cell(ws, S, f"{_S_REV}：利益相反のため算入しない評価（灰色）。斜体は下書き（算入しない）")])
    ws.append([text_cell(ws, S, "所見の委員表示", bold), text_cell(ws, S, "匿名（委員A、委員B…）" if anonymise else "委員ID・氏名")])
    hidden = [ctx.ids[i] for i in ctx.order.tolist() if ctx.ids[i] in ctx.withheld]
    if hidden:
        ws.append([text_cell(ws, S, wl("withheld", lang), S.get(fill=FILL_COI)),
                   text_cell(ws, S, wl("withheld_note", lang, sheets=f"{_S_REV}・{_S_COMMENTS}",
                                       ids="、".join(hidden)))])
    ws.append([text_cell(ws, S, "金額の単位", bold), text_cell(ws, S, unit)])


def _list_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    cap = ctx.pack.is_capacity
    cols = ["rank", "id", "title", "applicant", "decision", "waitlist", "base", "bonus", "total", "n_reviews",
            "requested_n" if cap else "requested", "funded_n" if cap else "funded", "capped",
            "cumulative_n" if cap else "cumulative", "reasons", "conditions"]
    # narrow enough that A4 landscape "fit to width" stays legible; long texts wrap
    set_widths(ws, [5, 10, 30, 18, 12, 6, 8, 7, 8, 6, 15, 15, 6, 15, 46, 24])
    n = len(ctx.order)
    table_sheet(ws, n, len(cols), "C2")
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
            num_cell(ws, int(rank[i]) or None, tn),
            text_cell(ws, S, ids[i], tt),
            text_cell(ws, S, titles[i], tw),
            text_cell(ws, S, apps[i], tw),
            text_cell(ws, S, dl[dec[i]], tt),
            num_cell(ws, int(wl[i]) or None, tn),
            num_cell(ws, float(base[i]), ts),
            num_cell(ws, float(bonus[i]), ts),
            num_cell(ws, float(total[i]), ts),
            num_cell(ws, int(nrev[i]), tn),
            num_cell(ws, req[i], tm),
            num_cell(ws, int(funded[i]), tm),
            text_cell(ws, S, yes if capped[i] else "", tt),
            num_cell(ws, int(cum[i]) or None, tm),
            text_cell(ws, S, sep.join(reasons), tw),
            text_cell(ws, S, sep.join(conds), tw),
        ])


def _criteria_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    crit = ctx.pack.criteria
    labels = [_lbl("rank", lang), _lbl("id", lang), _lbl("title", lang)]
    labels += [wl("col.criterion_points", lang, label=c.label.get(lang), points=f"{c.points:g}") for c in crit]
    labels += [_lbl("base", lang)]
    set_widths(ws, [6, 12, 40] + [16] * len(crit) + [10])
    table_sheet(ws, len(ctx.order), len(labels), "D2")
    _header(ws, ctx, labels)
    pts = np.asarray(r.agg.crit_points, dtype=float)
    sc = S.get(number_format=SCORE_FMT)
    rank = np.asarray(r.rank)
    for i in ctx.order.tolist():
        row = [num_cell(ws, int(rank[i]) or None), text_cell(ws, S, ctx.ids[i]), text_cell(ws, S, ctx.titles[i])]
        row += [num_cell(ws, v, sc) for v in pts[i].tolist()]
        row.append(num_cell(ws, float(ctx.base[i]), sc))
        ws.append(row)


def _reviewer_names(call) -> dict[str, str]:
    return {rv.reviewer_id: rv.name for rv in (getattr(call, "reviewers", None) or [])}


def _reviewer_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang, call = ctx.r, ctx.styles, ctx.lang, ctx.call
    reviews = call.reviews
    names = _reviewer_names(call)
    # one column per member with a review or a declared conflict: a member who reviewed nothing (the chair,
    # as a rule) would be an empty column with no heading saying why
    reviewers = getattr(call, "reviewers", None)
    pairs = conflict_pairs(r.table, reviewers) if reviewers else []
    rids = sorted(set(str(x) for x in reviews.reviewer) | {rid for rid, _ in pairs})
    col = {rid: k for k, rid in enumerate(rids)}
    labels = [_lbl("rank", lang), _lbl("id", lang), _lbl("title", lang)]
    labels += [f"{rid} {names[rid]}".strip() if names.get(rid) else rid for rid in rids]
    set_widths(ws, [6, 12, 40] + [12] * len(rids))
    table_sheet(ws, len(ctx.order), len(labels), "D2")
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
    for rid, p in pairs:
        state[p, col[rid]] = 3
    sc = S.get(number_format=SCORE_FMT)
    draft = S.get(number_format=SCORE_FMT, font=Font(italic=True, color="808080"))
    coi = S.get(fill=FILL_COI, alignment=Alignment(horizontal="center"))
    coi_text = wl("coi", lang)
    hidden_text = wl("withheld", lang)
    rank = np.asarray(r.rank)
    for i in ctx.order.tolist():
        row = [num_cell(ws, int(rank[i]) or None), text_cell(ws, S, ctx.ids[i]), text_cell(ws, S, ctx.titles[i])]
        st = state[i]
        v = value[i]
        hide = ctx.ids[i] in ctx.withheld
        for k in range(R):
            s = st[k]
            if s == 0:
                row.append(None)
            elif hide and s in (1, 2):   # the reader's conflict: no reviewer's score of this proposal
                row.append(text_cell(ws, S, hidden_text, coi))
            elif s == 1:
                row.append(num_cell(ws, float(v[k]), sc))
            elif s == 2:
                row.append(num_cell(ws, float(v[k]), draft))
            else:
                row.append(text_cell(ws, S, coi_text, coi))
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
        out[rid] = wl("anonymous_reviewer", lang, letters=name)
    return out


def _comments_sheet(ws, ctx: _ChairData, anonymise: bool) -> None:
    r, S, lang, call = ctx.r, ctx.styles, ctx.lang, ctx.call
    comments = getattr(call.reviews, "comments", None) or {}
    labels = [_lbl("id", lang), _lbl("title", lang), _lbl("reviewer", lang), _lbl("criterion", lang),
              _lbl("comment", lang)]
    set_widths(ws, [12, 36, 16, 36, 90])
    wrap = S.get(alignment=Alignment(wrap_text=True, vertical="top"))
    item_label = {c.id: c.label.get(lang) for c in ctx.pack.criteria}
    item_label.update({f"bonus:{b.id}": f"加点：{b.label.get(lang)}" for b in ctx.pack.bonuses})
    item_order = {c.id: k for k, c in enumerate(ctx.pack.criteria)}
    item_order.update({f"bonus:{b.id}": len(item_order) + k for k, b in enumerate(ctx.pack.bonuses)})
    names = _reviewer_names(call)
    anon = anonymous_labels([rid for rid, _ in comments], ctx.pack.id, lang=lang) if anonymise else {}
    pos = {ctx.ids[i]: k for k, i in enumerate(ctx.order.tolist())}
    row_of = {pid: i for i, pid in enumerate(ctx.ids)}
    keys = [k for k in comments if k[1] in pos and k[1] not in ctx.withheld]
    keys += [("", pid) for pid in pos if pid in ctx.withheld]   # one line each: withheld, not missing
    keys.sort(key=lambda k: (pos[k[1]], anon.get(k[0], k[0])))
    rows = []
    for rid, pid in keys:
        if pid in ctx.withheld:
            rows.append((pid, ctx.titles[row_of[pid]], "—", "—", wl("withheld_comments", lang)))
            continue
        items = comments[(rid, pid)]
        who = anon[rid] if anonymise else (f"{rid} {names[rid]}".strip() if names.get(rid) else rid)
        for item in sorted(items, key=lambda x: item_order.get(x, 1 << 30)):
            rows.append((pid, ctx.titles[row_of[pid]], who, item_label.get(item, item), items[item]))
    table_sheet(ws, len(rows), len(labels), "C2")
    _header(ws, ctx, labels)
    for pid, title, who, item, text in rows:
        ws.append([text_cell(ws, S, pid), text_cell(ws, S, title), text_cell(ws, S, who), text_cell(ws, S, item),
                   text_cell(ws, S, text, wrap)])


def _eligibility_sheet(ws, ctx: _ChairData) -> None:
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    elig = r.elig
    labels = [_lbl("id", lang), _lbl("title", lang), _lbl("rule_id", lang), _lbl("rule", lang),
              _lbl("status", lang), _lbl("reason", lang)]
    set_widths(ws, [12, 36, 26, 30, 10, 90])
    status_label = {code: label_of("status", s, lang) for code, s in STATUS_OF_CODE.items()}
    rules = elig.rules
    rule_labels = [rl.label.get(lang) for rl in rules]
    flags = elig.expense_flags or {}
    n_rows = len(ctx.order) * len(rules) + sum(len(v) for v in flags.values())
    table_sheet(ws, n_rows, len(labels), "C2")
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
            ws.append([text_cell(ws, S, pid), text_cell(ws, S, title), text_cell(ws, S, rule.id), text_cell(ws, S, rule_labels[k]),
                       text_cell(ws, S, status_label[code], st), text_cell(ws, S, elig.reason(i, k, lang))])
        for f in flags.get(i, []):
            msg = f.get("message_en") if lang == "en" and f.get("message_en") else f.get("message", "")
            what = "注意" if f.get("status") == "flagged" else "要確認"
            ws.append([text_cell(ws, S, pid), text_cell(ws, S, title), text_cell(ws, S, f"経費:{f.get('check')}"),
                       text_cell(ws, S, check_label.get(f.get("check"), f.get("check"))), text_cell(ws, S, what, warn),
                       text_cell(ws, S, f"明細{f.get('line')}「{f.get('item') or ''}」：{msg}")])


def _chart_sheet(ws, ctx: _ChairData) -> None:
    """Data for two native charts and the charts themselves.

    A–E: every proposal with a score, by total (desc): base + bonus stacked, the pass line (it applies to the
    base score). G–K: the ranked proposals in rank order: cumulative funded as if all were funded, cumulative
    of those selected, the budget.
    """
    r, S, lang = ctx.r, ctx.styles, ctx.lang
    pack = r.pack
    cap = pack.is_capacity
    set_widths(ws, [12, 10, 10, 10, 10, 2, 12, 16, 16, 16])
    print_setup(ws)
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
    unit = wl("unit.count" if cap else "unit.yen")
    # the chart's own columns are in Japanese whatever the language (as the sheet names)
    hdr = [_lbl("id", lang), _lbl("base", lang), _lbl("bonus", lang), wl("col.pass_line"), _lbl("total", lang), None,
           _lbl("id", lang), wl("col.cum_all", unit=unit), wl("col.cum_selected", unit=unit),
           wl("col.budget", unit=unit)]
    _header(ws, ctx, [h or "" for h in hdr])
    sc = S.get(number_format=SCORE_FMT)
    mo = S.get(number_format=MONEY_FMT)
    n1, n2 = len(scored), len(ranked)
    s_list, r_list = scored.tolist(), ranked.tolist()
    for k in range(max(n1, n2)):
        row: list = []
        if k < n1:
            i = s_list[k]
            row += [text_cell(ws, S, ctx.ids[i]), num_cell(ws, float(ctx.base[i]), sc), num_cell(ws, float(ctx.bonus[i]), sc),
                    num_cell(ws, pass_line, sc), num_cell(ws, float(ctx.total[i]), sc)]
        else:
            row += [None] * 5
        row.append(None)
        if k < n2:
            i = r_list[k]
            row += [text_cell(ws, S, ctx.ids[i]), num_cell(ws, int(all_cum[k]), mo), num_cell(ws, int(sel_cum[k]), mo),
                    num_cell(ws, None if limit is None else int(limit), mo)]
        ws.append(row)

    if n1:
        bar = BarChart()
        bar.type = "col"
        bar.grouping = "stacked"
        bar.overlap = 100
        bar.title = wl("chart.scores", lang)
        bar.y_axis.title = wl("chart.points", lang)
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
        lc.title = wl("chart.funding", lang)
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

