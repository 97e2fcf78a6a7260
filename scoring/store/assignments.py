"""Who reviews what (``store.assignments``): assigning reviewers by hand or automatically, and conflicts of
interest (利益相反) — declared by a reviewer, set by the chair, or imported.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..assignment_plan import plan
from ..errors import InputError, Problem
from ..models import Role, RoundStatus
from .base import ADMIN, Actor, ServiceBase, deny
from .errors import ConflictOfInterest, NotFound, ReviewLocked
from .schema import Assignment, Conflict, ProposalRow, Review, Round, RoundMember, User, as_utc, utcnow
from .values import AssignmentInfo, AuditAction, AutoAssignReport, ConflictInfo, Unsatisfied, UserInfo


class AssignmentService(ServiceBase):
    """``store.assignments``: assignments and conflicts of interest."""

    def assign(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str) -> None:
        """Chair, secretariat. Refused with :class:`ConflictOfInterest` if the reviewer is conflicted. Assigning
        twice is a no-op. The reviewer becomes a committee member of the round if not already."""
        with self.db.write() as s:
            who = self._admin(s, actor, "assign reviewers")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            u = self._user(s, reviewer)
            if self._conflicted(s, r.id, p, u.id):
                raise ConflictOfInterest(f"{reviewer} has a conflict of interest with {proposal_id}: not assigned")
            self._ensure_member(s, who, r.id, u)
            if s.scalar(select(Assignment.id).where(Assignment.proposal_pk == p.id, Assignment.user_id == u.id)):
                return
            s.add(Assignment(round_id=r.id, proposal_pk=p.id, user_id=u.id, created_at=utcnow(),
                             created_by=who.username))
            self._audit(s, who, AuditAction.assignment_add, "assignment", round_id=r.id, proposal_id=proposal_id,
                        subject=reviewer, after={"assigned": True})

    def unassign(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str) -> None:
        """Chair, secretariat. Refused (:class:`ReviewLocked`) if the reviewer has saved a review for it; the
        chair must decide about the review first."""
        with self.db.write() as s:
            who = self._admin(s, actor, "unassign reviewers")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            u = self._user(s, reviewer)
            a = s.scalar(select(Assignment).where(Assignment.proposal_pk == p.id, Assignment.user_id == u.id))
            if a is None:
                raise NotFound(f"{reviewer} is not assigned to {proposal_id}")
            if s.scalar(select(Review.id).where(Review.proposal_pk == p.id, Review.user_id == u.id)) is not None:
                raise ReviewLocked(f"{reviewer} has already saved a review of {proposal_id}: not unassigned",
                                   "saved")
            s.delete(a)
            self._audit(s, who, AuditAction.assignment_remove, "assignment", round_id=r.id, proposal_id=proposal_id,
                        subject=reviewer, before={"assigned": True}, after={"assigned": False})

    def auto_assign(self, actor: UserInfo, round_id: int, pack: str | None = None, k: int | None = None,
                    proposals: Sequence[str] | None = None) -> AutoAssignReport:
        """Chair, secretariat: give every proposal of the pack ``k`` reviewers (default: the pack's
        ``min_reviews``), keeping existing assignments, never a conflicted reviewer, loads as even as the
        conflicts allow (counted across the whole round; ties by username), the pack's reviewer–proposal graph
        connected with even pair overlap (:func:`scoring.assignment_plan.plan`). Reports what could not be
        satisfied and the graph's shape (``design``: connected, parts, min/max pair overlap).
        ``proposals``: only these proposals of the pack (the one-click reassignment of a proposal a conflict
        left short of reviewers); an id not in the pack is refused."""
        with self.db.write() as s:
            who = self._admin(s, actor, "assign reviewers")
            r = self._round(s, round_id, writable=True)
            pack_id = self.store.rounds._pack_id(s, r.id, pack)
            the_pack = self.store._pack(s, r.id, pack_id)
            want = int(k) if k is not None else int(the_pack.selection.min_reviews)
            if want < 1:
                raise InputError([Problem("(arguments)", None, "k", f"must be at least 1 (got {want})")])
            all_props = self._proposal_rows(s, select(ProposalRow).where(ProposalRow.round_id == r.id)
                                            .order_by(ProposalRow.position))
            props = [p for p in all_props if p.pack_id == pack_id]
            if proposals is not None:
                wanted_ids = list(dict.fromkeys(proposals))
                unknown = [x for x in wanted_ids if x not in {p.proposal_id for p in props}]
                if unknown:
                    raise NotFound(f"no proposal {unknown[0][:80]!r} in pack {pack_id!r} of round {r.name!r}")
                props = [p for p in props if p.proposal_id in wanted_ids]
            pool = list(s.execute(select(User.id, User.username).join(RoundMember, RoundMember.user_id == User.id)
                                  .where(RoundMember.round_id == r.id, RoundMember.role == Role.reviewer,
                                         User.active.is_(True), User.role.in_([Role.reviewer, Role.chair]))
                                  .order_by(User.username)))
            name_of = dict(pool)
            conflicted = self._conflict_pairs(s, r.id, all_props)
            pid_of = {p.id: p.proposal_id for p in all_props}
            current: dict[str, set[int]] = {}
            load = {uid: 0 for uid in name_of}
            for uid, ppk in s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                      .where(Assignment.round_id == r.id)):
                pid = pid_of[ppk]
                if (uid, pid) in conflicted:
                    continue
                current.setdefault(pid, set()).add(uid)
                if uid in load:
                    load[uid] += 1
            pack_pids = [p.proposal_id for p in all_props if p.pack_id == pack_id]
            targets = [p.proposal_id for p in props]
            kept = sum(len(current.get(pid, ())) for pid in targets)
            # the pure planner: balanced loads, never a conflict, a connected graph with even pair overlap
            planned = plan(pack_pids, list(name_of), want, kept={pid: current.get(pid, set()) for pid in pack_pids},
                           conflicted={(u, pid) for u, pid in conflicted if u in name_of}, load=load,
                           plan_for=targets)
            by_pid = {p.proposal_id: p for p in props}
            added: list[tuple[str, str]] = []
            now = utcnow()
            for pid, uid in planned.added:
                s.add(Assignment(round_id=r.id, proposal_pk=by_pid[pid].id, user_id=uid, created_at=now,
                                 created_by=who.username))
                added.append((pid, name_of[uid]))
                self._audit(s, who, AuditAction.assignment_add, "assignment", round_id=r.id,
                            proposal_id=pid, subject=name_of[uid], after={"assigned": True, "by": "auto_assign"})
            unsatisfied: list[Unsatisfied] = []
            for pid, have in planned.short.items():
                n_conf = sum(1 for u in name_of if (u, pid) in conflicted)
                unsatisfied.append(Unsatisfied(pid, have, want, f"only {have} of {want}: {len(name_of)} reviewers "
                                                                f"on the committee, {n_conf} conflicted"))
            load = planned.load
            at = {p.proposal_id: i for i, p in enumerate(props)}
            added.sort(key=lambda x: (at[x[0]], x[1]))
            unsatisfied.sort(key=lambda u: at[u.proposal_id])
            return AutoAssignReport(added, kept, unsatisfied, {name_of[u]: n for u, n in load.items()},
                                    planned.report)

    def _infos(self, s: Session, q, conflicted: set[tuple[int, str]]) -> list[AssignmentInfo]:
        out = []
        for rid, uid, username, pid, pack_id, title, status, version, updated in s.execute(q):
            st = "conflict" if (uid, pid) in conflicted else (status or "assigned")
            out.append(AssignmentInfo(rid, pid, pack_id, title, username, st, version or 0, as_utc(updated)))
        return out

    def _query(self):
        return (select(Assignment.round_id, Assignment.user_id, User.username, ProposalRow.proposal_id,
                       ProposalRow.pack_id, ProposalRow.title, Review.status, Review.version, Review.updated_at)
                .join(User, Assignment.user_id == User.id)
                .join(ProposalRow, Assignment.proposal_pk == ProposalRow.id)
                .outerjoin(Review, (Review.proposal_pk == Assignment.proposal_pk) & (Review.user_id == Assignment.user_id)
                           & (Review.stage == "document"))
                .order_by(Assignment.round_id, ProposalRow.position, User.username))

    def list_assignments_for(self, actor: UserInfo, round_id: int | None = None, *,
                             include_locked: bool = False) -> list[AssignmentInfo]:
        """The actor's own assignments (all open rounds — and the locked ones too with ``include_locked``, to
        read one's reviews there — or one round), with their review status; conflicted ones are listed with
        status ``conflict`` and cannot be opened."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if who.id is None:
                return []
            q = self._query().where(Assignment.user_id == who.id)
            if round_id is not None:
                rounds = [self._round(s, round_id).id]
            elif include_locked:
                rounds = list(s.scalars(select(Round.id).where(Round.id.in_(
                    select(Assignment.round_id).where(Assignment.user_id == who.id)))))
            else:
                rounds = list(s.scalars(select(Round.id).where(Round.status == RoundStatus.open)))
            q = q.where(Assignment.round_id.in_(rounds))
            conflicted: set[tuple[int, str]] = set()
            for rid in rounds:
                # every page a reviewer opens lists their assignments: with no conflict declared in the round (the
                # usual case) nothing can be conflicted, and no proposal is read (issue 15)
                if not self._tokens(s, rid, [who.id]):
                    continue
                props = self._proposal_rows(s, select(ProposalRow)
                                            .join(Assignment, Assignment.proposal_pk == ProposalRow.id)
                                            .where(Assignment.user_id == who.id, Assignment.round_id == rid))
                conflicted |= self._conflict_pairs(s, rid, props, [who.id])
            return self._infos(s, q, conflicted)

    def list_assignments(self, actor: UserInfo, round_id: int) -> list[AssignmentInfo]:
        """Chair, secretariat: every assignment of the round."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list every assignment")
            r = self._round(s, round_id)
            props = self._proposal_rows(s, select(ProposalRow).where(ProposalRow.round_id == r.id))
            return self._infos(s, self._query().where(Assignment.round_id == r.id),
                               self._conflict_pairs(s, r.id, props))

    def short_of_reviewers(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list[Unsatisfied]:
        """Chair, secretariat: the proposals of the pack that a conflict of interest left short of reviewers
        (an assigned reviewer is conflicted with them), in import order. Short means fewer non-conflicted
        reviewers than the pack's ``min_reviews``, or than the pack's usual panel (the most common number of
        non-conflicted reviewers per proposal) when that is larger — a panel of five left with four is short.
        ``wanted`` is that number: ``auto_assign(..., k=wanted, proposals=[id])`` puts it right."""
        with self.db.read() as s:
            self._admin(s, actor, "see the assignments")
            r = self._round(s, round_id)
            pack_id = self.store.rounds._pack_id(s, r.id, pack)
            want = int(self.store._pack(s, r.id, pack_id).selection.min_reviews)
            all_props = self._proposal_rows(s, select(ProposalRow).where(ProposalRow.round_id == r.id)
                                            .order_by(ProposalRow.position))
            conflicted = self._conflict_pairs(s, r.id, all_props)
            pid_of = {p.id: p.proposal_id for p in all_props}
            have: dict[str, int] = {}
            lost: dict[str, int] = {}
            for uid, ppk in s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                      .where(Assignment.round_id == r.id)):
                pid = pid_of[ppk]
                if (uid, pid) in conflicted:
                    lost[pid] = lost.get(pid, 0) + 1
                else:
                    have[pid] = have.get(pid, 0) + 1
            sizes = Counter(have.get(p.proposal_id, 0) for p in all_props if p.pack_id == pack_id)
            if sizes:
                want = max(want, max(sizes, key=lambda n: (sizes[n], n)))
            return [Unsatisfied(p.proposal_id, have.get(p.proposal_id, 0), want,
                                f"{lost[p.proposal_id]} assigned reviewer(s) conflicted")
                    for p in all_props if p.pack_id == pack_id and p.proposal_id in lost
                    and have.get(p.proposal_id, 0) < want]

    def _add_conflict(self, s: Session, who: Actor, r: Round, u: User, proposal_id: str | None,
                      organisation: str | None, reason: str, source: str) -> ConflictInfo:
        organisation = (organisation or "").strip() or None
        if (proposal_id is None) == (organisation is None):
            raise InputError([Problem("(conflict)", None, "proposal_id/organisation",
                                      "give exactly one: a proposal id or an organisation name")])
        p = self._proposal(s, r.id, proposal_id) if proposal_id is not None else None
        pos = (s.scalar(select(func.max(Conflict.position)).where(Conflict.round_id == r.id,
                                                                  Conflict.user_id == u.id)) or 0) + 1
        c = Conflict(round_id=r.id, user_id=u.id, proposal_pk=p.id if p else None, organisation=organisation,
                     reason=reason or "", source=source, position=pos, created_at=utcnow(), created_by=who.username)
        s.add(c)
        s.flush()
        self._audit(s, who, AuditAction.conflict_add, "conflict", round_id=r.id, proposal_id=proposal_id,
                    subject=u.username, after={"proposal_id": proposal_id, "organisation": organisation, "reason": reason or "",
                           "source": source})
        return ConflictInfo(c.id, u.username, proposal_id, organisation, c.reason, source, who.username, c.created_at)

    def declare_conflict(self, actor: UserInfo, round_id: int, proposal_id: str | None = None,
                         organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """A reviewer (or chair) declares their own conflict, by proposal or by organisation name, with a reason
        (required: the chair reads it)."""
        _need_reason(reason)
        with self.db.write() as s:
            who = self._who(s, actor)
            if who.id is None or who.role not in (Role.reviewer, Role.chair):
                raise deny(who, "declare a conflict of interest")
            r = self._round(s, round_id, writable=True)
            if not self._is_member(s, r.id, who.id):
                raise deny(who, f"declare conflicts in round {r.name!r}: not on its committee")
            return self._add_conflict(s, who, r, s.get(User, who.id), proposal_id, organisation, reason, "declared")

    def set_conflict(self, actor: UserInfo, round_id: int, reviewer: str, proposal_id: str | None = None,
                     organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """Chair, secretariat: record a conflict for any reviewer of the round, with a reason (required;
        logged)."""
        _need_reason(reason)
        with self.db.write() as s:
            who = self._admin(s, actor, "set conflicts of interest")
            r = self._round(s, round_id, writable=True)
            u = self._user(s, reviewer)
            self._ensure_member(s, who, r.id, u)
            return self._add_conflict(s, who, r, u, proposal_id, organisation, reason, "chair")

    def remove_conflict(self, actor: UserInfo, round_id: int, conflict_id: int, reason: str = "") -> None:
        """Chair, secretariat: withdraw a conflict recorded in error, with a reason (required; logged with what
        was removed)."""
        _need_reason(reason)
        with self.db.write() as s:
            who = self._admin(s, actor, "remove conflicts of interest")
            r = self._round(s, round_id, writable=True)
            c = s.get(Conflict, conflict_id)
            if c is None or c.round_id != r.id:
                raise NotFound(f"no conflict {conflict_id} in round {r.name!r}")
            pid = s.scalar(select(ProposalRow.proposal_id).where(ProposalRow.id == c.proposal_pk)) if c.proposal_pk else None
            self._audit(s, who, AuditAction.conflict_remove, "conflict", round_id=r.id, proposal_id=pid,
                        subject=s.get(User, c.user_id).username,
                        before={"proposal_id": pid, "organisation": c.organisation, "reason": c.reason,
                                "source": c.source},
                        after={"removed": True, "removal_reason": reason.strip()})
            s.delete(c)

    def list_conflicts(self, actor: UserInfo, round_id: int, reviewer: str | None = None) -> list[ConflictInfo]:
        """Chair/secretariat: all (or one reviewer's); a reviewer: only their own."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            q = (select(Conflict, User.username, ProposalRow.proposal_id).join(User, Conflict.user_id == User.id)
                 .outerjoin(ProposalRow, Conflict.proposal_pk == ProposalRow.id)
                 .where(Conflict.round_id == r.id).order_by(User.username, Conflict.position, Conflict.id))
            if not who.is_(*ADMIN):
                if reviewer is not None and reviewer != who.username:
                    raise deny(who, "see other reviewers' conflicts")
                q = q.where(Conflict.user_id == who.id)
            elif reviewer is not None:
                q = q.where(User.username == reviewer)
            return [ConflictInfo(c.id, name, pid, c.organisation, c.reason, c.source, c.created_by,
                                 as_utc(c.created_at)) for c, name, pid in s.execute(q)]

    def is_conflicted(self, round_id: int, proposal_id: str, reviewer: str) -> bool:
        """True if the reviewer has a conflict with the proposal (by id, or by an organisation that is the
        applicant or a consortium member — the core's rule, :func:`scoring.aggregate.conflict_pairs`)."""
        with self.db.read() as s:
            p = self._proposal(s, round_id, proposal_id)
            return self._conflicted(s, round_id, p, self._user(s, reviewer).id)


def _need_reason(reason: str | None) -> None:
    if not (reason or "").strip():
        raise InputError([Problem("(conflict)", None, "reason", "give the reason for the conflict of interest "
                                  "(it is logged and shown to the chair)")])
