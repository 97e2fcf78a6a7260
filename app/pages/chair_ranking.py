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
from app.hearing_view import (final_config, final_table, hearing_state, rank_with, refusal_text, shortlist_changes,
                              stage_label)
from app.ranking_view import analyses
from app.session import change_marker, error_text, get_store, round_call, round_pack_header, round_view
from app.charts import yen_ticks
from app.i18n import current_lang, t
from app.table_money import money_column, table_money
from app.ui import error_boundary, man_oku, score, yen_both
from scoring.io import csv_bytes
from scoring.models import Aggregation, Decision, Normalization, SelectionMethod
from scoring.money import MoneyError, format_man_oku, parse_yen
from scoring.labels import label
from scoring.params import WhatIf
from scoring.errors import InputError
from scoring.store import StoreError
from scoring.store.scenarios import ScenarioService

W = {k: f"chair_{k}" for k in WhatIf.KEYS}   # the what-if widgets' keys
W["budget"] = "chair_budget_value"   # the budget the ranking reads: typed (万円/億円) in BUDGET_TEXT
BUDGET_TEXT = "chair_budget"
BUDGET_LANG = "chair_budget_lang"     # the language the budget text was last shown in
INVALID = "chair_whatif_invalid"      # the invalid what-if whose page (without results) is on screen
FOR = "chair_whatif_for"
# plain symbols (the table is drawn on a canvas: no emoji font needed)
DECISION_ICONS = {"selected": "◎", "waitlisted": "△", "over_budget": "×", "ranked": "・", "below_pass_line": "−",
                  "below_criterion_floor": "−", "insufficient_reviews": "−", "ineligible": "−",
                  "not_shortlisted": "−"}
AXIS_MARGIN = 90   # px left of the cumulative chart: the y-axis title beside ticks like 2,000,000,000
MANY = 200   # ranked proposals above which the chart shows the cumulative line only
COLORS = {"selected": "#2e7d32", "waitlisted": "#f9a825", "over_budget": "#9e9e9e", "ranked": "#1565c0"}


def decision_label(value: str) -> str:
    return t(f"decision.{value}")


def decision_text(value: str, waitlist: int = 0) -> str:
    """A decision in the ranked table: its symbol, its words, the waitlist number."""
    return f"{DECISION_ICONS.get(value, '')} {decision_label(value)}" + (f" {waitlist}" if waitlist else "")


def decision_texts():
    """:func:`decision_text` for one run's table: each decision's words looked up once, not once per row (a
    what-if on 500 proposals looked the same few words up 500 times; issue 15)."""
    words: dict[str, str] = {}

    def text(value: str, waitlist: int = 0) -> str:
        if value not in words:
            words[value] = decision_text(value)
        return words[value] + (f" {waitlist}" if waitlist else "")
    return text


# --- what-if -----------------------------------------------------------------------------------------------------

def official(pack) -> dict:
    """The pack's own parameters, as the what-if widgets hold them."""
    return WhatIf().settings(pack)


def set_whatif(values: dict) -> None:
    for k, key in W.items():
        st.session_state[key] = values.get(k)
    budget = values.get("budget")
    st.session_state[BUDGET_TEXT] = "" if budget is None else man_oku(int(budget))


def _reads(text: str) -> int | None:
    try:
        return parse_yen(text)
    except MoneyError:
        return None


def whatif_problems(pack) -> list[str]:
    """What-if values that cannot be used (issue 14 §13: a budget of −5, a pass line of 150), each named with
    what is allowed. A readable budget (``8億円``, ``¥800,000,000``, ``800000000``) becomes the budget."""
    ss, problems = st.session_state, []
    if not pack.is_capacity:
        text = str(ss.get(BUDGET_TEXT) or "").strip()
        lang, budget = current_lang(), ss.get(W["budget"])
        if ss.get(BUDGET_LANG) != lang and budget is not None and text and _reads(text) == budget:
            text = ss[BUDGET_TEXT] = man_oku(int(budget))      # 8億円 reads ¥800,000,000 in English
        ss[BUDGET_LANG] = lang
        try:
            ss[W["budget"]] = parse_yen(text) if text else None
        except MoneyError:
            problems.append(t("chair.whatif.bad_budget", value=text))
    line, top = ss.get(W["pass_line"]), float(pack.total_points)
    if line is None or not 0 <= float(line) <= top:
        problems.append(t("chair.whatif.bad_pass_line", value="—" if line is None else score(line), max=score(top)))
    return problems


def whatif_values(pack, target) -> tuple[dict, dict]:
    """The what-if settings held by the widgets (the pack's own when the round or programme changed), and the
    pack's own settings."""
    ss = st.session_state
    base = official(pack)
    if ss.get(FOR) != target or any(k not in ss for k in W.values()):
        set_whatif(base)
        ss[FOR] = target
    return {k: ss.get(key) for k, key in W.items()}, base


def whatif_controls(pack, base: dict, problems: list[str] = ()) -> None:
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
            text = c[0].text_input(t("chair.whatif.budget"), key=BUDGET_TEXT, placeholder=t("chair.whatif.no_budget"),
                                   help=t("dry_run.money_help"))
            if text.strip() and ss.get(W["budget"]) is not None and not problems:
                c[0].caption(yen_both(int(ss[W["budget"]])))
        c[1].selectbox(t("chair.whatif.aggregation"), [a.value for a in Aggregation], key=W["aggregation"],
                       format_func={x.value: t(f"chair.aggregation.{x.value}") for x in Aggregation}.get, placeholder=t("common.choose"))
        c[2].selectbox(t("chair.whatif.normalization"), [n.value for n in Normalization], key=W["normalization"],
                       format_func={x.value: t(f"chair.normalization.{x.value}") for x in Normalization}.get, placeholder=t("common.choose"))
        # no min/max: the browser would refuse an out-of-range value silently (a red "!") and keep the old
        # results; whatif_problems says what is wrong and the results are withdrawn instead
        c[3].number_input(t("chair.whatif.pass_line"), key=W["pass_line"], step=1.0, format="%.2f")
        c[4].selectbox(t("chair.whatif.selection"), [m.value for m in SelectionMethod], key=W["selection"],
                       format_func={x.value: t(f"chair.selection.{x.value}") for x in SelectionMethod}.get, placeholder=t("common.choose"))
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
                                format_func=lambda n: f"{n}（{by[n].saved_by}）", placeholder=t("common.choose"))
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
    b_unit = ranking.budget_view().unit
    sel = cum > 0
    if sel.any():
        shown = [short_amount(b_unit, int(v)) for v in cum[sel]]   # 万円/億円 in Japanese, ¥ in English, 件
        fig.add_trace(go.Scatter(x=x[sel], y=cum[sel].astype(float), mode="lines", name=t("chair.chart.cumulative"),
                                 line=dict(color="#1565c0"), customdata=np.column_stack([ids[sel], shown]),
                                 hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>"))
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
    # the y-axis title had 10 px and was cut ("Amount (ye"): room for it, and the margin grows with the ticks
    fig.update_layout(height=380, margin=dict(l=AXIS_MARGIN, r=10, t=40, b=10), hovermode="closest",
                      shapes=shapes, annotations=notes,
                      legend=dict(orientation="h", y=-0.2), xaxis=dict(title=t("chair.chart.x"), range=[0, n + 1]),
                      yaxis=dict(title=dict(text=t(f"chair.unit.{b.unit}_axis"), standoff=8), tickformat=",d",
                                 automargin=True))
    if b.unit == "yen" and current_lang() == "ja":   # Japanese reads amounts in 万円/億円, never raw yen
        top = max(float(cum.max()) if len(cum) else 0.0, float(b.limit or 0))
        ticks = yen_ticks(top)
        fig.update_yaxes(tickvals=ticks, ticktext=[format_man_oku(v) for v in ticks],
                         title=dict(text=t("chair.unit.yen_axis_ja")))
    return fig



# --- the ranked list ---------------------------------------------------------------------------------------------

def ranking_table(ranking, lang: str) -> pd.DataFrame:
    """The ranked list in order (``Ranking.display_columns``) — numbers stay numbers (formatted by the table's
    column configuration) — with a separator row where the funding line falls."""
    c = ranking.display_columns(lang)
    text = decision_texts()
    rank = c["rank"]
    frame = pd.DataFrame({
        "rank": pd.array(rank, dtype="Int64"), "id": c["id"], "title": c["title"],
        "decision": [text(d.value, w) for d, w in zip(c["decision"], c["waitlist_position"].tolist())],
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
    if ranking.budget_view().unit == "yen":   # 万円 in Japanese, yen in English; still numbers (sortable)
        frame["funded"], frame["cumulative"] = table_money(frame["funded"], lang), table_money(frame["cumulative"], lang)
    return frame.rename(columns=table_labels(ranking))


def table_labels(ranking) -> dict[str, str]:
    money = "_yen" if ranking.budget_view().unit == "yen" else ""
    return {"rank": t("chair.col_rank"), "id": t("chair.col_id"), "title": t("chair.col_title"),
            "decision": t("chair.col_decision"), "base": t("chair.col_base"), "bonus": t("chair.col_bonus"),
            "total": t("chair.col_total"), "funded": t(f"chair.col_funded{money}"), "capped": t("chair.col_capped"),
            "cumulative": t(f"chair.col_cumulative{money}"), "reasons": t("chair.reasons.reason")}


def table_config(ranking) -> dict:
    """Formatting in the browser: money in 万円 (Japanese) or yen (English) with separators, two decimals for
    scores."""
    c = st.column_config
    label = table_labels(ranking)
    amount = money_column() if ranking.budget_view().unit == "yen" else c.NumberColumn(format="localized")
    score_col = c.NumberColumn(format="%.2f", width="small")
    return {label["rank"]: c.NumberColumn(format="%d", width="small"),
            label["id"]: c.TextColumn(width="small"), label["title"]: c.TextColumn(width="medium"),
            label["decision"]: c.TextColumn(width="medium"),
            label["base"]: score_col, label["bonus"]: score_col, label["total"]: score_col,
            label["funded"]: amount,
            label["capped"]: c.CheckboxColumn(width="small", help=t("chair.col_capped_help")),
            label["cumulative"]: amount,
            label["reasons"]: c.TextColumn(width="large")}


def waitlist_section(ranking) -> None:
    wl = [int(i) for i in ranking.order if ranking.waitlist_position[int(i)]]
    if wl:
        st.markdown("**" + t("chair.waitlist.title") + "**" + t("common.label_sep") + t("common.list_sep").join(
            f"{int(ranking.waitlist_position[i])}. {ranking.table.ids[i]}" for i in wl))


# --- downloads ---------------------------------------------------------------------------------------------------

def confirmed_decisions(me, round_id: int, pack_id: str):
    """The committee's decisions of the programme when a version is confirmed (確定) and in force, else None
    (a draft, reopened, or decisions that cannot be read)."""
    try:
        board = get_store().decisions.board(me, round_id, pack_id)
    except (InputError, StoreError):
        return None
    return board.decisions if board.confirmed is not None else None


def downloads(me, ranking, call, round_info, lang: str, key: tuple, whatif: WhatIf) -> None:
    """Files are built on request (the results of every proposal, the workbook), then offered for download. Files
    of a what-if say so: the workbook on every sheet (``chair_workbook(whatif=…)``), every file in its name.
    The workbook of the official ranking carries 「選定結果」 when the programme's decisions are confirmed (a
    what-if workbook never does: the decisions belong to the official ranking)."""
    if st.button(t("chair.download.prepare_xlsx"), key="chair_xlsx_prepare", icon=":material/table_view:"):
        from scoring.io.chair_workbook import chair_workbook

        with st.spinner(t("chair.download.preparing")):
            decisions = confirmed_decisions(me, round_info.id, ranking.pack.id) if whatif.is_official else None
            st.session_state["chair_xlsx"] = (key, chair_workbook(ranking, call, round_name=round_info.name,
                                                                   lang=lang, whatif=whatif, decisions=decisions))
            st.session_state["chair_xlsx_decisions"] = (key, decisions is not None)
            st.session_state["chair_files"] = (key, {   # the one ranking CSV, as the command line writes it
                "csv": csv_bytes(*ranking.csv_table(lang)),
                "json": json.dumps(ranking.to_dict(lang, whatif), ensure_ascii=False, indent=2).encode("utf-8")})
    stored, files = st.session_state.get("chair_xlsx"), st.session_state.get("chair_files")
    if not (stored and stored[0] == key and files and files[0] == key):
        st.caption(t("chair.download.help"))
        return
    stem = ranking.pack.id + ("" if whatif.is_official else label("workbook.whatif.file_suffix", lang))
    if st.session_state.get("chair_xlsx_decisions") == (key, True):
        st.caption(t("chair.download.with_decisions"))
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


def current(me, rnd, pack_id: str):
    """The what-if state of the page: ``(call, pack, values, base, ranking, key, hearing)``. The ranking of a
    state is computed once and shared (:func:`app.session.round_view`): the parts outside the fragment, a
    programme switch back, a new tab or another chair reuse it.

    A programme whose hearing shortlist is fixed (stage ヒアリング or 決定) is ranked on both stages
    (:func:`app.hearing_view.rank_with`: the final ranking, the what-if applied to both); ``hearing`` is then its
    :class:`~app.hearing_view.HearingState`, else None (the document ranking, as before issue 17)."""
    marker = change_marker(me, rnd.id)
    call, resolutions = round_call(me, rnd.id, pack_id, marker)
    pack = call.pack
    values, base = whatif_values(pack, (rnd.id, pack_id))
    problems = whatif_problems(pack)
    values = {k: st.session_state.get(key) for k, key in W.items()}
    key = (rnd.id, pack_id, marker, tuple(sorted(values.items())))
    if problems:
        return call, pack, values, base, None, None, key

    def rank():
        state = hearing_state(me, rnd.id, pack_id, marker) if pack.hearing is not None else None
        whatif = WhatIf.from_settings(pack, values)
        if state is not None and state.final:
            return rank_with(state, whatif=whatif), state
        return call.rank(whatif, resolutions), state
    ranking, state = round_view(me, ("ranking",) + key, rank)
    return call, pack, values, base, ranking, state, key


def drawn(me, ranking, state, key: tuple, lang: str) -> tuple:
    """The ranked table, its column configuration and the cumulative chart of one what-if state in one language,
    built once and shared (:func:`app.session.round_view`): a programme switch back, a new tab or another chair
    on the same state draws them without building them again."""
    def build():
        from streamlit import dataframe_util

        final = state is not None and state.final
        table = final_table(ranking, lang, decision_texts()) if final else ranking_table(ranking, lang)
        config = final_config(ranking, lang) if final else table_config(ranking)
        # the Arrow table Streamlit itself makes of the frame, made once: st.dataframe sends a pyarrow.Table as it
        # is, so the bytes are those of the frame, without converting it again on every run (issue 15)
        return dataframe_util.convert_pandas_df_to_arrow_table(table), config, cumulative_chart(ranking)
    return round_view(me, ("drawn", lang) + key, build)


def hearing_notes(ranking, state, final: bool) -> None:
    """A programme with a hearing stage: where it stands; once the shortlist is fixed, how the final score is
    made, and what a what-if changes of the fixed shortlist (or of the edits it no longer fits)."""
    if not final:
        st.caption(t("chair.hearing.stage_note", stage=stage_label(state.info.stage)))
        return
    hp = ranking.hearing_params
    formula = (t("chair.hearing.formula.hearing_only") if hp.combine == "hearing_only" else
               t("chair.hearing.formula.weighted", wd=f"{hp.document_weight:g}", wh=f"{hp.hearing_weight:g}"))
    line = "—" if hp.pass_line is None else f"{hp.pass_line:g}"
    st.info(t("chair.hearing.final_info", stage=stage_label(state.info.stage), formula=formula, line=line,
              n=int(hp.min_reviews)), icon=":material/record_voice_over:")
    added, left_out = shortlist_changes(ranking, state.info.shortlist)
    if added or left_out:
        sep = t("common.list_sep")
        st.warning(t("chair.hearing.whatif_shortlist", added=sep.join(added) or "—", left=sep.join(left_out) or "—"),
                   icon=":material/science:")
    for edit, codes in ranking.refused_edits:
        st.warning(refusal_text(edit, codes), icon=":material/block:")


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
        call, pack, values, base, ranking, state, key = current(me, rnd, pack_id)
        if ranking is None:                # an invalid what-if: the message, and no results of other values
            if st.session_state.get(INVALID) != key:
                st.session_state[INVALID] = key
                st.rerun(scope="app")      # the parts below the fragment go too
            problems = whatif_problems(pack)
            whatif_controls(pack, base, problems)
            for p in problems:
                st.error(p, icon=":material/error:")
            st.info(t("chair.whatif.no_results"))
            return
        if st.session_state.pop(INVALID, None) is not None:
            st.rerun(scope="app")          # valid again: the parts below the fragment come back
        final = state is not None and state.final
        shown = st.session_state.get(SHOWN)
        if shown is not None and shown != key:
            st.rerun(scope="app")
        changed = values != base
        table, config, chart = drawn(me, ranking, state, key, lang)
        counts, b = ranking.counts(), ranking.budget_view()

        whatif_controls(pack, base)
        if changed:
            st.warning(t("chair.whatif.active"), icon=":material/science:")
        if state is not None:
            hearing_notes(ranking, state, final)
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
        st.dataframe(table, hide_index=True, width="stretch", column_config=config,
                     placeholder="", height=min(38 + 35 * (len(table) + 1), 640), key="chair_table",
                     alt=t("a11y.ranking.alt"))
        waitlist_section(ranking)
        st.plotly_chart(chart, width="stretch", key="chair_cumulative", alt=t("a11y.cumulative.alt"))
        st.caption(t("a11y.cumulative.caption"))   # the chart's text alternative is the ranked table (issue 19)


def outside_parts(me, rnd, pack_id: str) -> None:
    """Scenario save, analyses and downloads: drawn on a full run of the page, for the current what-if."""
    lang = current_lang()
    call, pack, values, base, ranking, state, key = current(me, rnd, pack_id)
    if ranking is None:
        return                             # an invalid what-if: ranking_view says what to fix
    ss = st.session_state
    scenario_controls(me, rnd.id, pack, values, values != base)
    st.subheader(t("chair.tab.analysis"), divider="gray")
    if state is not None and state.final:   # the analyses model one stage: those of the document ranking
        st.caption(t("chair.hearing.analyses_document"))
        analyses(ranking.document, call, key, lang)
    else:
        analyses(ranking, call, key, lang)
    st.divider()
    downloads(me, ranking, call, rnd, lang, key, WhatIf.from_settings(pack, values))
    stored = [ss.get(k) for k in ("chair_analysis", "chair_xlsx")]
    if any(s is not None and s[0] == key for s in stored):
        ss[SHOWN] = key    # results of this what-if are on screen: a what-if change redraws the whole page

with error_boundary("chair_ranking"):
    render()
