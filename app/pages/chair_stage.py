"""審査段階・ヒアリング対象 — a programme's stages and its hearing shortlist (issue 17, stages.md §2).

Reads like the page: choose the round and the programme; its stages (書面審査 → ヒアリング対象の選定 → ヒアリング →
決定) with the current one marked; the shortlist method as a what-if (top n / a multiple of the budget / the
funding line) and, on the document ranking, where its cut falls and who is in or out and why; the chair's
additions and removals, each with a reason; the list of those edits (who, when, why); moving the programme to the
next stage, or back with a reason. Every move and edit is the store's (chair only, audited, refused as the core
refuses); this page only shows and asks.

Read-only for the secretariat (the stage and the fixed shortlist, never a score) and for a programme without a
hearing section (it says so).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import streamlit as st

from app.auth import require
from app.hearing_view import (action_label, cut_config, cut_table, edits_table, hearing_state, method_label,
                              rank_with, refusal_text, stage_label, stage_steps)
from app.i18n import current_lang, t
from app.session import error_text, get_store, round_pack_header
from app.ui import error_boundary
from scoring.errors import InputError
from scoring.hearing_ranking import SHORTLIST_METHODS, HearingParams, ShortlistEdit
from scoring.models import STAGE_ORDER, Stage
from scoring.params import WhatIfError
from scoring.stages import edit_refusals
from scoring.store import StoreError

W_METHOD, W_N, W_MULTIPLE = "stage_method", "stage_n", "stage_multiple"
FOR = "stage_whatif_for"
FLASH = "stage_flash"


# --- the method what-if ------------------------------------------------------------------------------------------

def method_values(params: HearingParams) -> dict:
    return {W_METHOD: params.shortlist_method, W_N: int(params.n or 10),
            W_MULTIPLE: float(params.multiple) if params.multiple is not None else 2.0}


def set_method(values: dict) -> None:
    st.session_state.update(values)


def init_method(stored: HearingParams, target) -> None:
    """The widgets start from the stored method when the round, programme or stored parameters changed."""
    ss = st.session_state
    if ss.get(FOR) != target:
        set_method(method_values(stored))
        ss[FOR] = target
    for k, v in method_values(stored).items():   # a widget not drawn on the last run (n, M) loses its value
        if k not in ss:
            ss[k] = v


def whatif_params(stored: HearingParams) -> HearingParams:
    """The hearing parameters of the method what-if: the stored ones with the method the widgets hold."""
    ss = st.session_state
    method = ss[W_METHOD]
    if method == "top_n":
        return replace(stored, shortlist_method=method, n=int(ss[W_N]))
    if method == "budget_multiple":
        return replace(stored, shortlist_method=method, multiple=Fraction(repr(float(ss[W_MULTIPLE]))))
    return replace(stored, shortlist_method=method)


def same_method(a: HearingParams, b: HearingParams) -> bool:
    key = lambda p: (p.shortlist_method, p.n if p.shortlist_method == "top_n" else None,  # noqa: E731
                     p.multiple if p.shortlist_method == "budget_multiple" else None)
    return key(a) == key(b)


def method_controls(stored: HearingParams, editable: bool) -> None:
    with st.container(border=True):
        head, reset = st.columns([5, 1], vertical_alignment="center")
        head.markdown("**" + t("chair.stage.whatif.title") + "**　" + t("chair.stage.whatif.help"))
        reset.button(t("chair.whatif.reset"), key="stage_whatif_reset", on_click=set_method,
                     args=(method_values(stored),), icon=":material/restart_alt:", disabled=not editable)
        c = st.columns([2, 1, 1])
        c[0].selectbox(t("chair.stage.whatif.method"), list(SHORTLIST_METHODS), key=W_METHOD,
                       format_func={m: method_label(m) for m in SHORTLIST_METHODS}.get, disabled=not editable)
        method = st.session_state.get(W_METHOD)
        if method == "top_n":
            c[1].number_input(t("chair.stage.whatif.n"), key=W_N, min_value=1, step=1, disabled=not editable)
        elif method == "budget_multiple":
            c[1].number_input(t("chair.stage.whatif.multiple"), key=W_MULTIPLE, min_value=0.1, step=0.5,
                              format="%.2f", disabled=not editable)
        c[2].caption(t(f"chair.stage.whatif.rule.{method}"))


# --- actions -----------------------------------------------------------------------------------------------------

def done(message: str) -> None:
    st.session_state[FLASH] = message
    st.rerun()


def move(me, rnd, pack_id: str, stage: Stage, reason: str = "", hearing: HearingParams | None = None) -> None:
    try:
        get_store().hearings.set_stage(me, rnd.id, pack_id, stage.value, reason, hearing=hearing)
    except (StoreError, InputError) as exc:
        st.error(error_text(exc), icon=":material/error:")
        return
    done(t("chair.stage.moved", stage=stage_label(stage)))


def stage_moves(me, rnd, pack_id: str, stage: Stage, whatif: HearingParams, refused: bool, locked: bool) -> None:
    """Forward one step (with the what-if's method when it fixes it), back to an earlier stage with a reason."""
    st.subheader(t("chair.stage.moves"), divider="gray")
    i = STAGE_ORDER.index(stage)
    if locked:
        st.caption(t("chair.stage.locked"))
    if i + 1 < len(STAGE_ORDER):
        nxt = STAGE_ORDER[i + 1]
        st.caption(t(f"chair.stage.next_help.{nxt.value}"))
        blocked = refused and nxt == Stage.hearing
        if blocked:
            st.caption(t("chair.stage.blocked"))
        if st.button(t("chair.stage.forward", stage=stage_label(nxt)), key="stage_forward", type="primary",
                     icon=":material/arrow_forward:", disabled=locked or blocked):
            move(me, rnd, pack_id, nxt, hearing=whatif if nxt in (Stage.shortlist, Stage.hearing) else None)
    if i > 0:
        with st.form("stage_back_form", border=True):
            c = st.columns([1, 2, 1], vertical_alignment="bottom")
            back = c[0].selectbox(t("chair.stage.back_to"), [s.value for s in STAGE_ORDER[:i]][::-1],
                                  format_func={s.value: stage_label(s.value) for s in STAGE_ORDER}.get, key="stage_back_to")
            reason = c[1].text_input(t("chair.stage.back_reason"), key="stage_back_reason")
            if c[2].form_submit_button(t("chair.stage.back"), icon=":material/undo:", disabled=locked):
                if not reason.strip():
                    st.error(t("chair.stage.need_reason"), icon=":material/error:")
                else:
                    move(me, rnd, pack_id, Stage(back), reason.strip())


def edit_form(me, rnd, pack_id: str, h, locked: bool) -> None:
    """Add or remove a proposal with a reason; the core's refusals (stages.md §2) told in the user's words
    before the store is asked (the store refuses them too)."""
    ids = [str(x) for x in h.table.ids]
    title = {str(p.id): p.title for p in h.table.proposals}
    row = h.table.index_of()
    status = {p: t("chair.stage.in") if h.shortlisted[row[p]] else t("chair.stage.out") for p in ids}
    with st.form("stage_edit_form", border=True):
        st.markdown("**" + t("chair.stage.edit.title") + "**")
        c = st.columns([2, 1])
        pid = c[0].selectbox(t("chair.stage.edit.proposal"), ids, key="stage_edit_pid",
                             format_func=lambda p: f"{p} {title[p][:40]}（{status[p]}）")
        action = c[1].radio(t("chair.stage.edit.action"), ["add", "remove"], key="stage_edit_action",
                            format_func={a: action_label(a) for a in ("add", "remove")}.get, horizontal=True)
        reason = st.text_input(t("chair.stage.edit.reason"), key="stage_edit_reason")
        if not st.form_submit_button(t("chair.stage.edit.submit"), icon=":material/edit_note:", disabled=locked):
            return
    edit = ShortlistEdit(pid, action, reason.strip())
    _, codes = edit_refusals(h.document, h.shortlisted, row, edit)
    if codes:
        st.error(refusal_text(edit, codes), icon=":material/block:")
        return
    svc = get_store().hearings
    try:
        (svc.add_to_shortlist if action == "add" else svc.remove_from_shortlist)(me, rnd.id, pack_id, pid,
                                                                                   reason.strip())
    except (StoreError, InputError) as exc:
        st.error(error_text(exc), icon=":material/error:")
        return
    done(t(f"chair.stage.edit.done_{action}", id=pid))


# --- the page ----------------------------------------------------------------------------------------------------

def secretariat_view(me, rnd, pack_id: str, info) -> None:
    """The stage and, once fixed, the shortlist in hearing order (no score, no edit)."""
    st.caption(t("chair.stage.read_only"))
    if info.shortlist is None:
        st.info(t("chair.stage.not_fixed"))
        return
    titles = {p.id: p.title for p in get_store().rounds.list_proposals(me, rnd.id, pack_id)}
    st.markdown("**" + t("chair.stage.fixed_list", n=len(info.shortlist)) + "**")
    st.dataframe([{t("chair.col_id"): p, t("chair.col_title"): titles.get(p, "")} for p in info.shortlist],
                 hide_index=True, width="stretch", key="stage_fixed_list")


def render() -> None:
    me = require("chair", "secretariat")
    head = round_pack_header(me, "chair.stage.title")
    if head is None:
        return
    rnd, pack_id, _ = head
    lang = current_lang()
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    info = get_store().hearings.get_stage(me, rnd.id, pack_id)
    st.markdown(stage_steps(info))
    if not info.has_hearing:
        st.info(t("chair.stage.no_hearing", stage=stage_label(info.stage)), icon=":material/info:")
        return
    st.caption(t(f"chair.stage.help.{info.stage}"))
    if me.role != "chair":
        secretariat_view(me, rnd, pack_id, info)
        return
    state = hearing_state(me, rnd.id, pack_id)
    stage = Stage(info.stage)
    locked = rnd.status == "locked"
    open_method = stage in (Stage.document, Stage.shortlist) and not locked
    init_method(state.params, (rnd.id, pack_id, str(info.hearing_params)))
    if stage in (Stage.document, Stage.shortlist):
        method_controls(state.params, open_method)
    try:
        whatif = whatif_params(state.params) if open_method else state.params
        h = rank_with(state, whatif)
    except (InputError, WhatIfError) as exc:
        budget = isinstance(exc, InputError) and any(p.field == "shortlist.method" for p in exc.problems)
        st.error(t("chair.stage.needs_budget") if budget else t("chair.stage.bad_method"), icon=":material/error:")
        stage_moves(me, rnd, pack_id, stage, state.params, True, locked)
        return
    changed = not same_method(whatif, state.params)
    summary(h, info, changed)
    st.dataframe(cut_table(h, lang), hide_index=True, width="stretch", column_config=cut_config(h, lang),
                 placeholder="", height=min(38 + 35 * (h.table.n + 2), 640), key="stage_cut_table")
    if stage == Stage.shortlist:
        if changed:
            st.caption(t("chair.stage.edit.whatif_only"))
        else:
            edit_form(me, rnd, pack_id, h, locked)
    st.subheader(t("chair.stage.edits"), divider="gray")
    if state.edits:
        names = {r.reviewer_id: r.name for r in (state.call.reviewers or [])}
        st.dataframe(edits_table(state.edits, names, lang), hide_index=True, width="stretch", key="stage_edits")
    else:
        st.caption(t("chair.stage.no_edits"))
    stage_moves(me, rnd, pack_id, stage, whatif, bool(h.refused_edits), locked)


def summary(h, info, changed: bool) -> None:
    """How many the method cuts, how many the edits make it, the edits that do not fit a what-if."""
    hp = h.hearing_params
    cut, short = int(h.cut.sum()), int(h.shortlisted.sum())
    added = sum(1 for e in h.edits.values() if e.action == "add")
    removed = len(h.edits) - added
    if info.shortlist is not None and not changed:
        st.info(t("chair.stage.fixed", method=method_label(hp.shortlist_method), n=short), icon=":material/lock:")
    m = st.columns(4)
    m[0].metric(t("chair.stage.metric.cut", method=method_label(hp.shortlist_method)), cut)
    m[1].metric(t("chair.stage.metric.added"), added)
    m[2].metric(t("chair.stage.metric.removed"), removed)
    m[3].metric(t("chair.stage.metric.shortlist"), short)
    if changed:
        st.warning(t("chair.stage.whatif.active"), icon=":material/science:")
    for edit, codes in h.refused_edits:
        st.error(refusal_text(edit, codes), icon=":material/block:")
    if h.refused_edits:
        st.caption(t("chair.stage.refused_help"))


with error_boundary("chair_stage"):
    render()
