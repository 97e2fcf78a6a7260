"""The values the store's services return (plain frozen dataclasses: no ORM object ever leaves the store) and
the closed set of actions it writes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..assignment_plan import DesignReport
from ..models import Role, StrEnum


class AuditAction(StrEnum):
    """Every action the store writes to the audit log (the stored ``audit_log.action``; labels are the app's
    ``admin.audit.action.<value>`` messages)."""

    review_save = "review.save"
    review_submit = "review.submit"
    review_reopen = "review.reopen"
    assignment_add = "assignment.add"
    assignment_remove = "assignment.remove"
    member_add = "member.add"
    conflict_add = "conflict.add"
    conflict_remove = "conflict.remove"
    resolution_set = "resolution.set"
    resolution_remove = "resolution.remove"
    round_create = "round.create"
    round_import = "round.import"
    round_deadline = "round.deadline"
    round_lock = "round.lock"
    round_unlock = "round.unlock"
    user_add = "user.add"
    user_update = "user.update"
    user_password = "user.password"
    user_unlock = "user.unlock"
    user_lockout = "user.lockout"
    scenario_save = "scenario.save"
    stage_set = "stage.set"
    shortlist_add = "shortlist.add"
    shortlist_remove = "shortlist.remove"
    outbox_add = "outbox.add"
    outbox_send = "outbox.send"
    outbox_fail = "outbox.fail"
    outbox_release = "outbox.release"
    timetable_set = "timetable.set"
    decision_set = "decision.set"
    decision_clear = "decision.clear"
    decision_confirm = "decision.confirm"
    decision_reopen = "decision.reopen"
    notice_settings = "notice.settings"
    notice_template = "notice.template"
    round_visibility = "round.visibility"
    discussion_post = "discussion.post"
    discussion_edit = "discussion.edit"
    document_add = "document.add"
    document_read = "document.read"


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    external_id: str | None = None
    active: bool = True
    has_password: bool = False
    language: str | None = None      # the app's language the user chose last ("ja" | "en"), None before any choice


SYSTEM = UserInfo(id=0, username="(cli)", display_name="command line", role=Role.system)
"""The actor the command line uses: administrative rights, recorded in the audit log as ``(cli)``."""


@dataclass(frozen=True)
class RoundInfo:
    id: int
    name: str                      # e.g. 令和8年度 1次公募
    description: str
    status: str                    # a RoundStatus: "open" | "locked"
    packs: dict[str, str]          # pack id → version of the stored copy
    created_at: datetime
    locked_at: datetime | None = None
    n_proposals: int = 0
    deadline: date | None = None   # 評価締切: the last day reviews are due (optional; RoundService.set_deadline)
    review_visibility: str | None = None   # the round's review-visibility policy; None: each pack's (0009)


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
    status: str                    # a ReviewStatus: "draft" | "submitted" ("draft", version 0, before any save)
    version: int                   # pass back as base_version / version
    levels: dict[str, int] = field(default_factory=dict)        # criterion id → level
    comments: dict[str, str] = field(default_factory=dict)      # criterion id or "bonus:<id>" → comment
    bonus_marks: dict[str, int] = field(default_factory=dict)   # judged bonus id → 1 | 0
    overall_comment: str = ""
    updated_at: datetime | None = None
    updated_by: str | None = None
    submitted_at: datetime | None = None
    stage: str = "document"        # a ReviewStage: the document review (書面) or the hearing review (ヒアリング)
    applicant_comment: str = ""    # 「申請者への所見」: written for the applicant (may reach a notice), apart from comments

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
    load: dict[str, int]           # reviewer → non-conflicted assignments in the round after the run
    design: DesignReport | None = None   # the pack's reviewer–proposal graph after the run (connected, overlap)


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
    action: str                    # an AuditAction value: review.save, review.submit, assignment.add, …
    entity: str                    # review | assignment | conflict | resolution | round | user | import
    round_id: int | None
    proposal_id: str | None
    subject: str | None            # the reviewer concerned, where there is one
    before: Any
    after: Any
    withheld: bool = False         # the content was left out: the reader is conflicted with the proposal


@dataclass(frozen=True)
class DocumentInfo:
    """A document of a proposal (``store.documents``): kind ``proposal`` (提案書), ``attachment`` (別紙) or
    ``other`` (その他); ``pages`` for a PDF. The bytes come from :meth:`DocumentService.read` by ``id``."""

    id: int
    round_id: int
    proposal_id: str
    file_name: str
    kind: str
    content_type: str
    size: int
    sha256: str
    pages: int | None
    uploaded_by: str
    uploaded_at: datetime
