"""提案の詳細 — one proposal as the chair sees it (issue 4 §4).

Reads like the page: choose the proposal; its decision, scores and funded amount; the radar chart of the
criterion mean ratios; each reviewer's levels and comments (attributed, or anonymised as the pack says —
switchable); the eligibility results with their reasons and the resolution of a ``needs_check`` (logged);
the bonus items with why each was or was not awarded; the reasons of the decision.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.auth import require
from app.charts import numbered_labels, radar, radar_table
from app.discussion_view import discussion_section, unread_note
from app.documents_view import documents_section
from app.i18n import current_lang, t, t_or
from app.session import error_text, get_store, round_call, round_pack_header, store_errors
from app.ui import STATUS_BADGES, error_boundary, man_oku, plain, score, yen, yen_both
from scoring.io.chair_workbook import anonymous_labels
from scoring.store import StoreError


MISSING = object()   # no earlier run showed this check


def reviews_section(me, rid: int, pack, proposal_id: str, lang: str, withheld=frozenset()) -> None:
    st.subheader(t("chair.detail.reviews"))
    if proposal_id in withheld:   # the chair's own conflict of interest: no reviewer's levels or comments
        st.info(t("chair.detail.withheld"), icon=":material/visibility_off:")
        return
    anonymise = st.toggle(t("chair.detail.anonymise"), key="chair_anonymise",
                          value=bool(pack.policy.anonymise_comments))
    reviews = get_store().reviews.list_reviews(me, rid, pack.id, proposal_id=proposal_id)
    if not reviews:
        st.info(t("chair.detail.no_reviews"))
        return
    names = {r.username: r.name for r in get_store().rounds.list_reviewers(me, rid)}
    anon = anonymous_labels([r.reviewer for r in reviews], salt=f"{rid}:{proposal_id}", lang=lang)
    who = (lambda r: anon[r.reviewer]) if anonymise else (lambda r: names.get(r.reviewer) or r.reviewer)
    columns = numbered_labels([c.label.get(lang) for c in pack.criteria], width=9)
    rows = []
    for r in reviews:
        row = {t("chair.detail.reviewer"): who(r), t("chair.detail.status"): t(f"reviewer.status.{r.status}")}
        for column, c in zip(columns, pack.criteria):
            level = r.levels.get(c.id)
            row[column] = "—" if level is None else str(level)   # a draft's unset level: a dash, never "None"
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="chair_detail_levels")
    for r in reviews:
        comments = [(c.label.get(lang), r.comments.get(c.id)) for c in pack.criteria if r.comments.get(c.id)]
        comments += [(b.label.get(lang), r.comments.get(f"bonus:{b.id}")) for b in pack.judged_bonuses
                     if r.comments.get(f"bonus:{b.id}")]
        if r.overall_comment:
            comments.append((t("reviewer.overall"), r.overall_comment))
        if comments:
            with st.expander(t("chair.detail.comments_of", who=who(r))):
                for label, text in comments:
                    st.markdown(f"**{label}**：{text}")


def rule_labels(ranking, lang: str) -> dict[str, str]:
    """Every rule the core evaluated — the pack's and the built-in ones (申請額の記載, 上限額以内) — by id, with
    the label the core gives it (:class:`scoring.eligibility.RuleInfo`): users never see a rule's raw id."""
    return {r.id: r.label.get(lang) for r in ranking.elig.rules}


def evidence(proposal, rule_info, lang: str) -> None:
    """What a ``needs_check`` rule judged: its condition, the consortium and the cost lines of the proposal."""
    with st.expander(t("chair.detail.evidence"), icon=":material/search:"):
        if rule_info is not None and rule_info.condition is not None:
            st.markdown(t("chair.detail.condition") + t("common.label_sep") + rule_info.condition.get(lang))
        if proposal is None:
            return
        st.markdown("**" + t("reviewer.consortium") + "**")
        st.dataframe(pd.DataFrame([{t("reviewer.member.name"): name,
                                    t("reviewer.member.kind"): t_or(f"kind.{kind.value}", kind.value),
                                    t("reviewer.member.role"): t("reviewer.member.applicant") if is_app else ""}
                                   for name, kind, is_app in proposal.members()]), hide_index=True, width="stretch")
        st.markdown("**" + t("reviewer.cost_lines") + "**")
        if proposal.cost_lines:
            st.dataframe(pd.DataFrame([{
                t("reviewer.cost.item"): c.item,
                t("reviewer.cost.category"): t_or(f"cost.category.{c.category.value}", c.category.value),
                t("reviewer.cost.amount"): yen_both(c.amount_yen)} for c in proposal.cost_lines]),
                hide_index=True, width="stretch")
        else:
            st.caption(t("chair.detail.no_cost_lines"))
        amounts = [(t("reviewer.requested"), proposal.requested_yen),
                   (t("reviewer.eligible_cost"), proposal.eligible_cost_yen)]
        st.caption("　".join(f"{label}{t('common.label_sep')}{yen_both(v)}" for label, v in amounts if v is not None))


def eligibility_section(me, rid: int, result: dict, labels: dict[str, str], lang: str, proposal=None,
                        rules=None) -> None:
    st.subheader(t("chair.detail.eligibility"))
    rules = rules or {}
    resolutions = {r.rule: r for r in get_store().rounds.list_resolutions(me, rid)
                   if r.proposal_id == result["proposal_id"]}
    for e in result["eligibility"]:
        rule, status = e["rule"], e["status"]
        reason = e["reason_en"] if lang == "en" else e["reason"]
        # what the previous run showed: a change by anyone else since then is said, and never overwritten
        shown_key = f"chair_res_shown_{rid}_{result['proposal_id']}_{rule}"
        shown = st.session_state.get(shown_key, MISSING)
        res = resolutions.get(rule)
        st.session_state[shown_key] = res
        with st.container(border=True):
            st.markdown(f"{STATUS_BADGES.get(status, '')} **{labels[rule]}** — {t('status.' + status)}")
            st.caption(reason)
            if shown is not MISSING and shown != res:
                st.warning(t("chair.detail.resolution_changed"), icon=":material/sync_problem:")
            expected = res if shown is MISSING else shown
            if res is not None:
                st.info(t("chair.detail.resolved", status=t("status." + res.status), by=res.resolved_by,
                          note=res.note or "—"))
                if st.button(t("chair.detail.unresolve"), key=f"chair_unresolve_{rule}"):
                    try:
                        get_store().rounds.remove_resolution(me, rid, result["proposal_id"], rule, expected=expected)
                        st.session_state[shown_key] = None    # our own change: not "changed elsewhere"
                        st.rerun()
                    except StoreError as exc:
                        st.error(error_text(exc))
            elif status == "needs_check":
                evidence(proposal, rules.get(rule), lang)
                c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="bottom")
                # no default verdict: the chair chooses one, and gives the reason (issue 14 §4)
                verdict = c1.selectbox(t("chair.detail.resolve_as"), ["pass", "fail"], key=f"chair_resolve_status_{rule}",
                                       format_func=lambda v: t("status." + v), index=None,
                                       placeholder=t("chair.detail.resolve_pick"))
                note = c2.text_input(t("chair.detail.resolve_note"), key=f"chair_resolve_note_{rule}", max_chars=500)
                if c3.button(t("chair.detail.resolve"), key=f"chair_resolve_{rule}", type="primary"):
                    if verdict is None or not note.strip():
                        st.error(t("chair.detail.resolve_need"))
                        continue
                    try:
                        done = get_store().rounds.resolve_needs_check(me, rid, result["proposal_id"], rule, verdict,
                                                                      note.strip(), expected=expected)
                        st.session_state[shown_key] = done    # our own change: not "changed elsewhere"
                        st.rerun()
                    except StoreError as exc:
                        st.error(error_text(exc))


URL_SEEN = "chair_detail_url"


def url_proposal() -> str | None:
    """The proposal named in the address (``/proposal?proposal=SB-009``) when it is new to this session — a
    link followed or an address typed — else None: the page writes its own pick back to the address, and that
    must not undo the chair's next choice of programme."""
    wanted = st.query_params.get("proposal")
    if wanted is None or wanted == st.session_state.get(URL_SEEN):
        return None
    return str(wanted)


def render() -> None:
    me = require("chair")
    lang = current_lang()
    wanted = url_proposal()

    def pack_of(rnd):
        if wanted is None:
            return None
        with store_errors():
            return next((p.pack for p in get_store().rounds.list_proposals(me, rnd.id) if p.id == wanted), None)
        return None

    head = round_pack_header(me, "chair.detail.title", pack_hint=pack_of)
    if head is None:
        return
    rnd, pack_id, third = head
    call, resolutions = round_call(me, rnd.id, pack_id)
    ranking = call.rank(None, resolutions)   # the official parameters
    ids = [str(ranking.table.ids[int(i)]) for i in ranking.order]
    if wanted is not None and wanted not in ids:
        st.warning(t("chair.detail.not_found", proposal=plain(wanted), round=plain(rnd.name)),
                   icon=":material/search_off:")
    if not ids:
        st.info(t("chair.detail.none"))
        return
    if wanted in ids:
        st.session_state["chair_detail_pick"] = wanted
    titles = {str(ranking.table.ids[i]): ranking.table.proposals[i].title for i in range(ranking.table.n)}
    with third:
        pid = st.selectbox(t("chair.detail.pick"), ids, key="chair_detail_pick",
                           format_func=lambda p: f"{p}　{titles[p]}", placeholder=t("common.choose"))
    st.query_params["proposal"] = pid
    st.session_state[URL_SEEN] = pid
    i = ids.index(pid)
    result = ranking.result(int(ranking.order[i]), lang)
    proposal = call.proposals[int(ranking.order[i])] if len(call.proposals) == ranking.table.n else None

    unread_note(me, rnd.id)                                          # proposals with new discussion
    st.header(f"{pid}　{result['title']}")
    st.caption(result["applicant"])
    m = st.columns([1, 1, 1, 1, 2])
    m[0].metric(t("chair.col_decision"), result["decision_label"])
    m[1].metric(t("chair.col_rank"), result["rank"] or "—")
    m[2].metric(t("chair.col_base"), score(result["base_score"]))
    m[3].metric(t("chair.col_total"), score(result["total_score"]), help=t("chair.detail.bonus_help",
                                                                          bonus=score(result["bonus"])))
    m[4].metric(t("chair.col_funded"), man_oku(result["funded_yen"]) if not pack_is_capacity(call) else
                result["funded_yen"], help=yen(result["funded_yen"]))
    reasons = result["reasons_en"] if lang == "en" else result["reasons"]
    if reasons:
        st.info("\n".join(f"- {r}" for r in reasons))
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(radar(result, call.pack, lang), width="stretch", key="chair_radar", alt=t("a11y.radar.alt"))
        st.caption(t("a11y.radar.caption"))     # the chart's text alternative: its figures as a table
        st.table(radar_table(result, call.pack, lang), hide_index=True)
    with right:
        st.subheader(t("chair.detail.bonus"))
        for b in result["bonus_items"]:
            icon = ":material/check_circle:" if b["awarded"] else ":material/remove:"
            st.markdown(f"{icon} {b['reason_en'] if lang == 'en' else b['reason']}（{score(b['points'])}）")
        if proposal is not None and proposal.summary:
            st.subheader(t("reviewer.summary"))
            st.write(proposal.summary)
    reviews_section(me, rnd.id, call.pack, pid, lang, call.withheld)
    detail = None
    with store_errors():
        detail = get_store().rounds.get_proposal(me, rnd.id, pid)
    eligibility_section(me, rnd.id, result, rule_labels(ranking, lang), lang, detail,
                        {r.id: r for r in ranking.elig.rules})
    documents_section(me, rnd.id, pid)    # the 提案書 and attachments (app/documents_view.py)
    discussion_section(me, rnd.id, pid, call.pack, chair=True)     # 委員間の議論 (chairs-only comments too)


def pack_is_capacity(call) -> bool:
    return bool(call.pack.is_capacity)


with error_boundary("chair_proposal"):
    render()
