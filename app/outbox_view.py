"""The outbox panel (送信トレイ) shared by the notices on 採否・通知 (:mod:`app.notices_view`, kind ``notice``) and
the reviewer reminders on 進捗 (:mod:`app.reminders_view`, kind ``reminder``): the messages of one kind with their
status, attempts, time sent and error; a picker showing one message's subject and body; and, when an SMTP server
is configured, the button that sends the drafts and the failed ones (each at most once: ``store.outbox.send``).

Widget keys, by the caller's prefix (``nt`` / ``rm``): ``<prefix>_outbox_table``, ``<prefix>_outbox_pick``,
``<prefix>_send``. The outcome of a send is left in ``st.session_state[notice_key]`` as ``(kind, text)`` for the
page to show after its rerun.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.i18n import t
from app.session import error_text, get_store
from scoring.errors import InputError
from scoring.io.mail import SmtpSettings
from scoring.store import StoreError
from scoring.store.times import local_time


def outbox_panel(me, round_id: int, *, kind: str, prefix: str, notice_key: str, who_label: str, who_field: str,
                 no_smtp: str) -> None:
    """The outbox of ``kind`` in the round: the table, the preview picker and the send button.

    ``who_label``/``who_field``: the first column's heading and the message's attribute shown there and in the
    picker (``proposal_id`` for notices, ``recipient`` for reminders); ``no_smtp``: the text shown when no SMTP
    server is configured."""
    store = get_store()
    messages = store.outbox.list(me, round_id, kind=kind)
    if not messages:
        st.caption(t("nt.outbox.empty"))
    else:
        st.dataframe(pd.DataFrame([{
            who_label: getattr(m, who_field), t("nt.outbox.col.address"): m.address,
            t("nt.outbox.col.subject"): m.subject, t("nt.outbox.col.status"): t(f"nt.status.{m.status}"),
            t("nt.outbox.col.attempts"): m.attempts,
            t("nt.outbox.col.sent_at"): local_time(m.sent_at) if m.sent_at else "",
            t("nt.outbox.col.error"): m.last_error or ""} for m in messages]), hide_index=True, width="stretch",
            key=f"{prefix}_outbox_table")
        by_id = {m.id: m for m in messages}
        labels = {i: f"{getattr(m, who_field)}　{m.address}" for i, m in by_id.items()}
        mid = st.selectbox(t("nt.outbox.preview"), list(by_id), key=f"{prefix}_outbox_pick", format_func=labels.get,
                           placeholder=t("common.choose"))
        if mid is not None:
            st.text(by_id[mid].subject + "\n\n" + by_id[mid].body)
    try:
        smtp = SmtpSettings.from_env()
    except InputError as exc:
        st.error(error_text(exc))
        return
    if smtp is None:
        st.info(no_smtp, icon=":material/mail_lock:")
        return
    todo = [m.id for m in messages if m.status in ("draft", "failed")]
    if st.button(t("nt.outbox.send"), key=f"{prefix}_send", type="primary", disabled=not todo, icon=":material/send:"):
        try:
            results = store.outbox.send(me, round_id, todo, smtp)
            count = {k: sum(1 for r in results if r.status == k) for k in ("sent", "failed", "skipped")}
            st.session_state[notice_key] = ("success", t("nt.outbox.sent", **count))
        except StoreError as exc:
            st.session_state[notice_key] = ("error", error_text(exc))
        st.rerun()


__all__ = ["outbox_panel"]
