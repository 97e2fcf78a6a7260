"""担当案件 — a reviewer's assigned proposals (issue 4 §3) and, at stage ヒアリング, their hearing forms (issue 17).

Reads like the page: how far I am (a progress bar and the counts), then my proposals with their status
(未着手 / 下書き / 提出済), the round's deadline (評価締切) with the days left, and a button to open one.
Conflicted proposals are not listed; a locked round stays listed, its reviews read-only. When a programme is in
its hearing stage, a section 「ヒアリング審査」 lists the shortlisted proposals the member may score (every member
not conflicted with them) with their status, and the member's own slots of the hearing timetable.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app.auth import require
from app.discussion_view import unread_note
from app.i18n import t
from app.progress import REVIEW_STATUSES, days_left, share_submitted, status_counts
from app.session import get_store, pack_label
from app.ui import error_boundary
from scoring.store.times import local_time


def status_label(status: str) -> str:
    return t(f"reviewer.status.{status}")


def deadline_line(deadline: date | None) -> None:
    """The round's deadline (評価締切) with the days remaining; the secretariat's notice when none is set."""
    if deadline is None:
        st.caption(t("reviewer.deadline_hint"))
        return
    n = days_left(deadline)
    text = t("reviewer.deadline", date=f"{deadline:%Y-%m-%d}") + "　" + (
        t("reviewer.deadline_days", n=n) if n > 0 else t("reviewer.deadline_today") if n == 0
        else t("reviewer.deadline_past", n=-n))
    (st.error if n < 0 else st.warning if n <= 3 else st.info)(text, icon=":material/event:")


def render() -> None:
    me = require("reviewer", "chair")
    store = get_store()
    st.title(t("reviewer.home.title"))
    # locked rounds too: their reviews stay readable (read-only) after the chair locks the round
    mine = store.assignments.list_assignments_for(me, include_locked=True)
    todo = [a for a in mine if a.status != "conflict"]
    forms = store.hearing_forms.list_for(me)      # at stage ヒアリング: the shortlisted proposals, none conflicted
    if not todo and not forms:
        st.info(t("reviewer.none_assigned"))
        return
    rounds = {r.id: r for r in store.rounds.list_rounds(me)}
    for rid in dict.fromkeys(a.round_id for a in todo):
        items = [a for a in todo if a.round_id == rid]
        rnd = rounds.get(rid)
        st.header(rnd.name if rnd else str(rid))
        if rnd is not None and rnd.description:
            st.caption(rnd.description)
        if rnd is not None and rnd.status == "locked":
            st.warning(t("reviewer.round_locked"))
        else:
            deadline_line(rnd.deadline if rnd is not None else None)
        counts = status_counts([a.status for a in items])
        st.progress(share_submitted(counts),
                    text=t("reviewer.progress", done=counts["submitted"], total=len(items)))
        unread_note(me, rid)                # proposals with new discussion since I last looked
        cols = st.columns(3)
        for col, s in zip(cols, REVIEW_STATUSES):
            col.metric(status_label(s), counts[s])
        # the column titles and the status words looked up once, not per row (issue 15: 5 t() per row of 550
        # were three quarters of the page's run)
        labels = {s: status_label(s) for s in dict.fromkeys(a.status for a in items)}
        c_id, c_title, c_status, c_updated = (t("reviewer.col.id"), t("reviewer.col.title"),
                                              t("reviewer.col.status"), t("reviewer.col.updated"))
        st.dataframe(pd.DataFrame([{
            c_id: a.proposal_id, c_title: a.title, c_status: labels[a.status],
            c_updated: local_time(a.updated_at) if a.updated_at else "—"} for a in items]),
            hide_index=True, width="stretch")
        options = [a.proposal_id for a in items]
        titles = {a.proposal_id: f"{a.proposal_id}　{a.title}（{labels[a.status]}）" for a in items}
        first_open = next((a.proposal_id for a in items if a.status != "submitted"), options[0])
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        key = f"rv_home_pick_{rid}"
        if st.session_state.get(key) not in options:
            # the default through session state only: a widget given both a default and a session-state value
            # (the language switch assigns it back) makes Streamlit log a warning
            st.session_state[key] = first_open
        pid = c1.selectbox(t("reviewer.pick"), options, key=key, format_func=titles.get, placeholder=t("common.choose"))
        if c2.button(t("reviewer.open"), key=f"rv_home_open_{rid}", type="primary", icon=":material/edit:"):
            st.session_state["rv_target"] = (rid, pid)
            st.switch_page("app/pages/reviewer_scoring.py", query_params={"round": str(rid), "proposal": pid})
    if forms:
        hearing_section(me, forms)


def hearing_section(me, forms) -> None:
    """「ヒアリング審査」: the member's hearing forms with their status, a button to open one, and the member's own
    slots of the timetable (read-only; times in JST)."""
    st.header(t("hearing.home.title"))
    st.caption(t("hearing.home.help"))
    labels = {s: status_label(s) for s in dict.fromkeys(f.status for f in forms)}     # once, not per row
    c_id, c_title, c_prog, c_status, c_updated = (t("reviewer.col.id"), t("reviewer.col.title"),
                                                  t("hearing.home.programme"), t("reviewer.col.status"),
                                                  t("reviewer.col.updated"))
    st.dataframe(pd.DataFrame([{
        c_id: f.proposal_id, c_title: f.title, c_prog: pack_label(f.round_id, f.pack), c_status: labels[f.status],
        c_updated: local_time(f.updated_at) if f.updated_at else "—"} for f in forms]),
        hide_index=True, width="stretch", key="rv_home_hearing_table")
    options = [(f.round_id, f.proposal_id) for f in forms]
    titles = {(f.round_id, f.proposal_id): f"{f.proposal_id}　{f.title}（{labels[f.status]}）" for f in forms}
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    if st.session_state.get("rv_home_hearing_pick") not in options:
        st.session_state["rv_home_hearing_pick"] = next(
            (o for o, f in zip(options, forms) if f.status != "submitted"), options[0])
    picked = c1.selectbox(t("hearing.home.pick"), options, key="rv_home_hearing_pick", format_func=titles.get)
    if c2.button(t("hearing.home.open"), key="rv_home_hearing_open", type="primary", icon=":material/edit:"):
        st.session_state["rv_mode"] = "hearing"
        st.session_state["rv_h_target"] = tuple(picked)
        st.switch_page("app/pages/reviewer_scoring.py", query_params={
            "round": str(picked[0]), "proposal": picked[1], "stage": "hearing"})
    slots = get_store().timetables.my_slots(me)
    if slots:
        st.subheader(t("hearing.slots.title"))
        st.caption(t("hearing.slots.help"))
        st.dataframe(pd.DataFrame([{
            t("timetable.col.date"): f"{m.slot.start:%Y-%m-%d}",
            t("timetable.col.time"): f"{m.slot.start:%H:%M}–{m.slot.end:%H:%M}",
            t("reviewer.col.id"): m.slot.proposal_id, t("reviewer.col.title"): m.slot.title,
            t("hearing.home.programme"): pack_label(m.round_id, m.pack_id)} for m in slots]),
            hide_index=True, width="stretch", key="rv_home_slots")


with error_boundary("reviewer_home"):
    render()
