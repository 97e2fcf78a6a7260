"""The hearing timetable (stages.md "The hearing timetable"): slots in the chair's order from a start time, each
``slot_minutes`` long with ``break_minutes`` between, and per slot the proposal, its applicant, the members present
and the members absent with their reason (a member conflicted with the proposal is absent: 利益相反).

Pure: the store gives the shortlist (in document rank order), the committee and the (member, proposal) conflict
pairs; the adapters print the slots (``scoring/io/timetable_export.py``). Times are in JST (UTC+9, no daylight
saving, so a fixed offset is exact): a naive start is read as JST, an aware one converted to it.

Choices where the spec is silent (docs/app.md "ヒアリング日程"): the order defaults to the shortlist's order; a
shortlisted proposal missing from the chair's order goes last (in shortlist order) and one no longer on the
shortlist leaves the order (:func:`follow_shortlist`); a slot may run past midnight (nothing is refused for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Collection, Iterable, Sequence

from .errors import InputError, Problem, quote

__all__ = ["JST", "ABSENT_CONFLICT", "MAX_MINUTES", "SlotProposal", "PanelMember", "Absence", "Slot",
           "to_jst", "follow_shortlist", "timetable_problems", "build_timetable"]

JST = timezone(timedelta(hours=9), "JST")
ABSENT_CONFLICT = "conflict_of_interest"
"""The reason a member is absent from a slot (labelled by the vocabulary's ``timetable.absent.<reason>``)."""
MAX_MINUTES = 24 * 60
"""A slot or a break is at most a day (the pack's bounds, scoring/packs.py)."""


@dataclass(frozen=True)
class SlotProposal:
    """A shortlisted proposal as the timetable names it."""

    proposal_id: str
    title: str = ""
    applicant: str = ""


@dataclass(frozen=True)
class PanelMember:
    """A committee member (``member_id``: the username)."""

    member_id: str
    name: str = ""


@dataclass(frozen=True)
class Absence:
    member: PanelMember
    reason: str = ABSENT_CONFLICT


@dataclass(frozen=True)
class Slot:
    """One hearing: ``number`` from 1, ``start``/``end`` in JST."""

    number: int
    start: datetime
    end: datetime
    proposal_id: str
    title: str
    applicant: str
    present: tuple[PanelMember, ...]
    absent: tuple[Absence, ...]

    def is_present(self, member_id: str) -> bool:
        return any(m.member_id == member_id for m in self.present)


def to_jst(when: datetime) -> datetime:
    """``when`` in JST: a naive datetime is taken to be JST already."""
    return when.replace(tzinfo=JST) if when.tzinfo is None else when.astimezone(JST)


def follow_shortlist(order: Iterable[str] | None, shortlist: Sequence[str]) -> list[str]:
    """The chair's order kept in step with the shortlist: a proposal no longer shortlisted leaves it (and a
    repeated one counts once); a shortlisted one not in it goes last, in shortlist order. ``None``: the
    shortlist's own order (the document rank order)."""
    wanted = set(shortlist)
    out: list[str] = []
    for pid in order or ():
        if pid in wanted and pid not in out:
            out.append(pid)
    return out + [pid for pid in shortlist if pid not in out]


def _minutes_problem(source: str, name: str, value, least: int) -> Problem | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return Problem(source, None, name, f"{quote(value)} is not a whole number of minutes")
    if value < least or value > MAX_MINUTES:
        low = "more than 0" if least else "0 or more"
        return Problem(source, None, name, f"{value} minutes: must be {low} and at most {MAX_MINUTES} (a day)")
    return None


def timetable_problems(start, order: Sequence[str] | None, proposal_ids: Sequence[str], slot_minutes,
                       break_minutes, source: str = "timetable") -> list[Problem]:
    """Every problem of the settings at once: no start time, an order naming an unknown proposal (not on the
    shortlist) or one twice (row = its position from 1), a slot not > 0 minutes, a negative break, either over a
    day or not a whole number."""
    problems: list[Problem] = []
    if not isinstance(start, datetime):
        problems.append(Problem(source, None, "start", f"{quote(start)} is not a date and time"))
    known = set(proposal_ids)
    seen: set[str] = set()
    for i, pid in enumerate(order or (), start=1):
        if pid not in known:
            problems.append(Problem(source, str(i), "order", f"{quote(pid)} is not a shortlisted proposal"))
        elif pid in seen:
            problems.append(Problem(source, str(i), "order", f"{quote(pid)} is in the order twice"))
        seen.add(pid)
    for name, value, least in (("slot_minutes", slot_minutes, 1), ("break_minutes", break_minutes, 0)):
        p = _minutes_problem(source, name, value, least)
        if p is not None:
            problems.append(p)
    return problems


def build_timetable(start: datetime, proposals: Sequence[SlotProposal], slot_minutes: int, break_minutes: int,
                    members: Sequence[PanelMember] = (), conflicts: Collection[tuple[str, str]] = (),
                    order: Sequence[str] | None = None, source: str = "timetable") -> tuple[Slot, ...]:
    """The slots: ``proposals`` are the shortlist (default order), ``order`` the chair's (None: the shortlist's;
    proposals left out of it go last), ``conflicts`` the (member id, proposal id) pairs of conflicts of interest.
    Slot k (from 0) starts at ``start + k × (slot + break)`` and lasts ``slot_minutes``. Members are listed in the
    given order. :class:`InputError` lists every problem of the settings (:func:`timetable_problems`)."""
    ids = [p.proposal_id for p in proposals]
    problems = timetable_problems(start, order, ids, slot_minutes, break_minutes, source)
    if problems:
        raise InputError(problems)
    by_id = {p.proposal_id: p for p in proposals}
    clash = set(conflicts)
    first = to_jst(start)
    step = timedelta(minutes=slot_minutes + break_minutes)
    length = timedelta(minutes=slot_minutes)
    slots = []
    for k, pid in enumerate(follow_shortlist(order, ids)):
        p = by_id[pid]
        begin = first + k * step
        present = tuple(m for m in members if (m.member_id, pid) not in clash)
        absent = tuple(Absence(m) for m in members if (m.member_id, pid) in clash)
        slots.append(Slot(k + 1, begin, begin + length, pid, p.title, p.applicant, present, absent))
    return tuple(slots)
