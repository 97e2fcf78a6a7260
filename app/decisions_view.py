"""The decisions part of the 採否・通知 page (issue 18; ``app/pages/chair_decisions.py``): the table of the final
ranking with the proposed and final decisions, the budget gauge, the departures, the 補欠繰上げ offer, the edit
form, the problems in the user's language, 確定 and 再開. Every rule is the store's (``store.decisions``); this
module only draws and forwards.

Widget keys (tests and the browser use them): ``dc_pick``, ``dc_decision``, ``dc_amount``, ``dc_conditions``,
``dc_reason``, ``dc_position``, ``dc_save``, ``dc_clear``, ``dc_promote``, ``dc_confirm``, ``dc_reopen_reason``,
``dc_reopen``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.i18n import current_lang, t
from app.session import error_text, get_store
from app.ui import money, score
from scoring.decisions import OUTCOMES, Decisions, outcome_label, promotion_reason
from scoring.errors import InputError, Problem
from scoring.labels import label
from scoring.models import DECISION_LABELS
from scoring.money import MoneyError, parse_yen
from scoring.ranking import DECISION_CODES
from scoring.store import StoreError
from scoring.store.decisions import DecisionBoard, StaleDecision
from scoring.store.times import local_time

NOTICE = "dc_notice"
LOADED = "dc_loaded"            # (round, pack, proposal, edit version) whose content is in the form
FIELDS = ("dc_decision", "dc_amount", "dc_conditions", "dc_reason", "dc_position")


def _amount(d: Decisions, value: int, lang: str) -> str:
    return f"{value:,}" if d.unit == "count" else money(value, lang)


# --- the problems, in the user's language ----------------------------------------------------------------------

def problem_text(p: Problem, d: Decisions, lang: str) -> str:
    """One broken rule as a sentence of the catalog (the core's text is English and for the command line)."""
    if p.field == "(budget)":
        total, awarded = int(d.budget_total or 0), d.awarded_total
        return t("dc.problem.budget", lang, awarded=_amount(d, awarded, lang), total=_amount(d, total, lang),
                 over=_amount(d, awarded - total, lang))
    known = ("reason", "conditions", "decision", "awarded_yen", "approved_cost_yen", "reserve_position",
             "proposal_id", "stage")
    key = f"dc.problem.{p.field}" if p.field in known else "dc.problem.other"
    return t(key, lang, id=p.row or "—") if key != "dc.problem.stage" else t(key, lang)


def problem_list(problems, d: Decisions) -> str:
    lang = current_lang()
    return "\n".join(f"- {problem_text(p, d, lang)}" for p in problems)


# --- status, gauge, table, departures ----------------------------------------------------------------------------

def status_line(board: DecisionBoard) -> None:
    v = board.confirmed
    if v is not None:
        st.success(t("dc.status.confirmed", version=v.version, by=v.by, at=local_time(v.at)), icon=":material/lock:")
        return
    st.info(t("dc.status.draft"), icon=":material/edit_note:")
    if board.versions:
        last = board.versions[-1]
        st.caption(t("dc.status.reopened", version=last.version, by=last.reopened_by or "",
                     at=local_time(last.reopened_at), reason=last.reopen_reason or ""))


def budget_gauge(d: Decisions) -> None:
    lang = current_lang()
    total = d.budget_total
    c1, c2, c3 = st.columns(3)
    if total is None:
        c1.metric(t("dc.budget.total"), t("dc.budget.none"))
        c2.metric(t("dc.budget.awarded"), _amount(d, d.awarded_total, lang))
        return
    remaining = int(d.remaining)
    c1.metric(t("dc.budget.total"), _amount(d, int(total), lang))
    c2.metric(t("dc.budget.awarded"), _amount(d, d.awarded_total, lang))
    c3.metric(t("dc.budget.remaining"), _amount(d, remaining, lang))
    st.progress(min(1.0, d.awarded_total / int(total)) if int(total) > 0 else 1.0)
    if remaining < 0:
        st.error(t("dc.budget.over", over=_amount(d, -remaining, lang)), icon=":material/warning:")


DECISION_COLUMNS = ("rank", "proposal_id", "title", "applicant", "total_score", "computed", "proposed", "decision",
                    "funded", "awarded", "reduced", "reserve", "conditions", "departure", "reason")


def decision_rows(board: DecisionBoard, lang: str) -> pd.DataFrame:
    """The decisions table, one row per proposal in final-rank order. Column titles, decision words and amounts
    are looked up once per distinct value, not once per cell (a call of 500 proposals: issue 15)."""
    d = board.decisions
    r = d.ranking
    reduced, departure = d.reduced, d.departure
    yes = label("decisions.yes", lang)
    heads = [t(f"decisions.col.{c}") for c in DECISION_COLUMNS] + [t("dc.table.locked")]
    outcome = {}
    computed = {code: DECISION_LABELS[name][0 if lang == "ja" else 1] for code, name in enumerate(DECISION_CODES)}

    def word(code: int) -> str:
        if code not in outcome:
            outcome[code] = outcome_label(code, lang)
        return outcome[code]
    rows = []
    for i in r.order.tolist():
        prop = r.table.proposals[i]
        locked = prop.id in board.conflicted
        rows.append(dict(zip(heads, (
            int(r.rank[i]) or None, ("🔒 " if locked else "") + prop.id, prop.title, prop.applicant.name,
            score(float(r.total[i])), computed[int(r.decision[i])], word(int(d.proposed[i])),
            word(int(d.decision[i])), _amount(d, int(d.funded[i]), lang), _amount(d, int(d.awarded[i]), lang),
            yes if reduced[i] else "", int(d.position[i]) or None, d.conditions.get(i, ""),
            yes if departure[i] else "", d.reasons.get(i, ""), yes if locked else ""))))
    return pd.DataFrame(rows)


def departures(board: DecisionBoard) -> None:
    d = board.decisions
    lang = current_lang()
    st.subheader(t("dc.departures.title"))
    rows = [int(i) for i in d.ranking.order if d.departure[int(i)]]
    if not rows:
        st.caption(t("dc.departures.none"))
        return
    for i in rows:
        pid = d.ids[i]
        what = (f"{outcome_label(int(d.proposed[i]), lang)} → {outcome_label(int(d.decision[i]), lang)}"
                if d.decision[i] != d.proposed[i] else
                f"{label('outcome.reduced', lang)} {_amount(d, int(d.funded[i]), lang)} → "
                f"{_amount(d, int(d.awarded[i]), lang)}")
        e = board.edits.get(pid)
        who = f"（{e.by}、{local_time(e.at)}）" if e is not None else ""
        st.markdown(f"- **{pid}** {what}：{d.reasons.get(i) or '—'}{who}")


# --- the edit form -------------------------------------------------------------------------------------------------

def _load_form(board: DecisionBoard, pid: str) -> None:
    ss = st.session_state
    e = board.edits.get(pid)
    d = board.decisions
    i = d.ranking.table.index_of()[pid]
    ss["dc_decision"] = OUTCOMES[int(d.decision[i])].value
    subsidy = d.ranking.pack.funding.mode == "subsidy"
    money_field = None if e is None else (e.approved_cost_yen if subsidy else e.awarded_yen)
    ss["dc_amount"] = "" if e is None or money_field is None else f"{int(money_field):,}"
    ss["dc_conditions"] = d.conditions.get(i, "")
    ss["dc_reason"] = e.reason if e else ""
    ss["dc_position"] = "" if e is None or e.reserve_position is None else str(e.reserve_position)
    ss[LOADED] = (board.round_id, board.pack_id, pid, e.version if e else 0)


def offer_promotion(board: DecisionBoard) -> None:
    """補欠繰上げ: when reductions left room, the first reserve that fits — a button fills the form."""
    d = board.decisions
    cand = d.promotion_candidate()
    if cand is None or board.confirmed is not None or not d.reduced.any():
        return
    lang = current_lang()
    pid = d.ids[cand]
    st.info(t("dc.promotion.offer", remaining=_amount(d, int(d.remaining), lang), id=pid,
              funded=_amount(d, int(d.funded[cand]), lang)), icon=":material/arrow_upward:")
    if pid not in board.conflicted and st.button(t("dc.promotion.button", id=pid), key="dc_promote"):
        ss = st.session_state
        _load_form(board, pid)
        ss["dc_pick"] = pid
        ss["dc_decision"] = "adopted"
        ss["dc_amount"] = ""
        ss["dc_reason"] = promotion_reason(lang)
        st.rerun()


def edit_form(me, board: DecisionBoard) -> None:
    d = board.decisions
    ss = st.session_state
    lang = current_lang()
    st.subheader(t("dc.edit.title"))
    if board.confirmed is not None:
        st.caption(t("dc.edit.locked"))
        return
    every = d.ids                   # a list built on each access: read once (500 proposals: issue 15)
    ids = [every[int(i)] for i in d.ranking.order]
    titles = {every[int(i)]: d.ranking.table.proposals[int(i)].title for i in d.ranking.order}
    pid = st.selectbox(t("dc.edit.pick"), ids, index=None, key="dc_pick", placeholder=t("dc.edit.pick_placeholder"),
                       format_func=lambda p: ("🔒 " if p in board.conflicted else "") + f"{p}　{titles[p]}")
    if pid is None:
        return
    if pid in board.conflicted:
        st.warning(t("dc.edit.conflicted", id=pid), icon=":material/block:")
        return
    e = board.edits.get(pid)
    loaded = ss.get(LOADED)
    if loaded is None or loaded[:3] != (board.round_id, board.pack_id, pid):
        _load_form(board, pid)
    subsidy = d.ranking.pack.funding.mode == "subsidy"
    c1, c2 = st.columns(2)
    c1.selectbox(t("dc.edit.decision"), [o.value for o in OUTCOMES], key="dc_decision",
                 format_func=lambda v: outcome_label(v, lang))
    typed = c2.text_input(t("dc.edit.approved_cost" if subsidy else "dc.edit.amount"), key="dc_amount")
    if typed.strip():
        try:
            c2.caption(t("dc.edit.amount_read", amount=money(parse_yen(typed), lang)))
        except MoneyError:
            c2.caption(t("dc.edit.amount_bad", value=typed[:40]))
    st.text_area(t("dc.edit.conditions"), key="dc_conditions", height=68)
    st.text_input(t("dc.edit.reason"), key="dc_reason")
    st.text_input(t("dc.edit.position"), key="dc_position")
    b1, b2 = st.columns(2)
    base = ss.get(LOADED, (None, None, None, 0))[3]
    if b1.button(t("dc.edit.save"), key="dc_save", type="primary", icon=":material/save:"):
        values = {"decision": ss["dc_decision"], "conditions": ss["dc_conditions"], "reason": ss["dc_reason"],
                  "reserve_position": ss["dc_position"],
                  ("approved_cost_yen" if subsidy else "awarded_yen"): ss["dc_amount"]}
        _store_edit(me, board, pid, base, lambda s: s.set_edit(me, board.round_id, board.pack_id, pid,
                                                               base_version=base, **values), "dc.edit.saved")
    if e is not None and b2.button(t("dc.edit.clear"), key="dc_clear", icon=":material/undo:"):
        _store_edit(me, board, pid, base, lambda s: s.clear_edit(me, board.round_id, board.pack_id, pid, base),
                    "dc.edit.cleared")


def _store_edit(me, board: DecisionBoard, pid: str, base: int, action, done_key: str) -> None:
    ss = st.session_state
    try:
        action(get_store().decisions)
        ss[NOTICE] = ("success", t(done_key, id=pid))
        ss.pop(LOADED, None)
    except StaleDecision:
        ss[NOTICE] = ("warning", t("dc.edit.stale", id=pid))
        ss.pop(LOADED, None)
    except InputError as exc:
        ss[NOTICE] = ("error", problem_list(exc.problems, board.decisions))
        return
    except StoreError as exc:
        ss[NOTICE] = ("error", error_text(exc))
    st.rerun()


# --- check, confirm, reopen --------------------------------------------------------------------------------------

def problems_box(board: DecisionBoard) -> None:
    if board.confirmed is not None:
        return
    d = board.decisions
    if d.problems:
        st.warning(t("dc.problems.title") + "\n\n" + problem_list(d.problems, d), icon=":material/rule:")
    else:
        st.success(t("dc.problems.none"), icon=":material/task_alt:")


def confirm_section(me, board: DecisionBoard) -> None:
    ss = st.session_state
    if board.confirmed is None:
        st.subheader(t("dc.confirm.title"))
        st.caption(t("dc.confirm.help"))
        if st.button(t("dc.confirm.button"), key="dc_confirm", type="primary", icon=":material/verified:"):
            try:
                v = get_store().decisions.confirm(me, board.round_id, board.pack_id)
                ss[NOTICE] = ("success", t("dc.confirm.done", version=v.version))
            except InputError as exc:
                ss[NOTICE] = ("error", t("dc.confirm.refused") + "\n\n" + problem_list(exc.problems, board.decisions))
            except StoreError as exc:
                ss[NOTICE] = ("error", error_text(exc))
            st.rerun()
        return
    st.subheader(t("dc.reopen.title"))
    reason = st.text_input(t("dc.reopen.reason"), key="dc_reopen_reason")
    if st.button(t("dc.reopen.button"), key="dc_reopen", icon=":material/lock_open:"):
        if not reason.strip():
            ss[NOTICE] = ("error", t("dc.reopen.need_reason"))
        else:
            try:
                get_store().decisions.reopen(me, board.round_id, board.pack_id, reason)
                ss[NOTICE] = ("success", t("dc.reopen.done"))
                ss.pop("dc_reopen_reason", None)
            except (InputError, StoreError) as exc:
                ss[NOTICE] = ("error", error_text(exc))
        st.rerun()


def versions_list(versions) -> None:
    if not versions:
        return
    with st.expander(t("dc.versions.title")):
        for v in versions:
            line = t("dc.versions.row", version=v.version, by=v.by, at=local_time(v.at))
            if v.reopened_at is not None:
                line += "　" + t("dc.status.reopened", version=v.version, by=v.reopened_by or "",
                                 at=local_time(v.reopened_at), reason=v.reopen_reason or "")
            st.markdown(f"- {line}")


def show_notice() -> None:
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        getattr(st, notice[0])(notice[1])


__all__ = ["problem_text", "problem_list", "status_line", "budget_gauge", "decision_rows", "departures",
           "offer_promotion", "edit_form", "problems_box", "confirm_section", "versions_list", "show_notice", "NOTICE"]
