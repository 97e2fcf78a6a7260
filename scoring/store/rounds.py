"""Evaluation rounds (``store.rounds``): creating, locking and reading rounds, their proposals and committee,
the progress matrix, the chair's resolutions of ``needs_check`` rules, and the ranking through the core. The
round's file import and export are in :mod:`scoring.store.imports`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..call import assemble
from ..eligibility import NEEDS_CHECK, evaluate
from ..errors import InputError, Problem
from ..models import Reviewer, Role, RoundStatus, RuleStatus
from ..io.packs import load_pack, pack_path, read_pack_file
from ..selection import Params
from ..table import ProposalTable
from .base import ADMIN, Actor, deny
from .errors import Duplicate, NotFound, RoundLocked, StaleResolution
from .imports import RoundFiles, review_frame
from .schema import (Assignment, ProposalRow, Resolution, Review, Round, RoundMember, RoundPack, User, as_utc,
                     utcnow)
from .times import local_time, parse_deadline
from .values import AuditAction, ProgressMatrix, ResolutionInfo, RoundInfo, RoundReviewer, UserInfo

_ANY = object()   # "expected": not given — replace whatever is stored (the command line)


def _round_info(r: Round, packs: dict[str, str], n: int) -> RoundInfo:
    return RoundInfo(r.id, r.name, r.description, r.status, packs, as_utc(r.created_at), as_utc(r.locked_at), n,
                     r.deadline, r.review_visibility)


def _check_expected(row: Resolution | None, expected: Any, proposal_id: str) -> None:
    """Refuse to change a resolution that is no longer the one the chair saw (see StaleResolution)."""
    if expected is _ANY:
        return
    same = (row is None and expected is None) or (
        row is not None and expected is not None and (row.status, row.note, row.resolved_by) ==
        (expected.status, expected.note, expected.resolved_by) and as_utc(row.resolved_at) == expected.resolved_at)
    if not same:
        current = None if row is None else ResolutionInfo(proposal_id, row.rule_id, row.status, row.note,
                                                          row.resolved_by, as_utc(row.resolved_at))
        raise StaleResolution("this resolution was removed elsewhere" if current is None else
                              f"this resolution was changed elsewhere at {local_time(current.resolved_at)}", current)


class RoundService(RoundFiles):
    """``store.rounds``: rounds, their proposals and committee, progress, resolutions, ranking (and, from
    :class:`~scoring.store.imports.RoundFiles`, ``import_files`` / ``export_files``)."""

    def create_round(self, actor: UserInfo, name: str, packs: Sequence[str | Path], description: str = "",
                     deadline: date | str | None = None) -> RoundInfo:
        """Chair, secretariat. Each pack (shipped id or path) is validated and stored as a copy with its version,
        so a later edit of the pack file never changes this round's numbers. ``deadline`` (評価締切, chair only,
        as for :meth:`set_deadline`) is set in the same transaction."""
        deadline = parse_deadline(deadline)
        name = (name or "").strip()
        if not name:
            raise InputError([Problem("(round)", None, "name", "must not be empty")])
        if isinstance(packs, (str, Path)):
            packs = [packs]
        if not packs:
            raise InputError([Problem("(round)", None, "packs", "a round needs at least one pack")])
        loaded = []
        for ref in packs:
            path = pack_path(ref)
            pack = load_pack(ref)  # validates (PackError lists every problem)
            loaded.append((pack, read_pack_file(path), str(ref)))
        ids = [p.id for p, _, _ in loaded]
        if len(set(ids)) != len(ids):
            raise InputError([Problem("(round)", None, "packs", f"a pack is listed twice ({ids})")])
        try:
            with self.db.write() as s:
                who = self._admin(s, actor, "create rounds")
                if deadline is not None and not who.is_(Role.chair):
                    raise deny(who, "set the deadline")
                if s.scalar(select(Round.id).where(Round.name == name)) is not None:
                    raise Duplicate(f"round {name!r} already exists")
                r = Round(name=name, description=description or "", status=RoundStatus.open, created_at=utcnow(),
                          deadline=deadline)
                s.add(r)
                s.flush()
                for pack, data, src in loaded:
                    s.add(RoundPack(round_id=r.id, pack_id=pack.id, version=pack.version, data=data, source=src))
                self._audit(s, who, AuditAction.round_create, "round", round_id=r.id,
                            after={"name": name, "packs": {p.id: p.version for p, _, _ in loaded},
                                   **({"deadline": deadline.isoformat()} if deadline else {})})
                return _round_info(r, {p.id: p.version for p, _, _ in loaded}, 0)
        except IntegrityError:
            raise Duplicate(f"round {name!r} already exists") from None

    def _info(self, s: Session, r: Round) -> RoundInfo:
        packs = {pid: v for pid, v in s.execute(select(RoundPack.pack_id, RoundPack.version)
                                               .where(RoundPack.round_id == r.id).order_by(RoundPack.id))}
        n = s.scalar(select(func.count(ProposalRow.id)).where(ProposalRow.round_id == r.id)) or 0
        return _round_info(r, packs, int(n))

    def list_rounds(self, actor: UserInfo) -> list[RoundInfo]:
        """Chair/secretariat: all rounds; a reviewer: the rounds they take part in."""
        with self.db.read() as s:
            who = self._who(s, actor)
            q = select(Round).order_by(Round.id)
            if not who.is_(*ADMIN):
                q = q.where(Round.id.in_(select(RoundMember.round_id).where(RoundMember.user_id == who.id)))
            return [self._info(s, r) for r in s.scalars(q)]

    def get_round(self, actor: UserInfo, round_ref: int | str) -> RoundInfo:
        """By id or by name."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_ref)
            if not who.is_(*ADMIN) and not self._is_member(s, r.id, who.id):
                raise deny(who, f"see round {r.name!r}")
            return self._info(s, r)

    def pack(self, round_id: int, pack_id: str | None = None):
        """The round's stored copy of a pack (:class:`scoring.packs.CriteriaPack`); ``None`` = the only one."""
        with self.db.read() as s:
            return self.store._pack(s, round_id, self._pack_id(s, round_id, pack_id))

    def _pack_id(self, s: Session, round_id: int, pack_id: str | None) -> str:
        ids = list(s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == round_id).order_by(RoundPack.id)))
        if pack_id is None:
            if len(ids) != 1:
                raise InputError([Problem("(arguments)", None, "pack",
                                          f"the round has {len(ids)} packs ({', '.join(ids)}): name one")])
            return ids[0]
        if pack_id not in ids:
            raise NotFound(f"round {round_id} has no pack {pack_id!r} (packs: {', '.join(ids)})")
        return pack_id

    def _set_status(self, actor: UserInfo, round_id: int, status: RoundStatus) -> RoundInfo:
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "lock or unlock rounds")
            r = self._round(s, round_id)
            if status == RoundStatus.open and self.store.decisions.is_confirmed(s, r.id):
                raise RoundLocked(f"round {r.name!r} has confirmed decisions: reopen them (with a reason) before "
                                  "unlocking the round")
            before = r.status
            r.status = status
            locked = status == RoundStatus.locked
            r.locked_at = utcnow() if locked else None
            self._audit(s, who, AuditAction.round_lock if locked else AuditAction.round_unlock, "round",
                        round_id=r.id, before={"status": before}, after={"status": status})
            s.flush()
            return self._info(s, r)

    def set_deadline(self, actor: UserInfo, round_id: int, deadline: date | str | None) -> RoundInfo:
        """Chair, secretariat. The round's review deadline (評価締切): a day (``date`` or ``YYYY-MM-DD``), or ``None`` to
        clear it. Logged; refused in a locked round."""
        deadline = parse_deadline(deadline)
        with self.db.write() as s:
            who = self._admin(s, actor, "set the deadline")
            r = self._round(s, round_id, writable=True)
            before = r.deadline
            r.deadline = deadline
            self._audit(s, who, AuditAction.round_deadline, "round", round_id=r.id,
                        before={"deadline": before.isoformat() if before else None},
                        after={"deadline": deadline.isoformat() if deadline else None})
            s.flush()
            return self._info(s, r)

    def lock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair. Afterwards nothing in the round changes (reviews, assignments, conflicts, resolutions)."""
        return self._set_status(actor, round_id, RoundStatus.locked)

    def unlock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair (logged)."""
        return self._set_status(actor, round_id, RoundStatus.open)

    def _visible_proposals(self, s: Session, who: Actor, round_id: int, pack: str | None) -> list[ProposalRow]:
        q = select(ProposalRow).where(ProposalRow.round_id == round_id).order_by(ProposalRow.position)
        if pack is not None:
            q = q.where(ProposalRow.pack_id == pack)
        # the rows without their JSON, the models parsed once per process (issue 15: 1,000 JSON loads per run of 進捗)
        if who.is_(*ADMIN):
            return self._proposal_rows(s, q)
        q = q.where(ProposalRow.id.in_(select(Assignment.proposal_pk).where(Assignment.user_id == who.id,
                                                                            Assignment.round_id == round_id)))
        rows = self._proposal_rows(s, q)
        bad = self._conflict_pairs(s, round_id, rows, [who.id])
        return [p for p in rows if (who.id, p.proposal_id) not in bad]

    def list_proposals(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list:
        """Proposals (:class:`scoring.models.Proposal`) in import order. Chair/secretariat: all; a reviewer: only
        those assigned to them and not conflicted."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            return self._models_of(s, self._visible_proposals(s, who, r.id, pack))

    def get_proposal(self, actor: UserInfo, round_id: int, proposal_id: str):
        """One :class:`scoring.models.Proposal`, under the same rule as :meth:`list_proposals`."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            if not who.is_(*ADMIN):
                self._require_access(s, who, r, p)
            return self.store._proposal_model(p)

    def list_reviewers(self, actor: UserInfo, round_id: int) -> list[RoundReviewer]:
        """Chair, secretariat."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list the committee")
            r = self._round(s, round_id)
            return self._members(s, r.id)

    def add_reviewer(self, actor: UserInfo, round_id: int, username: str, role: str = Role.reviewer) -> None:
        """Chair, secretariat: make a user a member of the round's committee."""
        if role not in (Role.chair, Role.reviewer):
            raise InputError([Problem("(arguments)", None, "role", f"{role!r} is not one of ['reviewer', 'chair']")])
        with self.db.write() as s:
            who = self._admin(s, actor, "change the committee")
            r = self._round(s, round_id, writable=True)
            u = self._user(s, username)
            self._ensure_member(s, who, r.id, u, role)

    def progress(self, actor: UserInfo, round_id: int, pack: str | None = None) -> ProgressMatrix:
        """Chair, secretariat: reviewers × proposals with assigned/draft/submitted/conflict (never scores)."""
        with self.db.read() as s:
            who = self._admin(s, actor, "see the progress of the round")
            r = self._round(s, round_id)
            props = self._visible_proposals(s, who, r.id, pack)
            members = list(s.execute(select(User.id, User.username).join(RoundMember, RoundMember.user_id == User.id)
                                     .where(RoundMember.round_id == r.id).order_by(RoundMember.position)))
            name_of = {uid: name for uid, name in members}
            pid_of = {p.id: p.proposal_id for p in props}
            cells: dict[tuple[str, str], str] = {}
            for uid, ppk in s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                      .where(Assignment.round_id == r.id)):
                if ppk in pid_of and uid in name_of:
                    cells[(name_of[uid], pid_of[ppk])] = "assigned"
            for uid, ppk, status in s.execute(select(Review.user_id, Review.proposal_pk, Review.status)
                                              .where(Review.round_id == r.id, Review.stage == "document")):
                if ppk in pid_of and uid in name_of:
                    cells[(name_of[uid], pid_of[ppk])] = status
            for uid, pid in self._conflict_pairs(s, r.id, props):
                if uid in name_of:
                    cells[(name_of[uid], pid)] = "conflict"
            return ProgressMatrix([n for _, n in members], [p.proposal_id for p in props], cells)

    def resolve_needs_check(self, actor: UserInfo, round_id: int, proposal_id: str, rule: str, status: str,
                            note: str = "", expected: Any = _ANY) -> ResolutionInfo:
        """Chair: settle a ``needs_check`` eligibility outcome as ``pass`` or ``fail`` (logged; replaces an
        earlier resolution of the same rule). ``expected``: the resolution the chair's page showed (None: none);
        when the stored one differs, :class:`StaleResolution` and nothing is written."""
        if status not in (RuleStatus.passed, RuleStatus.fail):
            raise InputError([Problem("(resolution)", None, "status", f"{status!r} is not one of ['pass', 'fail']")])
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "resolve eligibility checks")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            pack = self.store._pack(s, r.id, p.pack_id)
            ev = evaluate(pack, ProposalTable.from_proposals([self.store._proposal_model(p)]))
            rule_ids = [ri.id for ri in ev.rules]
            if rule not in rule_ids:
                raise InputError([Problem("(resolution)", None, "rule",
                                          f"{rule!r} is not a rule of pack {pack.id} ({', '.join(rule_ids)})")])
            if ev.status[0, rule_ids.index(rule)] != NEEDS_CHECK:
                raise InputError([Problem("(resolution)", None, "rule",
                                          f"rule {rule!r} of {proposal_id} is not needs_check: nothing to resolve")])
            row = s.scalar(select(Resolution).where(Resolution.proposal_pk == p.id, Resolution.rule_id == rule))
            _check_expected(row, expected, proposal_id)
            before = None if row is None else {"status": row.status, "note": row.note, "by": row.resolved_by}
            if row is None:
                row = Resolution(round_id=r.id, proposal_pk=p.id, rule_id=rule)
                s.add(row)
            row.status, row.note, row.resolved_by, row.resolved_at = status, note or "", who.username, utcnow()
            self._audit(s, who, AuditAction.resolution_set, "resolution", round_id=r.id, proposal_id=proposal_id,
                        before=before, after={"rule": rule, "status": status, "note": note or ""})
            return ResolutionInfo(proposal_id, rule, status, row.note, who.username, row.resolved_at)

    def remove_resolution(self, actor: UserInfo, round_id: int, proposal_id: str, rule: str,
                          expected: Any = _ANY) -> None:
        """Chair (logged). ``expected`` as for :meth:`resolve_needs_check`."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "resolve eligibility checks")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            row = s.scalar(select(Resolution).where(Resolution.proposal_pk == p.id, Resolution.rule_id == rule))
            _check_expected(row, expected, proposal_id)
            if row is None:
                raise NotFound(f"no resolution of rule {rule!r} for {proposal_id}")
            self._audit(s, who, AuditAction.resolution_remove, "resolution", round_id=r.id, proposal_id=proposal_id,
                        before={"rule": rule, "status": row.status, "note": row.note})
            s.delete(row)

    def list_resolutions(self, actor: UserInfo, round_id: int) -> list[ResolutionInfo]:
        """Chair, secretariat."""
        with self.db.read() as s:
            who = self._admin(s, actor, "see resolutions")
            r = self._round(s, round_id)
            return [ResolutionInfo(pid, row.rule_id, row.status, row.note, row.resolved_by, as_utc(row.resolved_at))
                    for row, pid in s.execute(select(Resolution, ProposalRow.proposal_id)
                                              .join(ProposalRow, Resolution.proposal_pk == ProposalRow.id)
                                              .where(Resolution.round_id == r.id)
                                              .order_by(ProposalRow.position, Resolution.rule_id))]

    def rank_round(self, actor: UserInfo, round_id: int, pack: str | None = None, params=None, **overrides):
        """Chair: the :class:`scoring.selection.Ranking` of one pack of the round, built with
        :func:`scoring.call.assemble` from the stored proposals, reviews (drafts are passed on and, as the core
        says, never count), reviewers with their conflicts, and the chair's resolutions. ``params`` is a
        :class:`scoring.selection.Params`; otherwise ``overrides`` (budget, aggregation, normalization, selection,
        waitlist, pass_line) go to ``Params.from_pack``."""
        call, resolutions = self.call(actor, round_id, pack)
        the_params = params if params is not None else Params.from_pack(call.pack, **overrides)
        return call.rank(the_params, resolutions)

    def call(self, actor: UserInfo, round_id: int | str, pack: str | None = None):
        """Chair: ``(call, resolutions)`` — the core's :class:`scoring.call.Call` for one pack of the round and
        the chair's resolutions, for callers that need more than the ranking (``call.rank(params, resolutions)``;
        the chair workbook). For a chair with conflicts of interest, ``call.withheld`` names the conflicted
        proposals and their comments are not in the call (their levels are: the ranking needs them)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "rank a round")
            r = self._round(s, round_id)
            return self._call(s, r, self._pack_id(s, r.id, pack), self._withheld(s, who, r.id))

    def _call(self, s: Session, r: Round, pack_id: str, withheld: frozenset[str] = frozenset()):
        """The core's Call for one pack of a stored round, plus the chair's resolutions. ``withheld``: the
        proposals the reader is conflicted with — their comments are left out and the call says so."""
        pack = self.store._pack(s, r.id, pack_id)
        props = self._proposal_rows(s, select(ProposalRow).where(ProposalRow.round_id == r.id)
                                    .order_by(ProposalRow.position))
        models = self._models_of(s, props)
        reviewers = [Reviewer(reviewer_id=m.username, name=m.name, role=m.role, conflicts=m.conflicts)
                     for m in self._members(s, r.id)]
        df = review_frame(s, r.id, pack, pack_id)
        round_packs = list(s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == r.id)))
        call = assemble(pack, models, df, reviewers, reviews_source=f"round {r.name}",
                        proposals_source=f"round {r.name}", known_packs=round_packs)
        withheld = frozenset(p.id for p in call.proposals if p.id in withheld)
        if withheld:
            call.withheld = withheld
            call.reviews.comments = {k: v for k, v in call.reviews.comments.items() if k[1] not in withheld}
            call.reviews.applicant_comments = {k: v for k, v in call.reviews.applicant_comments.items()
                                               if k[1] not in withheld}
        resolutions = {(pid, row.rule_id): {"status": row.status, "by": row.resolved_by,
                                            "at": as_utc(row.resolved_at).isoformat(), "note": row.note}
                       for row, pid in s.execute(select(Resolution, ProposalRow.proposal_id)
                                                 .join(ProposalRow, Resolution.proposal_pk == ProposalRow.id)
                                                 .where(Resolution.round_id == r.id,
                                                        ProposalRow.pack_id == pack_id))}
        return call, resolutions
