"""Conflicts of interest as the chair and the secretariat handle them (issue 14 §3): the list with each reason,
adding and withdrawing one (a reason is required; the store logs both), and the proposals a conflict left short
of reviewers, each with a one-click reassignment — the store's automatic assignment of that one proposal, which
never picks a conflicted reviewer and takes the least-loaded first.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from scoring.errors import InputError
from scoring.store import StoreError
from scoring.store.times import local_time

from .i18n import t
from .session import error_text, get_store, store_errors

DONE = "coi_reassign_done"   # the result of the last one-click reassignment, shown on the next run


def _reassign(me, round_id: int, round_name: str, pack_id: str, proposal_id: str, wanted: int) -> None:
    """on_click: the automatic assignment of one proposal back up to ``wanted`` reviewers."""
    try:
        rep = get_store().assignments.auto_assign(me, round_id, pack_id, wanted, proposals=[proposal_id])
    except (StoreError, InputError) as exc:
        st.session_state[DONE] = ("error", error_text(exc))
        return
    added = t("common.list_sep").join(r for _, r in rep.added) or "—"
    if rep.unsatisfied:
        u = rep.unsatisfied[0]
        st.session_state[DONE] = ("warning", t("coi.reassign.partly", proposal=proposal_id, added=added, have=u.have,
                                               wanted=u.wanted, round=round_name))
    else:
        st.session_state[DONE] = ("success", t("coi.reassign.done", proposal=proposal_id, added=added,
                                               round=round_name))


def short_panels(me, rnd, pack_id: str, key_prefix: str) -> None:
    """Every proposal of the pack a conflict left short of reviewers, each with its one-click reassignment."""
    done = st.session_state.pop(DONE, None)
    if done:
        getattr(st, done[0])(done[1])
    if rnd.status == "locked":
        return
    with store_errors():
        for s in get_store().assignments.short_of_reviewers(me, rnd.id, pack_id):
            c = st.columns([4, 2], vertical_alignment="center")
            c[0].warning(t("coi.short", proposal=s.proposal_id, have=s.have, wanted=s.wanted),
                         icon=":material/group_remove:")
            c[1].button(t("coi.reassign.button", n=s.wanted - s.have), key=f"{key_prefix}_reassign_{s.proposal_id}",
                        on_click=_reassign, args=(me, rnd.id, rnd.name, pack_id, s.proposal_id, s.wanted),
                        icon=":material/person_add:")


def _conflict_label(c, names: dict[str, str]) -> str:
    what = c.proposal_id or c.organisation
    return f"{names.get(c.reviewer) or c.reviewer} — {what}（{c.reason or '—'}）"


def conflicts_section(me, rnd) -> None:
    """ラウンド管理: the round's conflicts; add one for a reviewer; withdraw one recorded in error."""
    store = get_store()
    st.subheader(t("coi.title"))
    st.caption(t("coi.help", round=rnd.name))
    conflicts = store.assignments.list_conflicts(me, rnd.id)
    names = {r.username: r.name for r in store.rounds.list_reviewers(me, rnd.id)}
    if conflicts:
        st.dataframe(pd.DataFrame([{t("coi.col.reviewer"): names.get(c.reviewer) or c.reviewer,
                                    t("coi.col.target"): c.proposal_id or c.organisation,
                                    t("coi.col.reason"): c.reason or "—",
                                    t("coi.col.source"): t(f"coi.source.{c.source}"),
                                    t("coi.col.by"): names.get(c.created_by) or c.created_by,
                                    t("coi.col.at"): local_time(c.created_at, "%Y-%m-%d %H:%M")} for c in conflicts]),
                     hide_index=True, width="stretch", key="adm_coi_table")
    else:
        st.caption(t("coi.none"))
    locked = rnd.status == "locked"
    st.markdown("**" + t("coi.add.title") + "**")
    c = st.columns([2, 2, 3, 1], vertical_alignment="bottom")
    reviewer = c[0].selectbox(t("coi.col.reviewer"), list(names), index=None, key="adm_coi_reviewer",
                              format_func=lambda u: f"{names[u]}（{u}）", placeholder=t("coi.pick"))
    proposals = [p.id for p in store.rounds.list_proposals(me, rnd.id)]
    proposal = c[1].selectbox(t("coi.col.proposal"), proposals, index=None, key="adm_coi_proposal",
                              placeholder=t("coi.pick"))
    reason = c[2].text_input(t("coi.reason"), key="adm_coi_reason", max_chars=500)
    if c[3].button(t("coi.add.submit"), key="adm_coi_add", disabled=locked or not (reviewer and proposal)):
        if not reason.strip():
            st.error(t("coi.need_reason"))
        else:
            with store_errors():
                store.assignments.set_conflict(me, rnd.id, reviewer, proposal_id=proposal, reason=reason.strip())
                st.session_state[DONE] = ("success", t("coi.add.done", reviewer=names.get(reviewer) or reviewer,
                                                       proposal=proposal, round=rnd.name))
                for k in ("adm_coi_reviewer", "adm_coi_proposal", "adm_coi_reason"):
                    st.session_state.pop(k, None)
                st.rerun()
    if conflicts:
        st.markdown("**" + t("coi.remove.title") + "**")
        labels = {x.id: _conflict_label(x, names) for x in conflicts}
        c = st.columns([3, 3, 1], vertical_alignment="bottom")
        pick = c[0].selectbox(t("coi.remove.pick"), list(labels), index=None, key="adm_coi_remove_pick",
                              format_func=labels.get, placeholder=t("coi.pick"))
        why = c[1].text_input(t("coi.reason"), key="adm_coi_remove_reason", max_chars=500)
        confirm = st.checkbox(t("coi.remove.confirm"), key="adm_coi_remove_confirm")
        if c[2].button(t("coi.remove.submit"), key="adm_coi_remove", disabled=locked or pick is None or not confirm):
            if not why.strip():
                st.error(t("coi.need_reason"))
            else:
                with store_errors():
                    store.assignments.remove_conflict(me, rnd.id, pick, reason=why.strip())
                    st.session_state[DONE] = ("success", t("coi.remove.done", what=labels[pick], round=rnd.name))
                    for k in ("adm_coi_remove_pick", "adm_coi_remove_reason", "adm_coi_remove_confirm"):
                        st.session_state.pop(k, None)
                    st.rerun()
