"""The hearing timetable's exports (scoring/io/timetable_export.py): the printable sheet (ja/en, formula-safe) and
the .ics parsed back with icalendar — JST times with their VTIMEZONE, summary, members, stable UIDs."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from icalendar import Calendar
from openpyxl import load_workbook

from scoring.io.timetable_export import slot_uid, timetable_ics, timetable_workbook
from scoring.timetable import PanelMember, SlotProposal, build_timetable

PROPS = [SlotProposal("T-001", "自動運転バス", "株式会社あおば"), SlotProposal("T-002", "=HYPERLINK(\"x\")", "みちのく市"),
         SlotProposal("T-003", "配送ロボ", "株式会社みちのく")]
MEMBERS = [PanelMember("A", "委員A"), PanelMember("B", "委員B"), PanelMember("C", "委員C")]


def slots(order=None, start=datetime(2027, 2, 3, 10, 0)):
    return build_timetable(start, PROPS, 40, 10, MEMBERS, {("C", "T-003")}, order=order)


def test_the_sheet_in_japanese_and_english():
    wb = load_workbook(io.BytesIO(timetable_workbook(slots(), "ja", "令和8年度", "①-2 自動運転")))
    ws = wb["ヒアリング日程"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["順番", "開始", "終了", "提案番号", "提案名", "申請者", "出席委員", "欠席委員（理由）"]
    assert rows[1][:4] == [1, datetime(2027, 2, 3, 10, 0), datetime(2027, 2, 3, 10, 40), "T-001"]
    assert rows[3][3:] == ["T-003", "配送ロボ", "株式会社みちのく", "委員A、委員B", "委員C（利益相反）"]
    assert rows[2][2] == datetime(2027, 2, 3, 11, 30)
    assert ws.cell(2, 2).number_format == "yyyy-mm-dd hh:mm" and ws.cell(2, 3).number_format == "hh:mm"
    # a title that looks like a formula stays text
    cell = ws.cell(3, 5)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")' and cell.quotePrefix
    assert ws.freeze_panes == "A2" and ws.page_setup.orientation == "landscape"
    assert "令和8年度" in ws.oddHeader.center.text and "ヒアリング日程" in ws.oddHeader.center.text
    en = load_workbook(io.BytesIO(timetable_workbook(slots(), "en", "R8", "AV")))["Hearing timetable"]
    header = [c.value for c in en[1]]
    assert header[0] == "No." and header[-1] == "Members absent (reason)"
    assert en.cell(4, 8).value == "委員C (conflict of interest)" and en.cell(4, 7).value == "委員A, 委員B"


def parse(data: bytes):
    cal = Calendar.from_ical(data)
    return cal, list(cal.walk("VEVENT"))


def test_the_ics_has_one_event_per_slot_in_jst_with_members():
    data = timetable_ics(slots(), 7, "autonomous_l4", "ja", "令和8年度", "自動運転")
    cal, events = parse(data)
    assert b"TZID=Asia/Tokyo" in data
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Asia/Tokyo"
    assert len(events) == 3
    starts = [e.decoded("dtstart") for e in events]
    assert [(s.hour, s.minute) for s in starts] == [(10, 0), (10, 50), (11, 40)]
    assert all(s.utcoffset() == timedelta(hours=9) and str(s.tzinfo) == "Asia/Tokyo" for s in starts)
    assert [e.decoded("dtend").strftime("%H:%M") for e in events] == ["10:40", "11:30", "12:20"]
    assert starts[0].astimezone().timestamp() == datetime.fromisoformat("2027-02-03T01:00:00+00:00").timestamp()
    assert str(events[2]["summary"]) == "T-003 配送ロボ"
    desc = str(events[2]["description"])
    assert desc.splitlines() == ["申請者：株式会社みちのく", "出席委員：委員A、委員B", "欠席委員：委員C（利益相反）"]
    assert "欠席" not in str(events[0]["description"])
    en = parse(timetable_ics(slots(), 7, "autonomous_l4", "en"))[1]
    assert str(en[0]["description"]).splitlines() == ["Applicant: 株式会社あおば", "Members present: 委員A, 委員B, 委員C"]


def test_uids_are_stable_per_round_pack_and_proposal_whatever_the_time_or_order():
    first = {str(e["summary"]).split()[0]: str(e["uid"]) for e in parse(timetable_ics(slots(), 7, "autonomous_l4"))[1]}
    moved = parse(timetable_ics(slots(["T-003", "T-001", "T-002"], datetime(2027, 3, 1, 13, 0)), 7, "autonomous_l4"))[1]
    assert {str(e["summary"]).split()[0]: str(e["uid"]) for e in moved} == first
    assert first["T-001"] == slot_uid(7, "autonomous_l4", "T-001") == "shinsa-hearing-7-autonomous_l4-T-001@shinsa"
    assert len(set(first.values())) == 3
    other = {str(e["uid"]) for e in parse(timetable_ics(slots(), 8, "autonomous_l4"))[1]}
    assert not other & set(first.values())
