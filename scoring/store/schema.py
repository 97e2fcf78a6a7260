"""The store's tables (SQLAlchemy 2). Changing them needs an Alembic migration in ``migrations/versions``.

Times are stored in UTC. JSON columns hold data whose shape the core defines (a proposal as imported, a
pack as read from its YAML, a review's levels/comments/marks).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class UTCDateTime(DateTime):
    """Timezone-aware on PostgreSQL; on SQLite (no time zones) stored naive UTC — see :func:`as_utc`."""

    def __init__(self):
        super().__init__(timezone=True)


def as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(300), unique=True, nullable=True)  # OIDC subject
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)   # the app's language, chosen by the user
    __table_args__ = (CheckConstraint("role in ('chair', 'reviewer', 'secretariat')", name="ck_users_role"),)


class Round(Base):
    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)   # 評価締切 (a calendar day; 0002)
    # the review-visibility policy (scoring.models.ReviewVisibility; 0009); NULL: each pack's, else the default
    review_visibility: Mapped[str | None] = mapped_column(String(20), nullable=True)
    __table_args__ = (CheckConstraint("status in ('open', 'locked')", name="ck_rounds_status"),)


class RoundPack(Base):
    """A frozen copy of a pack as the round uses it: editing criteria/*.yaml later changes nothing here."""

    __tablename__ = "round_packs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict] = mapped_column(JSON)        # the pack file as read (YAML → dict)
    source: Mapped[str] = mapped_column(Text, default="")
    # the pack's stage in this round (scoring.models.Stage; 0004) and, from ヒアリング on, the fixed shortlist
    # (proposal ids in document rank order) with the hearing parameters it was cut with
    stage: Mapped[str] = mapped_column(String(20), default="document", server_default="document")
    shortlist: Mapped[list | None] = mapped_column(JSON, nullable=True)
    hearing_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # the hearing timetable's settings (0005; scoring/store/timetables.py): start, order, slot/break minutes
    timetable: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (UniqueConstraint("round_id", "pack_id", name="uq_round_packs"),
                      CheckConstraint("stage in ('document', 'shortlist', 'hearing', 'decided')",
                                      name="ck_round_packs_stage"))


class ProposalRow(Base):
    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_id: Mapped[str] = mapped_column(String(100))
    pack_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)  # import order, kept for export
    data: Mapped[dict] = mapped_column(JSON)        # the proposal object exactly as imported
    __table_args__ = (UniqueConstraint("round_id", "proposal_id", name="uq_proposals"),)


class RoundMember(Base):
    """A user on a round's committee, with the reviewers-file name and role (kept for a lossless export)."""

    __tablename__ = "round_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="reviewer")
    position: Mapped[int] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("round_id", "user_id", name="uq_round_members"),
                      CheckConstraint("role in ('chair', 'reviewer')", name="ck_round_members_role"))


class Assignment(Base):
    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("proposal_pk", "user_id", name="uq_assignments"),
                      Index("ix_assignments_user", "user_id", "round_id"))


class Conflict(Base):
    """利益相反: by proposal or by organisation name (exactly one), declared by the reviewer or set by the chair."""

    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposal_pk: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(300), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order of the tokens in the reviewers file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    __table_args__ = (
        CheckConstraint("(proposal_pk IS NULL) <> (organisation IS NULL)", name="ck_conflicts_one_target"),
        CheckConstraint("source in ('declared', 'chair', 'import')", name="ck_conflicts_source"),
        Index("ix_conflicts_user", "round_id", "user_id"),
    )


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)   # optimistic concurrency
    levels: Mapped[dict] = mapped_column(JSON, default=dict)
    comments: Mapped[dict] = mapped_column(JSON, default=dict)
    bonus_marks: Mapped[dict] = mapped_column(JSON, default=dict)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # import order (export keeps it)
    # document (書面) or hearing (ヒアリング): one review per (proposal, reviewer, stage), each with its own
    # draft/submit/version; a hearing review's levels and comments are keyed by hearing criterion id (0004)
    stage: Mapped[str] = mapped_column(String(20), default="document", server_default="document")
    # 「申請者への所見」: what the reviewer writes for the applicant (may reach a notice; 0007), apart from comments
    applicant_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (UniqueConstraint("proposal_pk", "user_id", "stage", name="uq_reviews_stage"),
                      CheckConstraint("status in ('draft', 'submitted')", name="ck_reviews_status"),
                      CheckConstraint("stage in ('document', 'hearing')", name="ck_reviews_stage"),
                      Index("ix_reviews_round", "round_id"))


class Resolution(Base):
    """A chair's resolution of a needs_check eligibility outcome."""

    __tablename__ = "resolutions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("proposal_pk", "rule_id", name="uq_resolutions"),
                      CheckConstraint("status in ('pass', 'fail')", name="ck_resolutions_status"))


class ShortlistEditRow(Base):
    """A chair's addition to or removal from a pack's hearing shortlist (stages.md §2), in order (0004)."""

    __tablename__ = "shortlist_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(100))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (CheckConstraint("action in ('add', 'remove')", name="ck_shortlist_edits_action"),
                      Index("ix_shortlist_edits_round", "round_id", "pack_id", "id"))


class LoginSession(Base):
    """A built-in-account login kept across page reloads and server restarts (0003). The browser holds a random
    token in a cookie; only its SHA-256 is stored, so a copy of the database logs nobody in."""

    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditLog(Base):
    """Append-only (UPDATE and DELETE are refused by triggers created in the first migration)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(20))
    round_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # no FK: the log outlives what it records
    proposal_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(100), nullable=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (Index("ix_audit_round", "round_id", "id"),)


class OutboxRow(Base):
    """An e-mail to send (0005): a notice to an applicant (with its .docx) or a reminder to a reviewer. Sent at
    most once: a sender first claims the row (status ``sending`` and its own ``claim_token``, one UPDATE that only
    a ``draft``/``failed`` row without a claim matches), then records ``sent`` or ``failed``."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    proposal_id: Mapped[str | None] = mapped_column(String(100), nullable=True)   # a notice's proposal
    recipient: Mapped[str] = mapped_column(String(200))                          # applicant name / username
    address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attachment_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    attachment_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    __table_args__ = (CheckConstraint("kind in ('notice', 'reminder')", name="ck_outbox_kind"),
                      CheckConstraint("status in ('draft', 'sending', 'sent', 'failed')", name="ck_outbox_status"),
                      Index("ix_outbox_round", "round_id", "kind", "status"),
                      {"sqlite_autoincrement": True})


class DecisionEditRow(Base):
    """The committee's draft change to one proposal's decision (decisions.md §2; 0007). Blank fields keep the
    proposed value; ``version`` detects concurrent edits (optimistic, like reviews)."""

    __tablename__ = "decision_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(100))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    awarded_yen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    approved_cost_yen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    conditions: Mapped[str] = mapped_column(Text, default="", server_default="")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reserve_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("proposal_pk", name="uq_decision_edits"),
                      Index("ix_decision_edits_round", "round_id", "pack_id"))


class DecisionVersionRow(Base):
    """A confirmed (確定) version of one pack's decisions: the whole decided set frozen as JSON (0007). The newest
    version without ``reopened_at`` is in force; reopening records who, when and why."""

    __tablename__ = "decision_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reopened_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reopen_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (UniqueConstraint("round_id", "pack_id", "version", name="uq_decision_versions"),)


class NoticeSettingsRow(Base):
    """A round's notice settings (0007): feedback on/off (off by default) and the sender named in notices."""

    __tablename__ = "notice_settings"
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    feedback: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    sender: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NoticeTemplateRow(Base):
    """A notice template (.docx) the secretariat uploaded for one decision code of a round (0007), checked by
    :func:`scoring.io.notices.check_template` before it is stored."""

    __tablename__ = "notice_templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    decision_code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("round_id", "decision_code", name="uq_notice_templates"),)
class DiscussionComment(Base):
    """A comment of the panel's discussion of one proposal (委員間の議論, 0009): its current text; every text it
    ever had is a :class:`DiscussionVersion` (version 1 = as posted)."""

    __tablename__ = "discussion_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    visibility: Mapped[str] = mapped_column(String(20), default="committee")
    body: Mapped[str] = mapped_column(Text)
    criteria: Mapped[list] = mapped_column(JSON, default=list)      # mentioned criterion ids
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (CheckConstraint("visibility in ('committee', 'chairs')", name="ck_discussion_visibility"),
                      Index("ix_discussion_proposal", "proposal_pk", "id"),
                      {"sqlite_autoincrement": True})


class DiscussionVersion(Base):
    """One text of a comment (its post or an edit), in order; ids only grow, so a reader's marker is one id."""

    __tablename__ = "discussion_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("discussion_comments.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    visibility: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    criteria: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (UniqueConstraint("comment_id", "version", name="uq_discussion_versions"),
                      Index("ix_discussion_versions_proposal", "proposal_pk", "id"),
                      {"sqlite_autoincrement": True})


class DiscussionRead(Base):
    """How far a user has read the discussion of a proposal: the newest :class:`DiscussionVersion` id they saw."""

    __tablename__ = "discussion_reads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    seen_upto: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("user_id", "proposal_pk", name="uq_discussion_reads"),)
class Document(Base):
    """A document's bytes, content-addressed (0008): the SHA-256 is the key, so the same bytes are stored once
    however many proposals or rounds name them (docs/store.md "Documents")."""

    __tablename__ = "documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProposalDocument(Base):
    """A document of a proposal (0008): its file name, kind (提案書 / 別紙 / その他), pages (a PDF), who uploaded
    it and when; the bytes are the :class:`Document` its ``sha256`` names."""

    __tablename__ = "proposal_documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    proposal_pk: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    __table_args__ = (UniqueConstraint("round_id", "file_name", name="uq_proposal_documents_name"),
                      CheckConstraint("kind in ('proposal', 'attachment', 'other')", name="ck_proposal_documents_kind"),
                      Index("ix_proposal_documents_proposal", "proposal_pk"))
