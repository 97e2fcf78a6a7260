"""Reviewer reminders through the outbox (issue 18 item 6, decisions.md §5: "The same outbox sends reviewer
reminders"), drawn on 進捗: one reminder per reviewer with reviews still to submit, its text that of
:func:`app.reminders.reminder_text`, put into ``store.outbox`` as kind ``reminder`` (the store checks that each
recipient still has something to submit: ``store.outbox.add_reminders``); the reminders in the outbox with their
statuses and a preview, and sending when an SMTP server is configured — the shared outbox panel
(:mod:`app.outbox_view`).

Addresses: users have no e-mail column in the store, so the address of each reviewer is typed in the table (as
for notices on 採否・通知); a reviewer without one gets no reminder. Widget keys: ``rm_addresses``,
``rm_outbox_add``, ``rm_outbox_table``, ``rm_outbox_pick``, ``rm_send``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.i18n import t
from app.outbox_view import outbox_panel
from app.session import error_text, get_store
from scoring.errors import InputError
from scoring.store import StoreError
from scoring.store.outbox import OutboxDraft

NOTICE = "rm_notice"


def reminder_drafts(rnd, pending, texts: dict, addresses: dict) -> list[OutboxDraft]:
    """One reminder draft per pending reviewer with an address (``texts``: reviewer → body)."""
    subject = t("chair.reminder.subject", round=rnd.name)
    return [OutboxDraft("reminder", who.reviewer, addresses[who.reviewer].strip(), subject, texts[who.reviewer])
            for who in pending if str(addresses.get(who.reviewer) or "").strip()]


def reminders_outbox(me, rnd, pack_id: str, pending, names: dict, texts: dict) -> None:
    store = get_store()
    st.markdown("**" + t("chair.reminder.outbox.title") + "**")
    note = st.session_state.pop(NOTICE, None)
    if note is not None:
        getattr(st, note[0])(note[1])
    if pending:
        st.caption(t("chair.reminder.outbox.addresses"))
        col_user, col_name, col_addr = (t("chair.progress.username"), t("chair.progress.reviewer"),
                                        t("nt.outbox.col.address"))
        frame = pd.DataFrame([{col_user: p.reviewer, col_name: names.get(p.reviewer) or p.reviewer, col_addr: ""}
                              for p in pending])
        edited = st.data_editor(frame, key="rm_addresses", hide_index=True, width="stretch",
                                disabled=[col_user, col_name])
        if st.button(t("chair.reminder.outbox.add"), key="rm_outbox_add", icon=":material/outbox:"):
            addresses = dict(zip(edited[col_user], edited[col_addr].fillna("")))
            drafts = reminder_drafts(rnd, pending, texts, addresses)
            if not drafts:
                st.session_state[NOTICE] = ("error", t("chair.reminder.outbox.no_address"))
            else:
                try:
                    ids = store.outbox.add_reminders(me, rnd.id, pack_id, drafts)
                    st.session_state[NOTICE] = ("success", t("nt.outbox.added", n=len(ids)))
                except (InputError, StoreError) as exc:
                    st.session_state[NOTICE] = ("error", error_text(exc))
            st.rerun()
    outbox_panel(me, rnd.id, kind="reminder", prefix="rm", notice_key=NOTICE, who_label=t("chair.progress.username"),
                 who_field="recipient", no_smtp=t("chair.reminder.outbox.no_smtp"))


__all__ = ["reminders_outbox", "reminder_drafts"]
