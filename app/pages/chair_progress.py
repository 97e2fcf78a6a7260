"""進捗 — who has reviewed what (issue 4 §4): the reviewers × proposals matrix and the reminders list.

Reads like the page: choose the round and the programme; the counts (assigned / draft / submitted / conflict);
the matrix, one row per reviewer; who still has reviews to submit. Never a score (the secretariat sees this
page too).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.auth import require
from app.conflicts import short_panels
from app.discussion_view import unread_note
from app.i18n import t
from app.progress import CELL_SYMBOLS, MATRIX_STATUSES, pending_reviews
from app.reminders import reminder_text
from app.reminders_view import reminders_outbox
from app.session import get_store, round_pack_header
from app.ui import arrow_table, error_boundary


REMINDERS_OPEN = "chair_reminders_open"   # whether the reminders' expander is open (its content is drawn then)


def reminder_texts(me, rnd, pack_id: str, matrix, pending, names: dict) -> dict[str, str]:
    """One ready-to-send reminder per reviewer with reviews to submit (st.code has a copy button); returned by
    reviewer for the outbox (:mod:`app.reminders_view`). The texts are shown only while their expander is open
    (Streamlit's lazy expander: opening it reruns the page): a code block per reviewer loads and runs the
    browser's syntax highlighter, ~0.2 s of every load of 進捗 while the expander was closed (issue 15)."""
    titles = {p.id: p.title for p in get_store().rounds.list_proposals(me, rnd.id, pack_id)}
    texts = {}
    for who in pending:
        items = [(p, titles.get(p, ""), t(f"chair.progress.{matrix.cell(who.reviewer, p)}"))
                 for p in who.proposals]
        texts[who.reviewer] = reminder_text(names.get(who.reviewer) or who.reviewer, rnd.name, rnd.deadline, items)
    box = st.expander(t("chair.reminder.title"), icon=":material/mail:", key=REMINDERS_OPEN, on_change="rerun")
    if box.open:
        with box:
            for text in texts.values():
                st.code(text, language=None, wrap_lines=True)
    return texts


def render() -> None:
    me = require("chair", "secretariat")
    head = round_pack_header(me, "chair.progress.title")
    if head is None:
        return
    rnd, pack_id, _ = head
    matrix = get_store().rounds.progress(me, rnd.id, pack_id)
    unread_note(me, rnd.id)                 # proposals with new discussion since the chair last looked
    counts = matrix.counts()
    m = st.columns(4)
    for col, status in zip(m, MATRIX_STATUSES):
        col.metric(f"{CELL_SYMBOLS[status]} " + t(f"chair.progress.{status}"), counts[status])
    st.caption("　".join(f"{CELL_SYMBOLS[s]} {t('chair.progress.' + s)}" for s in MATRIX_STATUSES))
    if not matrix.reviewers or not matrix.proposals:
        st.info(t("chair.progress.empty"))
        return
    names = {r.username: r.name for r in get_store().rounds.list_reviewers(me, rnd.id)}
    # the same table as a pandas frame of these rows, its Arrow form made once per content (issue 15)
    table = arrow_table((t("chair.progress.reviewer"), *matrix.proposals),
                        tuple((names.get(row[0]) or row[0], *(CELL_SYMBOLS[v] for v in row[1:])) for row in matrix.rows()))
    st.dataframe(table, hide_index=True, width="stretch", key="chair_progress_matrix", alt=t("a11y.progress.alt"))

    st.subheader(t("chair.progress.reminders"))
    pending = pending_reviews(matrix)
    if pending:
        st.dataframe(pd.DataFrame([{t("chair.progress.reviewer"): names.get(p.reviewer) or p.reviewer,
                                    t("chair.progress.username"): p.reviewer,
                                    t("chair.progress.assigned"): p.assigned, t("chair.progress.draft"): p.draft,
                                    t("chair.progress.pending"): t("common.list_sep").join(p.proposals)}
                                   for p in pending]), hide_index=True, width="stretch", key="chair_reminders")
        texts = reminder_texts(me, rnd, pack_id, matrix, pending, names)
    else:
        st.success(t("chair.progress.all_done"))
        texts = {}
    reminders_outbox(me, rnd, pack_id, pending, names, texts)   # the outbox's reminders and their statuses
    declared = [c for c in get_store().assignments.list_conflicts(me, rnd.id) if c.source == "declared"]
    if declared:    # the chair and the secretariat are told, with the reason (issue 14 §3)
        st.subheader(t("chair.progress.declared"))
        short_panels(me, rnd, pack_id, "prog")
        st.dataframe(pd.DataFrame([{t("chair.progress.reviewer"): names.get(c.reviewer) or c.reviewer,
                                    t("chair.progress.proposal"): c.proposal_id or c.organisation,
                                    t("chair.progress.reason"): c.reason or "—"} for c in declared]),
                     hide_index=True, width="stretch")


with error_boundary("chair_progress"):
    render()
