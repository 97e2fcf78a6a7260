"""The hearing timetable printed and shared (stages.md "The hearing timetable"; docs/excel.md "ヒアリング日程"):

- :func:`timetable_workbook` — one printable sheet 「ヒアリング日程」 (ja/en) in the house style
  (:mod:`scoring.io.xlsx_style`: header fill, frozen header and filter, A4 landscape one page wide, the heading
  in the printed page header); every text a user wrote is a formula-safe string cell;
- :func:`timetable_ics` — an iCalendar file (RFC 5545) made with the maintained ``icalendar`` library: one
  VEVENT per slot, times with ``TZID=Asia/Tokyo`` and its VTIMEZONE, SUMMARY = proposal id + title,
  DESCRIPTION = the applicant and the members present (and those absent for a conflict of interest), and a UID
  stable per round, pack and proposal (``shinsa-hearing-<round>-<pack>-<proposal>@shinsa``) so that a calendar
  importing a changed timetable updates its events instead of doubling them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence
from urllib.parse import quote as url_quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font

from ..labels import label
from ..timetable import Slot
from .xlsx_style import FILL_HEADER, THIN, Styles, set_widths, table_sheet, text_cell, workbook_bytes, wl

TOKYO = ZoneInfo("Asia/Tokyo")
COLUMNS = ("no", "start", "end", "proposal_id", "title", "applicant", "present", "absent")
WIDTHS = (7, 18, 9, 12, 36, 26, 36, 28)


def _names(members, lang: str) -> str:
    return label("timetable.list_sep", lang).join(m.name or m.member_id for m in members)


def _absent(slot: Slot, lang: str) -> str:
    return label("timetable.list_sep", lang).join(
        f"{a.member.name or a.member.member_id}（{label(f'timetable.absent.{a.reason}', lang)}）" if lang == "ja"
        else f"{a.member.name or a.member.member_id} ({label(f'timetable.absent.{a.reason}', lang)})"
        for a in slot.absent)


def timetable_workbook(slots: Sequence[Slot], lang: str = "ja", round_name: str = "", programme: str = "") -> bytes:
    """The printable timetable (.xlsx bytes): one row per slot, start as a date-time and end as a time (JST,
    as Excel keeps no time zone: the sheet says so), present and absent members by name."""
    wb = Workbook()
    ws = wb.active
    ws.title = wl("timetable.sheet", lang)[:31]
    styles = Styles(ws)
    head = styles.get(font=Font(bold=True), fill=FILL_HEADER, alignment=Alignment(vertical="center", wrap_text=True))
    wrap = styles.get(alignment=Alignment(vertical="top", wrap_text=True))
    when = styles.get(number_format="yyyy-mm-dd hh:mm", alignment=Alignment(vertical="top"))
    until = styles.get(number_format="hh:mm", alignment=Alignment(vertical="top"))
    ws.append([text_cell(ws, styles, wl(f"timetable.{c}", lang), head) for c in COLUMNS])
    for cell in ws[1]:
        cell.border = Border(bottom=THIN)
    for s in slots:
        start = s.start.astimezone(TOKYO).replace(tzinfo=None)
        end = s.end.astimezone(TOKYO).replace(tzinfo=None)
        ws.append([s.number, start, end] + [text_cell(ws, styles, v, wrap) for v in (
            s.proposal_id, s.title, s.applicant, _names(s.present, lang), _absent(s, lang))])
        row = ws.max_row
        ws.cell(row, 1).alignment = Alignment(vertical="top")
        ws.cell(row, 2)._style = when
        ws.cell(row, 3)._style = until
    set_widths(ws, WIDTHS)
    table_sheet(ws, len(slots), len(COLUMNS))
    heading = wl("timetable.heading", lang, round=round_name, programme=programme)
    ws.oddHeader.center.text = heading.replace("&", "&&")
    ws.oddFooter.left.text = wl("timetable.times_note", lang)
    ws.oddFooter.right.text = "&P / &N"
    return workbook_bytes(wb)


def slot_uid(round_id: int, pack_id: str, proposal_id: str) -> str:
    """The event's UID: the same for the same round, pack and proposal whatever the time or order."""
    return f"shinsa-hearing-{round_id}-{url_quote(pack_id, safe='')}-{url_quote(proposal_id, safe='')}@shinsa"


def timetable_ics(slots: Sequence[Slot], round_id: int, pack_id: str, lang: str = "ja", round_name: str = "",
                  programme: str = "", stamp: datetime | None = None) -> bytes:
    """The .ics file of the slots (``stamp``: DTSTAMP, default now in UTC)."""
    cal = Calendar()
    cal.add("prodid", "-//Shinsa//hearing timetable//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", label("timetable.ics.calendar", lang, round=round_name, programme=programme).strip())
    cal.add("x-wr-timezone", "Asia/Tokyo")
    stamp = (stamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    for s in slots:
        ev = Event()
        ev.add("uid", slot_uid(round_id, pack_id, s.proposal_id))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", s.start.astimezone(TOKYO))
        ev.add("dtend", s.end.astimezone(TOKYO))
        ev.add("summary", f"{s.proposal_id} {s.title}".strip())
        lines = [label("timetable.ics.applicant", lang, name=s.applicant),
                 label("timetable.ics.present", lang, names=_names(s.present, lang))]
        if s.absent:
            lines.append(label("timetable.ics.absent", lang, names=_absent(s, lang)))
        ev.add("description", "\n".join(lines))
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()
