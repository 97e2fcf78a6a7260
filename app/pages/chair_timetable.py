"""ヒアリング日程 — the chair sets the hearing timetable of a programme (issue 17; stages.md "The hearing timetable").

Reads like the page: choose the round and the programme; the settings (start date and time in JST, minutes per
hearing and between hearings, the order — by default the document rank order); the slots with the members present
and those absent for a conflict of interest; the printable sheet and the calendar file (.ics) to download.
Settings are stored by ``store.timetables.set_timetable`` (chair only, audited); they can be changed in the
shortlist and hearing stages, and the page is read-only otherwise.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from app.auth import require
from app.i18n import current_lang, t
from app.session import get_store, round_pack_header, store_errors
from app.ui import error_boundary
from scoring.io.timetable_export import timetable_ics, timetable_workbook
from scoring.labels import label
from scoring.timetable import JST

NOTICE = "tt_notice"
EDITABLE = ("shortlist", "hearing")


def slot_rows(slots, lang: str) -> pd.DataFrame:
    sep = label("timetable.list_sep", lang)
    return pd.DataFrame([{
        t("timetable.col.no"): s.number,
        t("timetable.col.date"): f"{s.start:%Y-%m-%d}",
        t("timetable.col.time"): f"{s.start:%H:%M}–{s.end:%H:%M}",
        label("workbook.timetable.proposal_id", lang): s.proposal_id,
        label("workbook.timetable.title", lang): s.title,
        label("workbook.timetable.applicant", lang): s.applicant,
        label("workbook.timetable.present", lang): sep.join(m.name or m.member_id for m in s.present),
        label("workbook.timetable.absent", lang): sep.join(
            f"{a.member.name or a.member.member_id}（{label(f'timetable.absent.{a.reason}', lang)}）"
            for a in s.absent)} for s in slots])


def settings_form(me, rnd, pack_id: str, tt, titles: dict, editable: bool) -> None:
    start = tt.start or datetime.combine(date.today() + timedelta(days=7), time(10, 0), JST)
    suffix = f"{rnd.id}_{pack_id}"
    with st.form(key=f"tt_form_{suffix}"):
        st.subheader(t("timetable.page.settings"))
        c1, c2, c3, c4 = st.columns(4)
        day = c1.date_input(t("timetable.page.date"), value=start.date(), key=f"tt_date_{suffix}",
                            disabled=not editable)
        at = c2.time_input(t("timetable.page.time"), value=start.timetz().replace(tzinfo=None),
                           key=f"tt_time_{suffix}", step=300, disabled=not editable)
        slot = c3.number_input(t("timetable.page.slot"), min_value=1, max_value=24 * 60, step=5,
                               value=int(tt.slot_minutes), key=f"tt_slot_{suffix}", disabled=not editable)
        brk = c4.number_input(t("timetable.page.break"), min_value=0, max_value=24 * 60, step=5,
                              value=int(tt.break_minutes), key=f"tt_break_{suffix}", disabled=not editable)
        order = st.multiselect(t("timetable.page.order"), list(tt.order), default=list(tt.order),
                               format_func=lambda p: f"{p}　{titles.get(p, '')}", key=f"tt_order_{suffix}",
                               help=t("timetable.page.order_help"), disabled=not editable)
        if st.form_submit_button(t("timetable.page.save"), type="primary", icon=":material/save:",
                                 disabled=not editable):
            with store_errors():
                get_store().timetables.set_timetable(me, rnd.id, pack_id, datetime.combine(day, at, JST),
                                                     list(order), int(slot), int(brk))
                st.session_state[NOTICE] = t("timetable.page.saved")
                st.rerun()


def downloads(rnd, pack_id: str, tt, programme: str, lang: str) -> None:
    c1, c2 = st.columns(2)
    c1.download_button(t("timetable.page.download_xlsx"), timetable_workbook(tt.slots, lang, rnd.name, programme),
                       file_name=f"hearing_timetable_{pack_id}.xlsx", icon=":material/table:",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="tt_download_xlsx")
    c2.download_button(t("timetable.page.download_ics"),
                       timetable_ics(tt.slots, rnd.id, pack_id, lang, rnd.name, programme),
                       file_name=f"hearing_{pack_id}.ics", mime="text/calendar", icon=":material/event:",
                       key="tt_download_ics")
    st.caption(t("timetable.page.ics_help"))


def render() -> None:
    me = require("chair")
    head = round_pack_header(me, "timetable.page.title")
    if head is None:
        return
    rnd, pack_id, _ = head
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    store = get_store()
    lang = current_lang()
    pack = store.rounds.pack(rnd.id, pack_id)
    if pack.hearing is None:
        st.info(t("timetable.page.no_hearing"))
        return
    tt = None
    with store_errors():
        tt = store.timetables.get_timetable(me, rnd.id, pack_id)
    if tt is None:
        return
    editable = tt.stage in EDITABLE and rnd.status != "locked"
    if not editable:
        st.info(t("timetable.page.stage", stage=t(f"timetable.stage.{tt.stage}")), icon=":material/lock:")
    if not tt.order:
        st.info(t("timetable.page.empty"))
        return
    titles = {p.id: p.title for p in store.rounds.list_proposals(me, rnd.id, pack_id)}
    settings_form(me, rnd, pack_id, tt, titles, editable)
    if not tt.stored:
        st.caption(t("timetable.page.not_saved"))
        return
    st.subheader(t("timetable.page.slots"))
    st.dataframe(slot_rows(tt.slots, lang), hide_index=True, width="stretch", key="tt_slots")
    downloads(rnd, pack_id, tt, f"{pack.programme.code} {pack.programme.name.get(lang)}", lang)


with error_boundary("chair_timetable"):
    render()
