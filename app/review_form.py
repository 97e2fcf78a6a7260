"""The review form shared by the document review (書面審査, ``app/pages/reviewer_scoring.py``) and the hearing review
(ヒアリング審査, :mod:`app.hearing_form`): per criterion the guidance of each level, a level and a comment (and, in
the document review, the judged bonus items); an overall comment; autosave; submit (checked, then confirmed).

One code path for both stages, so both have the same guarantees: every change is saved as a draft at once
(``ReviewService.save_draft`` with the version the screen holds and the form's ``stage``); a save that another
screen overtook shows the newer content and overwrites nothing; only the member's own review is ever loaded (the
store refuses anything else, a conflicted member included). The two forms differ only in their widget keys
(:class:`FormKeys`: ``rv_…`` for the document review — the keys the tests and the browser know —, ``rv_h_…`` for
the hearing review), their criteria (the pack's or its hearing section's) and the bonus items (document only).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.auth import actor
from app.i18n import current_lang, t
from app.session import error_text, get_store
from app.drafts import commit_while_typing
from scoring.errors import InputError
from scoring.store import IncompleteReview, StaleReview, StoreError
from scoring.store.times import local_time

NOTICE = "rv_notice"        # a message for the next run (stale, error, submitted)
YES, NO = 1, 0


@dataclass(frozen=True)
class FormKeys:
    """The session-state keys of one stage's form."""

    prefix: str
    stage: str

    def level(self, cid: str) -> str:
        return f"{self.prefix}_level_{cid}"

    def comment(self, cid: str) -> str:
        return f"{self.prefix}_comment_{cid}"

    @property
    def overall(self) -> str:
        return f"{self.prefix}_overall"

    @property
    def for_applicant(self) -> str:   # 「申請者への所見」: written for the applicant, apart from the comments
        return f"{self.prefix}_applicant_comment"

    @property
    def version(self) -> str:      # the review version the widgets were loaded from / last saved as
        return f"{self.prefix}_version"

    @property
    def loaded(self) -> str:       # the target whose content is in the widgets
        return f"{self.prefix}_loaded"

    @property
    def confirm(self) -> str:      # the submit confirmation is open
        return f"{self.prefix}_confirm"

    @property
    def fresh(self) -> str:        # the review the page's full run has just read, for the form's fragment
        return f"{self.prefix}_fresh"

    def button(self, name: str) -> str:
        return f"{self.prefix}_{name}"


DOCUMENT = FormKeys("rv", "document")
HEARING = FormKeys("rv_h", "hearing")
KEYS = {k.stage: k for k in (DOCUMENT, HEARING)}


def bonus_key(bid: str) -> str:
    return f"rv_bonus_{bid}"


def bonus_comment_key(bid: str) -> str:
    return f"rv_bonus_comment_{bid}"


def criteria_of(pack, keys: FormKeys) -> list:
    """The criteria the form levels: the pack's, or its hearing section's."""
    return list(pack.hearing.criteria) if keys.stage == "hearing" else list(pack.criteria)


def bonuses_of(pack, keys: FormKeys) -> list:
    return list(pack.judged_bonuses) if keys.stage == "document" else []


# --- loading and saving ----------------------------------------------------------------------------------------

def load_into_widgets(review, pack, keys: FormKeys = DOCUMENT) -> None:
    """Put a stored review into the widgets (first view of a proposal, or the newer content after a stale save)."""
    ss = st.session_state
    for c in criteria_of(pack, keys):
        ss[keys.level(c.id)] = review.levels.get(c.id)
        ss[keys.comment(c.id)] = review.comments.get(c.id, "")
    for b in bonuses_of(pack, keys):
        ss[bonus_key(b.id)] = review.bonus_marks.get(b.id)
        ss[bonus_comment_key(b.id)] = review.comments.get(f"bonus:{b.id}", "")
    ss[keys.overall] = review.overall_comment or ""
    ss[keys.for_applicant] = getattr(review, "applicant_comment", "") or ""
    ss[keys.version] = review.version


def widget_content(pack, keys: FormKeys = DOCUMENT) -> dict:
    ss = st.session_state
    crit, bonuses = criteria_of(pack, keys), bonuses_of(pack, keys)
    comments = {c.id: ss.get(keys.comment(c.id)) or "" for c in crit}
    comments.update({f"bonus:{b.id}": ss.get(bonus_comment_key(b.id)) or "" for b in bonuses})
    return {"levels": {c.id: ss.get(keys.level(c.id)) for c in crit},
            "comments": {k: v for k, v in comments.items() if v.strip()},
            "bonus_marks": {b.id: ss.get(bonus_key(b.id)) for b in bonuses} if keys.stage == "document" else None,
            "overall_comment": ss.get(keys.overall) or "",
            "applicant_comment": ss.get(keys.for_applicant) or ""}


def autosave(round_id: int, proposal_id: str, pack_id: str, stage: str = "document") -> None:
    """on_change of every level, comment and bonus mark: save the whole review as a draft."""
    me = actor()
    if me is None:
        return
    keys = KEYS[stage]
    store = get_store()
    pack = store.rounds.pack(round_id, pack_id)
    ss = st.session_state
    try:
        ss[keys.version] = store.reviews.save_draft(me, round_id, proposal_id, stage=stage,
                                                    base_version=int(ss.get(keys.version, 0)),
                                                    **widget_content(pack, keys))
        ss.pop(NOTICE, None)
    except StaleReview as exc:
        current = exc.current or store.reviews.get_review(me, round_id, proposal_id, stage=stage)
        if _same(current, widget_content(pack, keys)):
            # the same content saved by this reviewer's other session (a reload's last keystrokes, put back by
            # the browser while the old session's save landed): nothing differs, nothing to warn about
            ss[keys.version] = current.version
            ss.pop(NOTICE, None)
            return
        load_into_widgets(current, pack, keys)
        ss[NOTICE] = ("warning", t("reviewer.stale", time=local_time(current.updated_at)))
    except (StoreError, InputError) as exc:
        ss[NOTICE] = ("error", error_text(exc))


def _same(review, content: dict) -> bool:
    """Whether a stored review holds exactly ``content`` (:func:`widget_content`; unset levels/marks are None)."""
    def set_only(d):
        return {k: v for k, v in (d or {}).items() if v is not None}
    return (set_only(review.levels) == set_only(content["levels"])
            and set_only(review.bonus_marks) == set_only(content["bonus_marks"])
            and {k: v for k, v in review.comments.items() if v.strip()} == content["comments"]
            and (review.overall_comment or "") == content["overall_comment"]
            and (getattr(review, "applicant_comment", "") or "") == content.get("applicant_comment", ""))


def sync_widgets(target, review, pack, keys: FormKeys) -> None:
    """Load the stored review into the widgets on a first view (or after another page was shown), and again
    when it was submitted elsewhere (shown read-only)."""
    ss = st.session_state
    crit = criteria_of(pack, keys)
    widgets_gone = keys.level(crit[0].id) not in ss      # another page was shown in between
    if ss.get(keys.loaded) != target or keys.version not in ss or widgets_gone:
        load_into_widgets(review, pack, keys)
        ss[keys.loaded] = target
        ss[keys.confirm] = False
    elif review.version != ss.get(keys.version) and review.status == "submitted":
        load_into_widgets(review, pack, keys)


# --- the form as a fragment (issue 15) ----------------------------------------------------------------------------
#
# Both pages draw the form (status, levels, comments, submit) as an ``st.fragment``: a level click or a saved comment
# reruns and redraws only the form, not the proposal, the 提案書 viewer, the discussion, the menu around it. The
# page's full run reads the review and hands it to the form (:func:`hand_over`); a rerun of the form alone reads it
# again (:func:`form_review`) — the saved time, the texts the browser keeps until saved (app/drafts.py) — and turns
# into a full rerun whenever more than the form may change: a notice of the save (stale, error), another proposal
# chosen by the form's own next-proposal button, a review the store no longer lets the member read.

def hand_over(review, keys: FormKeys) -> None:
    """The page's full run: the review it has just read is the one the form draws."""
    st.session_state[keys.fresh] = review


def form_review(me, target, keys: FormKeys, target_key: str):
    """The review the form draws: the one handed over by this full run, or — a rerun of the form alone — read
    again; a rerun of the whole page instead when the save left a notice or the page's proposal changed."""
    ss = st.session_state
    # what the confirmation's submit raised in its callback: for this run of the form only (submit_section)
    ss[keys.button("refused_now")] = ss.pop(keys.button("submit_refused"), None)
    review = ss.pop(keys.fresh, None)
    if review is not None:
        return review
    if ss.get(NOTICE) is not None or ss.get(target_key) != tuple(target):
        st.rerun(scope="app")
    try:
        return get_store().reviews.get_review(me, target[0], target[1], stage=keys.stage)
    except StoreError:          # refused now (assignment removed, conflict declared): the page says why
        st.rerun(scope="app")


# --- the form --------------------------------------------------------------------------------------------------

def criteria_section(target, pack, review, keys: FormKeys = DOCUMENT, round_locked: bool = False,
                     username: str = "") -> None:
    """Per criterion: its points, the guidance of every level, a level and a comment; then the judged bonus
    items (document review) and the overall comment. Read-only once submitted or in a locked round."""
    lang = current_lang()
    rid, pid = target[0], target[1]
    locked = review.status == "submitted" or round_locked
    args = (rid, pid, pack.id, keys.stage)
    scale = sorted(pack.scale, key=lambda s: s.level, reverse=True)
    labels = {s.level: s.label.get(lang) for s in scale}
    st.header(t("reviewer.scoring") if keys.stage == "document" else t("hearing.form.scoring"))
    for c in criteria_of(pack, keys):
        with st.container(border=True):
            st.markdown(f"**{c.label.get(lang)}**　" + t("reviewer.points", points=f"{c.points:g}"))
            with st.expander(t("reviewer.guidance")):
                st.markdown("\n".join(f"- **{s.level} {labels[s.level]}**：{c.guidance[s.level].get(lang)}"
                                      for s in scale if s.level in c.guidance))
            # named after its criterion for a screen reader; the bold criterion line above is its visible label
            level = st.radio(t("a11y.level_of", criterion=c.label.get(lang)), [s.level for s in scale],
                             key=keys.level(c.id), horizontal=True, index=None, label_visibility="collapsed",
                             format_func=lambda v: f"{v} {labels[v]}", on_change=autosave, args=args,
                             disabled=locked)
            if level is not None and level in c.guidance:
                st.caption(f"{level} {labels[level]}：{c.guidance[level].get(lang)}")
            st.text_area(t("reviewer.comment"), key=keys.comment(c.id), height=68, on_change=autosave, args=args,
                         disabled=locked)
    bonuses = bonuses_of(pack, keys)
    if bonuses:
        st.subheader(t("reviewer.judged_bonus"))
        for b in bonuses:
            with st.container(border=True):
                points = t("reviewer.points", points=f"{b.points:g}")     # already in （…） / (…)
                st.radio(b.label.get(lang) + ("" if lang == "ja" else " ") + points, [YES, NO],
                         key=bonus_key(b.id), horizontal=True, index=None, on_change=autosave, args=args,
                         disabled=locked,
                         format_func=lambda v: t("reviewer.bonus.yes") if v == YES else t("reviewer.bonus.no"))
                st.text_input(t("reviewer.comment"), key=bonus_comment_key(b.id), on_change=autosave, args=args,
                              disabled=locked)
    st.text_area(t("reviewer.overall"), key=keys.overall, on_change=autosave, args=args, disabled=locked)
    st.text_area(t("reviewer.for_applicant"), key=keys.for_applicant, on_change=autosave, args=args,
                 disabled=locked, help=t("reviewer.for_applicant_help"))
    if not locked:   # comments are saved as the reviewer types, down to the last keystroke (app/drafts.py)
        saved = {keys.comment(c.id): review.comments.get(c.id, "") for c in criteria_of(pack, keys)}
        saved.update({bonus_comment_key(b.id): review.comments.get(f"bonus:{b.id}", "") for b in bonuses})
        saved[keys.overall] = review.overall_comment or ""
        saved[keys.for_applicant] = review.applicant_comment or ""
        commit_while_typing(keys.comment(""), *((bonus_comment_key(""),) if bonuses else ()), keys.overall,
                            keys.for_applicant, scope=f"{username}|{rid}|{pid}|{keys.stage}", saved=saved)


def status_line(review, round_locked: bool = False) -> None:
    if review.status == "submitted":
        st.success(t("reviewer.submitted_at", time=local_time(review.submitted_at or review.updated_at)),
                   icon=":material/lock:")
    elif review.exists:
        st.caption(":material/cloud_done: " + t("reviewer.saved_at", time=local_time(review.updated_at)))
    elif not round_locked:      # a locked round saves nothing: no promise of autosave
        st.caption(t("reviewer.autosave_hint"))


def submit_section(me, target, pack, review, keys: FormKeys = DOCUMENT) -> None:
    """Submit: every criterion needs a level (else the missing ones are named), then a confirmation."""
    if review.status == "submitted":
        return
    rid, pid = target[0], target[1]
    ss = st.session_state
    st.divider()
    missing = [c.label.get(current_lang()) for c in criteria_of(pack, keys) if ss.get(keys.level(c.id)) is None]
    if st.button(t("reviewer.submit"), key=keys.button("submit"), type="primary", icon=":material/send:"):
        if missing:
            ss[keys.confirm] = False
            st.error(t("reviewer.missing", items=t("common.list_sep").join(missing)))
        else:
            ss[keys.confirm] = True
    refused = ss.pop(keys.button("refused_now"), None)     # what the confirmation's submit raised (form_review)
    if (ss.get(keys.confirm) or refused is not None) and not missing:
        with st.container(border=True):
            st.warning(t("reviewer.confirm"))
            c1, c2 = st.columns(2)
            # a callback (issue 15): the submit runs before the next run, which is then at once a run of the whole
            # page (form_review sees the notice) — no longer a run of the form that drew it all, only to be
            # dropped for the page's run
            c1.button(t("reviewer.confirm_yes"), key=keys.button("submit_confirm"), type="primary",
                      on_click=confirm_submit, args=(rid, pid, pack.id, keys.stage))
            if refused is not None:     # raised where the submit used to run: the page handles it as before
                raise refused
            if c2.button(t("reviewer.confirm_no"), key=keys.button("submit_cancel")):
                ss[keys.confirm] = False
                st.rerun()


def confirm_submit(round_id: int, proposal_id: str, pack_id: str, stage: str) -> None:
    """on_click of the confirmation: submit the review at the version on screen and leave a notice of how it went
    (the notice makes the form's run a run of the whole page, which shows it: :func:`form_review`)."""
    keys = KEYS[stage]
    ss = st.session_state
    ss[keys.confirm] = False
    me = actor()
    if me is None:
        return
    store = get_store()
    try:
        ss[keys.version] = store.reviews.submit(me, round_id, proposal_id, version=int(ss.get(keys.version, 0)),
                                                stage=stage)
        ss[NOTICE] = ("success", t("reviewer.submitted"))
    except IncompleteReview as exc:
        ss[NOTICE] = ("error", error_text(exc))
    except StaleReview:
        current = store.reviews.get_review(me, round_id, proposal_id, stage=stage)
        load_into_widgets(current, store.rounds.pack(round_id, pack_id), keys)
        ss[NOTICE] = ("warning", t("reviewer.stale", time=local_time(current.updated_at)))
    except Exception as exc:  # noqa: BLE001 — e.g. the round locked meanwhile: raised again by the form's run
        ss[keys.button("submit_refused")] = exc
