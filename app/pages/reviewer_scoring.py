"""評価入力 — a reviewer scores one assigned proposal (issue 4 §3).

Reads like the page: which proposal (from 「担当案件」 or the URL ``?round=…&proposal=…``); the proposal's summary,
facts, consortium, amounts and cost lines; per criterion the guidance of each level, a level and a comment;
the judged bonus items; an overall comment; submit (checked, then confirmed); declare a conflict.

Every change is saved as a draft at once (``ReviewService.save_draft`` with the version this screen holds);
if another screen saved in between, the newer content is shown and nothing is overwritten. Only the
reviewer's own review is ever loaded: the store refuses anything else.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.discussion_view import discussion_section
from app.documents_view import beside_documents
from app.hearing_form import hearing_mode, hearing_page
from app.i18n import current_lang, t, t_or
from app.auth import require
from app.progress import next_open
from app.review_form import (DOCUMENT, NOTICE, criteria_section, form_review, hand_over, status_line, submit_section,
                             sync_widgets)
from app.session import error_text, get_store
from app.ui import error_boundary, man_oku, yen, yen_both
from scoring.errors import InputError
from scoring.store import ConflictOfInterest, NotFound, PermissionDenied, ReviewLocked, RoundLocked, StoreError

TARGET = "rv_target"        # (round_id, proposal_id) being scored
LOADED, VERSION, CONFIRM = DOCUMENT.loaded, DOCUMENT.version, DOCUMENT.confirm
OVERALL = DOCUMENT.overall


# --- which proposal --------------------------------------------------------------------------------------------

def choose_target(me, mine) -> tuple[int, str] | None:
    """The proposal to score, from the address or the picker; ``mine``: the reviewer's assignments (conflicted
    ones left out), read once per run by :func:`render`."""
    qp = st.query_params
    asked = str(qp["proposal"]) if "proposal" in qp else None     # named in the address (a link, a typed URL)
    from_url = None
    if asked is not None and "round" in qp:
        try:
            from_url = (int(qp["round"]), asked)
        except ValueError:
            from_url = None
        if from_url is not None:
            st.session_state[TARGET] = from_url
    target = st.session_state.get(TARGET)
    options = [(a.round_id, a.proposal_id) for a in mine]
    titles = {(a.round_id, a.proposal_id): f"{a.proposal_id}　{a.title}" for a in mine}
    if not options:
        st.info(t("reviewer.none_assigned"))
        return None
    if asked is not None and from_url not in options:
        # an unknown proposal, one of another round, or one not (or no longer) assigned to this reviewer: one
        # message for all, naming nothing (the page shows nothing of a proposal the reviewer may not read)
        st.warning(t("reviewer.not_assigned"), icon=":material/search_off:")
    if target not in options:
        target = None
    picked = st.selectbox(t("reviewer.pick"), options, index=options.index(target) if target else None,
                          key="rv_pick", format_func=lambda o: titles[o], placeholder=t("reviewer.pick_placeholder"))
    if picked is not None and picked != target:
        target = tuple(picked)
    if target is None:
        return None
    st.session_state[TARGET] = target
    st.query_params.update({"round": str(target[0]), "proposal": target[1]})
    return target


def _go_to(target: tuple[int, str]) -> None:
    st.session_state[TARGET] = target
    st.session_state["rv_pick"] = target
    st.query_params.update({"round": str(target[0]), "proposal": target[1]})


def next_section(target, mine) -> None:
    """A button to the next proposal still to be scored (or a note that all are submitted)."""
    rid, pid = target
    following = next_open([a for a in mine if a.round_id == rid], pid)
    if following is None:
        st.success(t("reviewer.next.none"), icon=":material/task_alt:")
        return
    st.button(t("reviewer.next.button", id=following), key="rv_next", on_click=_go_to, args=((rid, following),),
              icon=":material/arrow_forward:")


# --- the page --------------------------------------------------------------------------------------------------

def proposal_section(proposal, pack) -> None:
    lang = current_lang()
    st.title(f"{proposal.id}　{proposal.title}")
    st.caption(f"{pack.programme.code} {pack.programme.name.get(lang)}")
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("reviewer.summary"))
        st.write(proposal.summary or "—")
        st.subheader(t("reviewer.consortium"))
        rows = [{t("reviewer.member.name"): name, t("reviewer.member.kind"): t_or(f"kind.{kind.value}", kind.value),
                 t("reviewer.member.role"): t("reviewer.member.applicant") if is_app else ""}
                for name, kind, is_app in proposal.members()]
        st.table(pd.DataFrame(rows), hide_index=True)   # a static table: long names wrap, no column is cut
    # the amounts wrap in their narrow column (beside the 提案書) instead of being cut to 「1億4,50…」 (app/ui.py)
    with right, st.container(key="rv_amounts"):
        st.subheader(t("reviewer.amounts"))
        st.metric(t("reviewer.requested"), man_oku(proposal.requested_yen))
        if yen(proposal.requested_yen) != man_oku(proposal.requested_yen):   # in English both are ¥…: once
            st.caption(yen(proposal.requested_yen))
        if proposal.eligible_cost_yen is not None:
            st.metric(t("reviewer.eligible_cost"), man_oku(proposal.eligible_cost_yen))
            if yen(proposal.eligible_cost_yen) != man_oku(proposal.eligible_cost_yen):
                st.caption(yen(proposal.eligible_cost_yen))
        if proposal.technologies:
            st.markdown(t("reviewer.technologies") + t("common.label_sep") + t("common.list_sep").join(
                t_or(f"tech.{x.value}", x.value) for x in proposal.technologies))
        if proposal.applicant.prefecture or proposal.applicant.municipality:
            st.markdown(t("reviewer.location") + t("common.label_sep") + " ".join(
                x for x in (proposal.applicant.prefecture, proposal.applicant.municipality) if x))
    if proposal.facts:
        with st.expander(t("reviewer.facts")):
            st.dataframe(pd.DataFrame([{t("reviewer.fact"): t_or(f"fact.{k}", k), t("reviewer.value"): _fact(v)}
                                       for k, v in proposal.facts.items()]), hide_index=True,
                         width="stretch")
    if proposal.cost_lines:
        with st.expander(t("reviewer.cost_lines")):
            st.dataframe(pd.DataFrame([{
                t("reviewer.cost.item"): c.item,
                t("reviewer.cost.category"): t_or(f"cost.category.{c.category.value}", c.category.value),
                t("reviewer.cost.amount"): yen_both(c.amount_yen)} for c in proposal.cost_lines]),
                hide_index=True, width="stretch")


def _fact(v) -> str:
    if isinstance(v, bool):
        return t("common.yes") if v else t("common.no")
    return "—" if v is None else str(v)


def conflict_section(me, target) -> None:
    rid, pid = target
    with st.expander(t("reviewer.conflict.title"), icon=":material/do_not_disturb_on:"):
        st.caption(t("reviewer.conflict.help"))
        reason = st.text_input(t("reviewer.conflict.reason"), key="rv_conflict_reason", max_chars=500)
        confirmed = st.checkbox(t("reviewer.conflict.confirm", proposal=pid), key="rv_conflict_confirm")
        ready = bool(reason.strip()) and confirmed
        if not ready:
            st.caption(t("reviewer.conflict.need"))
        if st.button(t("reviewer.conflict.declare"), key="rv_conflict_declare", disabled=not ready):
            try:
                get_store().assignments.declare_conflict(me, rid, proposal_id=pid, reason=reason.strip())
            except (StoreError, InputError) as exc:
                st.error(error_text(exc))
                return
            for k in (TARGET, LOADED, VERSION, CONFIRM, "rv_conflict_reason", "rv_conflict_confirm"):
                st.session_state.pop(k, None)
            st.session_state[NOTICE] = ("success", t("reviewer.conflict.done", proposal=pid))
            st.query_params.clear()
            st.rerun()


def render() -> None:
    me = require("reviewer", "chair")
    ss = st.session_state
    notice = ss.pop(NOTICE, None)
    forms = hearing_mode(me)        # the switch 書面審査 / ヒアリング審査 when the member has hearing forms
    if forms is not None:
        hearing_page(me, forms, notice)
        return
    # the reviewer's assignments, read once per run (the picker and the next-proposal button share them)
    mine = [a for a in get_store().assignments.list_assignments_for(me, include_locked=True) if a.status != "conflict"]
    target = choose_target(me, mine)
    if notice:
        getattr(st, notice[0])(notice[1])
    if target is None:
        return
    rid, pid = target
    store = get_store()
    try:
        proposal = store.rounds.get_proposal(me, rid, pid)
        review = store.reviews.get_review(me, rid, pid)
    except (PermissionDenied, ConflictOfInterest, NotFound) as exc:
        ss.pop(TARGET, None)
        st.error(error_text(exc))
        return
    pack = store.rounds.pack(rid, proposal.pack)
    round_locked = store.rounds.get_round(me, rid).status == "locked"
    # the document stage of the programme is over (shortlist, hearing, decided): its reviews are read-only
    stage_over = store.hearings.get_stage(me, rid, proposal.pack).stage != "document"
    with beside_documents(me, rid, pid, key="rv_doc"):   # the 提案書 left of the form (app/documents_view.py)
        proposal_section(proposal, pack)
        if round_locked:
            st.warning(t("reviewer.round_locked"), icon=":material/lock:")
        elif stage_over:
            st.info(t("hearing.document_over"), icon=":material/lock:")
        hand_over(review, DOCUMENT)
        form_part(target, pack, round_locked or stage_over, mine)
    discussion_section(me, rid, pid, pack)      # 委員間の議論: the thread and the others' scores, per the policy


@st.fragment
def form_part(target, pack, read_only: bool, mine) -> None:
    """The review form: its status, the levels and comments, submit, the conflict declaration and the next
    proposal. A fragment (app/review_form.py): a level click or a saved comment reruns only this part — under
    the page's own error handling, which a rerun of the fragment alone does not pass through."""
    with error_boundary("reviewer_scoring"):
        try:
            me = require("reviewer", "chair")
            review = form_review(me, target, DOCUMENT, TARGET)
            sync_widgets(target, review, pack, DOCUMENT)
            status_line(review, read_only)
            if review.status == "submitted" and not read_only:
                next_section(target, mine)      # just submitted (or reopened to read): on to the next one
            criteria_section(target, pack, review, DOCUMENT, read_only, me.username)
            if not read_only:
                submit_section(me, target, pack, review, DOCUMENT)
                if review.status != "submitted":
                    conflict_section(me, target)
                    next_section(target, mine)
        except (RoundLocked, ReviewLocked) as exc:
            st.error(error_text(exc))


with error_boundary("reviewer_scoring"):
    try:
        render()
    except (RoundLocked, ReviewLocked) as exc:
        st.error(error_text(exc))
