"""The analyses beside the official decision on 順位・採択 (``app/pages/chair_ranking.py``, issue 6 §5): optimal
portfolio, rank intervals / gray zone, reviewer calibration and sensitivity, each with labelled columns in the
user's language. Moved out of the page to keep it under 600 lines (issue 17 added the final ranking there).

Every figure comes from :func:`scoring.analytics.analyze` of a one-stage ranking; at the hearing stage the page
passes the document stage's ranking (the analyses do not model the hearing).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import chart_theme  # noqa: F401  (registers the charts' theme)
from app.i18n import t
from app.session import round_analysis
from app.ui import money, score


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
