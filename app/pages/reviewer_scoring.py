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

from app.auth import actor, require
from app.i18n import current_lang, t, t_or
from app.progress import next_open
from app.session import error_text, get_store
from app.ui import commit_while_typing, error_boundary, man_oku, yen, yen_both
from scoring.errors import InputError
from scoring.store import (ConflictOfInterest, IncompleteReview, NotFound, PermissionDenied, ReviewLocked,
                           RoundLocked, StaleReview, StoreError)
from scoring.store.times import local_time

TARGET = "rv_target"        # (round_id, proposal_id) being scored
LOADED = "rv_loaded"        # the target whose content is in the widgets
VERSION = "rv_version"      # the review version the widgets were loaded from / last saved as
NOTICE = "rv_notice"        # a message for the next run (stale, error)
CONFIRM = "rv_confirm"      # the submit confirmation is open
YES, NO = 1, 0


def level_key(cid: str) -> str:
    return f"rv_level_{cid}"


def comment_key(cid: str) -> str:
    return f"rv_comment_{cid}"


def bonus_key(bid: str) -> str:
    return f"rv_bonus_{bid}"


def bonus_comment_key(bid: str) -> str:
    return f"rv_bonus_comment_{bid}"


OVERALL = "rv_overall"


# --- which proposal --------------------------------------------------------------------------------------------

def choose_target(me) -> tuple[int, str] | None:
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
    mine = [a for a in get_store().assignments.list_assignments_for(me, include_locked=True) if a.status != "conflict"]
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


def next_section(me, target) -> None:
    """A button to the next proposal still to be scored (or a note that all are submitted)."""
    rid, pid = target
    following = next_open(get_store().assignments.list_assignments_for(me, rid), pid)
    if following is None:
        st.success(t("reviewer.next.none"), icon=":material/task_alt:")
        return
    st.button(t("reviewer.next.button", id=following), key="rv_next", on_click=_go_to, args=((rid, following),),
              icon=":material/arrow_forward:")


# --- loading and saving ----------------------------------------------------------------------------------------

def load_into_widgets(review, pack) -> None:
    """Put a stored review into the widgets (first view of a proposal, or the newer content after a stale save)."""
    ss = st.session_state
    for c in pack.criteria:
        ss[level_key(c.id)] = review.levels.get(c.id)
        ss[comment_key(c.id)] = review.comments.get(c.id, "")
    for b in pack.judged_bonuses:
        ss[bonus_key(b.id)] = review.bonus_marks.get(b.id)
        ss[bonus_comment_key(b.id)] = review.comments.get(f"bonus:{b.id}", "")
    ss[OVERALL] = review.overall_comment or ""
    ss[VERSION] = review.version


def widget_content(pack) -> dict:
    ss = st.session_state
    comments = {c.id: ss.get(comment_key(c.id)) or "" for c in pack.criteria}
    comments.update({f"bonus:{b.id}": ss.get(bonus_comment_key(b.id)) or "" for b in pack.judged_bonuses})
    return {"levels": {c.id: ss.get(level_key(c.id)) for c in pack.criteria},
            "comments": {k: v for k, v in comments.items() if v.strip()},
            "bonus_marks": {b.id: ss.get(bonus_key(b.id)) for b in pack.judged_bonuses},
            "overall_comment": ss.get(OVERALL) or ""}


def autosave(round_id: int, proposal_id: str, pack_id: str) -> None:
    """on_change of every level, comment and bonus mark: save the whole review as a draft."""
    me = actor()
    if me is None:
        return
    store = get_store()
    pack = store.rounds.pack(round_id, pack_id)
    ss = st.session_state
    try:
        ss[VERSION] = store.reviews.save_draft(me, round_id, proposal_id, base_version=int(ss.get(VERSION, 0)),
                                               **widget_content(pack))
        ss.pop(NOTICE, None)
    except StaleReview as exc:
        current = exc.current or store.reviews.get_review(me, round_id, proposal_id)
        load_into_widgets(current, pack)
        ss[NOTICE] = ("warning", t("reviewer.stale", time=local_time(current.updated_at)))
    except (StoreError, InputError) as exc:
        ss[NOTICE] = ("error", error_text(exc))


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
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    with right:
        st.subheader(t("reviewer.amounts"))
        st.metric(t("reviewer.requested"), man_oku(proposal.requested_yen))
        st.caption(yen(proposal.requested_yen))
        if proposal.eligible_cost_yen is not None:
            st.metric(t("reviewer.eligible_cost"), man_oku(proposal.eligible_cost_yen))
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


def scoring_section(target, pack, review, round_locked: bool = False) -> None:
    lang = current_lang()
    rid, pid = target
    locked = review.status == "submitted" or round_locked
    args = (rid, pid, pack.id)
    scale = sorted(pack.scale, key=lambda s: s.level, reverse=True)
    labels = {s.level: s.label.get(lang) for s in scale}
    st.header(t("reviewer.scoring"))
    for c in pack.criteria:
        with st.container(border=True):
            st.markdown(f"**{c.label.get(lang)}**　" + t("reviewer.points", points=f"{c.points:g}"))
            with st.expander(t("reviewer.guidance")):
                st.markdown("\n".join(f"- **{s.level} {labels[s.level]}**：{c.guidance[s.level].get(lang)}"
                                      for s in scale if s.level in c.guidance))
            # named after its criterion for a screen reader; the bold criterion line above is its visible label
            level = st.radio(t("a11y.level_of", criterion=c.label.get(lang)), [s.level for s in scale],
                             key=level_key(c.id), horizontal=True, index=None, label_visibility="collapsed",
                             format_func=lambda v: f"{v} {labels[v]}", on_change=autosave, args=args,
                             disabled=locked)
            if level is not None and level in c.guidance:
                st.caption(f"{level} {labels[level]}：{c.guidance[level].get(lang)}")
            st.text_area(t("reviewer.comment"), key=comment_key(c.id), height=68, on_change=autosave, args=args,
                         disabled=locked)
    if pack.judged_bonuses:
        st.subheader(t("reviewer.judged_bonus"))
        for b in pack.judged_bonuses:
            with st.container(border=True):
                points = t("reviewer.points", points=f"{b.points:g}")     # already in （…） / (…)
                st.radio(b.label.get(lang) + ("" if lang == "ja" else " ") + points, [YES, NO],
                         key=bonus_key(b.id), horizontal=True, index=None, on_change=autosave, args=args, disabled=locked,
                         format_func=lambda v: t("reviewer.bonus.yes") if v == YES else t("reviewer.bonus.no"))
                st.text_input(t("reviewer.comment"), key=bonus_comment_key(b.id), on_change=autosave, args=args,
                              disabled=locked)
    st.text_area(t("reviewer.overall"), key=OVERALL, on_change=autosave, args=args, disabled=locked)
    if not locked:   # comments are saved as the reviewer types, not only when the field loses focus
        commit_while_typing(comment_key(""), bonus_comment_key(""), OVERALL)


def status_line(review, round_locked: bool = False) -> None:
    if review.status == "submitted":
        st.success(t("reviewer.submitted_at", time=local_time(review.submitted_at or review.updated_at)),
                   icon=":material/lock:")
    elif review.exists:
        st.caption(":material/cloud_done: " + t("reviewer.saved_at", time=local_time(review.updated_at)))
    elif not round_locked:      # a locked round saves nothing: no promise of autosave
        st.caption(t("reviewer.autosave_hint"))


def submit_section(me, target, pack, review) -> None:
    if review.status == "submitted":
        return
    rid, pid = target
    ss = st.session_state
    st.divider()
    missing = [c.label.get(current_lang()) for c in pack.criteria if ss.get(level_key(c.id)) is None]
    if st.button(t("reviewer.submit"), key="rv_submit", type="primary", icon=":material/send:"):
        if missing:
            ss[CONFIRM] = False
            st.error(t("reviewer.missing", items=t("common.list_sep").join(missing)))
        else:
            ss[CONFIRM] = True
    if ss.get(CONFIRM) and not missing:
        with st.container(border=True):
            st.warning(t("reviewer.confirm"))
            c1, c2 = st.columns(2)
            if c1.button(t("reviewer.confirm_yes"), key="rv_submit_confirm", type="primary"):
                ss[CONFIRM] = False
                try:
                    ss[VERSION] = get_store().reviews.submit(me, rid, pid, version=int(ss.get(VERSION, 0)))
                    ss[NOTICE] = ("success", t("reviewer.submitted"))
                except IncompleteReview as exc:
                    ss[NOTICE] = ("error", error_text(exc))
                except StaleReview:
                    current = get_store().reviews.get_review(me, rid, pid)
                    load_into_widgets(current, pack)
                    ss[NOTICE] = ("warning", t("reviewer.stale", time=local_time(current.updated_at)))
                st.rerun()
            if c2.button(t("reviewer.confirm_no"), key="rv_submit_cancel"):
                ss[CONFIRM] = False
                st.rerun()


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
    target = choose_target(me)
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
    widgets_gone = level_key(pack.criteria[0].id) not in ss   # another page was shown in between
    if ss.get(LOADED) != target or VERSION not in ss or widgets_gone:
        load_into_widgets(review, pack)
        ss[LOADED] = target
        ss[CONFIRM] = False
    elif review.version != ss.get(VERSION) and review.status == "submitted":
        load_into_widgets(review, pack)     # submitted elsewhere: show it read-only
    round_locked = store.rounds.get_round(me, rid).status == "locked"
    proposal_section(proposal, pack)
    if round_locked:
        st.warning(t("reviewer.round_locked"), icon=":material/lock:")
    status_line(review, round_locked)
    if review.status == "submitted" and not round_locked:
        next_section(me, target)        # just submitted (or reopened to read): on to the next one
    scoring_section(target, pack, review, round_locked)
    if not round_locked:
        submit_section(me, target, pack, review)
        if review.status != "submitted":
            conflict_section(me, target)
            next_section(me, target)


with error_boundary("reviewer_scoring"):
    try:
        render()
    except (RoundLocked, ReviewLocked) as exc:
        st.error(error_text(exc))
