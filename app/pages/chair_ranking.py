"""順位・採択 — the chair's ranking of one programme of a round (issue 4 §4, issue 6 §5).

Reads like the page: choose the round and the programme; what-if controls (budget, aggregation,
normalisation, pass line, selection method, waitlist) that re-rank at once without touching the stored round;
save the what-if as a named scenario; the budget gauge; the ranked table (one virtualised table: the funding
line as a separator row, the reasons of every proposal that is not selected in its own column); the waitlist;
the cumulative budget chart; analyses beside the
official decision (optimal portfolio, rank intervals / gray zone, reviewer calibration, sensitivity);
downloads (the chair workbook, CSV, JSON).

The what-if controls, the summary, the ranked table and the chart are one ``st.fragment``: a what-if change
reruns and redraws only that part. Scenario save, analyses and downloads sit below it and read the current
what-if settings from the session.
Every figure comes from :class:`scoring.selection.Ranking` (``Call.rank``) and :mod:`scoring.analytics`.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.auth import require
from app.session import change_marker, error_text, get_store, round_analysis, round_call, round_pack_header
from app.i18n import current_lang, t
from app.ui import error_boundary, man_oku, money, score, yen_both
from scoring.io import csv_bytes
from scoring.models import Aggregation, Decision, Normalization, SelectionMethod
from scoring.labels import label
from scoring.params import WhatIf
from scoring.store import StoreError
from scoring.store.scenarios import ScenarioService

W = {k: f"chair_{k}" for k in WhatIf.KEYS}   # the what-if widgets' keys
FOR = "chair_whatif_for"
# plain symbols (the table is drawn on a canvas: no emoji font needed)
DECISION_ICONS = {"selected": "◎", "waitlisted": "△", "over_budget": "×", "ranked": "・", "below_pass_line": "−",
                  "below_criterion_floor": "−", "insufficient_reviews": "−", "ineligible": "−"}
MANY = 200   # ranked proposals above which the chart shows the cumulative line only
COLORS = {"selected": "#2e7d32", "waitlisted": "#f9a825", "over_budget": "#9e9e9e", "ranked": "#1565c0"}


def decision_label(value: str) -> str:
    return t(f"decision.{value}")


# --- what-if -----------------------------------------------------------------------------------------------------

def official(pack) -> dict:
    """The pack's own parameters, as the what-if widgets hold them."""
    return WhatIf().settings(pack)


def set_whatif(values: dict) -> None:
    for k, key in W.items():
        st.session_state[key] = values.get(k)


def whatif_values(pack, target) -> tuple[dict, dict]:
    """The what-if settings held by the widgets (the pack's own when the round or programme changed), and the
    pack's own settings."""
    ss = st.session_state
    base = official(pack)
    if ss.get(FOR) != target or any(k not in ss for k in W.values()):
        set_whatif(base)
        ss[FOR] = target
    return {k: ss.get(key) for k, key in W.items()}, base


def whatif_controls(pack, base: dict) -> None:
    ss = st.session_state
    with st.container(border=True):
        head, reset = st.columns([5, 1], vertical_alignment="center")
        head.markdown("**" + t("chair.whatif.title") + "**　" + t("chair.whatif.help"))
        reset.button(t("chair.whatif.reset"), key="chair_whatif_reset", on_click=set_whatif, args=(base,),
                     icon=":material/restart_alt:")
        c = st.columns(6)
        if pack.is_capacity:
            c[0].number_input(t("chair.whatif.capacity"), key=W["budget"], min_value=0, step=1, value=None)
        else:
            c[0].number_input(t("chair.whatif.budget"), key=W["budget"], min_value=0, step=10_000_000, value=None,
                              format="%d", placeholder=t("chair.whatif.no_budget"))
            if ss.get(W["budget"]) is not None:
                c[0].caption(man_oku(int(ss[W["budget"]])))
        c[1].selectbox(t("chair.whatif.aggregation"), [a.value for a in Aggregation], key=W["aggregation"],
                       format_func=lambda v: t(f"chair.aggregation.{v}"))
        c[2].selectbox(t("chair.whatif.normalization"), [n.value for n in Normalization], key=W["normalization"],
                       format_func=lambda v: t(f"chair.normalization.{v}"))
        c[3].number_input(t("chair.whatif.pass_line"), key=W["pass_line"], min_value=0.0,
                          max_value=float(pack.total_points), step=1.0, format="%.2f")
        c[4].selectbox(t("chair.whatif.selection"), [m.value for m in SelectionMethod], key=W["selection"],
                       format_func=lambda v: t(f"chair.selection.{v}"))
        c[5].number_input(t("chair.whatif.waitlist"), key=W["waitlist"], min_value=0, step=1)


def scenario_controls(me, rid: int, pack, values: dict, changed: bool) -> None:
    svc = ScenarioService(get_store())
    with st.expander(t("chair.scenario.title"), icon=":material/bookmark:"):
        st.caption(t("chair.scenario.help"))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.text_input(t("chair.scenario.name"), key="chair_scenario_name")
        # never disabled: a what-if change reruns only the fragment above, not this button
        if c2.button(t("chair.scenario.save"), key="chair_scenario_save"):
            if not changed:
                st.info(t("chair.scenario.unchanged"))
                return
            try:
                svc.save_scenario(me, rid, name, pack.id, WhatIf.from_settings(pack, values))
                st.success(t("chair.scenario.saved", name=name.strip()))
            except ValueError:
                st.error(t("chair.scenario.need_name"))
            except StoreError as exc:
                st.error(error_text(exc))
        saved = svc.list_scenarios(me, rid, pack.id)
        if saved:
            names = [s.name for s in saved]
            by = {s.name: s for s in saved}
            c3, c4 = st.columns([3, 1], vertical_alignment="bottom")
            pick = c3.selectbox(t("chair.scenario.saved_list"), names, key="chair_scenario_pick",
                                format_func=lambda n: f"{n}（{by[n].saved_by}）")
            c4.button(t("chair.scenario.load"), key="chair_scenario_load", on_click=set_whatif,
                      args=(by[pick].whatif.settings(pack),))


# --- figures -----------------------------------------------------------------------------------------------------

def budget_gauge(ranking) -> None:
    """The budget gauge: how much of the budget (or of the capacity) the selection uses. Drawn by the browser
    itself (a bar and two lines of text), so a what-if redraws it at no cost."""
    b = ranking.budget_view()
    with st.container(border=True, key="chair_gauge"):
        if b.limit is None:
            st.info(t("chair.no_budget"))
            return
        st.markdown("**" + t("chair.gauge.title", limit=short_amount(b.unit, b.limit)) + "**")
        st.progress(min(max(b.share, 0.0), 1.0),
                    text=t("chair.gauge.used", used=short_amount(b.unit, b.used),
                           share=f"{b.share:.1%}" if b.limit else "—"))


def short_amount(unit: str, value: int) -> str:
    """A budget figure in the page's words: 万円/億円 for money, 件 for a count of recipients."""
    return f"{value:,}" + t("chair.unit.count") if unit == "count" else man_oku(value)


def cumulative_chart(ranking) -> go.Figure:
    """Funded amount per ranked proposal in rank order (one vertical stick each, one SVG path per decision),
    the cumulative amount of the selected ones, the budget as a horizontal line and the funding line after the
    last selected.

    A few SVG paths whatever the size of the call (not one bar per proposal, nor a new WebGL context on every
    redraw). Above ``MANY`` ranked proposals the per-proposal sticks are left out (the table lists every
    amount): the chart keeps the cumulative line, the budget and the funding line, and a what-if redraws it
    cheaply."""
    codes = list(Decision)
    order = ranking.order
    ranked = order[ranking.rank[order] > 0]
    n = len(ranked)
    x = np.arange(1, n + 1, dtype=float)
    dec = ranking.decision[ranked]
    funded = ranking.funded[ranked].astype(float)
    ids = np.asarray(ranking.table.ids, dtype=object)[ranked]
    width = max(1.0, min(16.0, 700.0 / max(n, 1)))
    fig = go.Figure()
    for code, d in enumerate(codes if n <= MANY else ()):
        mask = dec == code
        if not mask.any():
            continue
        k = int(mask.sum())
        xs = np.repeat(x[mask], 3)
        xs[2::3] = np.nan
        ys = np.column_stack([np.zeros(k), funded[mask], np.full(k, np.nan)]).ravel()
        hover = np.repeat(ids[mask], 3)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=decision_label(d.value), customdata=hover,
                                 line=dict(color=COLORS.get(d.value, "#9e9e9e"), width=width),
                                 hovertemplate="%{customdata}<br>" + decision_label(d.value) + "<extra></extra>"))
    cum = ranking.cumulative[ranked]
    sel = cum > 0
    if sel.any():
        fig.add_trace(go.Scatter(x=x[sel], y=cum[sel].astype(float), mode="lines", name=t("chair.chart.cumulative"),
                                 line=dict(color="#1565c0"), customdata=ids[sel],
                                 hovertemplate="%{customdata}<br>%{y:,}<extra></extra>"))
    shapes, notes = [], []
    b = ranking.budget_view()
    if b.limit is not None:   # the budget: a dashed horizontal line across the plot
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=b.limit, y1=b.limit,
                           line=dict(color="#c62828", dash="dash")))
        notes.append(dict(xref="paper", x=0, y=b.limit, xanchor="left", yanchor="bottom", showarrow=False,
                          text=t("chair.chart.budget", amount=short_amount(b.unit, b.limit))))
    line = ranking.funding_line
    if line and line < n:   # the funding line (Ranking.funding_line): after the last selected
        at = line + 0.5
        shapes.append(dict(type="line", yref="paper", x0=at, x1=at, y0=0, y1=1,
                           line=dict(color="#c62828", dash="dot", width=2)))
        notes.append(dict(x=at, y=1.02, yref="paper", text=t("chair.funding_line"), showarrow=False,
                          font=dict(color="#c62828")))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), yaxis_tickformat=",d", hovermode="closest",
                      shapes=shapes, annotations=notes,
                      legend=dict(orientation="h", y=-0.2), xaxis=dict(title=t("chair.chart.x"), range=[0, n + 1]),
                      yaxis_title=t(f"chair.unit.{b.unit}_axis"))
    return fig


# --- the ranked list ---------------------------------------------------------------------------------------------

def ranking_table(ranking, lang: str) -> pd.DataFrame:
    """The ranked list in order (``Ranking.display_columns``) — numbers stay numbers (formatted by the table's
    column configuration) — with a separator row where the funding line falls."""
    c = ranking.display_columns(lang)
    rank = c["rank"]
    frame = pd.DataFrame({
        "rank": pd.array(rank, dtype="Int64"), "id": c["id"], "title": c["title"],
        "decision": [f"{DECISION_ICONS.get(d.value, '')} {decision_label(d.value)}" + (f" {w}" if w else "")
                     for d, w in zip(c["decision"], c["waitlist_position"].tolist())],
        "base": c["base"], "bonus": c["bonus"], "total": c["total"],
        "funded": pd.array(c["funded"], dtype="Int64"), "capped": c["capped"],
        "cumulative": pd.array(c["cumulative"], dtype="Int64"), "reasons": c["reasons"],
    })
    frame.loc[frame["rank"] == 0, "rank"] = pd.NA
    frame.loc[frame["cumulative"] == 0, "cumulative"] = pd.NA
    at = ranking.funding_line
    if at is not None and at < int((rank > 0).sum()):   # a line with ranked proposals below it
        line = pd.DataFrame({"id": ["━━━━"], "decision": [t("chair.funding_line_row")], "title": [""],
                             "reasons": [""], "capped": [False]})
        frame = pd.concat([frame.iloc[:at], line, frame.iloc[at:]], ignore_index=True)
        frame = frame.astype({"rank": "Int64", "funded": "Int64", "cumulative": "Int64"})
    return frame.rename(columns=table_labels(ranking))


def table_labels(ranking) -> dict[str, str]:
    money = "_yen" if ranking.budget_view().unit == "yen" else ""
    return {"rank": t("chair.col_rank"), "id": t("chair.col_id"), "title": t("chair.col_title"),
            "decision": t("chair.col_decision"), "base": t("chair.col_base"), "bonus": t("chair.col_bonus"),
            "total": t("chair.col_total"), "funded": t(f"chair.col_funded{money}"), "capped": t("chair.col_capped"),
            "cumulative": t(f"chair.col_cumulative{money}"), "reasons": t("chair.reasons.reason")}


def table_config(ranking) -> dict:
    """Formatting in the browser: thousands separators for money, two decimals for scores."""
    c = st.column_config
    label = table_labels(ranking)
    score_col = c.NumberColumn(format="%.2f", width="small")
    return {label["rank"]: c.NumberColumn(format="%d", width="small"),
            label["id"]: c.TextColumn(width="small"), label["title"]: c.TextColumn(width="medium"),
            label["decision"]: c.TextColumn(width="medium"),
            label["base"]: score_col, label["bonus"]: score_col, label["total"]: score_col,
            label["funded"]: c.NumberColumn(format="localized"),
            label["capped"]: c.CheckboxColumn(width="small", help=t("chair.col_capped_help")),
            label["cumulative"]: c.NumberColumn(format="localized"),
            label["reasons"]: c.TextColumn(width="large")}


def waitlist_section(ranking) -> None:
    wl = [int(i) for i in ranking.order if ranking.waitlist_position[int(i)]]
    if wl:
        st.markdown("**" + t("chair.waitlist.title") + "**" + t("common.label_sep") + t("common.list_sep").join(
            f"{int(ranking.waitlist_position[i])}. {ranking.table.ids[i]}" for i in wl))


# --- analyses ----------------------------------------------------------------------------------------------------

def analyses(ranking, call, key: tuple, lang: str) -> None:
    from scoring.analytics import analyze

    ss = st.session_state
    stored = ss.get("chair_analysis")
    tabs = st.tabs([t("chair.tab.portfolio"), t("chair.tab.uncertainty"), t("chair.tab.calibration"),
                    t("chair.tab.sensitivity")])
    if stored is None or stored[0] != key:
        with tabs[0]:
            st.caption(t("chair.analysis.help"))
            if st.button(t("chair.analysis.run"), key="chair_analysis_run", icon=":material/analytics:"):
                with st.spinner(t("chair.analysis.running")):
                    # scoring.analytics' own defaults (1,000 resamples, seed 0: selection.md §10), once per state;
                    # the calibration leaves out what the chair's conflicts withhold (so the key holds them)
                    withheld = tuple(sorted(call.withheld))
                    result = round_analysis(key + (withheld,), lambda: analyze(
                        ranking, ranking.reviews, reviewers=call.reviewers, portfolio_time_limit=20,
                        exclude=withheld))
                ss["chair_analysis"] = (key, result)
                st.rerun()
        return
    a = stored[1]
    en = lang == "en"
    with tabs[0]:
        p = a["portfolio"]
        st.info(p.get("reading_en" if en else "reading") or t("chair.analysis.none"))
        if p.get("available"):
            c = st.columns(2)
            c[0].metric(t("chair.analysis.greedy"), score(p["greedy"]["total_score"]), help=", ".join(p["greedy"]["proposal_ids"]))
            c[1].metric(t("chair.analysis.optimal"), score(p["optimal"]["total_score"]), help=", ".join(p["optimal"]["proposal_ids"]))
            diff = portfolio_rows(p, lang)
            if diff:
                st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch")
    with tabs[1]:
        u = a["uncertainty"]
        st.info(u.get("reading_en" if en else "reading", ""))
        pct = round(100 * u.get("level", 0.95))
        iv = lambda v: f"{v[0]}–{v[1] or '—'}" if v and v[0] else "—"  # noqa: E731
        rows = [{"ID": r["proposal_id"], t("chair.col_rank"): r["rank"] or None,   # one dtype (Int64) for Arrow
                 t("chair.analysis.median_rank"): r["median_rank"],
                 t("chair.analysis.expected_rank"): score(r.get("expected_rank")),
                 t("chair.analysis.interval", level=pct): iv(r.get("rank_interval")),
                 t("chair.analysis.p_selected"): (f"{r['p_selected']:.1%} ± {r['p_selected_mcse']:.1%}"
                                                  if r.get("p_selected") is not None else "—"),
                 t("chair.analysis.sucra"): score(r.get("sucra")),
                 t("chair.analysis.gray"): "◆" if r.get("gray_zone") else ""} for r in u["proposals"]]
        st.dataframe(pd.DataFrame(rows).astype({t("chair.col_rank"): "Int64"}), hide_index=True, width="stretch")
        st.caption(t("chair.analysis.gray_rule", level=pct, line=u["gray_zone_rule"].get("line_after_rank") or "—"))
        if u.get("stability", {}).get("unstable"):
            st.caption(t("chair.analysis.unstable", ids=", ".join(u["stability"]["unstable"]),
                         draws=u["stability"].get("draws_needed") or "—"))
    with tabs[2]:
        if a["calibration"].get("excluded"):
            st.caption(t("chair.calibration.withheld", ids=t("common.list_sep").join(a["calibration"]["excluded"])))
        calibration_view(a["calibration"], en)
        adj = a.get("leniency_adjusted") or {}
        if adj:
            st.markdown("**" + t("chair.adjusted.title") + "**")
            st.info(adj.get("reading_en" if en else "reading", ""))
            if adj.get("proposals"):
                st.dataframe(pd.DataFrame([{"ID": r["proposal_id"], t("chair.col_rank"): r["rank"],
                                            t("chair.adjusted.rank"): r["adjusted_rank"],
                                            t("chair.adjusted.score"): score(r["adjusted_score"])}
                                           for r in adj["proposals"]]), hide_index=True, width="stretch")
    with tabs[3]:
        s = a["sensitivity"]
        st.info(s.get("reading_en" if en else "reading", ""))
        st.dataframe(pd.DataFrame(sensitivity_rows(s, lang)), hide_index=True, width="stretch")


def portfolio_rows(p: dict, lang: str) -> list[dict]:
    """The proposals in only one of the two selections, with labelled columns, decisions in words, money per
    language (a count for a pack that selects by number)."""
    amount = (lambda v: money(v, lang)) if p.get("unit", "yen") == "yen" else (lambda v: v)  # noqa: E731
    return [{t("chair.portfolio.side", lang): t(f"chair.portfolio.{side}", lang),
             t("chair.col_id", lang): r["proposal_id"], t("chair.col_rank", lang): str(r.get("rank") or "—"),   # one type per column
             t("chair.col_decision", lang): t(f"decision.{r['decision']}", lang),
             t("chair.col_total", lang): score(r.get("total_score")),
             t("chair.col_funded", lang): amount(r.get("funded"))}
            for side in ("only_in_optimal", "only_in_greedy") for r in p.get(side, [])]


def sensitivity_rows(s: dict, lang: str) -> list[dict]:
    """One row per criterion and weight factor: what changes when that criterion's points are scaled."""
    sep = t("common.list_sep", lang)
    return [{t("chair.sensitivity.criterion", lang): (row.get("label_en") if lang == "en" else None)
             or row.get("label") or row["criterion"],
             t("chair.sensitivity.factor", lang): f"×{row['factor']:g}",
             t("chair.sensitivity.pass_line", lang): score(row.get("pass_line")),
             t("chair.sensitivity.n_rank_changes", lang): row["n_rank_changes"],
             t("chair.sensitivity.max_rank_shift", lang): row["max_rank_shift"],
             t("chair.sensitivity.entered", lang): sep.join(row["entered"]) or "—",
             t("chair.sensitivity.left", lang): sep.join(row["left"]) or "—"}
            for row in s["criteria"]]


def calibration_view(cal: dict, en: bool) -> None:
    """Reviewer calibration: leniency (points above or below the panel) and spread per reviewer."""
    ag = cal.get("agreement", {})
    st.info(ag.get("reading_en" if en else "reading", ""))
    al = ag.get("all") or {}
    if al:
        ci = lambda k: "" if (al.get(f"{k}_ci") or [None])[0] is None else "[{:.2f}, {:.2f}]".format(*al[f"{k}_ci"])  # noqa: E731
        c = st.columns(3)
        c[0].metric(t("chair.calibration.icc"), score(al.get("icc_ak")), help=ci("icc_ak"))
        c[1].metric(t("chair.calibration.alpha"), score(al.get("alpha")), help=ci("alpha"))
        c[2].metric(t("chair.calibration.used"), al.get("n_reviews"))
    if ag.get("icc2k") is not None:
        st.caption(t("chair.calibration.block", icc=score(ag["icc2k"]), w=score(ag.get("kendall_w")),
                     proposals=ag["balanced"]["n_proposals"], reviewers=ag["balanced"]["n_reviewers"]))
    revs = cal.get("reviewers", [])
    if not revs:
        return
    fig = go.Figure(go.Bar(x=[r["leniency"] for r in revs], y=[r.get("name") or r["reviewer_id"] for r in revs],
                           orientation="h", error_x=dict(type="data", array=[r.get("sd") or 0 for r in revs],
                                                         visible=True, color="#90a4ae"),
                           marker_color=["#c62828" if r.get("flagged") else "#1565c0" for r in revs]))
    th = cal.get("threshold", 0)
    for x in (-th, th):
        fig.add_vline(x=x, line_dash="dot", line_color="#c62828")
    fig.update_layout(height=60 + 40 * len(revs), margin=dict(l=10, r=10, t=30, b=10),
                      title=t("chair.calibration.title"), xaxis_title=t("chair.calibration.x"))
    st.plotly_chart(fig, width="stretch", key="chair_calibration_chart", alt=t("a11y.calibration.alt"))
    st.caption(t("a11y.calibration.caption"))
    st.dataframe(pd.DataFrame([{
        t("chair.calibration.reviewer"): r.get("name") or r["reviewer_id"],
        t("chair.calibration.n"): r["n_reviews"], t("chair.calibration.mean"): score(r.get("mean")),
        t("chair.calibration.sd"): score(r.get("sd")), t("chair.calibration.leniency"): score(r.get("leniency")),
        t("chair.calibration.flag"): "⚠" if r.get("flagged") else ""} for r in revs]),
        hide_index=True, width="stretch")


# --- downloads ---------------------------------------------------------------------------------------------------

def downloads(ranking, call, round_info, lang: str, key: tuple, whatif: WhatIf) -> None:
    """Files are built on request (the results of every proposal, the workbook), then offered for download. Files
    of a what-if say so: the workbook on every sheet (``chair_workbook(whatif=…)``), every file in its name."""
    if st.button(t("chair.download.prepare_xlsx"), key="chair_xlsx_prepare", icon=":material/table_view:"):
        from scoring.io.chair_workbook import chair_workbook

        with st.spinner(t("chair.download.preparing")):
            st.session_state["chair_xlsx"] = (key, chair_workbook(ranking, call, round_name=round_info.name,
                                                                   lang=lang, whatif=whatif))
            st.session_state["chair_files"] = (key, {   # the one ranking CSV, as the command line writes it
                "csv": csv_bytes(*ranking.csv_table(lang)),
                "json": json.dumps(ranking.to_dict(lang), ensure_ascii=False, indent=2).encode("utf-8")})
    stored, files = st.session_state.get("chair_xlsx"), st.session_state.get("chair_files")
    if not (stored and stored[0] == key and files and files[0] == key):
        st.caption(t("chair.download.help"))
        return
    stem = ranking.pack.id + ("" if whatif.is_official else label("workbook.whatif.file_suffix", lang))
    c = st.columns(3)
    c[0].download_button(t("chair.download.xlsx"), stored[1], file_name=f"{stem}_chair.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         key="chair_dl_xlsx", on_click="ignore", icon=":material/download:", type="primary")
    c[1].download_button(t("chair.download.csv"), files[1]["csv"], file_name=f"{stem}_ranking.csv",
                         mime="text/csv", key="chair_dl_csv", on_click="ignore", icon=":material/csv:")
    c[2].download_button(t("chair.download.json"), files[1]["json"], file_name=f"{stem}_ranking.json",
                         mime="application/json", key="chair_dl_json", on_click="ignore",
                         icon=":material/data_object:")


# --- the page ----------------------------------------------------------------------------------------------------

SHOWN = "chair_shown"      # the what-if state the parts outside the fragment were last drawn for
CURRENT = "chair_current"  # (state key, ranking) of the latest run of the fragment


def current(me, rnd, pack_id: str):
    """The what-if state of the page: ``(call, pack, values, base, ranking, key)``. The ranking of the latest
    fragment run is reused when the state is the same (the parts outside the fragment run after it)."""
    marker = change_marker(me, rnd.id)
    call, resolutions = round_call(me, rnd.id, pack_id, marker)
    pack = call.pack
    values, base = whatif_values(pack, (rnd.id, pack_id))
    key = (rnd.id, pack_id, marker, tuple(sorted(values.items())))
    hit = st.session_state.get(CURRENT)
    if hit is not None and hit[0] == key:
        return call, pack, values, base, hit[1], key
    ranking = call.rank(WhatIf.from_settings(pack, values), resolutions)
    st.session_state[CURRENT] = (key, ranking)
    return call, pack, values, base, ranking, key


def render() -> None:
    me = require("chair")
    head = round_pack_header(me, "chair.ranking.title")
    if head is None:
        return
    rnd, pack_id = head[0], head[1]
    st.session_state.pop(SHOWN, None)   # a full run: the parts below are drawn again for the current state
    ranking_view(rnd, pack_id)
    with error_boundary("chair_ranking"):
        outside_parts(me, rnd, pack_id)


@st.fragment
def ranking_view(rnd, pack_id: str) -> None:
    """Everything a what-if changes at once: the what-if controls, the summary (gauge and counts), the ranked
    table and the cumulative chart. A fragment: changing a what-if control reruns (and redraws) only this part
    of the page. Everything is computed first and then drawn in one go, so the browser gets the new elements
    together and lays the page out once.

    The parts below it (scenario save, analyses, downloads) read the what-if settings from the session when
    they run; when they show results of earlier settings (an analysis, prepared files), a what-if change
    reruns the whole page so nothing stale stays on screen."""
    with error_boundary("chair_ranking"):
        me = require("chair")          # the acting user re-read on every run of the fragment too
        lang = current_lang()
        call, pack, values, base, ranking, key = current(me, rnd, pack_id)
        shown = st.session_state.get(SHOWN)
        if shown is not None and shown != key:
            st.rerun(scope="app")
        changed = values != base
        table, chart = ranking_table(ranking, lang), cumulative_chart(ranking)
        counts, b = ranking.counts(), ranking.budget_view()

        whatif_controls(pack, base)
        if changed:
            st.warning(t("chair.whatif.active"), icon=":material/science:")
        left, right = st.columns([1, 1])
        with left:
            budget_gauge(ranking)
        with right:
            m = st.columns(2)
            m[0].metric(t("decision.selected"), counts["selected"])
            m[1].metric(t("decision.waitlisted"), counts["waitlisted"])
            amount = (lambda v: f"{v:,}") if b.unit == "count" else yen_both
            used = amount(b.used)
            remaining = "—" if b.remaining is None else amount(b.remaining)
            st.markdown(f"**{t('chair.metric.used')}**　{used}\n\n**{t('chair.metric.remaining')}**　{remaining}")
        # one Arrow table, virtualised by the browser: only the visible rows are drawn
        st.dataframe(table, hide_index=True, width="stretch", column_config=table_config(ranking),
                     placeholder="", height=min(38 + 35 * (len(table) + 1), 640), key="chair_table",
                     alt=t("a11y.ranking.alt"))
        waitlist_section(ranking)
        st.plotly_chart(chart, width="stretch", key="chair_cumulative", alt=t("a11y.cumulative.alt"))
        st.caption(t("a11y.cumulative.caption"))   # the chart's text alternative is the ranked table (issue 19)


def outside_parts(me, rnd, pack_id: str) -> None:
    """Scenario save, analyses and downloads: drawn on a full run of the page, for the current what-if."""
    lang = current_lang()
    call, pack, values, base, ranking, key = current(me, rnd, pack_id)
    ss = st.session_state
    scenario_controls(me, rnd.id, pack, values, values != base)
    st.subheader(t("chair.tab.analysis"), divider="gray")
    analyses(ranking, call, key, lang)
    st.divider()
    downloads(ranking, call, rnd, lang, key, WhatIf.from_settings(pack, values))
    stored = [ss.get(k) for k in ("chair_analysis", "chair_xlsx")]
    if any(s is not None and s[0] == key for s in stored):
        ss[SHOWN] = key    # results of this what-if are on screen: a what-if change redraws the whole page

with error_boundary("chair_ranking"):
    render()
