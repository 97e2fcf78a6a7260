"""What every service shares: the acting user (:class:`Actor`, re-read from the database on every call), the
permission helpers (:data:`ADMIN`, :func:`deny`) and :class:`ServiceBase` — the lookups inside a session, the
audit line, and the core's conflict rule over the stored declarations.

The underscore methods of :class:`ServiceBase` are the services' shared helpers, for its subclasses only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..aggregate import conflict_pairs
from ..models import Reviewer, Role, RoundStatus, Stage
from ..table import ProposalTable
from .errors import ConflictOfInterest, NotFound, PermissionDenied, RoundLocked
from .schema import Assignment, AuditLog, Conflict, ProposalRow, Round, RoundMember, RoundPack, User, utcnow
from .values import SYSTEM, AuditAction, RoundReviewer, UserInfo

# a proposal row as :meth:`ServiceBase._proposal_rows` returns it: every column but the JSON
_ROW_COLUMNS = (ProposalRow.id, ProposalRow.round_id, ProposalRow.proposal_id, ProposalRow.pack_id, ProposalRow.title,
                ProposalRow.position)

if TYPE_CHECKING:  # annotations only
    from .store import Store


@dataclass(frozen=True)
class Actor:
    """The acting user as the database has them now (``id`` None for the command line)."""

    id: int | None
    username: str
    role: str

    def is_(self, *roles: str) -> bool:
        """Whether the actor has one of ``roles`` (the command line has every role)."""
        return self.role == Role.system or self.role in roles


ADMIN = (Role.chair, Role.secretariat)
"""The administrative roles: rounds, imports, users, assignments, progress."""


def deny(who: Actor, what: str) -> PermissionDenied:
    """The refusal to raise when ``who`` may not do ``what``."""
    return PermissionDenied(f"{who.username} ({who.role}) may not {what}")


class ServiceBase:
    """The base of every service: the store it belongs to and its database."""

    def __init__(self, store: Store):
        self.store = store
        self.db = store.db

    # -- lookups inside a session -------------------------------------------------------------------------
    def _admin(self, s: Session, actor: UserInfo, what: str) -> Actor:
        """The acting user, who must be a chair or the secretariat (or the command line) to do ``what``."""
        who = self._who(s, actor)
        if not who.is_(*ADMIN):
            raise deny(who, what)
        return who

    def _who(self, s: Session, actor: UserInfo) -> Actor:
        if actor is SYSTEM:
            return Actor(None, SYSTEM.username, Role.system)
        if not isinstance(actor, UserInfo):
            raise PermissionDenied("no acting user given")
        u = s.get(User, actor.id)
        if u is None or u.username != actor.username:
            raise PermissionDenied(f"unknown user {actor.username!r}")
        if not u.active:
            raise PermissionDenied(f"user {u.username!r} is deactivated")
        return Actor(u.id, u.username, u.role)

    def _round(self, s: Session, round_ref: int | str, writable: bool = False) -> Round:
        if isinstance(round_ref, int) or (isinstance(round_ref, str) and round_ref.isdigit()):
            r = s.get(Round, int(round_ref))
            if r is None and isinstance(round_ref, str):
                r = s.scalar(select(Round).where(Round.name == round_ref))
        else:
            r = s.scalar(select(Round).where(Round.name == round_ref))
        if r is None:
            raise NotFound(f"no round {round_ref!r}")
        if writable and r.status == RoundStatus.locked:
            raise RoundLocked(f"round {r.name!r} is locked")
        return r

    def _proposal(self, s: Session, round_id: int, proposal_id: str) -> ProposalRow:
        p = s.scalar(select(ProposalRow).where(ProposalRow.round_id == round_id,
                                               ProposalRow.proposal_id == proposal_id))
        if p is None:
            raise NotFound(f"no proposal {proposal_id!r} in round {round_id}")
        return p

    def _user(self, s: Session, username: str) -> User:
        u = s.scalar(select(User).where(User.username == username))
        if u is None:
            raise NotFound(f"no user {username!r}")
        return u

    def _is_member(self, s: Session, round_id: int, user_id: int | None) -> bool:
        return user_id is not None and s.scalar(select(RoundMember.id).where(
            RoundMember.round_id == round_id, RoundMember.user_id == user_id)) is not None

    def _audit(self, s: Session, who: Actor, action: AuditAction, entity: str, round_id: int | None = None,
               proposal_id: str | None = None, subject: str | None = None, before: Any = None,
               after: Any = None) -> None:
        s.add(AuditLog(at=utcnow(), actor=who.username, action=action, entity=entity, round_id=round_id,
                       proposal_id=proposal_id, subject=subject, before=before, after=after))

    # -- conflicts: the core's rule (scoring.aggregate.conflict_pairs) over stored declarations ---------------
    def _tokens(self, s: Session, round_id: int, user_ids: Sequence[int] | None = None) -> dict[int, list[str]]:
        q = (select(Conflict.user_id, Conflict.organisation, ProposalRow.proposal_id)
             .outerjoin(ProposalRow, Conflict.proposal_pk == ProposalRow.id)
             .where(Conflict.round_id == round_id).order_by(Conflict.user_id, Conflict.position, Conflict.id))
        if user_ids is not None:
            q = q.where(Conflict.user_id.in_(list(user_ids)))
        out: dict[int, list[str]] = {}
        for uid, org, pid in s.execute(q):
            out.setdefault(uid, []).append(pid if pid is not None else org)
        return out

    def _conflict_pairs(self, s: Session, round_id: int, props: Sequence[ProposalRow],
                        user_ids: Sequence[int] | None = None) -> set[tuple[int, str]]:
        """(user id, proposal id) for every conflict among ``props``."""
        tokens = self._tokens(s, round_id, user_ids)
        if not tokens or not props:
            return set()
        table = ProposalTable.from_proposals(self._models_of(s, props))
        reviewers = [Reviewer(reviewer_id=str(uid), conflicts=tuple(t)) for uid, t in tokens.items()]
        return {(int(rid), str(table.ids[row])) for rid, row in conflict_pairs(table, reviewers)}

    def _proposal_rows(self, s: Session, query) -> list:
        """The proposal rows of ``query`` (a ``select(ProposalRow)``) without their JSON: plain rows (id, round_id,
        proposal_id, pack_id, title, position), not ORM objects — building 550 of those, JSON and all, on each call
        was most of a reviewer's page and of ラウンド管理's reads on a large round (issue 15). Their models, where
        needed (:meth:`_conflict_pairs` when a conflict is declared, the proposal list): :meth:`_models_of`."""
        return list(s.execute(query.with_only_columns(*_ROW_COLUMNS)))

    def _models_of(self, s: Session, rows: Sequence) -> list:
        """The parsed proposals (:class:`scoring.models.Proposal`) of these proposal rows, the store's cached ones;
        the JSON of the others read in one query and parsed once per store."""
        models = self.store._models
        missing = [r.id for r in rows if r.id not in models]
        for pk, data in (s.execute(select(ProposalRow.id, ProposalRow.data).where(ProposalRow.id.in_(missing)))
                         if missing else ()):
            self.store._model_from(pk, data)
        return [models[r.id] for r in rows]

    def _conflicted(self, s: Session, round_id: int, prop: ProposalRow, user_id: int) -> bool:
        return bool(self._conflict_pairs(s, round_id, [prop], [user_id]))

    def _withheld(self, s: Session, who: Actor, round_id: int,
                  proposal_ids: Collection[str] | None = None) -> frozenset[str]:
        """The proposals of the round whose individual reviews (levels, comments, bonus marks) ``who`` may not
        read: those they are conflicted with, by the core's rule — whatever their role (docs/security/coi.md).
        Empty for the command line. ``proposal_ids``: only these are looked at (None: every proposal)."""
        if who.id is None or s.scalar(select(Conflict.id).where(Conflict.round_id == round_id,
                                                               Conflict.user_id == who.id).limit(1)) is None:
            return frozenset()
        q = select(ProposalRow).where(ProposalRow.round_id == round_id)
        if proposal_ids is not None:
            q = q.where(ProposalRow.proposal_id.in_(list(proposal_ids)))
        props = self._proposal_rows(s, q)
        return frozenset(pid for _, pid in self._conflict_pairs(s, round_id, props, [who.id]))

    # -- the round's committee and a reviewer's access ----------------------------------------------------------
    def _members(self, s: Session, round_id: int) -> list[RoundReviewer]:
        """The round's committee in reviewers-file order, each with their conflict tokens."""
        tokens = self._tokens(s, round_id)
        return [RoundReviewer(username, name, role, tuple(tokens.get(uid, ())))
                for uid, username, name, role in s.execute(
                    select(User.id, User.username, RoundMember.name, RoundMember.role)
                    .join(RoundMember, RoundMember.user_id == User.id)
                    .where(RoundMember.round_id == round_id).order_by(RoundMember.position))]

    def _member_hearing_packs(self, s: Session, who: Actor,
                              round_id: int | None = None) -> list[tuple[Round, RoundPack]]:
        """(round, pack) of every pack in the hearing stage of every round ``who`` sits on as a committee member
        (or of the one round ``round_id``, ``NotFound`` if there is none), in round then pack order; locked
        rounds included. Nothing for an actor without an account (the command line) or outside the committee.
        The one member → rounds query of a member's hearing forms and hearing slots."""
        if who.id is None:
            return []
        q = (select(Round, RoundPack).join(RoundMember, RoundMember.round_id == Round.id)
             .join(RoundPack, RoundPack.round_id == Round.id)
             .where(RoundMember.user_id == who.id, RoundPack.stage == Stage.hearing)
             .order_by(Round.id, RoundPack.id))
        if round_id is not None:
            q = q.where(Round.id == self._round(s, round_id).id)
        return [(r, k) for r, k in s.execute(q)]

    def _ensure_member(self, s: Session, who: Actor, round_id: int, u: User, role: str | None = None) -> None:
        """Make ``u`` a committee member of the round (logged) unless they are one already."""
        if u.role not in (Role.chair, Role.reviewer):
            raise PermissionDenied(f"{u.username!r} is a {u.role} user and cannot review")
        if self._is_member(s, round_id, u.id):
            return
        pos = (s.scalar(select(func.max(RoundMember.position)).where(RoundMember.round_id == round_id)) or 0) + 1
        s.add(RoundMember(round_id=round_id, user_id=u.id, name=u.display_name,
                          role=role or (Role.chair if u.role == Role.chair else Role.reviewer), position=pos))
        self._audit(s, who, AuditAction.member_add, "assignment", round_id=round_id, subject=u.username)
        s.flush()

    def _require_access(self, s: Session, who: Actor, r: Round, p: ProposalRow) -> None:
        """A reviewer's access to one proposal: assigned to them and no conflict of interest."""
        if who.id is None:
            raise deny(who, "write reviews")
        assigned = s.scalar(select(Assignment.id).where(Assignment.proposal_pk == p.id, Assignment.user_id == who.id))
        if assigned is None:
            raise deny(who, f"open {p.proposal_id}: it is not assigned to them")
        if self._conflicted(s, r.id, p, who.id):
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with {p.proposal_id}")
