"""The store's public API: what the browser app and the command line call (issue 3, docs/store.md).

Every rule of *who may do what* is enforced here, not only in the UI. Every public method is one transaction:
it either happens whole (with its audit-log lines) or not at all. Methods take the acting user first
(``actor``: a :class:`UserInfo` as returned by :meth:`UserService.authenticate`); the actor is re-read from the
database on every call, so a deactivated user or a changed role takes effect at once.

Objects returned are plain frozen dataclasses (or the core's own models: :class:`scoring.models.Proposal`,
:class:`scoring.selection.Ranking`); no ORM object or session ever leaves this module.

Typical use::

    store = Store()                                   # DATABASE_URL, or SQLite under SHINSA_DATA_DIR
    me = store.users.authenticate("X1", password)
    for a in store.assignments.list_assignments_for(me, round_id):
        review = store.reviews.get_review(me, round_id, a.proposal_id)
        ...
        v = store.reviews.save_draft(me, round_id, a.proposal_id, levels={...}, comments={...},
                                     bonus_marks={...}, overall_comment="…", base_version=review.version)
        store.reviews.submit(me, round_id, a.proposal_id, version=v)
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

import bcrypt
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..aggregate import conflict_pairs
from ..call import assemble
from ..eligibility import NEEDS_CHECK, evaluate
from ..errors import InputError, Problem, ShinsaError
from ..io import csv_bytes, parse_proposals, read_proposals, read_reviewers, read_reviews, write_atomic
from ..io.packs import load_pack, pack_path, read_pack_file
from ..models import Proposal, Reviewer
from ..packs import CriteriaPack, pack_from_dict
from ..reviews import REVIEW_COLUMNS, REVIEWER_COLUMNS, reviews_from_rows
from ..selection import Params
from ..table import ProposalTable
from .db import Database, make_engine
from .schema import (Assignment, AuditLog, Conflict, LoginSession, ProposalRow, Resolution, Review, Round,
                     RoundMember, RoundPack, User, as_utc, utcnow)

__all__ = [
    # errors
    "StoreError", "PermissionDenied", "NotFound", "StaleReview", "StaleResolution", "ReviewLocked", "RoundLocked",
    "IncompleteReview", "ConflictOfInterest", "AuthenticationFailed", "AccountLocked", "Duplicate",
    # values
    "Role", "UserInfo", "RoundInfo", "RoundReviewer", "AssignmentInfo", "ReviewContent", "ConflictInfo",
    "ResolutionInfo", "ProgressMatrix", "AutoAssignReport", "Unsatisfied", "ImportReport", "AuditEntry",
    "SYSTEM",
    # services
    "Store", "UserService", "RoundService", "AssignmentService", "ReviewService", "AuditService",
]


# --- errors -------------------------------------------------------------------------------------------------
# All subclass scoring.errors.ShinsaError, so the CLI prints them as "error: …" with exit code 2. Input
# problems (import files, a level not on the scale, …) raise scoring.errors.InputError with Problem lines.

class StoreError(ShinsaError):
    """Base of the store's errors."""


class PermissionDenied(StoreError):
    """The acting user may not do this (wrong role, not assigned, conflicted, not their review, inactive)."""


class NotFound(StoreError):
    """No such round, proposal, user, review or assignment."""


class Duplicate(StoreError):
    """Something that must be unique already exists (a round name, a username, an external identity)."""


class StaleReview(StoreError):
    """A save was based on an old version: someone (another tab, another session) saved since.

    The newer content is kept untouched; ``current`` holds it (a :class:`ReviewContent`) so the app can show
    it. ``str(exc)`` is "this review was changed elsewhere at HH:MM" (local time, SHINSA_TZ, default Asia/Tokyo).
    """

    def __init__(self, message: str, current: "ReviewContent | None" = None):
        super().__init__(message)
        self.current = current


class StaleResolution(StoreError):
    """A needs_check resolution changed since the chair's page showed it (another chair, another tab): nothing is
    written; ``current`` is the resolution now stored (a :class:`ResolutionInfo`, or None when there is none)."""

    def __init__(self, message: str, current: "ResolutionInfo | None" = None):
        super().__init__(message)
        self.current = current


_ANY = object()   # "expected": not given — replace whatever is stored (the command line)


class ReviewLocked(StoreError):
    """The review is submitted (locked) and only the chair can reopen it."""


class RoundLocked(StoreError):
    """The round is locked: no review, assignment, conflict or resolution may change."""


class IncompleteReview(StoreError):
    """Submit refused: some criteria have no level. ``missing`` lists their ids (pack order)."""

    def __init__(self, message: str, missing: Sequence[str] = ()):
        super().__init__(message)
        self.missing = list(missing)


class ConflictOfInterest(StoreError):
    """Refused because the reviewer has a conflict of interest with the proposal (利益相反)."""


class AuthenticationFailed(StoreError):
    """Unknown user, wrong password, or no password set (one message for all: no user enumeration)."""


class AccountLocked(AuthenticationFailed):
    """Too many failed logins in a row; ``until`` is when the lock ends (UTC)."""

    def __init__(self, message: str, until: datetime | None = None):
        super().__init__(message)
        self.until = until


# --- values -------------------------------------------------------------------------------------------------

class Role:
    """User roles (closed set)."""

    chair = "chair"              # 委員長: everything in a round, including reading reviews, reopen, rank, lock
    reviewer = "reviewer"        # 評価委員: own reviews of assigned, non-conflicted proposals only
    secretariat = "secretariat"  # 事務局: rounds, import, users, assignments, progress — never review contents
    system = "system"            # the command line run on the server (not a login; see SYSTEM)
    ALL = ("chair", "reviewer", "secretariat")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    external_id: str | None = None
    active: bool = True
    has_password: bool = False


SYSTEM = UserInfo(id=0, username="(cli)", display_name="command line", role=Role.system)
"""The actor the command line uses: administrative rights, recorded in the audit log as ``(cli)``."""


@dataclass(frozen=True)
class RoundInfo:
    id: int
    name: str                      # e.g. 令和8年度 1次公募
    description: str
    status: str                    # "open" | "locked"
    packs: dict[str, str]          # pack id → version of the stored copy
    created_at: datetime
    locked_at: datetime | None = None
    n_proposals: int = 0
    deadline: date | None = None   # 評価締切: the last day reviews are due (optional; RoundService.set_deadline)


@dataclass(frozen=True)
class RoundReviewer:
    """A reviewer (or chair) taking part in a round, as in the canonical reviewers file."""

    username: str
    name: str
    role: str                      # "reviewer" | "chair" (the reviewers-file role)
    conflicts: tuple[str, ...]     # proposal ids and organisation names


@dataclass(frozen=True)
class AssignmentInfo:
    round_id: int
    proposal_id: str
    pack: str
    title: str
    reviewer: str                  # username
    status: str                    # "assigned" (nothing saved) | "draft" | "submitted" | "conflict"
    version: int                   # 0 when nothing is saved yet
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ReviewContent:
    round_id: int
    proposal_id: str
    reviewer: str
    status: str                    # "draft" | "submitted" ("draft" with version 0 when nothing is saved yet)
    version: int                   # pass back as base_version / version
    levels: dict[str, int] = field(default_factory=dict)        # criterion id → level
    comments: dict[str, str] = field(default_factory=dict)      # criterion id or "bonus:<id>" → comment
    bonus_marks: dict[str, int] = field(default_factory=dict)   # judged bonus id → 1 | 0
    overall_comment: str = ""
    updated_at: datetime | None = None
    updated_by: str | None = None
    submitted_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.version > 0


@dataclass(frozen=True)
class ConflictInfo:
    id: int
    reviewer: str
    proposal_id: str | None        # exactly one of proposal_id / organisation
    organisation: str | None
    reason: str
    source: str                    # "declared" (by the reviewer) | "chair" | "import"
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ResolutionInfo:
    proposal_id: str
    rule: str
    status: str                    # "pass" | "fail"
    note: str
    resolved_by: str
    resolved_at: datetime


@dataclass(frozen=True)
class ProgressMatrix:
    """Reviewers × proposals; a cell is "assigned", "draft", "submitted", "conflict" or "" (nothing)."""

    reviewers: list[str]
    proposals: list[str]
    cells: dict[tuple[str, str], str]

    def cell(self, reviewer: str, proposal_id: str) -> str:
        return self.cells.get((reviewer, proposal_id), "")

    def rows(self) -> list[list[str]]:
        """One row per reviewer: [reviewer, cell for each proposal in ``proposals`` order]."""
        return [[r] + [self.cell(r, p) for p in self.proposals] for r in self.reviewers]

    def counts(self) -> dict[str, int]:
        out = {"assigned": 0, "draft": 0, "submitted": 0, "conflict": 0}
        for v in self.cells.values():
            if v in out:
                out[v] += 1
        return out


@dataclass(frozen=True)
class Unsatisfied:
    proposal_id: str
    have: int                      # non-conflicted reviewers now assigned
    wanted: int
    reason: str


@dataclass(frozen=True)
class AutoAssignReport:
    added: list[tuple[str, str]]   # (proposal_id, reviewer) pairs created by this run
    kept: int                      # existing assignments kept
    unsatisfied: list[Unsatisfied]
    load: dict[str, int]           # reviewer → non-conflicted assignments in the pack after the run


@dataclass(frozen=True)
class ImportReport:
    round_id: int
    proposals: int
    reviewers: int
    reviews: int
    users_created: list[str]
    assignments_created: int


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str                    # e.g. review.save, review.submit, review.reopen, assignment.add, …
    entity: str                    # review | assignment | conflict | resolution | round | user | import
    round_id: int | None
    proposal_id: str | None
    subject: str | None            # the reviewer concerned, where there is one
    before: Any
    after: Any


# --- internals ----------------------------------------------------------------------------------------------

_LOCAL_TZ = None


def local_tz():
    """The committee's time zone (SHINSA_TZ, default Asia/Tokyo), read once."""
    global _LOCAL_TZ
    if _LOCAL_TZ is None:
        try:
            _LOCAL_TZ = ZoneInfo(os.environ.get("SHINSA_TZ") or "Asia/Tokyo")
        except Exception:  # pragma: no cover - no tz database
            _LOCAL_TZ = timezone.utc
    return _LOCAL_TZ


def local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    """HH:MM (or ``fmt``) in the committee's time zone (SHINSA_TZ, default Asia/Tokyo)."""
    if value is None:
        return "--:--"
    return as_utc(value).astimezone(local_tz()).strftime(fmt)


@dataclass(frozen=True)
class _Who:
    id: int | None
    username: str
    role: str

    def is_(self, *roles: str) -> bool:
        return self.role == Role.system or self.role in roles


ADMIN = (Role.chair, Role.secretariat)


def _deny(who: _Who, what: str) -> PermissionDenied:
    return PermissionDenied(f"{who.username} ({who.role}) may not {what}")


def _user_info(u: User) -> UserInfo:
    return UserInfo(u.id, u.username, u.display_name, u.role, u.external_id, bool(u.active), u.password_hash is not None)


def _round_info(r: Round, packs: dict[str, str], n: int) -> RoundInfo:
    return RoundInfo(r.id, r.name, r.description, r.status, packs, as_utc(r.created_at), as_utc(r.locked_at), n,
                     r.deadline)


def _content_dict(r: Review | None) -> dict | None:
    if r is None:
        return None
    return {"status": r.status, "version": r.version, "levels": dict(r.levels or {}),
            "comments": dict(r.comments or {}), "bonus_marks": dict(r.bonus_marks or {}),
            "overall_comment": r.overall_comment or ""}


def _lockout_failures() -> int:
    return int(os.environ.get("SHINSA_LOCKOUT_FAILURES") or 5)


def _lockout_minutes() -> float:
    return float(os.environ.get("SHINSA_LOCKOUT_MINUTES") or 15)


def session_hours() -> float:
    """How long a login lasts without logging in again (``SHINSA_SESSION_HOURS``, default 12: a working day)."""
    return float(os.environ.get("SHINSA_SESSION_HOURS") or 12)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _hash_password(password: str) -> str:
    _check_password(password)
    rounds = int(os.environ.get("SHINSA_BCRYPT_ROUNDS") or 12)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < 8:
        raise InputError([Problem("(password)", None, "password", "must be at least 8 characters")])
    if len(password.encode("utf-8")) > 72:
        raise InputError([Problem("(password)", None, "password", "must be at most 72 bytes (bcrypt's limit)")])


def parse_deadline(value: date | str | None, field: str = "deadline") -> date | None:
    """A review deadline (評価締切) as a day: a ``date``, ``YYYY-MM-DD``, or None (no deadline)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InputError([Problem("(round)", None, field, f"{value!r} is not a date (YYYY-MM-DD)")]) from None
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InputError([Problem("(round)", None, field, "must be a date (YYYY-MM-DD)")])
    return value


def _check_expected(row: "Resolution | None", expected: Any, proposal_id: str) -> None:
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


def _guard_chair_accounts(who: "_Who", role: str) -> None:
    """Chair accounts are created and changed by a chair or the command line only: a secretariat that could set a
    chair's password or make an account a chair could read every score through it."""
    if role == Role.chair and not who.is_(Role.chair):
        raise _deny(who, "create or change a chair account")


def _end_sessions(s: Session, user_id: int) -> None:
    s.execute(LoginSession.__table__.delete().where(LoginSession.user_id == user_id))


_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt(4))


class _Base:
    def __init__(self, store: "Store"):
        self.store = store
        self.db = store.db

    # -- lookups inside a session -------------------------------------------------------------------------
    def _admin(self, s: Session, actor: UserInfo, what: str) -> _Who:
        """The acting user, who must be a chair or the secretariat (or the command line) to do ``what``."""
        who = self._who(s, actor)
        if not who.is_(*ADMIN):
            raise _deny(who, what)
        return who

    def _who(self, s: Session, actor: UserInfo) -> _Who:
        if actor is SYSTEM:
            return _Who(None, SYSTEM.username, Role.system)
        if not isinstance(actor, UserInfo):
            raise PermissionDenied("no acting user given")
        u = s.get(User, actor.id)
        if u is None or u.username != actor.username:
            raise PermissionDenied(f"unknown user {actor.username!r}")
        if not u.active:
            raise PermissionDenied(f"user {u.username!r} is deactivated")
        return _Who(u.id, u.username, u.role)

    def _round(self, s: Session, round_ref: int | str, writable: bool = False) -> Round:
        if isinstance(round_ref, int) or (isinstance(round_ref, str) and round_ref.isdigit()):
            r = s.get(Round, int(round_ref))
            if r is None and isinstance(round_ref, str):
                r = s.scalar(select(Round).where(Round.name == round_ref))
        else:
            r = s.scalar(select(Round).where(Round.name == round_ref))
        if r is None:
            raise NotFound(f"no round {round_ref!r}")
        if writable and r.status == "locked":
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

    def _audit(self, s: Session, who: _Who, action: str, entity: str, round_id: int | None = None,
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
        models = [self.store._proposal_model(p) for p in props]
        table = ProposalTable.from_proposals(models)
        reviewers = [Reviewer(reviewer_id=str(uid), conflicts=tuple(t)) for uid, t in tokens.items()]
        return {(int(rid), str(table.ids[row])) for rid, row in conflict_pairs(table, reviewers)}

    def _conflicted(self, s: Session, round_id: int, prop: ProposalRow, user_id: int) -> bool:
        return bool(self._conflict_pairs(s, round_id, [prop], [user_id]))


# --- Store ----------------------------------------------------------------------------------------------------

class Store:
    """One database: the entry point. ``Store()`` reads ``DATABASE_URL`` (PostgreSQL when shared) or uses the
    SQLite file ``$SHINSA_DATA_DIR/shinsa.db`` (default ``./data``). The schema must exist
    (``python -m scoring db init`` or :meth:`init_schema`).
    """

    users: "UserService"
    rounds: "RoundService"
    assignments: "AssignmentService"
    reviews: "ReviewService"
    audit: "AuditService"

    def __init__(self, url: str | None = None, *, engine=None, create: bool = False):
        """``create=True`` runs the migrations (alembic upgrade head) first."""
        self.db = Database(engine if engine is not None else make_engine(url))
        self._packs: dict[tuple[int, str], CriteriaPack] = {}
        self._models: dict[int, Proposal] = {}
        self._lock = threading.Lock()
        if create:
            self.init_schema()
        self.users = UserService(self)
        self.rounds = RoundService(self)
        self.assignments = AssignmentService(self)
        self.reviews = ReviewService(self)
        self.audit = AuditService(self)

    def init_schema(self) -> None:
        """Create or upgrade the schema to the newest migration (alembic upgrade head)."""
        from .migrate import upgrade

        upgrade(self.db.engine)

    def close(self) -> None:
        self.db.dispose()

    # Stored packs and proposals never change once written, so their parsed forms are cached per store.
    def _pack(self, s: Session, round_id: int, pack_id: str) -> CriteriaPack:
        key = (round_id, pack_id)
        pack = self._packs.get(key)
        if pack is None:
            row = s.execute(select(RoundPack.data, RoundPack.source, RoundPack.version)
                            .where(RoundPack.round_id == round_id, RoundPack.pack_id == pack_id)).first()
            if row is None:
                raise NotFound(f"round {round_id} has no pack {pack_id!r}")
            pack = pack_from_dict(row.data, source=f"{row.source or pack_id} (stored copy, version {row.version})")
            with self._lock:
                self._packs[key] = pack
        return pack

    def _proposal_model(self, row: ProposalRow) -> Proposal:
        m = self._models.get(row.id)
        if m is None:
            m = Proposal.model_validate(row.data)
            with self._lock:
                self._models[row.id] = m
        return m


# --- users ----------------------------------------------------------------------------------------------------

class UserService(_Base):
    def authenticate(self, username: str, password: str) -> UserInfo:
        """Check a password (bcrypt). After ``SHINSA_LOCKOUT_FAILURES`` (default 5) failures in a row the account
        is locked for ``SHINSA_LOCKOUT_MINUTES`` (default 15): :class:`AccountLocked` even with the right
        password. Success resets the counter. Failures raise :class:`AuthenticationFailed`."""
        outcome: Exception | UserInfo
        with self.db.write() as s:
            u = s.scalar(select(User).where(User.username == username))
            pw = (password or "").encode("utf-8")[:72]
            if u is None or not u.active or u.password_hash is None:
                bcrypt.checkpw(pw, _DUMMY_HASH)  # about the same time whether or not the user exists
                outcome = AuthenticationFailed("unknown user or wrong password")
            elif u.locked_until is not None and as_utc(u.locked_until) > utcnow():
                outcome = AccountLocked(f"too many failed logins: locked until {local_time(u.locked_until)}",
                                        as_utc(u.locked_until))
            elif bcrypt.checkpw(pw, u.password_hash.encode("ascii")):
                u.failed_logins = 0
                u.locked_until = None
                outcome = _user_info(u)
            else:
                u.failed_logins = (u.failed_logins or 0) + 1
                if u.failed_logins >= _lockout_failures():
                    u.locked_until = utcnow() + timedelta(minutes=_lockout_minutes())
                    u.failed_logins = 0
                    s.add(AuditLog(at=utcnow(), actor=u.username, action="user.lockout", entity="user",
                                   subject=u.username, after={"locked_until": u.locked_until.isoformat()}))
                    outcome = AccountLocked(f"too many failed logins: locked until {local_time(u.locked_until)}",
                                            u.locked_until)
                else:
                    outcome = AuthenticationFailed("unknown user or wrong password")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def has_accounts(self) -> bool:
        """Whether any account exists (the login page of a fresh installation says how to create the first
        chair; nothing else about accounts is revealed)."""
        with self.db.read() as s:
            return s.scalar(select(User.id).limit(1)) is not None

    # Logins that survive a page reload or a server restart (built-in accounts; OIDC has its own cookie).
    def open_session(self, user: UserInfo | str) -> str:
        """A new login for ``user`` (after :meth:`authenticate` accepted them; a UserInfo or a username): a random
        token for the browser's cookie, valid for :func:`session_hours`. Only its SHA-256 is stored. Expired
        logins are swept here."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.write() as s:
            u = self._user(s, user if isinstance(user, str) else user.username)
            s.execute(LoginSession.__table__.delete().where(LoginSession.expires_at < now))
            s.add(LoginSession(token_hash=_token_hash(token), user_id=u.id, created_at=now,
                               expires_at=now + timedelta(hours=session_hours())))
        return token

    def resume_session(self, token: str | None) -> UserInfo | None:
        """The user of a login token, or None when the token is unknown, expired or ended, or the account is
        inactive or locked."""
        if not token or not isinstance(token, str) or len(token) > 200:
            return None
        with self.db.read() as s:
            row = s.execute(select(User, LoginSession.expires_at).join(LoginSession, LoginSession.user_id == User.id)
                            .where(LoginSession.token_hash == _token_hash(token))).first()
            if row is None:
                return None
            u, expires = row
            now = utcnow()
            if as_utc(expires) <= now or not u.active or (u.locked_until is not None and as_utc(u.locked_until) > now):
                return None
            return _user_info(u)

    def end_session(self, token: str | None) -> None:
        """Log out: the token logs nobody in any more (also in other tabs holding the same cookie)."""
        if not token or not isinstance(token, str):
            return
        with self.db.write() as s:
            s.execute(LoginSession.__table__.delete().where(LoginSession.token_hash == _token_hash(token)))

    def by_external_id(self, external_id: str) -> UserInfo | None:
        """The active user linked to an external (OIDC) identity, or None."""
        with self.db.read() as s:
            u = s.scalar(select(User).where(User.external_id == external_id, User.active.is_(True)))
            return _user_info(u) if u else None

    def get(self, username: str) -> UserInfo:
        with self.db.read() as s:
            return _user_info(self._user(s, username))

    def list_users(self, actor: UserInfo) -> list[UserInfo]:
        """Chair, secretariat."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list users")
            return [_user_info(u) for u in s.scalars(select(User).order_by(User.username))]

    def add_user(self, actor: UserInfo, username: str, display_name: str, role: str, password: str | None = None,
                 external_id: str | None = None) -> UserInfo:
        """Chair, secretariat (a chair account only by a chair or the command line: the secretariat never reaches
        scores, also not by making itself a chair). ``role`` is one of :attr:`Role.ALL`. Raises :class:`Duplicate`."""
        if role not in Role.ALL:
            raise InputError([Problem("(user)", None, "role", f"{role!r} is not one of {list(Role.ALL)}")])
        username = (username or "").strip()
        if not username:
            raise InputError([Problem("(user)", None, "username", "must not be empty")])
        hashed = _hash_password(password) if password is not None else None
        try:
            with self.db.write() as s:
                who = self._admin(s, actor, "add users")
                _guard_chair_accounts(who, role)
                if s.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Duplicate(f"user {username!r} already exists")
                u = User(username=username, display_name=display_name or username, role=role,
                         password_hash=hashed, external_id=external_id or None, active=True, failed_logins=0,
                         created_at=utcnow())
                s.add(u)
                s.flush()
                self._audit(s, who, "user.add", "user", subject=username,
                            after={"role": role, "display_name": u.display_name, "external_id": u.external_id})
                return _user_info(u)
        except IntegrityError:
            raise Duplicate(f"user {username!r} or external identity {external_id!r} already exists") from None

    def set_password(self, actor: UserInfo, username: str, password: str) -> None:
        """The user themself, chair, secretariat (a chair's password: the chair or another chair only). Clears a
        lockout."""
        hashed = _hash_password(password)
        with self.db.write() as s:
            who = self._who(s, actor)
            u = self._user(s, username)
            if not (who.is_(*ADMIN) or who.id == u.id):
                raise _deny(who, f"set the password of {username!r}")
            if who.id != u.id:
                _guard_chair_accounts(who, u.role)
            u.password_hash = hashed
            u.failed_logins = 0
            u.locked_until = None
            _end_sessions(s, u.id)   # a new password ends every open login of the account
            self._audit(s, who, "user.password", "user", subject=username)

    def update_user(self, actor: UserInfo, username: str, *, display_name: str | None = None,
                    role: str | None = None, active: bool | None = None,
                    external_id: str | None = None) -> UserInfo:
        """Chair, secretariat. A user cannot change their own role or deactivate themself."""
        if role is not None and role not in Role.ALL:
            raise InputError([Problem("(user)", None, "role", f"{role!r} is not one of {list(Role.ALL)}")])
        try:
            with self.db.write() as s:
                who = self._admin(s, actor, "change users")
                u = self._user(s, username)
                if u.id == who.id and ((role is not None and role != u.role) or active is False):
                    raise _deny(who, "change their own role or deactivate themself")
                _guard_chair_accounts(who, u.role)
                if role is not None:
                    _guard_chair_accounts(who, role)
                before = {"display_name": u.display_name, "role": u.role, "active": u.active,
                          "external_id": u.external_id}
                if display_name is not None:
                    u.display_name = display_name
                if role is not None:
                    u.role = role
                if active is not None:
                    u.active = bool(active)
                if external_id is not None:
                    u.external_id = external_id or None
                if before["role"] != u.role or not u.active:
                    _end_sessions(s, u.id)   # a changed role or a deactivated account: log in again
                after = {"display_name": u.display_name, "role": u.role, "active": u.active,
                         "external_id": u.external_id}
                self._audit(s, who, "user.update", "user", subject=username, before=before, after=after)
                s.flush()
                return _user_info(u)
        except IntegrityError:
            raise Duplicate(f"external identity {external_id!r} is already linked to another user") from None

    def unlock(self, actor: UserInfo, username: str) -> None:
        """Chair, secretariat: clear a login lockout."""
        with self.db.write() as s:
            who = self._admin(s, actor, "unlock users")
            u = self._user(s, username)
            u.failed_logins = 0
            u.locked_until = None
            self._audit(s, who, "user.unlock", "user", subject=username)


# --- rounds ---------------------------------------------------------------------------------------------------

class RoundService(_Base):
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
                    raise _deny(who, "set the deadline")
                if s.scalar(select(Round.id).where(Round.name == name)) is not None:
                    raise Duplicate(f"round {name!r} already exists")
                r = Round(name=name, description=description or "", status="open", created_at=utcnow(),
                          deadline=deadline)
                s.add(r)
                s.flush()
                for pack, data, src in loaded:
                    s.add(RoundPack(round_id=r.id, pack_id=pack.id, version=pack.version, data=data, source=src))
                self._audit(s, who, "round.create", "round", round_id=r.id,
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
                raise _deny(who, f"see round {r.name!r}")
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

    def _set_status(self, actor: UserInfo, round_id: int, status: str) -> RoundInfo:
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "lock or unlock rounds")
            r = self._round(s, round_id)
            before = r.status
            r.status = status
            r.locked_at = utcnow() if status == "locked" else None
            self._audit(s, who, f"round.{'lock' if status == 'locked' else 'unlock'}", "round", round_id=r.id,
                        before={"status": before}, after={"status": status})
            s.flush()
            return self._info(s, r)

    def set_deadline(self, actor: UserInfo, round_id: int, deadline: date | str | None) -> RoundInfo:
        """Chair. The round's review deadline (評価締切): a day (``date`` or ``YYYY-MM-DD``), or ``None`` to
        clear it. Logged; refused in a locked round."""
        deadline = parse_deadline(deadline)
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "set the deadline")
            r = self._round(s, round_id, writable=True)
            before = r.deadline
            r.deadline = deadline
            self._audit(s, who, "round.deadline", "round", round_id=r.id,
                        before={"deadline": before.isoformat() if before else None},
                        after={"deadline": deadline.isoformat() if deadline else None})
            s.flush()
            return self._info(s, r)

    def lock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair. Afterwards nothing in the round changes (reviews, assignments, conflicts, resolutions)."""
        return self._set_status(actor, round_id, "locked")

    def unlock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair (logged)."""
        return self._set_status(actor, round_id, "open")

    def _visible_proposals(self, s: Session, who: _Who, round_id: int, pack: str | None) -> list[ProposalRow]:
        q = select(ProposalRow).where(ProposalRow.round_id == round_id).order_by(ProposalRow.position)
        if pack is not None:
            q = q.where(ProposalRow.pack_id == pack)
        if who.is_(*ADMIN):
            return list(s.scalars(q))
        q = q.where(ProposalRow.id.in_(select(Assignment.proposal_pk).where(Assignment.user_id == who.id,
                                                                            Assignment.round_id == round_id)))
        rows = list(s.scalars(q))
        bad = self._conflict_pairs(s, round_id, rows, [who.id])
        return [p for p in rows if (who.id, p.proposal_id) not in bad]

    def list_proposals(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list:
        """Proposals (:class:`scoring.models.Proposal`) in import order. Chair/secretariat: all; a reviewer: only
        those assigned to them and not conflicted."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            return [self.store._proposal_model(p) for p in self._visible_proposals(s, who, r.id, pack)]

    def get_proposal(self, actor: UserInfo, round_id: int, proposal_id: str):
        """One :class:`scoring.models.Proposal`, under the same rule as :meth:`list_proposals`."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            if not who.is_(*ADMIN):
                _require_access(self, s, who, r, p)
            return self.store._proposal_model(p)

    def list_reviewers(self, actor: UserInfo, round_id: int) -> list[RoundReviewer]:
        """Chair, secretariat."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list the committee")
            r = self._round(s, round_id)
            return _members(self, s, r.id)

    def add_reviewer(self, actor: UserInfo, round_id: int, username: str, role: str = "reviewer") -> None:
        """Chair, secretariat: make a user a member of the round's committee."""
        if role not in (Role.chair, Role.reviewer):
            raise InputError([Problem("(arguments)", None, "role", f"{role!r} is not one of ['reviewer', 'chair']")])
        with self.db.write() as s:
            who = self._admin(s, actor, "change the committee")
            r = self._round(s, round_id, writable=True)
            u = self._user(s, username)
            _ensure_member(self, s, who, r.id, u, role)

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
                                              .where(Review.round_id == r.id)):
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
        if status not in ("pass", "fail"):
            raise InputError([Problem("(resolution)", None, "status", f"{status!r} is not one of ['pass', 'fail']")])
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "resolve eligibility checks")
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
            self._audit(s, who, "resolution.set", "resolution", round_id=r.id, proposal_id=proposal_id,
                        before=before, after={"rule": rule, "status": status, "note": note or ""})
            return ResolutionInfo(proposal_id, rule, status, row.note, who.username, row.resolved_at)

    def remove_resolution(self, actor: UserInfo, round_id: int, proposal_id: str, rule: str,
                          expected: Any = _ANY) -> None:
        """Chair (logged). ``expected`` as for :meth:`resolve_needs_check`."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "resolve eligibility checks")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            row = s.scalar(select(Resolution).where(Resolution.proposal_pk == p.id, Resolution.rule_id == rule))
            _check_expected(row, expected, proposal_id)
            if row is None:
                raise NotFound(f"no resolution of rule {rule!r} for {proposal_id}")
            self._audit(s, who, "resolution.remove", "resolution", round_id=r.id, proposal_id=proposal_id,
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
        the chair workbook)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "rank a round")
            r = self._round(s, round_id)
            return self._call(s, r, self._pack_id(s, r.id, pack))

    def _call(self, s: Session, r: Round, pack_id: str):
        """The core's Call for one pack of a stored round, plus the chair's resolutions."""
        pack = self.store._pack(s, r.id, pack_id)
        props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)
                               .order_by(ProposalRow.position)))
        models = [self.store._proposal_model(p) for p in props]
        reviewers = [Reviewer(reviewer_id=m.username, name=m.name, role=m.role, conflicts=m.conflicts)
                     for m in _members(self, s, r.id)]
        rows = _review_rows(s, r.id, pack, pack_id)
        df = reviews_from_rows(rows) if rows else None
        call = assemble(pack, models, df, reviewers, reviews_source=f"round {r.name}")
        resolutions = {(pid, row.rule_id): {"status": row.status, "by": row.resolved_by,
                                            "at": as_utc(row.resolved_at).isoformat(), "note": row.note}
                       for row, pid in s.execute(select(Resolution, ProposalRow.proposal_id)
                                                 .join(ProposalRow, Resolution.proposal_pk == ProposalRow.id)
                                                 .where(Resolution.round_id == r.id,
                                                        ProposalRow.pack_id == pack_id))}
        return call, resolutions

    def import_files(self, actor: UserInfo, round_id: int, proposals: str | Path | None = None,
                     reviewers: str | Path | None = None, reviews: str | Path | None = None) -> ImportReport:
        """Chair, secretariat: canonical files (formats.md) into the round, in one transaction — all or nothing;
        every problem of every file is raised together as :class:`scoring.errors.InputError`
        (``file:row:field: message``). Reviewers become users (no password) and committee members, their
        ``conflicts`` conflict declarations; each imported review creates its assignment."""
        problems: list[Problem] = []
        raw_props: list[dict] = []
        new_props: list[Proposal] = []
        new_reviewers: list[Reviewer] = []
        review_df = None
        if proposals is not None:
            try:
                raw_props, new_props = _read_raw_proposals(Path(proposals))
            except InputError as exc:
                problems.extend(exc.problems)
        if reviewers is not None:
            try:
                new_reviewers = read_reviewers(reviewers)
            except InputError as exc:
                problems.extend(exc.problems)
        if reviews is not None:
            try:
                review_df = read_reviews(reviews)
            except InputError as exc:
                problems.extend(exc.problems)
        with self.db.write() as s:
            who = self._admin(s, actor, "import into a round")
            r = self._round(s, round_id, writable=True)
            if problems:
                raise InputError(problems)
            pack_ids = list(s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == r.id)))
            existing = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)
                                      .order_by(ProposalRow.position)))
            existing_ids = {p.proposal_id for p in existing}
            src = str(proposals)
            for i, p in enumerate(new_props):
                if p.pack not in pack_ids:
                    problems.append(Problem(src, f"[{i}]", "pack", f"proposal {p.id}: {p.pack!r} is not a pack of "
                                            f"round {r.name!r} (packs: {', '.join(pack_ids)})"))
                if p.id in existing_ids:
                    problems.append(Problem(src, f"[{i}]", "id", f"proposal {p.id!r} is already in round {r.name!r}"))
            members = _members(self, s, r.id)
            member_ids = {m.username for m in members}
            users = {u.username: u for u in s.scalars(select(User).where(
                User.username.in_([rv.reviewer_id for rv in new_reviewers])))} if new_reviewers else {}
            rsrc = str(reviewers)
            for j, rv in enumerate(new_reviewers):
                line = str(j + 2)
                if rv.reviewer_id in member_ids:
                    problems.append(Problem(rsrc, line, "reviewer_id",
                                            f"{rv.reviewer_id!r} is already on the committee of round {r.name!r}"))
                u = users.get(rv.reviewer_id)
                if u is not None and u.role == Role.secretariat:
                    problems.append(Problem(rsrc, line, "reviewer_id",
                                            f"{rv.reviewer_id!r} is a secretariat user and cannot review"))
            all_models = [self.store._proposal_model(p) for p in existing] + new_props
            all_reviewers = [Reviewer(reviewer_id=m.username, name=m.name, role=m.role, conflicts=m.conflicts)
                             for m in members] + new_reviewers
            if review_df is not None and not problems:
                for pid in pack_ids:
                    try:
                        assemble(self.store._pack(s, r.id, pid), all_models, review_df, all_reviewers, str(reviews))
                    except InputError as exc:
                        problems.extend(exc.problems)
                if not problems:
                    known = {p.id for p in all_models}
                    stray = review_df[~review_df["proposal_id"].isin(list(known))]
                    for line, pid in zip(stray["_line"], stray["proposal_id"]):
                        problems.append(Problem(str(reviews), str(line), "proposal_id",
                                                f"{pid!r} is not a proposal of round {r.name!r}"))
            if problems:
                raise InputError(problems)

            # everything validated: write
            pos0 = (max((p.position for p in existing), default=-1)) + 1
            prop_rows: dict[str, ProposalRow] = {p.proposal_id: p for p in existing}
            for i, (raw, p) in enumerate(zip(raw_props, new_props)):
                row = ProposalRow(round_id=r.id, proposal_id=p.id, pack_id=p.pack, title=p.title,
                                  position=pos0 + i, data=raw)
                s.add(row)
                prop_rows[p.id] = row
            s.flush()
            created = []
            user_of: dict[str, User] = {}
            mpos = (s.scalar(select(func.max(RoundMember.position)).where(RoundMember.round_id == r.id)) or 0) + 1
            for j, rv in enumerate(new_reviewers):
                u = users.get(rv.reviewer_id)
                if u is None:
                    u = User(username=rv.reviewer_id, display_name=rv.name or rv.reviewer_id,
                             role=Role.chair if rv.role.value == "chair" else Role.reviewer, password_hash=None,
                             active=True, failed_logins=0, created_at=utcnow())
                    s.add(u)
                    s.flush()
                    created.append(rv.reviewer_id)
                s.add(RoundMember(round_id=r.id, user_id=u.id, name=rv.name, role=rv.role.value, position=mpos + j))
                for k, token in enumerate(rv.conflicts):
                    prow = prop_rows.get(token)
                    s.add(Conflict(round_id=r.id, user_id=u.id, proposal_pk=prow.id if prow else None,
                                   organisation=None if prow else token, reason="", source="import",
                                   position=k, created_at=utcnow(), created_by=who.username))
            s.flush()
            n_reviews = n_assign = 0
            if review_df is not None and len(review_df):
                uid_of = dict(s.execute(select(User.username, User.id).join(RoundMember, RoundMember.user_id == User.id)
                                        .where(RoundMember.round_id == r.id)).all())
                groups: dict[tuple[str, str], dict] = {}
                for rid, pid, item, value, status, comment in zip(
                        review_df["reviewer_id"], review_df["proposal_id"], review_df["item"], review_df["value"],
                        review_df["status"], review_df["comment"] if "comment" in review_df else [""] * len(review_df)):
                    g = groups.setdefault((rid, pid), {"levels": {}, "bonus_marks": {}, "comments": {},
                                                       "status": status})
                    if item.startswith("bonus:"):
                        g["bonus_marks"][item[6:]] = int(float(value))
                    else:
                        g["levels"][item] = int(float(value))
                    if comment:
                        g["comments"][item] = comment
                taken = set(s.execute(select(Review.user_id, Review.proposal_pk).where(Review.round_id == r.id)).all())
                assigned = set(s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                         .where(Assignment.round_id == r.id)).all())
                conflicted = self._conflict_pairs(s, r.id, list(prop_rows.values()))
                rpos = (s.scalar(select(func.max(Review.position)).where(Review.round_id == r.id)) or 0) + 1
                now = utcnow()
                review_rows: list[dict] = []
                assign_rows: list[dict] = []
                for n, ((rid, pid), g) in enumerate(groups.items()):
                    uid, prow = uid_of[rid], prop_rows[pid]
                    if (uid, prow.id) in taken:
                        raise InputError([Problem(str(reviews), None, "reviewer_id",
                                                  f"a review by {rid!r} of {pid!r} is already in the round")])
                    review_rows.append(dict(
                        round_id=r.id, proposal_pk=prow.id, user_id=uid, status=g["status"], version=1,
                        levels=g["levels"], comments=g["comments"], bonus_marks=g["bonus_marks"], overall_comment="",
                        created_at=now, updated_at=now, updated_by=who.username,
                        submitted_at=now if g["status"] == "submitted" else None, position=rpos + n))
                    if (uid, prow.id) not in assigned and (uid, pid) not in conflicted:
                        assign_rows.append(dict(round_id=r.id, proposal_pk=prow.id, user_id=uid, created_at=now,
                                                created_by=who.username))
                        assigned.add((uid, prow.id))
                # bulk Core inserts (executemany / insertmanyvalues): the ORM's unit of work per row took ~1 ms each
                for table, rows in ((Review.__table__, review_rows), (Assignment.__table__, assign_rows)):
                    for k in range(0, len(rows), 5000):
                        s.execute(insert(table), rows[k:k + 5000])
                n_reviews, n_assign = len(review_rows), len(assign_rows)
            self._audit(s, who, "round.import", "import", round_id=r.id,
                        after={"proposals": len(new_props), "reviewers": len(new_reviewers), "reviews": n_reviews,
                               "assignments": n_assign, "users_created": created,
                               "files": [str(x) for x in (proposals, reviewers, reviews) if x is not None]})
            return ImportReport(r.id, len(new_props), len(new_reviewers), n_reviews, created, n_assign)

    def export_files(self, actor: UserInfo, round_id: int, out_dir: str | Path) -> list[Path]:
        """Chair: write ``proposals.json``, ``reviewers.csv``, ``reviews.csv`` (canonical formats, written
        atomically) and ``assignments.csv``; importing them into an empty round gives the same data back."""
        out = Path(out_dir)
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "export a round (it holds the reviews)")
            r = self._round(s, round_id)
            props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)
                                   .order_by(ProposalRow.position)))
            members = _members(self, s, r.id)
            rows = []
            for pid in s.scalars(select(RoundPack.pack_id).where(RoundPack.round_id == r.id).order_by(RoundPack.id)):
                rows.extend(_review_rows(s, r.id, self.store._pack(s, r.id, pid), pid, with_position=True))
            rows.sort(key=lambda x: x.pop("_pos"))
            assigns = list(s.execute(select(User.username, ProposalRow.proposal_id)
                                     .join(Assignment, Assignment.user_id == User.id)
                                     .join(ProposalRow, Assignment.proposal_pk == ProposalRow.id)
                                     .where(Assignment.round_id == r.id).order_by(ProposalRow.position, User.username)))
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "proposals.json": (json.dumps([p.data for p in props], ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
            "reviewers.csv": csv_bytes(REVIEWER_COLUMNS, [[m.username, m.name, m.role, ";".join(m.conflicts)]
                                                          for m in members]),
            "reviews.csv": csv_bytes(REVIEW_COLUMNS, [[x[c] for c in REVIEW_COLUMNS] for x in rows]),
            "assignments.csv": csv_bytes(["reviewer_id", "proposal_id"], [list(a) for a in assigns]),
        }
        paths = []
        for name, data in files.items():
            write_atomic(out / name, data)
            paths.append(out / name)
        return paths


def _read_raw_proposals(path: Path) -> tuple[list[dict], list[Proposal]]:
    """The proposal objects exactly as written (kept for a lossless export) and their validated models."""
    if path.suffix.lower() == ".xlsx":
        models = read_proposals(path)
        return [m.model_dump(mode="json") for m in models], models
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, "(file)", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), None, "(file)", f"cannot read as UTF-8 text: {exc}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(str(path), f"line {exc.lineno}", "(json)", f"not valid JSON: {exc.msg}")]) from None
    models = parse_proposals(data, str(path))
    if isinstance(data, dict):
        data = data["proposals"]
    return list(data), models


def _members(svc: _Base, s: Session, round_id: int) -> list[RoundReviewer]:
    tokens = svc._tokens(s, round_id)
    return [RoundReviewer(username, name, role, tuple(tokens.get(uid, ())))
            for uid, username, name, role in s.execute(
                select(User.id, User.username, RoundMember.name, RoundMember.role)
                .join(RoundMember, RoundMember.user_id == User.id)
                .where(RoundMember.round_id == round_id).order_by(RoundMember.position))]


def _ensure_member(svc: _Base, s: Session, who: _Who, round_id: int, u: User, role: str | None = None) -> None:
    if u.role not in (Role.chair, Role.reviewer):
        raise PermissionDenied(f"{u.username!r} is a {u.role} user and cannot review")
    if svc._is_member(s, round_id, u.id):
        return
    pos = (s.scalar(select(func.max(RoundMember.position)).where(RoundMember.round_id == round_id)) or 0) + 1
    s.add(RoundMember(round_id=round_id, user_id=u.id, name=u.display_name,
                      role=role or (Role.chair if u.role == Role.chair else Role.reviewer), position=pos))
    svc._audit(s, who, "member.add", "assignment", round_id=round_id, subject=u.username)
    s.flush()


def _review_rows(s: Session, round_id: int, pack: CriteriaPack, pack_id: str, with_position: bool = False) -> list[dict]:
    """The long review table (formats.md) of one pack's stored reviews: criteria in pack order, then bonuses."""
    crit = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    out = []
    q = (select(Review.status, Review.levels, Review.bonus_marks, Review.comments, Review.position, User.username,
                ProposalRow.proposal_id)
         .join(User, Review.user_id == User.id).join(ProposalRow, Review.proposal_pk == ProposalRow.id)
         .where(Review.round_id == round_id, ProposalRow.pack_id == pack_id).order_by(Review.position, Review.id))
    for status, levels, marks, comments, pos, username, pid in s.execute(q):
        levels, marks, comments = levels or {}, marks or {}, comments or {}
        items = [(c, levels.get(c)) for c in crit] + [(f"bonus:{b}", marks.get(b)) for b in judged]
        for n, (item, value) in enumerate(items):
            if value is None:
                continue
            row = {"reviewer_id": username, "proposal_id": pid, "item": item, "value": str(int(value)),
                   "status": status, "comment": comments.get(item, "")}
            if with_position:
                row["_pos"] = (pos, n)
            out.append(row)
    return out


def _require_access(svc: _Base, s: Session, who: _Who, r: Round, p: ProposalRow) -> None:
    """A reviewer's access to one proposal: assigned to them and no conflict of interest."""
    if who.id is None:
        raise _deny(who, "write reviews")
    assigned = s.scalar(select(Assignment.id).where(Assignment.proposal_pk == p.id, Assignment.user_id == who.id))
    if assigned is None:
        raise _deny(who, f"open {p.proposal_id}: it is not assigned to them")
    if svc._conflicted(s, r.id, p, who.id):
        raise ConflictOfInterest(f"{who.username} has a conflict of interest with {p.proposal_id}")


# --- assignments and conflicts -------------------------------------------------------------------------------

class AssignmentService(_Base):
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
            _ensure_member(self, s, who, r.id, u)
            if s.scalar(select(Assignment.id).where(Assignment.proposal_pk == p.id, Assignment.user_id == u.id)):
                return
            s.add(Assignment(round_id=r.id, proposal_pk=p.id, user_id=u.id, created_at=utcnow(),
                             created_by=who.username))
            self._audit(s, who, "assignment.add", "assignment", round_id=r.id, proposal_id=proposal_id,
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
                raise ReviewLocked(f"{reviewer} has already saved a review of {proposal_id}: not unassigned")
            s.delete(a)
            self._audit(s, who, "assignment.remove", "assignment", round_id=r.id, proposal_id=proposal_id,
                        subject=reviewer, before={"assigned": True}, after={"assigned": False})

    def auto_assign(self, actor: UserInfo, round_id: int, pack: str | None = None, k: int | None = None) -> AutoAssignReport:
        """Chair, secretariat: give every proposal of the pack ``k`` reviewers (default: the pack's
        ``min_reviews``), keeping existing assignments, never a conflicted reviewer, the least-loaded reviewer
        first (load counted across the whole round; ties by username). Reports what could not be satisfied."""
        with self.db.write() as s:
            who = self._admin(s, actor, "assign reviewers")
            r = self._round(s, round_id, writable=True)
            pack_id = self.store.rounds._pack_id(s, r.id, pack)
            the_pack = self.store._pack(s, r.id, pack_id)
            want = int(k) if k is not None else int(the_pack.selection.min_reviews)
            if want < 1:
                raise InputError([Problem("(arguments)", None, "k", f"must be at least 1 (got {want})")])
            all_props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)
                                       .order_by(ProposalRow.position)))
            props = [p for p in all_props if p.pack_id == pack_id]
            pool = list(s.execute(select(User.id, User.username).join(RoundMember, RoundMember.user_id == User.id)
                                  .where(RoundMember.round_id == r.id, RoundMember.role == Role.reviewer,
                                         User.active.is_(True), User.role.in_([Role.reviewer, Role.chair]))
                                  .order_by(User.username)))
            name_of = dict(pool)
            conflicted = self._conflict_pairs(s, r.id, all_props)
            pid_of = {p.id: p.proposal_id for p in all_props}
            current: dict[str, set[int]] = {}
            load = {uid: 0 for uid in name_of}
            kept = 0
            for uid, ppk in s.execute(select(Assignment.user_id, Assignment.proposal_pk)
                                      .where(Assignment.round_id == r.id)):
                pid = pid_of[ppk]
                if (uid, pid) in conflicted:
                    continue
                current.setdefault(pid, set()).add(uid)
                if uid in load:
                    load[uid] += 1
            candidates = {p.proposal_id: [u for u in name_of if (u, p.proposal_id) not in conflicted
                                          and u not in current.get(p.proposal_id, set())] for p in props}
            # most constrained first: fewest free candidates per missing reviewer, then import order
            order = sorted(range(len(props)), key=lambda i: (len(candidates[props[i].proposal_id]), i))
            added: list[tuple[str, str]] = []
            unsatisfied: list[Unsatisfied] = []
            now = utcnow()
            for i in order:
                p = props[i]
                have = current.get(p.proposal_id, set())
                kept += len(have)
                need = want - len(have)
                if need <= 0:
                    continue
                free = sorted(candidates[p.proposal_id], key=lambda u: (load[u], name_of[u]))
                chosen = free[:need]
                for uid in chosen:
                    s.add(Assignment(round_id=r.id, proposal_pk=p.id, user_id=uid, created_at=now,
                                     created_by=who.username))
                    load[uid] += 1
                    added.append((p.proposal_id, name_of[uid]))
                    self._audit(s, who, "assignment.add", "assignment", round_id=r.id, proposal_id=p.proposal_id,
                                subject=name_of[uid], after={"assigned": True, "by": "auto_assign"})
                if len(chosen) < need:
                    n_conf = sum(1 for u in name_of if (u, p.proposal_id) in conflicted)
                    unsatisfied.append(Unsatisfied(p.proposal_id, len(have) + len(chosen), want,
                                                   f"only {len(have) + len(chosen)} of {want}: {len(name_of)} reviewers "
                                                   f"on the committee, {n_conf} conflicted"))
            at = {p.proposal_id: i for i, p in enumerate(props)}
            added.sort(key=lambda x: (at[x[0]], x[1]))
            unsatisfied.sort(key=lambda u: at[u.proposal_id])
            return AutoAssignReport(added, kept, unsatisfied, {name_of[u]: n for u, n in load.items()})

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
                .outerjoin(Review, (Review.proposal_pk == Assignment.proposal_pk) & (Review.user_id == Assignment.user_id))
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
                rounds = list(s.scalars(select(Round.id).where(Round.status == "open")))
            q = q.where(Assignment.round_id.in_(rounds))
            conflicted: set[tuple[int, str]] = set()
            for rid in rounds:
                props = list(s.scalars(select(ProposalRow).join(Assignment, Assignment.proposal_pk == ProposalRow.id)
                                       .where(Assignment.user_id == who.id, Assignment.round_id == rid)))
                conflicted |= self._conflict_pairs(s, rid, props, [who.id])
            return self._infos(s, q, conflicted)

    def list_assignments(self, actor: UserInfo, round_id: int) -> list[AssignmentInfo]:
        """Chair, secretariat: every assignment of the round."""
        with self.db.read() as s:
            who = self._admin(s, actor, "list every assignment")
            r = self._round(s, round_id)
            props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)))
            return self._infos(s, self._query().where(Assignment.round_id == r.id),
                               self._conflict_pairs(s, r.id, props))

    def _add_conflict(self, s: Session, who: _Who, r: Round, u: User, proposal_id: str | None,
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
        self._audit(s, who, "conflict.add", "conflict", round_id=r.id, proposal_id=proposal_id, subject=u.username,
                    after={"proposal_id": proposal_id, "organisation": organisation, "reason": reason or "",
                           "source": source})
        return ConflictInfo(c.id, u.username, proposal_id, organisation, c.reason, source, who.username, c.created_at)

    def declare_conflict(self, actor: UserInfo, round_id: int, proposal_id: str | None = None,
                         organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """A reviewer (or chair) declares their own conflict, by proposal or by organisation name."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if who.id is None or who.role not in (Role.reviewer, Role.chair):
                raise _deny(who, "declare a conflict of interest")
            r = self._round(s, round_id, writable=True)
            if not self._is_member(s, r.id, who.id):
                raise _deny(who, f"declare conflicts in round {r.name!r}: not on its committee")
            return self._add_conflict(s, who, r, s.get(User, who.id), proposal_id, organisation, reason, "declared")

    def set_conflict(self, actor: UserInfo, round_id: int, reviewer: str, proposal_id: str | None = None,
                     organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """Chair: record a conflict for any reviewer of the round."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "set conflicts of interest")
            r = self._round(s, round_id, writable=True)
            u = self._user(s, reviewer)
            _ensure_member(self, s, who, r.id, u)
            return self._add_conflict(s, who, r, u, proposal_id, organisation, reason, "chair")

    def remove_conflict(self, actor: UserInfo, round_id: int, conflict_id: int) -> None:
        """Chair (logged)."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "remove conflicts of interest")
            r = self._round(s, round_id, writable=True)
            c = s.get(Conflict, conflict_id)
            if c is None or c.round_id != r.id:
                raise NotFound(f"no conflict {conflict_id} in round {r.name!r}")
            pid = s.scalar(select(ProposalRow.proposal_id).where(ProposalRow.id == c.proposal_pk)) if c.proposal_pk else None
            self._audit(s, who, "conflict.remove", "conflict", round_id=r.id, proposal_id=pid,
                        subject=s.get(User, c.user_id).username,
                        before={"proposal_id": pid, "organisation": c.organisation, "reason": c.reason,
                                "source": c.source})
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
                    raise _deny(who, "see other reviewers' conflicts")
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


_u, _r, _p, _a, _v = (User.__table__, Round.__table__, ProposalRow.__table__, Assignment.__table__,
                      Review.__table__)
_ACCESS = (
    select(_u.c.username, _u.c.role, _u.c.active, _r.c.status.label("round_status"), _r.c.name.label("round_name"),
           _p.c.id.label("proposal_pk"), _p.c.pack_id, _a.c.id.label("assignment_id"),
           select(func.count()).select_from(Conflict.__table__)
           .where(Conflict.__table__.c.round_id == _r.c.id, Conflict.__table__.c.user_id == _u.c.id)
           .scalar_subquery().label("n_conflicts"),
           _v.c.id.label("review_id"), _v.c.version.label("review_version"), _v.c.status.label("review_status"),
           _v.c.levels, _v.c.comments, _v.c.bonus_marks, _v.c.overall_comment)
    .select_from(_u)
    .outerjoin(_r, _r.c.id == bindparam("rid"))
    .outerjoin(_p, (_p.c.round_id == _r.c.id) & (_p.c.proposal_id == bindparam("pid")))
    .outerjoin(_a, (_a.c.proposal_pk == _p.c.id) & (_a.c.user_id == _u.c.id))
    .outerjoin(_v, (_v.c.proposal_pk == _p.c.id) & (_v.c.user_id == _u.c.id))
    .where(_u.c.id == bindparam("uid"))
)


# --- reviews --------------------------------------------------------------------------------------------------

def _content(round_id: int, pid: str, reviewer: str, r: Review | None) -> ReviewContent:
    if r is None:
        return ReviewContent(round_id, pid, reviewer, "draft", 0)
    return ReviewContent(round_id, pid, reviewer, r.status, r.version, dict(r.levels or {}), dict(r.comments or {}),
                         dict(r.bonus_marks or {}), r.overall_comment or "", as_utc(r.updated_at), r.updated_by,
                         as_utc(r.submitted_at))


def _stale(current: ReviewContent, base: int) -> StaleReview:
    return StaleReview(f"this review was changed elsewhere at {local_time(current.updated_at)} "
                       f"(by {current.updated_by or '?'}; your edit started from version {base}, it is now "
                       f"version {current.version}): reload it — the newer content is kept", current)


def _clean_content(pack: CriteriaPack, pid: str, levels, comments, bonus_marks) -> tuple[dict, dict, dict]:
    """Validate a review's content against the pack; InputError lists every problem."""
    src = f"review of {pid}"
    problems = []
    scale = sorted(pack.levels)
    crit = pack.criterion_ids
    judged = [b.id for b in pack.judged_bonuses]
    out_l, out_b, out_c = {}, {}, {}
    for c, v in dict(levels or {}).items():
        if c not in crit:
            problems.append(Problem(src, None, f"levels.{c}", f"not a criterion of pack {pack.id} ({', '.join(crit)})"))
        elif v is None:
            continue
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or int(v) not in scale:
            problems.append(Problem(src, None, f"levels.{c}", f"{v!r} is not a level of the scale {scale}"))
        else:
            out_l[c] = int(v)
    for b, v in dict(bonus_marks or {}).items():
        if b.startswith("bonus:"):
            b = b[6:]
        if b not in judged:
            problems.append(Problem(src, None, f"bonus_marks.{b}",
                                    f"not a judged bonus of pack {pack.id} ({', '.join(judged) or 'none'})"))
        elif v is None:
            continue
        elif isinstance(v, bool):
            out_b[b] = int(v)
        elif v in (0, 1):
            out_b[b] = int(v)
        else:
            problems.append(Problem(src, None, f"bonus_marks.{b}", f"{v!r}: a bonus mark is 1 or 0"))
    items = set(crit) | {f"bonus:{b}" for b in judged}
    for item, text in dict(comments or {}).items():
        if item not in items:
            problems.append(Problem(src, None, f"comments.{item}", "not a criterion or judged bonus (bonus:<id>)"))
        elif text is not None and not isinstance(text, str):
            problems.append(Problem(src, None, f"comments.{item}", "must be text"))
        elif text:
            out_c[item] = text
    if problems:
        raise InputError(problems)
    return out_l, out_b, out_c


class ReviewService(_Base):
    def _load(self, s: Session, who: _Who, round_id: int, proposal_id: str, writable: bool):
        r = self._round(s, round_id, writable=writable)
        p = self._proposal(s, r.id, proposal_id)
        _require_access(self, s, who, r, p)
        row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == who.id))
        return r, p, row

    def get_review(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str | None = None) -> ReviewContent:
        """The actor's own review (``reviewer=None``): needs an assignment and no conflict. The chair may read
        anyone's (``reviewer=…``). Before the first save: an empty draft with version 0."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if reviewer is None or reviewer == who.username:
                r, p, row = self._load(s, who, round_id, proposal_id, writable=False)
                return _content(r.id, proposal_id, who.username, row)
            if not who.is_(Role.chair):
                raise _deny(who, "read other reviewers' reviews")
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            if who.id is not None and self._conflicted(s, r.id, p, who.id):
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
            u = self._user(s, reviewer)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id))
            return _content(r.id, proposal_id, reviewer, row)

    def _current(self, round_id: int, proposal_id: str, username: str) -> ReviewContent:
        with self.db.read() as s:
            p = self._proposal(s, round_id, proposal_id)
            u = self._user(s, username)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id))
            return _content(round_id, proposal_id, username, row)

    def save_draft(self, actor: UserInfo, round_id: int, proposal_id: str, levels: Mapping[str, int | None],
                   comments: Mapping[str, str] | None = None, bonus_marks: Mapping[str, int | None] | None = None,
                   overall_comment: str = "", base_version: int = 0) -> int:
        """Save the actor's own review as a draft; returns the new version. Cheap enough for every change.

        The whole content is replaced (a missing or ``None`` level means "not levelled yet"). ``base_version`` is
        the version the edit started from (0 before the first save). If the stored version differs,
        :class:`StaleReview` ("this review was changed elsewhere at HH:MM") is raised and nothing is written.
        Levels must be on the pack's scale, criteria and bonuses must exist (:class:`scoring.errors.InputError`).
        Refused if submitted (:class:`ReviewLocked`), the round is locked, or the actor is not assigned or is
        conflicted (:class:`PermissionDenied` / :class:`ConflictOfInterest`). Logged with before → after."""
        if actor is SYSTEM or not isinstance(actor, UserInfo):
            raise PermissionDenied("only a reviewer can write their own review")
        stale_base = None
        try:
            # The hot path: Core statements on one connection — one SELECT gathers everything the rules need.
            with self.db.write_conn() as c:
                a = c.execute(_ACCESS, {"uid": actor.id, "rid": round_id, "pid": proposal_id}).mappings().first()
                who = self._check_access(c, actor, a, round_id, proposal_id, writable=True)
                lv, bm, cm = _clean_content(self.store._pack(c, round_id, a["pack_id"]), proposal_id, levels,
                                            comments, bonus_marks)
                if a["review_status"] == "submitted":
                    raise ReviewLocked(f"the review of {proposal_id} is submitted; the chair must reopen it first")
                now = utcnow()
                content = {"levels": lv, "comments": cm, "bonus_marks": bm, "overall_comment": overall_comment or ""}
                if a["review_id"] is None:
                    if base_version != 0:
                        raise NotFound(f"no saved review of {proposal_id} (version {base_version} does not exist)")
                    # a concurrent first save fails here on the unique (proposal, reviewer)
                    c.execute(insert(Review).values(round_id=round_id, proposal_pk=a["proposal_pk"], user_id=who.id,
                                                    status="draft", version=1, created_at=now, updated_at=now,
                                                    updated_by=who.username, position=0, **content))
                    before = None
                else:
                    if a["review_version"] != base_version:
                        stale_base = base_version
                        raise StaleReview("stale")
                    before = {"status": a["review_status"], "version": a["review_version"],
                              "levels": a["levels"] or {}, "comments": a["comments"] or {},
                              "bonus_marks": a["bonus_marks"] or {}, "overall_comment": a["overall_comment"] or ""}
                    res = c.execute(update(Review).where(Review.id == a["review_id"], Review.version == base_version)
                                    .values(status="draft", version=base_version + 1, updated_at=now,
                                            updated_by=who.username, **content))
                    if res.rowcount != 1:  # PostgreSQL: another transaction committed after we read
                        stale_base = base_version
                        raise StaleReview("stale")
                after = {"status": "draft", "version": base_version + 1, **content}
                c.execute(insert(AuditLog).values(at=now, actor=who.username, action="review.save", entity="review",
                                                  round_id=round_id, proposal_id=proposal_id, subject=who.username,
                                                  before=before, after=after))
                return base_version + 1
        except IntegrityError:
            stale_base = base_version
        except StaleReview as exc:
            if exc.current is not None:
                raise
        current = self._current(round_id, proposal_id, actor.username)
        raise _stale(current, stale_base)

    def _check_access(self, c, actor: UserInfo, a, round_id: int, proposal_id: str, writable: bool) -> _Who:
        """The rules of :func:`_require_access` over the row of ``_ACCESS``."""
        if a is None or a["username"] != actor.username:
            raise PermissionDenied(f"unknown user {actor.username!r}")
        if not a["active"]:
            raise PermissionDenied(f"user {a['username']!r} is deactivated")
        who = _Who(actor.id, a["username"], a["role"])
        if a["round_status"] is None:
            raise NotFound(f"no round {round_id!r}")
        if writable and a["round_status"] == "locked":
            raise RoundLocked(f"round {a['round_name']!r} is locked")
        if a["proposal_pk"] is None:
            raise NotFound(f"no proposal {proposal_id!r} in round {round_id}")
        if a["assignment_id"] is None:
            raise _deny(who, f"open {proposal_id}: it is not assigned to them")
        if a["n_conflicts"]:
            prop = c.execute(select(ProposalRow.id, ProposalRow.data, ProposalRow.proposal_id)
                             .where(ProposalRow.id == a["proposal_pk"])).first()
            if self._conflict_pairs(c, round_id, [prop], [who.id]):
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
        return who

    def submit(self, actor: UserInfo, round_id: int, proposal_id: str, version: int) -> int:
        """Submit the actor's own review at ``version``; returns the new version. Refused if stale, or
        incomplete (:class:`IncompleteReview`: every criterion needs a level)."""
        with self.db.write() as s:
            who = self._who(s, actor)
            r, p, row = self._load(s, who, round_id, proposal_id, writable=True)
            if row is None:
                raise IncompleteReview(f"the review of {proposal_id} is empty", self.store._pack(
                    s, r.id, p.pack_id).criterion_ids)
            if row.status == "submitted":
                raise ReviewLocked(f"the review of {proposal_id} is already submitted")
            if row.version != version:
                raise _stale(_content(r.id, proposal_id, who.username, row), version)
            pack = self.store._pack(s, r.id, p.pack_id)
            missing = [c for c in pack.criterion_ids if (row.levels or {}).get(c) is None]
            if missing:
                raise IncompleteReview(f"the review of {proposal_id} has no level for: {', '.join(missing)}", missing)
            before = _content_dict(row)
            now = utcnow()
            res = s.execute(update(Review).where(Review.id == row.id, Review.version == version)
                            .values(status="submitted", version=version + 1, updated_at=now, submitted_at=now,
                                    updated_by=who.username).execution_options(synchronize_session=False))
            if res.rowcount != 1:
                raise StaleReview(f"this review was changed elsewhere at {local_time(now)}")
            self._audit(s, who, "review.submit", "review", round_id=r.id, proposal_id=proposal_id,
                        subject=who.username, before=before, after={**before, "status": "submitted",
                                                                     "version": version + 1})
            return version + 1

    def reopen(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str, reason: str = "") -> int:
        """Chair: turn a submitted review back into a draft (logged with the reason); returns the new version."""
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "reopen reviews")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            u = self._user(s, reviewer)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id))
            if row is None:
                raise NotFound(f"no review by {reviewer} of {proposal_id}")
            if row.status != "submitted":
                raise InputError([Problem("(review)", None, "status", f"the review by {reviewer} of {proposal_id} "
                                          "is not submitted: nothing to reopen")])
            before = _content_dict(row)
            row.status = "draft"
            row.version += 1
            row.updated_at = utcnow()
            row.updated_by = who.username
            row.submitted_at = None
            self._audit(s, who, "review.reopen", "review", round_id=r.id, proposal_id=proposal_id, subject=reviewer,
                        before=before, after={**before, "status": "draft", "version": row.version,
                                              "reason": reason or ""})
            s.flush()
            return row.version

    def list_reviews(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list[ReviewContent]:
        """Chair: every saved review of the round."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "read every review")
            r = self._round(s, round_id)
            q = (select(Review, User.username, ProposalRow.proposal_id).join(User, Review.user_id == User.id)
                 .join(ProposalRow, Review.proposal_pk == ProposalRow.id).where(Review.round_id == r.id)
                 .order_by(ProposalRow.position, User.username))
            if pack is not None:
                q = q.where(ProposalRow.pack_id == pack)
            hidden: set[str] = set()
            if who.id is not None:
                props = list(s.scalars(select(ProposalRow).where(ProposalRow.round_id == r.id)))
                hidden = {pid for _, pid in self._conflict_pairs(s, r.id, props, [who.id])}
            return [_content(r.id, pid, name, row) for row, name, pid in s.execute(q) if pid not in hidden]


# --- audit ----------------------------------------------------------------------------------------------------

class AuditService(_Base):
    def query(self, actor: UserInfo, round_id: int | None = None, *, entity: str | None = None,
              proposal_id: str | None = None, reviewer: str | None = None, actor_name: str | None = None,
              since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Chair: audit-log lines, newest first. The log is append-only (the database refuses UPDATE/DELETE)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise _deny(who, "read the audit log")
            q = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
            if round_id is not None:
                q = q.where(AuditLog.round_id == int(round_id))
            if entity is not None:
                q = q.where(AuditLog.entity == entity)
            if proposal_id is not None:
                q = q.where(AuditLog.proposal_id == proposal_id)
            if reviewer is not None:
                q = q.where(AuditLog.subject == reviewer)
            if actor_name is not None:
                q = q.where(AuditLog.actor == actor_name)
            if since is not None:
                q = q.where(AuditLog.at >= since)
            return [AuditEntry(a.id, as_utc(a.at), a.actor, a.action, a.entity, a.round_id, a.proposal_id, a.subject,
                               a.before, a.after) for a in s.scalars(q)]
