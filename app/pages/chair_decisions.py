"""採否・通知 — the committee's decisions after the ranking, the selection record and the notices (issue 18;
decisions.md).

Reads like the page: choose the round and the programme; the decisions' status (draft, or the confirmed version);
the budget gauge (total, awarded, remaining); the final ranking with the proposed and final decision of each
proposal (a row the chair is conflicted with is locked); the departures with their reasons; 補欠繰上げ offered when
reductions freed budget; the edit form (decision, amount typed in 万円/億円 — or the approved cost of a subsidy
programme —, conditions, reason, reserve position); what still breaks a rule; 確定 / 再開; the selection record
and the 採択一覧 to download; then the notices and the outbox.

The chair edits; the secretariat sees the confirmed version read-only, the notices and the outbox (no draft, no
scores of the ranking). Logic lives in the store (``store.decisions``, ``store.notices``) and the core.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app.auth import require
from app.decisions_view import (budget_gauge, confirm_section, decision_rows, departures, edit_form, offer_promotion,
                                problems_box, show_notice, status_line, versions_list)
from app.i18n import current_lang, t
from app.notices_view import notices_section
from app.session import error_text, get_store, round_call, round_pack_header
from app.ui import error_boundary, money
from scoring.decisions import outcome_label
from scoring.errors import InputError
from scoring.io.decision_sheets import decisions_workbook
from scoring.io.selection_record import adopted_list_csv, adopted_list_xlsx, record_docx
from scoring.labels import label
from scoring.store import StoreError
from scoring.store.times import local_time

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def record_downloads(board, round_name: str) -> None:
    """The selection record (.xlsx, .docx) and the 採択一覧 (.xlsx, .csv). Each file is built when its button is
    clicked (a callable given to ``st.download_button``), not on every run of the page: the .docx of 500
    proposals alone took seconds (issue 15)."""
    lang = current_lang()
    d = board.decisions
    v = board.confirmed
    st.subheader(t("dc.record.title"))
    if v is None:
        st.caption(t("dc.record.draft_note"))
    c1, c2, c3, c4 = st.columns(4)
    stem = f"{board.pack_id}_v{v.version}" if v is not None else f"{board.pack_id}_draft"
    version, by, at = (v.version, v.by, local_time(v.at)) if v is not None else (None, None, None)
    c1.download_button(t("dc.record.xlsx"), partial(decisions_workbook, d, lang),
                       file_name=f"selection_record_{stem}.xlsx", mime=XLSX, key="dc_record_xlsx",
                       on_click="ignore", icon=":material/table:")
    c2.download_button(t("dc.record.docx"),
                       partial(record_docx, d, round_name=round_name, version=version, by=by, at=at, lang=lang),
                       file_name=f"selection_record_{stem}.docx", mime=DOCX, key="dc_record_docx",
                       on_click="ignore", icon=":material/description:")
    c3.download_button(t("dc.record.list_xlsx"), partial(adopted_list_xlsx, d, lang), file_name=f"adopted_{stem}.xlsx",
                       mime=XLSX, key="dc_list_xlsx", on_click="ignore", icon=":material/list_alt:")
    c4.download_button(t("dc.record.list_csv"), partial(adopted_list_csv, d, lang), file_name=f"adopted_{stem}.csv",
                       mime="text/csv", key="dc_list_csv", on_click="ignore", icon=":material/csv:")


def chair_view(me, rnd, pack_id: str) -> None:
    store = get_store()
    try:
        # the chair's call of this programme, kept while the round is unchanged (app.session.round_call)
        board = store.decisions.board(me, rnd.id, pack_id, call=round_call(me, rnd.id, pack_id))
    except (InputError, StoreError) as exc:
        st.error(error_text(exc))
        return
    pack = store.rounds.pack(rnd.id, pack_id)
    status_line(board)
    if pack.hearing is not None and board.stage != "decided":
        st.warning(t("dc.hearing_pending"), icon=":material/record_voice_over:")
    budget_gauge(board.decisions)
    offer_promotion(board)
    st.subheader(t("dc.table.title"))
    st.dataframe(decision_rows(board, current_lang()), hide_index=True, width="stretch", key="dc_table")
    departures(board)
    edit_form(me, board)
    problems_box(board)
    confirm_section(me, board)
    versions_list(board.versions)
    record_downloads(board, rnd.name)
    notices_section(me, rnd.id, pack_id, board.confirmed is not None)


def secretariat_view(me, rnd, pack_id: str) -> None:
    store = get_store()
    lang = current_lang()
    v = store.decisions.confirmed(me, rnd.id, pack_id)
    if v is None:
        st.info(t("dc.secretariat.none"), icon=":material/hourglass_empty:")
        return
    st.success(t("dc.status.confirmed", version=v.version, by=v.by, at=local_time(v.at)), icon=":material/lock:")
    budget = v.budget
    if budget.get("total_yen") is not None:
        c1, c2, c3 = st.columns(3)
        c1.metric(t("dc.budget.total"), money(budget["total_yen"], lang))
        c2.metric(t("dc.budget.awarded"), money(budget["awarded_yen"], lang))
        c3.metric(t("dc.budget.remaining"), money(budget["remaining_yen"], lang))
    yes = label("decisions.yes", lang)
    st.dataframe(pd.DataFrame([{
        t("decisions.col.rank"): x.get("rank"), t("decisions.col.proposal_id"): x["proposal_id"],
        t("decisions.col.title"): x.get("title", ""), t("decisions.col.applicant"): x.get("applicant", ""),
        t("decisions.col.decision"): outcome_label(x["decision"], lang),
        t("decisions.col.awarded"): money(x["awarded_yen"], lang),
        t("decisions.col.reserve"): x.get("reserve_position"),
        t("decisions.col.conditions"): x.get("conditions", ""),
        t("decisions.col.departure"): yes if x.get("departure") else "",
        t("decisions.col.reason"): x.get("reason", "")} for x in v.results]), hide_index=True, width="stretch",
        key="dc_confirmed_table")
    notices_section(me, rnd.id, pack_id, True)


def render() -> None:
    me = require("chair", "secretariat")
    head = round_pack_header(me, "dc.title")
    if head is None:
        return
    rnd, pack_id, _ = head
    show_notice()
    if me.role == "chair":
        chair_view(me, rnd, pack_id)
    else:
        secretariat_view(me, rnd, pack_id)


with error_boundary("chair_decisions"):
    render()
