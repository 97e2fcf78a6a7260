"""The hearing timetable's arithmetic and checks (scoring/timetable.py), figures worked by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scoring.errors import InputError
from scoring.timetable import (JST, PanelMember, SlotProposal, build_timetable, follow_shortlist,
                               timetable_problems)

PROPS = [SlotProposal("T-001", "自動運転バス", "株式会社あおば"), SlotProposal("T-002", "遠隔監視", "みちのく市"),
         SlotProposal("T-003", "配送ロボ", "株式会社みちのく")]
MEMBERS = [PanelMember("A", "委員A"), PanelMember("B", "委員B"), PanelMember("C", "委員C")]


def hm(slot):
    return f"{slot.start:%H:%M}–{slot.end:%H:%M}"


def test_ten_oclock_forty_minute_slots_ten_minute_breaks():
    slots = build_timetable(datetime(2027, 2, 3, 10, 0), PROPS, 40, 10, MEMBERS)
    # by hand: 10:00 + 40 = 10:40; + 10 break → 10:50 + 40 = 11:30; + 10 → 11:40 + 40 = 12:20
    assert [hm(s) for s in slots] == ["10:00–10:40", "10:50–11:30", "11:40–12:20"]
    assert [s.number for s in slots] == [1, 2, 3]
    assert [s.proposal_id for s in slots] == ["T-001", "T-002", "T-003"]
    assert all(s.start.utcoffset().total_seconds() == 9 * 3600 for s in slots)
    assert slots[1].applicant == "みちのく市" and slots[1].title == "遠隔監視"


def test_the_chairs_order_and_other_minutes():
    slots = build_timetable(datetime(2027, 2, 3, 13, 30, tzinfo=JST), PROPS, 25, 5, MEMBERS,
                            order=["T-003", "T-001", "T-002"])
    # 13:30–13:55, 14:00–14:25, 14:30–14:55
    assert [(s.proposal_id, hm(s)) for s in slots] == [("T-003", "13:30–13:55"), ("T-001", "14:00–14:25"),
                                                      ("T-002", "14:30–14:55")]
    no_break = build_timetable(datetime(2027, 2, 3, 9, 0), PROPS, 30, 0)
    assert [hm(s) for s in no_break] == ["09:00–09:30", "09:30–10:00", "10:00–10:30"]


def test_an_aware_start_is_converted_to_jst_and_slots_may_cross_midnight():
    slots = build_timetable(datetime(2027, 2, 3, 14, 0, tzinfo=timezone.utc), PROPS[:2], 40, 10)
    assert [hm(s) for s in slots] == ["23:00–23:40", "23:50–00:30"]
    assert slots[1].end.day == 4


def test_conflicted_members_are_absent_with_their_reason():
    slots = build_timetable(datetime(2027, 2, 3, 10, 0), PROPS, 40, 10, MEMBERS,
                            conflicts={("C", "T-003"), ("A", "T-003"), ("B", "T-999")})
    assert [m.member_id for m in slots[0].present] == ["A", "B", "C"] and slots[0].absent == ()
    assert [m.member_id for m in slots[2].present] == ["B"]
    assert [(a.member.member_id, a.member.name, a.reason) for a in slots[2].absent] == [
        ("A", "委員A", "conflict_of_interest"), ("C", "委員C", "conflict_of_interest")]
    assert slots[2].is_present("B") and not slots[2].is_present("C")


def test_proposals_left_out_of_the_order_go_last():
    slots = build_timetable(datetime(2027, 2, 3, 10, 0), PROPS, 40, 10, order=["T-002"])
    assert [(s.proposal_id, hm(s)) for s in slots] == [("T-002", "10:00–10:40"), ("T-001", "10:50–11:30"),
                                                      ("T-003", "11:40–12:20")]


def test_follow_shortlist_drops_removed_and_appends_added():
    assert follow_shortlist(["T-003", "T-009", "T-001", "T-003"], ["T-001", "T-002", "T-003"]) == [
        "T-003", "T-001", "T-002"]
    assert follow_shortlist(None, ["T-002", "T-001"]) == ["T-002", "T-001"]


def test_every_problem_of_the_settings_at_once():
    with pytest.raises(InputError) as e:
        build_timetable(datetime(2027, 2, 3, 10, 0), PROPS, -5, -1, order=["T-001", "T-009", "T-001"])
    text = str(e.value)
    assert "timetable:2:order: 'T-009' is not a shortlisted proposal" in text
    assert "timetable:3:order: 'T-001' is in the order twice" in text
    assert "slot_minutes: -5 minutes: must be more than 0" in text
    assert "break_minutes: -1 minutes: must be 0 or more" in text
    assert len(e.value.problems) == 4
    fields = [p.field for p in timetable_problems(None, None, ["T-001"], 0, 1441)]
    assert fields == ["start", "slot_minutes", "break_minutes"]
    assert [p.field for p in timetable_problems(datetime(2027, 1, 1), [], [], True, 2.5)] == [
        "slot_minutes", "break_minutes"]
