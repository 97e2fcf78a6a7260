"""順位・採択 — the chair's ranking of one programme of a round (issue 4 §4, issue 6 §5).

Reads like the page: choose the round and the programme; what-if controls (budget, aggregation,
normalisation, pass line, selection method, waitlist) that re-rank at once without touching the stored round;
save the what-if as a named scenario; the budget gauge; the ranked table with the funding line, the waitlist
and the reasons of every proposal that is not selected; the cumulative budget chart; analyses beside the
official decision (optimal portfolio, rank intervals / gray zone, reviewer calibration, sensitivity);
downloads (the chair workbook, CSV, JSON).

Every figure comes from :class:`scoring.selection.Ranking` (``Call.rank``) and :mod:`scoring.analytics`.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app.backend import change_marker, error_text, get_store, pick_pack, pick_round, require, round_call
from app.i18n import current_lang, t
from app.ui import error_boundary, man_oku, score, yen, yen_both
from scoring.io import csv_bytes
from scoring.models import Aggregation, Decision, Normalization, SelectionMethod
from scoring.selection import Params
from scoring.store import StoreError
from scoring.store.scenarios import ScenarioService

W = {"budget": "chair_budget", "aggregation": "chair_aggregation", "normalization": "chair_normalization",
     "pass_line": "chair_pass_line", "selection": "chair_selection", "waitlist": "chair_waitlist"}
FOR = "chair_whatif_for"
# plain symbols (the table is drawn on a canvas: no emoji font needed)
DECISION_ICONS = {"selected": "◎", "waitlisted": "△", "over_budget": "×", "ranked": "・", "below_pass_line": "−",
                  "below_criterion_floor": "−", "insufficient_reviews": "−", "ineligible": "−"}
MANY_BARS = 150
COLORS = {"selected": "#2e7d32", "waitlisted": "#f9a825", "over_budget": "#9e9e9e", "ranked": "#1565c0"}


def decision_label(value: str) -> str:
    return t(f"chair.decision.{value}")


# --- what-if -----------------------------------------------------------------------------------------------------

def official(pack) -> dict:
    """The pack's own parameters, as the what-if widgets hold them."""
    p = Params.from_pack(pack)
    return {"budget": p.budget_limit(pack), "aggregation": p.aggregation.value,
            "normalization": p.normalization.value, "pass_line": float(p.pass_line),
            "selection": p.selection.value, "waitlist": int(p.waitlist)}


def set_whatif(values: dict) -> None:
    for k, key in W.items():
        st.session_state[key] = values.get(k)


def whatif_controls(pack, target) -> dict:
    ss = st.session_state
    base = official(pack)
    if ss.get(FOR) != target or any(k not in ss for k in W.values()):
        set_whatif(base)
        ss[FOR] = target
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
    values = {k: ss.get(key) for k, key in W.items()}
    return values, base


def scenario_controls(me, rid: int, pack, values: dict, changed: bool) -> None:
    svc = ScenarioService(get_store())
    with st.expander(t("chair.scenario.title"), icon=":material/bookmark:"):
        st.caption(t("chair.scenario.help"))
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.text_input(t("chair.scenario.name"), key="chair_scenario_name")
        if c2.button(t("chair.scenario.save"), key="chair_scenario_save", disabled=not changed):
            try:
                svc.save_scenario(me, rid, name, pack.id, values)
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
                      args=({**official(pack), **by[pick].overrides},))


# --- figures -----------------------------------------------------------------------------------------------------

def budget_gauge(ranking) -> go.Figure | None:
    b = ranking.budget_dict()
    cap = ranking.pack.is_capacity
    limit = b["capacity_count"] if cap else b["total_yen"]
    if limit is None:
        return None
    used = b["used_count"] if cap else b["used_yen"]
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=used,
        number={"suffix": t("chair.unit.count") if cap else t("chair.unit.yen"), "valueformat": ",d",
                "font": {"size": 26}},
        gauge={"axis": {"range": [0, limit], "tickvals": [0, limit],
                        "ticktext": ["0", f"{limit:,}" if cap else man_oku(limit)]}, "bar": {"color": "#2e7d32"},
               "threshold": {"line": {"color": "#c62828", "width": 4}, "thickness": 0.9, "value": limit}}))
    fig.update_layout(height=230, margin=dict(l=30, r=30, t=20, b=10),
                      title=dict(text=t("chair.gauge.title", limit=(f"{limit:,}" + t("chair.unit.count")) if cap
                                        else man_oku(limit)), x=0.5, xanchor="center", y=0.99, font=dict(size=14)))
    return fig


def cumulative_chart(ranking, lang: str) -> go.Figure:
    """Funded amount per ranked proposal in rank order (coloured by decision), the cumulative amount of the
    selected ones, the budget as a horizontal line and the funding line after the last selected."""
    codes = [d.value for d in Decision]
    labels = {c: decision_label(c) for c in codes}
    rank, decision = ranking.rank.tolist(), ranking.decision.tolist()
    funded, cum, all_ids = ranking.funded.tolist(), ranking.cumulative.tolist(), ranking.table.ids
    ranked = [i for i in ranking.order.tolist() if rank[i] > 0]
    ids = [str(all_ids[i]) for i in ranked]
    decisions = [codes[decision[i]] for i in ranked]
    fig = go.Figure()
    many = len(ranked) > MANY_BARS      # a large call: WebGL markers instead of SVG bars (fast to redraw)
    trace = go.Scattergl(mode="markers", marker=dict(size=5)) if many else go.Bar()
    trace.update(x=ids, y=[funded[i] for i in ranked], name=t("chair.chart.funded"),
                 customdata=[labels[d] for d in decisions],
                 hovertemplate="%{x}<br>%{customdata}<br>%{y:,}<extra></extra>")
    trace.marker.color = [COLORS.get(d, "#9e9e9e") for d in decisions]
    fig.add_trace(trace)
    sel = [(x, cum[i]) for x, i in zip(ids, ranked) if cum[i]]
    if sel:
        line = go.Scattergl(mode="lines") if many else go.Scatter(mode="lines+markers")
        line.update(x=[x for x, _ in sel], y=[v for _, v in sel], name=t("chair.chart.cumulative"),
                    line=dict(color="#1565c0"))
        fig.add_trace(line)
    limit = ranking.params.budget_limit(ranking.pack)
    if limit is not None:
        fig.add_hline(y=limit, line_dash="dash", line_color="#c62828",
                      annotation_text=t("chair.chart.budget", amount=man_oku(limit) if not ranking.pack.is_capacity
                                        else f"{limit:,}"), annotation_position="top left")
    last = max((k for k, d in enumerate(decisions) if d == "selected"), default=None)
    if last is not None and last + 1 < len(ids):
        fig.add_vline(x=last + 0.5, line_dash="dot", line_color="#c62828", line_width=2)
        fig.add_annotation(x=last + 0.5, y=1.02, yref="paper", text=t("chair.funding_line"), showarrow=False,
                           font=dict(color="#c62828"))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), yaxis_tickformat=",d",
                      legend=dict(orientation="h", y=-0.2), xaxis_title=t("chair.chart.x"),
                      yaxis_title=t("chair.unit.count_axis") if ranking.pack.is_capacity else t("chair.unit.yen_axis"))
    return fig


# --- tables ------------------------------------------------------------------------------------------------------

def ranking_table(ranking, lang: str) -> pd.DataFrame:
    """The ranked list in order, with a separator row where the funding line falls."""
    cap = ranking.pack.is_capacity
    labels = {d.value: f"{DECISION_ICONS.get(d.value, '')} {decision_label(d.value)}" for d in Decision}
    codes = [d.value for d in Decision]
    ids, props = ranking.table.ids, ranking.table.proposals
    rank, decision, wl = ranking.rank.tolist(), ranking.decision.tolist(), ranking.waitlist_position.tolist()
    base, bonus, total = ranking.base.tolist(), ranking.bonus.total.tolist(), ranking.total.tolist()
    funded, capped, cum = ranking.funded.tolist(), ranking.capped.tolist(), ranking.cumulative.tolist()
    money = (lambda v: f"{v:,}") if cap else yen
    rows = []
    line_drawn = False
    has_line = ranking.params.budget_limit(ranking.pack) is not None
    for i in ranking.order.tolist():
        d = codes[decision[i]]
        if has_line and not line_drawn and rank[i] > 0 and d != "selected":
            rows.append(["", "━━━━", t("chair.funding_line_row"), "", "", "", "", "", ""])
            line_drawn = True
        rows.append([str(rank[i]) if rank[i] else "—", str(ids[i]), props[i].title,
                     labels[d] + (f" {wl[i]}" if wl[i] else ""), score(base[i]), score(bonus[i]), score(total[i]),
                     money(funded[i]) + (" ⚠" if capped[i] else ""), money(cum[i]) if cum[i] else ""])
    cols = ["col_rank", "col_id", "col_title", "col_decision", "col_base", "col_bonus", "col_total", "col_funded",
            "col_cumulative"]
    return pd.DataFrame(rows, columns=[t(f"chair.{c}") for c in cols])


def reasons_section(ranking, lang: str) -> None:
    decisions = list(Decision)
    not_selected = [int(i) for i in ranking.order if decisions[ranking.decision[int(i)]] != Decision.selected]
    if not not_selected:
        return
    with st.expander(t("chair.reasons.title", n=len(not_selected)), icon=":material/info:"):
        st.dataframe(pd.DataFrame([{
            t("chair.col_id"): str(ranking.table.ids[i]),
            t("chair.col_decision"): decision_label(decisions[ranking.decision[i]].value),
            t("chair.reasons.reason"): " / ".join(ranking.reasons(i, lang))} for i in not_selected]),
            hide_index=True, width="stretch")


def waitlist_section(ranking) -> None:
    wl = [int(i) for i in ranking.order if ranking.waitlist_position[int(i)]]
    if wl:
        st.markdown("**" + t("chair.waitlist.title") + "**：" + "、".join(
            f"{int(ranking.waitlist_position[i])}. {ranking.table.ids[i]}" for i in wl))


# --- analyses ----------------------------------------------------------------------------------------------------

def analyses(me, ranking, call, key: tuple, lang: str) -> None:
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
                    result = analyze(ranking, ranking.reviews, reviewers=call.reviewers, n_resamples=500,
                                     portfolio_time_limit=20)
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
            diff = p.get("only_in_optimal", []) + p.get("only_in_greedy", [])
            if diff:
                st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch")
    with tabs[1]:
        u = a["uncertainty"]
        st.info(u.get("reading_en" if en else "reading", ""))
        rows = [{"ID": r["proposal_id"], t("chair.col_rank"): r["rank"] or "—",
                 t("chair.analysis.median_rank"): r["median_rank"],
                 t("chair.analysis.rank95"): f"{r['rank_95'][0]}–{r['rank_95'][1]}" if r.get("rank_95") and r["rank_95"][0] else "—",
                 t("chair.analysis.p_selected"): r.get("p_selected"),
                 t("chair.analysis.gray"): "◆" if r.get("gray_zone") else ""} for r in u["proposals"]]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    with tabs[2]:
        calibration_view(a["calibration"], en)
    with tabs[3]:
        s = a["sensitivity"]
        st.info(s.get("reading_en" if en else "reading", ""))
        st.dataframe(pd.DataFrame([{k: v for k, v in row.items() if k in ("criterion", "label", "factor", "entered", "left",
                                                                          "n_rank_changes", "max_rank_shift")}
                                   for row in s["criteria"]]), hide_index=True, width="stretch")


def calibration_view(cal: dict, en: bool) -> None:
    """Reviewer calibration: leniency (points above or below the panel) and spread per reviewer."""
    ag = cal.get("agreement", {})
    st.info(ag.get("reading_en" if en else "reading", ""))
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
    st.plotly_chart(fig, width="stretch", key="chair_calibration_chart")
    st.dataframe(pd.DataFrame([{
        t("chair.calibration.reviewer"): r.get("name") or r["reviewer_id"],
        t("chair.calibration.n"): r["n_reviews"], t("chair.calibration.mean"): score(r.get("mean")),
        t("chair.calibration.sd"): score(r.get("sd")), t("chair.calibration.leniency"): score(r.get("leniency")),
        t("chair.calibration.flag"): "⚠" if r.get("flagged") else ""} for r in revs]),
        hide_index=True, width="stretch")


# --- downloads ---------------------------------------------------------------------------------------------------

def downloads(ranking, call, round_info, lang: str, key: tuple) -> None:
    """Files are built on request (the results of every proposal, the workbook), then offered for download."""
    if st.button(t("chair.download.prepare_xlsx"), key="chair_xlsx_prepare", icon=":material/table_view:"):
        from scoring.excel import chair_workbook

        with st.spinner(t("chair.download.preparing")):
            results = ranking.results(lang)
            header = [k for k, v in results[0].items() if not isinstance(v, (list, dict))] if results else []
            st.session_state["chair_xlsx"] = (key, chair_workbook(ranking, call, round_name=round_info.name,
                                                                   lang=lang))
            st.session_state["chair_files"] = (key, {
                "csv": csv_bytes(header, ([r[k] for k in header] for r in results)),
                "json": json.dumps(ranking.to_dict(lang), ensure_ascii=False, indent=2).encode("utf-8")})
    stored, files = st.session_state.get("chair_xlsx"), st.session_state.get("chair_files")
    if not (stored and stored[0] == key and files and files[0] == key):
        st.caption(t("chair.download.help"))
        return
    c = st.columns(3)
    c[0].download_button(t("chair.download.xlsx"), stored[1], file_name=f"{ranking.pack.id}_chair.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         key="chair_dl_xlsx", on_click="ignore", icon=":material/download:", type="primary")
    c[1].download_button(t("chair.download.csv"), files[1]["csv"], file_name=f"{ranking.pack.id}_ranking.csv",
                         mime="text/csv", key="chair_dl_csv", on_click="ignore", icon=":material/csv:")
    c[2].download_button(t("chair.download.json"), files[1]["json"], file_name=f"{ranking.pack.id}_ranking.json",
                         mime="application/json", key="chair_dl_json", on_click="ignore",
                         icon=":material/data_object:")


# --- the page ----------------------------------------------------------------------------------------------------

def render() -> None:
    me = require("chair")
    lang = current_lang()
    st.title(t("chair.ranking.title"))
    top = st.columns([2, 2, 3])
    with top[0]:
        rnd = pick_round(me)
    if rnd is None:
        st.info(t("app.no_round"))
        return
    with top[1]:
        pack_id = pick_pack(rnd)
    call, resolutions = round_call(me, rnd.id, pack_id)
    pack = call.pack
    values, base = whatif_controls(pack, (rnd.id, pack_id))
    changed = values != base
    params = Params.from_pack(pack, **{k: v for k, v in values.items() if k != "budget"},
                              budget=values["budget"])
    if values["budget"] is None:  # "no budget": rank only (Params.from_pack ignores a None override)
        params = replace(params, **{"capacity_count" if pack.is_capacity else "budget_yen": None})
    ranking = call.rank(params, resolutions)
    key = (rnd.id, pack_id, change_marker(me, rnd.id), tuple(sorted(values.items())))
    if changed:
        st.warning(t("chair.whatif.active"), icon=":material/science:")
    scenario_controls(me, rnd.id, pack, values, changed)

    counts = ranking.counts()
    b = ranking.budget_dict()
    left, right = st.columns([1, 1])
    gauge = budget_gauge(ranking)
    with left:
        if gauge is not None:
            st.plotly_chart(gauge, width="stretch", key="chair_gauge")
        else:
            st.info(t("chair.no_budget"))
    with right:
        m = st.columns(2)
        m[0].metric(t("chair.decision.selected"), counts["selected"])
        m[1].metric(t("chair.decision.waitlisted"), counts["waitlisted"])
        if pack.is_capacity:
            used, remaining = f"{b['used_count']:,}", "—" if b["remaining_count"] is None else f"{b['remaining_count']:,}"
        else:
            used = yen_both(b["used_yen"])
            remaining = "—" if b["remaining_yen"] is None else yen_both(b["remaining_yen"])
        st.markdown(f"**{t('chair.metric.used')}**　{used}\n\n**{t('chair.metric.remaining')}**　{remaining}")
    tab_list, tab_analysis = st.tabs([t("chair.tab.list"), t("chair.tab.analysis")])
    with tab_list:
        st.dataframe(ranking_table(ranking, lang), hide_index=True, width="stretch",
                     column_config={t("chair.col_title"): st.column_config.TextColumn(width="medium")},
                     height=min(38 + 35 * (ranking.table.n + 1), 640), key="chair_table")
        waitlist_section(ranking)
        reasons_section(ranking, lang)
        st.plotly_chart(cumulative_chart(ranking, lang), width="stretch", key="chair_cumulative")
    with tab_analysis:
        analyses(me, ranking, call, key, lang)
    st.divider()
    downloads(ranking, call, rnd, lang, key)


with error_boundary("chair_ranking"):
    render()
