"""委員間の議論 — the panel's discussion of one proposal as a section of a page (issue 16 §7–9).

Reads like the section: the review-visibility policy in force; the other reviewers' scores and comments as the
policy lets this reviewer see them (the chair's detail page shows every review already); the thread — each
comment with its author, time (JST), visibility (committee / chairs only), the criteria it mentions (by their
labels), 「新着」 when it is new since the user last looked, 「編集済」 with its earlier versions; the user's own
comments can be edited; a post box with the visibility and the criteria to mention. After showing the thread the
user's read marker moves on. Also: the note of proposals with new discussion (担当案件, the chair's pages) and the
chair's setting of the round's policy (ラウンド管理).

Everything is read through ``store.discussion``, which refuses what the user may not read (a conflicted member
reads nothing of the proposal).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.i18n import current_lang, t
from app.session import error_text, get_store, store_errors
from scoring.discussion import with_labels
from scoring.errors import InputError
from scoring.io.chair_workbook import anonymous_labels
from scoring.models import CommentVisibility, ReviewVisibility
from scoring.store import ConflictOfInterest, NotFound, PermissionDenied, StoreError
from scoring.store.times import local_time

VISIBILITIES = tuple(v.value for v in CommentVisibility)
POLICIES = tuple(v.value for v in ReviewVisibility)
TIME = "%Y-%m-%d %H:%M"


def _text(text: str) -> str:
    """A member's text as Markdown shows it literally (markup off, line breaks kept)."""
    escaped = "".join("\\" + c if c in "\\`*_{}[]()#+!<>|~:$" else c for c in text)
    return escaped.replace("\n", "  \n")


def _criterion_labels(pack) -> dict[str, str]:
    lang = current_lang()
    labels = {c.id: c.label.get(lang) for c in pack.criteria}
    if pack.hearing is not None:
        labels.update({c.id: c.label.get(lang) for c in pack.hearing.criteria if c.id not in labels})
    return labels


# --- the section --------------------------------------------------------------------------------------------------

def discussion_section(me, round_id: int, proposal_id: str, pack, *, chair: bool = False,
                       stage: str = "document", own_submitted: bool | None = None) -> None:
    """The whole section 「委員間の議論」 for one proposal (``chair``: the chair's page, which lists the reviews
    itself). ``stage``: whose reviews 「他の委員の評価」 shows — the document reviews (評価入力) or the hearing
    reviews (the hearing form, with ``own_submitted``: whether the reader's own hearing review is submitted,
    which ``after_own_submit`` asks before the others' hearing scores are shown; the store enforces it)."""
    st.divider()
    st.header(t("discussion.title"), anchor="discussion")
    store = get_store()
    try:
        thread = store.discussion.thread(me, round_id, proposal_id)
    except ConflictOfInterest:
        st.info(t("discussion.conflict"), icon=":material/visibility_off:")
        return
    except (PermissionDenied, NotFound) as exc:
        st.info(error_text(exc))
        return
    st.caption(t(f"discussion.policy.{thread.policy}"))
    labels = _criterion_labels(pack)
    if not chair:
        others_section(me, round_id, proposal_id, pack, thread, stage, own_submitted)
    if thread.hidden and not thread.sees_others:
        st.info(t("discussion.hidden", n=thread.hidden), icon=":material/lock_clock:")
    if not thread.comments:
        st.caption(t("discussion.empty"))
    for c in thread.comments:
        comment_box(me, round_id, c, labels, new=c.id in thread.unread, can_edit=thread.can_post and c.mine)
    if thread.can_post:
        post_box(me, round_id, proposal_id, labels)
    else:
        st.caption(t("discussion.closed"))
    with store_errors():
        store.discussion.mark_read(me, round_id, proposal_id)


def others_section(me, round_id: int, proposal_id: str, pack, thread, stage: str = "document",
                   own_submitted: bool | None = None) -> None:
    """The other reviewers' submitted scores and comments, when the policy lets this reviewer see them."""
    st.subheader(t("discussion.others") if stage == "document" else t("discussion.others_hearing"))
    waiting = stage != "document" and thread.policy == "after_own_submit" and own_submitted is False
    if not thread.sees_others or waiting:
        st.caption(t(f"discussion.others_hidden.{thread.policy}"))
        return
    reviews = get_store().discussion.others_reviews(me, round_id, proposal_id, stage=stage)
    criteria = list(pack.hearing.criteria) if stage == "hearing" else list(pack.criteria)
    if not reviews:
        st.caption(t("discussion.others_none"))
        return
    lang = current_lang()
    if pack.policy.anonymise_comments:
        anon = anonymous_labels([r.reviewer for r in reviews], salt=f"{round_id}:{proposal_id}", lang=lang)
        who = anon.get
    else:   # the pack names reviewers: their user names
        who = str
    rows = []
    for r in reviews:
        row = {t("discussion.reviewer"): who(r.reviewer)}
        for c in criteria:
            row[c.label.get(lang)] = r.levels.get(c.id)
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="disc_others")
    for r in reviews:
        texts = [(c.label.get(lang), r.comments.get(c.id)) for c in criteria if r.comments.get(c.id)]
        if r.overall_comment:
            texts.append((t("reviewer.overall"), r.overall_comment))
        if texts:
            with st.expander(t("chair.detail.comments_of", who=who(r.reviewer))):
                for label, text in texts:
                    st.markdown(f"**{_text(label)}**{t('common.label_sep')}{_text(text)}")


def comment_box(me, round_id: int, c, labels: dict[str, str], *, new: bool, can_edit: bool) -> None:
    with st.container(border=True, key=f"disc_c_{c.id}"):
        badges = []
        if c.visibility == CommentVisibility.chairs:
            badges.append(":orange-badge[" + t("discussion.visibility.chairs") + "]")
        if new:
            badges.append(":blue-badge[" + t("discussion.new") + "]")
        if c.edited:
            badges.append(":gray-badge[" + t("discussion.edited") + "]")
        st.markdown(f"**{_text(c.author_name)}**　{local_time(c.created_at, TIME)}　" + " ".join(badges))
        st.markdown(_text(with_labels(c.body, labels)))
        if c.criteria:
            st.caption(t("discussion.mentions") + t("common.label_sep") + t("common.list_sep").join(
                labels.get(x, x) for x in c.criteria))
        if c.edited:
            with st.expander(t("discussion.history")):
                with store_errors():
                    for v in get_store().discussion.history(me, round_id, c.id):
                        st.markdown(f"**{t('discussion.version', n=v.version)}**　{local_time(v.at, TIME)}　"
                                    f"{t('discussion.visibility.' + v.visibility)}")
                        st.markdown(_text(with_labels(v.body, labels)))
        if can_edit:
            edit_box(me, round_id, c)


def edit_box(me, round_id: int, c) -> None:
    with st.expander(t("discussion.edit")):
        with st.form(f"disc_edit_{c.id}"):
            body = st.text_area(t("discussion.body"), value=c.body, key=f"disc_edit_body_{c.id}", max_chars=5000)
            vis = st.radio(t("discussion.visibility"), VISIBILITIES, index=VISIBILITIES.index(c.visibility),
                           key=f"disc_edit_vis_{c.id}", horizontal=True,
                           format_func={v: t(f"discussion.visibility.{v}") for v in VISIBILITIES}.get)
            if st.form_submit_button(t("discussion.save")):
                try:
                    get_store().discussion.edit(me, round_id, c.id, body, base_version=c.version, visibility=vis)
                except (StoreError, InputError) as exc:
                    st.error(error_text(exc))
                    return
                st.rerun()


def post_box(me, round_id: int, proposal_id: str, labels: dict[str, str]) -> None:
    with st.form("disc_post", clear_on_submit=True):
        body = st.text_area(t("discussion.body"), key="disc_post_body", max_chars=5000,
                            placeholder=t("discussion.placeholder"))
        c1, c2 = st.columns([1, 2])
        vis = c1.radio(t("discussion.visibility"), VISIBILITIES, key="disc_post_vis", horizontal=True,
                       format_func={v: t(f"discussion.visibility.{v}") for v in VISIBILITIES}.get)
        crit = c2.multiselect(t("discussion.pick_criteria"), list(labels), key="disc_post_criteria",
                              format_func=labels.get, placeholder=t("discussion.pick_placeholder"))
        if st.form_submit_button(t("discussion.post"), type="primary", icon=":material/send:"):
            try:
                get_store().discussion.post(me, round_id, proposal_id, body, visibility=vis, criteria=crit)
            except (StoreError, InputError) as exc:
                st.error(error_text(exc))
                return
            st.session_state["disc_notice"] = t("discussion.posted")
            st.rerun()
    notice = st.session_state.pop("disc_notice", None)
    if notice:
        st.success(notice, icon=":material/check:")


# --- new discussion, the round's policy ---------------------------------------------------------------------------

def unread_note(me, round_id: int) -> None:
    """「新しい議論があります」: the proposals of the round with comments new to the user since they last looked."""
    try:
        new = get_store().discussion.unread(me, round_id)
    except (StoreError, InputError):
        return
    if new:
        items = t("common.list_sep").join(t("discussion.unread_item", id=pid, n=n) for pid, n in sorted(new.items()))
        st.info(t("discussion.unread", items=items), icon=":material/forum:")


def visibility_section(me, rnd) -> None:
    """ラウンド管理 (chair): the round's review-visibility policy, or each programme's own."""
    st.subheader(t("discussion.setting.title"))
    st.caption(t("discussion.setting.help"))
    options = (None,) + POLICIES
    c = st.columns([3, 1], vertical_alignment="bottom")
    picked = c[0].selectbox(t("discussion.setting.label"), options, index=options.index(rnd.review_visibility),
                            key=f"disc_setting_{rnd.id}", disabled=rnd.status == "locked",
                            format_func={v: t("discussion.setting.pack" if v is None else f"discussion.policy.{v}")
                                         for v in options}.get, placeholder=t("common.choose"))
    if c[1].button(t("discussion.setting.save"), key="disc_setting_save", disabled=rnd.status == "locked"):
        with store_errors():
            get_store().discussion.set_round_visibility(me, rnd.id, picked)
            st.success(t("discussion.setting.done"))
