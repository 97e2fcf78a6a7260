"""The hearing form (ヒアリング審査) on the scoring page (``app/pages/reviewer_scoring.py``; issue 17).

At stage ``hearing`` every committee member not conflicted with a shortlisted proposal has a hearing form for it
(``store.hearing_forms.list_for``); the scoring page then offers 書面審査 / ヒアリング審査 at its top. The hearing
form shows the proposal, the document stage's comments of the panel as question prompts
(「書面審査での指摘（質問の参考）」, ``store.hearing_forms.prompts``: only what the reader may see), then the hearing
criteria with the same autosave / submit / stale-save code as the document review (:mod:`app.review_form`), then
「委員間の議論」 (:mod:`app.discussion_view`: the proposal's thread under the round's review-visibility policy, and
the other members' submitted hearing scores — under ``after_own_submit`` once one's own hearing review is in).
A conflicted member gets no form: the proposal is not offered, and the store refuses it if named in the address.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.discussion_view import discussion_section
from app.i18n import current_lang, t
from app.auth import require
from app.review_form import HEARING, criteria_section, form_review, hand_over, status_line, submit_section, sync_widgets
from app.ui import error_boundary
from app.session import error_text, get_store
from scoring.store import ConflictOfInterest, NotFound, PermissionDenied, ReviewLocked, RoundLocked

MODE = "rv_mode"            # "document" | "hearing": which review the scoring page shows
TARGET = "rv_h_target"      # (round_id, proposal_id) of the hearing form shown
MODES = ("document", "hearing")


def _mode_changed() -> None:
    """Another review kind: the proposal in the address belongs to the other one."""
    for k in ("round", "proposal", "stage"):
        st.query_params.pop(k, None)


def hearing_mode(me) -> list | None:
    """The member's hearing forms when the page is to show one (the switch 書面審査 / ヒアリング審査 is drawn
    when they have any), else None."""
    forms = get_store().hearing_forms.list_for(me)
    if not forms:
        return None
    ss = st.session_state
    if st.query_params.get("stage") == "hearing" or ss.get(MODE) not in MODES:
        ss[MODE] = "hearing" if st.query_params.get("stage") == "hearing" else "document"
    st.radio(t("hearing.mode.label"), MODES, key=MODE, horizontal=True, on_change=_mode_changed,
             format_func={m: t(f"hearing.mode.{m}") for m in MODES}.get)
    return forms if ss[MODE] == "hearing" else None


def status_label(status: str) -> str:
    return t(f"reviewer.status.{status}")


def choose(forms) -> tuple[int, str] | None:
    qp = st.query_params
    options = [(f.round_id, f.proposal_id) for f in forms]
    titles = {(f.round_id, f.proposal_id): f"{f.proposal_id}　{f.title}（{status_label(f.status)}）" for f in forms}
    if "proposal" in qp and "round" in qp:
        try:
            asked = (int(qp["round"]), str(qp["proposal"]))
        except ValueError:
            asked = None
        if asked in options:
            st.session_state[TARGET] = asked
        else:   # unknown, not shortlisted, or conflicted: one message naming nothing
            st.warning(t("hearing.form.not_available"), icon=":material/search_off:")
    target = st.session_state.get(TARGET)
    if target not in options:
        target = next((o for o, f in zip(options, forms) if f.status != "submitted"), options[0])
    picked = st.selectbox(t("hearing.form.pick"), options, index=options.index(target), key="rv_h_pick",
                          format_func=lambda o: titles[o])
    if picked is not None:
        target = tuple(picked)
    st.session_state[TARGET] = target
    st.query_params.update({"round": str(target[0]), "proposal": target[1], "stage": "hearing"})
    return target


def prompts_section(me, rid: int, pid: str, pack) -> None:
    """The document stage's comments as question prompts (writer numbered for members, named for a chair)."""
    lang = current_lang()
    prompts = get_store().hearing_forms.prompts(me, rid, pid)
    names = {c.id: c.label.get(lang) for c in pack.criteria}
    names.update({f"bonus:{b.id}": b.label.get(lang) for b in pack.judged_bonuses})
    names["overall"] = t("reviewer.overall")
    with st.container(border=True):
        st.subheader(t("hearing.prompts.title"))
        if not prompts:
            st.caption(t("hearing.prompts.none"))
            return
        st.caption(t("hearing.prompts.help"))
        st.dataframe(pd.DataFrame([{
            t("hearing.prompts.writer"): p.reviewer or t("hearing.prompts.member", n=p.number),
            t("hearing.prompts.item"): names.get(p.item, p.item),
            t("hearing.prompts.text"): p.text} for p in prompts]), hide_index=True, width="stretch")


def hearing_page(me, forms, notice=None) -> None:
    """The hearing form of the member's chosen shortlisted proposal."""
    target = choose(forms)
    if notice:
        getattr(st, notice[0])(notice[1])
    rid, pid = target
    form = next(f for f in forms if (f.round_id, f.proposal_id) == target)
    store = get_store()
    try:
        proposal = store.hearing_forms.get_proposal(me, rid, pid)
        review = store.reviews.get_review(me, rid, pid, stage="hearing")
    except (PermissionDenied, ConflictOfInterest, NotFound, ReviewLocked) as exc:
        st.session_state.pop(TARGET, None)
        st.error(error_text(exc))
        return
    pack = store.rounds.pack(rid, form.pack)
    lang = current_lang()
    st.title(f"{proposal.id}　{proposal.title}")
    st.caption(f"{pack.programme.code} {pack.programme.name.get(lang)}　" + t("hearing.form.caption"))
    st.markdown(t("reviewer.member.applicant") + t("common.label_sep") + proposal.applicant.name)
    with st.expander(t("reviewer.summary")):
        st.write(proposal.summary or "—")
    if form.round_locked:
        st.warning(t("reviewer.round_locked"), icon=":material/lock:")
    hand_over(review, HEARING)
    form_part(target, pack, form.round_locked)
    # 委員間の議論 as on the document review: the same thread, policy and conflict rules; the others' hearing scores.
    # Outside the form's fragment: a level click does not redraw it; a submit reruns the whole page.
    discussion_section(me, rid, pid, pack, stage="hearing", own_submitted=review.status == "submitted")


@st.fragment
def form_part(target, pack, round_locked: bool) -> None:
    """The hearing form from its status on: a fragment, like the document review's (app/review_form.py)."""
    with error_boundary("reviewer_scoring"):
        try:
            me = require("reviewer", "chair")
            review = form_review(me, target, HEARING, TARGET)
            sync_widgets(target, review, pack, HEARING)
            status_line(review, round_locked)
            prompts_section(me, target[0], target[1], pack)
            criteria_section(target, pack, review, HEARING, round_locked, me.username)
            if not round_locked:
                submit_section(me, target, pack, review, HEARING)
        except (RoundLocked, ReviewLocked) as exc:
            st.error(error_text(exc))
