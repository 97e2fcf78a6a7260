"""The hearing timetable in the store (``store.timetables``; stages.md "The hearing timetable", docs/store.md
"Hearing timetable"): a pack's settings per round — start (JST), the order of the shortlisted proposals, slot and
break minutes — stored in ``round_packs.timetable`` (migration 0005) and turned into slots by the core
(:func:`scoring.timetable.build_timetable`) with the round's committee and its conflicts of interest.

Rules:

- the chair reads and sets it (``set_timetable`` is audited ``timetable.set``, refused in a locked round and
  outside the ``shortlist`` and ``hearing`` stages); the settings are checked by the core, every problem at once;
- it follows the shortlist: the fixed one from the hearing stage on, the method's current cut with the chair's
  edits in the ``shortlist`` stage. A proposal that left the shortlist leaves the order; one added goes last;
- a committee member reads only their own slots (``my_slots``: packs in the hearing stage, slots where they are
  present — never a slot of a proposal they are conflicted with — and without the absent list, since another
  member's conflicts are not theirs to see).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError, Problem
from ..models import Role, Stage
from ..timetable import PanelMember, Slot, SlotProposal, build_timetable, follow_shortlist, timetable_problems, to_jst
from .base import ServiceBase, deny
from .schema import ProposalRow, Round, RoundMember, RoundPack, User
from .values import AuditAction, UserInfo

SOURCE = "timetable"
SETTABLE = (Stage.shortlist, Stage.hearing)


@dataclass(frozen=True)
class HearingTimetable:
    """A pack's timetable in a round: the settings (``start`` None until the chair sets one; ``stored`` whether
    they were set) and the slots (empty without a start)."""

    round_id: int
    pack_id: str
    stage: str
    start: datetime | None
    order: tuple[str, ...]
    slot_minutes: int
    break_minutes: int
    stored: bool
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True)
class MySlot:
    """A member's own hearing slot (``slot.absent`` left empty)."""

    round_id: int
    round_name: str
    pack_id: str
    slot: Slot


def _problem(field: str, message: str) -> InputError:
    return InputError([Problem(SOURCE, None, field, message)])


class TimetableService(ServiceBase):
    """``store.timetables``: the hearing timetable's settings and slots."""

    def _shortlist(self, s: Session, who, r: Round, k: RoundPack) -> list[str]:
        if k.shortlist is not None:
            return list(k.shortlist)
        if (k.stage or Stage.document) == Stage.shortlist:   # not fixed yet: the current cut with the edits
            hs = self.store.hearings
            return hs._rank(s, who, r, k, None, None, hs._edits(s, r, k.pack_id), False, {}).shortlist_ids()
        return []

    def _timetable(self, s: Session, who, r: Round, k: RoundPack, with_conflicts: bool = True) -> HearingTimetable:
        pack = self.store._pack(s, r.id, k.pack_id)
        if pack.hearing is None:
            raise _problem("pack", f"pack {k.pack_id} has no hearing stage (no hearing section)")
        shortlist = self._shortlist(s, who, r, k)
        stored = dict(k.timetable or {})
        start = datetime.fromisoformat(stored["start"]) if stored.get("start") else None
        slot = int(stored.get("slot_minutes", pack.hearing.slot_minutes))
        brk = int(stored.get("break_minutes", pack.hearing.break_minutes))
        order = tuple(follow_shortlist(stored.get("order"), shortlist))
        info = HearingTimetable(r.id, k.pack_id, k.stage or Stage.document, None if start is None else to_jst(start),
                                order, slot, brk, bool(stored))
        if start is None or not order:
            return info
        rows = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id,
                                                        ProposalRow.proposal_id.in_(order))))
        props = [SlotProposal(p.proposal_id, p.title or "", self.store._proposal_model(p).applicant.name)
                 for p in rows]
        members = list(s.execute(select(User.id, User.username, RoundMember.name)
                                 .join(RoundMember, RoundMember.user_id == User.id)
                                 .where(RoundMember.round_id == r.id).order_by(RoundMember.position)))
        names = {uid: username for uid, username, _ in members}
        pairs = self._conflict_pairs(s, r.id, rows, list(names)) if with_conflicts else set()
        conflicts = {(names[uid], pid) for uid, pid in pairs}
        slots = build_timetable(info.start, props, slot, brk,
                                [PanelMember(username, name or username) for _, username, name in members],
                                conflicts, order=list(order), source=SOURCE)
        return replace(info, slots=slots)

    def _pack_row(self, s: Session, r: Round, pack_id: str | None) -> RoundPack:
        pid = self.store.rounds._pack_id(s, r.id, pack_id)
        return s.scalar(select(RoundPack).where(RoundPack.round_id == r.id, RoundPack.pack_id == pid))

    def get_timetable(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> HearingTimetable:
        """Chair: the pack's timetable (settings and slots with present and absent members)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "see the hearing timetable")
            r = self._round(s, round_id)
            return self._timetable(s, who, r, self._pack_row(s, r, pack))

    def set_timetable(self, actor: UserInfo, round_id: int | str, pack: str | None, start: datetime,
                      order: list[str] | None = None, slot_minutes: int | None = None,
                      break_minutes: int | None = None) -> HearingTimetable:
        """Chair: store the settings (``order`` None: the current order — the one stored, else the shortlist's
        document rank order; minutes None: the pack's ``hearing.slot_minutes`` / ``break_minutes``). The order is
        stored in full, so a proposal added to the shortlist later goes last. Refused (:class:`InputError`,
        every problem at once, nothing written): an order naming a proposal not on the shortlist or one twice,
        a slot not > 0 minutes, a negative break, no start; outside the shortlist and hearing stages."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "set the hearing timetable")
            r = self._round(s, round_id, writable=True)
            k = self._pack_row(s, r, pack)
            current = self._timetable(s, who, r, k, with_conflicts=False)
            if (k.stage or Stage.document) not in SETTABLE:
                raise _problem("stage", f"pack {k.pack_id} is in stage {k.stage}: the timetable is set in stage "
                                        f"{Stage.shortlist.value} or {Stage.hearing.value}")
            slot = current.slot_minutes if slot_minutes is None else slot_minutes
            brk = current.break_minutes if break_minutes is None else break_minutes
            shortlist = self._shortlist(s, who, r, k)
            problems = timetable_problems(start, order, shortlist, slot, brk, SOURCE)
            if problems:
                raise InputError(problems)
            value = {"start": to_jst(start).isoformat(), "order": follow_shortlist(order or current.order, shortlist),
                     "slot_minutes": int(slot), "break_minutes": int(brk)}
            before = dict(k.timetable) if k.timetable else None
            k.timetable = value
            self._audit(s, who, AuditAction.timetable_set, "stage", round_id=r.id,
                        before=before and {"pack": k.pack_id, **before}, after={"pack": k.pack_id, **value})
            s.flush()
            return self._timetable(s, who, r, k)

    def my_slots(self, actor: UserInfo, round_id: int | None = None) -> list[MySlot]:
        """A committee member's own slots in every round they sit on (or one round): packs in the hearing stage
        with a timetable, slots where they are present, in time order; without the absent members."""
        with self.db.read() as s:
            who = self._who(s, actor)
            out: list[MySlot] = []
            for r, k in self._member_hearing_packs(s, who, round_id):
                if not (k.timetable or {}).get("start"):
                    continue
                for slot in self._timetable(s, who, r, k).slots:
                    if slot.is_present(who.username):
                        out.append(MySlot(r.id, r.name, k.pack_id, replace(slot, absent=())))
            return sorted(out, key=lambda m: (m.slot.start, m.round_id, m.pack_id))
