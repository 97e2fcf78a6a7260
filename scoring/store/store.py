"""The store's entry point: :class:`Store`, one database, composing the services the browser app and the
command line call (issue 3, docs/store.md).

Every rule of *who may do what* is enforced in the services, not only in the UI. Every public method is one
transaction: it either happens whole (with its audit-log lines) or not at all. Methods take the acting user first
(``actor``: a :class:`~scoring.store.values.UserInfo` as returned by :meth:`UserService.authenticate`); the actor
is re-read from the database on every call, so a deactivated user or a changed role takes effect at once.

Objects returned are plain frozen dataclasses (:mod:`scoring.store.values`) or the core's own models
(:class:`scoring.models.Proposal`, :class:`scoring.selection.Ranking`); no ORM object or session ever leaves the
store.

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

import threading

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..models import Proposal
from ..packs import CriteriaPack, pack_from_dict
from .assignments import AssignmentService
from .audit import AuditService
from .db import Database, make_engine
from .decisions import DecisionService
from .discussion import DiscussionService
from .documents import DocumentService
from .errors import NotFound
from .migrate_head import HEAD
from .hearing_forms import HearingFormService
from .hearings import HearingService
from .notice_settings import NoticeService
from .outbox import OutboxService
from .reviews import ReviewService
from .rounds import RoundService
from .schema import ProposalRow, RoundPack
from .timetables import TimetableService
from .users import UserService


class Store:
    """One database: the entry point. ``Store()`` reads ``DATABASE_URL`` (PostgreSQL when shared) or uses the
    SQLite file ``$SHINSA_DATA_DIR/shinsa.db`` (default ``./data``). The schema must exist
    (``python -m scoring db init`` or :meth:`init_schema`).
    """

    users: UserService
    rounds: RoundService
    assignments: AssignmentService
    reviews: ReviewService
    hearings: HearingService
    audit: AuditService
    outbox: OutboxService
    timetables: TimetableService
    hearing_forms: HearingFormService
    decisions: DecisionService
    notices: NoticeService
    discussion: DiscussionService
    documents: DocumentService

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
        self.hearings = HearingService(self)
        self.audit = AuditService(self)
        self.outbox = OutboxService(self)
        self.timetables = TimetableService(self)
        self.hearing_forms = HearingFormService(self)
        self.decisions = DecisionService(self)
        self.notices = NoticeService(self)
        self.discussion = DiscussionService(self)
        self.documents = DocumentService(self)

    def init_schema(self) -> None:
        """Create or upgrade the schema to the newest migration (alembic upgrade head). A database already at the
        newest revision (:data:`HEAD`, read with one query) is left as it is without loading Alembic, which is heavy
        (issue 15: every server start opens the store)."""
        if self.schema_revision() == HEAD:
            return
        from .migrate import upgrade  # alembic is heavy and only needed here (a cold path)

        upgrade(self.db.engine)

    def schema_revision(self) -> str | None:
        """The revision the database's schema is at (Alembic's ``alembic_version`` table), None before any."""
        try:
            with self.db.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:     # no such table yet: a new database
            return None

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
        return m if m is not None else self._model_from(row.id, row.data)

    def _keep_models(self, parsed) -> None:
        """Keep ``(row key, model)`` pairs of proposals just written and committed."""
        with self._lock:
            self._models.update(parsed)

    def _model_from(self, pk: int, data: dict) -> Proposal:
        """Parse and cache the model of proposal row ``pk`` from its stored JSON."""
        m = Proposal.model_validate(data)
        with self._lock:
            self._models[pk] = m
        return m
