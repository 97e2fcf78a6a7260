"""進捗 — who has reviewed what (issue 4 §4): the reviewers × proposals matrix and the reminders list.

Reads like the page: choose the round and the programme; the counts (assigned / draft / submitted / conflict);
the matrix, one row per reviewer; who still has reviews to submit. Never a score (the secretariat sees this
page too).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.auth import require
from app.i18n import t
from app.reminders import reminder_text
from app.session import get_store, round_pack_header
from app.ui import error_boundary

CELL = {"assigned": "○", "draft": "✎", "submitted": "✔", "conflict": "✖", "": ""}
ORDER = ("assigned", "draft", "submitted", "conflict")


def reminder_texts(me, rnd, pack_id: str, matrix, names: dict) -> None:
    """One ready-to-send reminder per reviewer with reviews to submit (st.code has a copy button)."""
    titles = {p.id: p.title for p in get_store().rounds.list_proposals(me, rnd.id, pack_id)}
    with st.expander(t("chair.reminder.title"), icon=":material/mail:"):
        for reviewer in matrix.reviewers:
            items = [(p, titles.get(p, ""), t(f"chair.progress.{v}")) for p in matrix.proposals
                     if (v := matrix.cell(reviewer, p)) in ("assigned", "draft")]
            if items:
                st.code(reminder_text(names.get(reviewer) or reviewer, rnd.name, rnd.deadline, items),
                        language=None, wrap_lines=True)


def render() -> None:
    me = require("chair", "secretariat")
    head = round_pack_header(me, "chair.progress.title")
    if head is None:
        return
    rnd, pack_id, _ = head
    matrix = get_store().rounds.progress(me, rnd.id, pack_id)
    counts = matrix.counts()
    m = st.columns(4)
    for col, status in zip(m, ORDER):
        col.metric(f"{CELL[status]} " + t(f"chair.progress.{status}"), counts[status])
    st.caption("　".join(f"{CELL[s]} {t('chair.progress.' + s)}" for s in ORDER))
    if not matrix.reviewers or not matrix.proposals:
        st.info(t("chair.progress.empty"))
        return
    names = {r.username: r.name for r in get_store().rounds.list_reviewers(me, rnd.id)}
    df = pd.DataFrame([[names.get(row[0]) or row[0]] + [CELL[v] for v in row[1:]] for row in matrix.rows()],
                      columns=[t("chair.progress.reviewer")] + matrix.proposals)
    st.dataframe(df, hide_index=True, width="stretch", key="chair_progress_matrix")

    st.subheader(t("chair.progress.reminders"))
    pending = []
    for reviewer in matrix.reviewers:
        cells = [matrix.cell(reviewer, p) for p in matrix.proposals]
        todo = [p for p, v in zip(matrix.proposals, cells) if v in ("assigned", "draft")]
        if todo:
            pending.append({t("chair.progress.reviewer"): names.get(reviewer) or reviewer,
                            t("chair.progress.username"): reviewer,
                            t("chair.progress.assigned"): sum(1 for v in cells if v == "assigned"),
                            t("chair.progress.draft"): sum(1 for v in cells if v == "draft"),
                            t("chair.progress.pending"): t("common.list_sep").join(todo)})
    if pending:
        st.dataframe(pd.DataFrame(pending), hide_index=True, width="stretch", key="chair_reminders")
        reminder_texts(me, rnd, pack_id, matrix, names)
    else:
        st.success(t("chair.progress.all_done"))
    if me.role == "chair":
        declared = [c for c in get_store().assignments.list_conflicts(me, rnd.id) if c.source == "declared"]
        if declared:
            st.subheader(t("chair.progress.declared"))
            st.dataframe(pd.DataFrame([{t("chair.progress.reviewer"): names.get(c.reviewer) or c.reviewer,
                                        t("chair.progress.proposal"): c.proposal_id or c.organisation,
                                        t("chair.progress.reason"): c.reason} for c in declared]),
                         hide_index=True, width="stretch")


with error_boundary("chair_progress"):
    render()
