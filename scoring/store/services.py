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

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import ShinsaError

__all__ = [
    # errors
    "StoreError", "PermissionDenied", "NotFound", "StaleReview", "ReviewLocked", "RoundLocked",
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


# --- services -----------------------------------------------------------------------------------------------

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
        raise NotImplementedError

    def init_schema(self) -> None:
        """Create or upgrade the schema to the newest migration (alembic upgrade head)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class UserService:
    def authenticate(self, username: str, password: str) -> UserInfo:
        """Check a password (bcrypt). After ``SHINSA_LOCKOUT_FAILURES`` (default 5) failures in a row the account
        is locked for ``SHINSA_LOCKOUT_MINUTES`` (default 15): :class:`AccountLocked` even with the right
        password. Success resets the counter. Failures raise :class:`AuthenticationFailed`."""
        raise NotImplementedError

    def by_external_id(self, external_id: str) -> UserInfo | None:
        """The active user linked to an external (OIDC) identity, or None."""
        raise NotImplementedError

    def get(self, username: str) -> UserInfo:
        raise NotImplementedError

    def list_users(self, actor: UserInfo) -> list[UserInfo]:
        """Chair, secretariat."""
        raise NotImplementedError

    def add_user(self, actor: UserInfo, username: str, display_name: str, role: str, password: str | None = None,
                 external_id: str | None = None) -> UserInfo:
        """Chair, secretariat. ``role`` is one of :attr:`Role.ALL`. Raises :class:`Duplicate`."""
        raise NotImplementedError

    def set_password(self, actor: UserInfo, username: str, password: str) -> None:
        """The user themself, chair, secretariat. Clears a lockout."""
        raise NotImplementedError

    def update_user(self, actor: UserInfo, username: str, *, display_name: str | None = None,
                    role: str | None = None, active: bool | None = None,
                    external_id: str | None = None) -> UserInfo:
        """Chair, secretariat. A user cannot change their own role or deactivate themself."""
        raise NotImplementedError

    def unlock(self, actor: UserInfo, username: str) -> None:
        """Chair, secretariat: clear a login lockout."""
        raise NotImplementedError


class RoundService:
    def create_round(self, actor: UserInfo, name: str, packs: Sequence[str | Path], description: str = "") -> RoundInfo:
        """Chair, secretariat. Each pack (shipped id or path) is validated and stored as a copy with its version,
        so a later edit of the pack file never changes this round's numbers."""
        raise NotImplementedError

    def list_rounds(self, actor: UserInfo) -> list[RoundInfo]:
        """Chair/secretariat: all rounds; a reviewer: the rounds they take part in."""
        raise NotImplementedError

    def get_round(self, actor: UserInfo, round_ref: int | str) -> RoundInfo:
        """By id or by name."""
        raise NotImplementedError

    def pack(self, round_id: int, pack_id: str | None = None):
        """The round's stored copy of a pack (:class:`scoring.packs.CriteriaPack`); ``None`` = the only one."""
        raise NotImplementedError

    def lock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair. Afterwards nothing in the round changes (reviews, assignments, conflicts, resolutions)."""
        raise NotImplementedError

    def unlock_round(self, actor: UserInfo, round_id: int) -> RoundInfo:
        """Chair (logged)."""
        raise NotImplementedError

    def list_proposals(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list:
        """Proposals (:class:`scoring.models.Proposal`) in import order. Chair/secretariat: all; a reviewer: only
        those assigned to them and not conflicted."""
        raise NotImplementedError

    def get_proposal(self, actor: UserInfo, round_id: int, proposal_id: str):
        """One :class:`scoring.models.Proposal`, under the same rule as :meth:`list_proposals`."""
        raise NotImplementedError

    def list_reviewers(self, actor: UserInfo, round_id: int) -> list[RoundReviewer]:
        """Chair, secretariat."""
        raise NotImplementedError

    def add_reviewer(self, actor: UserInfo, round_id: int, username: str, role: str = "reviewer") -> None:
        """Chair, secretariat: make a user a member of the round's committee."""
        raise NotImplementedError

    def progress(self, actor: UserInfo, round_id: int, pack: str | None = None) -> ProgressMatrix:
        """Chair, secretariat: reviewers × proposals with assigned/draft/submitted/conflict (never scores)."""
        raise NotImplementedError

    def resolve_needs_check(self, actor: UserInfo, round_id: int, proposal_id: str, rule: str, status: str,
                            note: str = "") -> ResolutionInfo:
        """Chair: settle a ``needs_check`` eligibility outcome as ``pass`` or ``fail`` (logged; replaces an
        earlier resolution of the same rule)."""
        raise NotImplementedError

    def remove_resolution(self, actor: UserInfo, round_id: int, proposal_id: str, rule: str) -> None:
        """Chair (logged)."""
        raise NotImplementedError

    def list_resolutions(self, actor: UserInfo, round_id: int) -> list[ResolutionInfo]:
        """Chair, secretariat."""
        raise NotImplementedError

    def rank_round(self, actor: UserInfo, round_id: int, pack: str | None = None, params=None, **overrides):
        """Chair: the :class:`scoring.selection.Ranking` of one pack of the round, built with
        :func:`scoring.call.assemble` from the stored proposals, reviews (drafts are passed on and, as the core
        says, never count), reviewers with their conflicts, and the chair's resolutions. ``params`` is a
        :class:`scoring.selection.Params`; otherwise ``overrides`` (budget, aggregation, normalization, selection,
        waitlist, pass_line) go to ``Params.from_pack``."""
        raise NotImplementedError

    def import_files(self, actor: UserInfo, round_id: int, proposals: str | Path | None = None,
                     reviewers: str | Path | None = None, reviews: str | Path | None = None) -> ImportReport:
        """Chair, secretariat: canonical files (formats.md) into the round, in one transaction — all or nothing;
        every problem of every file is raised together as :class:`scoring.errors.InputError`
        (``file:row:field: message``). Reviewers become users (no password) and committee members, their
        ``conflicts`` conflict declarations; each imported review creates its assignment."""
        raise NotImplementedError

    def export_files(self, actor: UserInfo, round_id: int, out_dir: str | Path) -> list[Path]:
        """Chair: write ``proposals.json``, ``reviewers.csv``, ``reviews.csv`` (canonical formats, written
        atomically) and ``assignments.csv``; importing them into an empty round gives the same data back."""
        raise NotImplementedError


class AssignmentService:
    def assign(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str) -> None:
        """Chair, secretariat. Refused with :class:`ConflictOfInterest` if the reviewer is conflicted. Assigning
        twice is a no-op. The reviewer becomes a committee member of the round if not already."""
        raise NotImplementedError

    def unassign(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str) -> None:
        """Chair, secretariat. Refused (:class:`ReviewLocked`) if the reviewer has saved a review for it; the
        chair must decide about the review first."""
        raise NotImplementedError

    def auto_assign(self, actor: UserInfo, round_id: int, pack: str | None = None, k: int | None = None) -> AutoAssignReport:
        """Chair, secretariat: give every proposal of the pack ``k`` reviewers (default: the pack's
        ``min_reviews``), keeping existing assignments, never a conflicted reviewer, the least-loaded reviewer
        first (load counted across the whole round; ties by username). Reports what could not be satisfied."""
        raise NotImplementedError

    def list_assignments_for(self, actor: UserInfo, round_id: int | None = None) -> list[AssignmentInfo]:
        """The actor's own assignments (all open rounds, or one), with their review status; conflicted ones are
        listed with status ``conflict`` and cannot be opened."""
        raise NotImplementedError

    def list_assignments(self, actor: UserInfo, round_id: int) -> list[AssignmentInfo]:
        """Chair, secretariat: every assignment of the round."""
        raise NotImplementedError

    def declare_conflict(self, actor: UserInfo, round_id: int, proposal_id: str | None = None,
                         organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """A reviewer (or chair) declares their own conflict, by proposal or by organisation name."""
        raise NotImplementedError

    def set_conflict(self, actor: UserInfo, round_id: int, reviewer: str, proposal_id: str | None = None,
                     organisation: str | None = None, reason: str = "") -> ConflictInfo:
        """Chair: record a conflict for any reviewer of the round."""
        raise NotImplementedError

    def remove_conflict(self, actor: UserInfo, round_id: int, conflict_id: int) -> None:
        """Chair (logged)."""
        raise NotImplementedError

    def list_conflicts(self, actor: UserInfo, round_id: int, reviewer: str | None = None) -> list[ConflictInfo]:
        """Chair/secretariat: all (or one reviewer's); a reviewer: only their own."""
        raise NotImplementedError

    def is_conflicted(self, round_id: int, proposal_id: str, reviewer: str) -> bool:
        """True if the reviewer has a conflict with the proposal (by id, or by an organisation that is the
        applicant or a consortium member — the core's rule, :func:`scoring.aggregate.conflict_pairs`)."""
        raise NotImplementedError


class ReviewService:
    def get_review(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str | None = None) -> ReviewContent:
        """The actor's own review (``reviewer=None``): needs an assignment and no conflict. The chair may read
        anyone's (``reviewer=…``). Before the first save: an empty draft with version 0."""
        raise NotImplementedError

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
        raise NotImplementedError

    def submit(self, actor: UserInfo, round_id: int, proposal_id: str, version: int) -> int:
        """Submit the actor's own review at ``version``; returns the new version. Refused if stale, or
        incomplete (:class:`IncompleteReview`: every criterion needs a level)."""
        raise NotImplementedError

    def reopen(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str, reason: str = "") -> int:
        """Chair: turn a submitted review back into a draft (logged with the reason); returns the new version."""
        raise NotImplementedError

    def list_reviews(self, actor: UserInfo, round_id: int, pack: str | None = None) -> list[ReviewContent]:
        """Chair: every saved review of the round."""
        raise NotImplementedError


class AuditService:
    def query(self, actor: UserInfo, round_id: int | None = None, *, entity: str | None = None,
              proposal_id: str | None = None, reviewer: str | None = None, actor_name: str | None = None,
              since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
        """Chair: audit-log lines, newest first. The log is append-only (the database refuses UPDATE/DELETE)."""
        raise NotImplementedError
