"""Reviews (``store.reviews``): a reviewer's own drafts and submission under optimistic versions, and the
chair's reading and reopening of reviews.

Each (proposal, reviewer) has up to two reviews, one per stage (stages.md): the document review (書面,
``stage="document"``, the default) and the hearing review (ヒアリング, ``stage="hearing"``, levels and comments
keyed by hearing criterion id, no bonus marks). A document review is written by an assigned, non-conflicted
reviewer while the pack is in the document stage — read-only once the pack moved on. A hearing review is written
by a non-conflicted committee member, only for a proposal on the pack's fixed shortlist and only while the pack is
in the hearing stage (docs/store.md "Hearing stage").
"""

from __future__ import annotations

from typing import Mapping

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, Problem
from ..models import ReviewStatus, Role, RoundStatus, Stage
from ..packs import CriteriaPack
from .base import Actor, ServiceBase, deny
from .errors import (ConflictOfInterest, IncompleteReview, NotFound, PermissionDenied, ReviewLocked, RoundLocked,
                     StaleReview)
from .schema import (Assignment, AuditLog, Conflict, ProposalRow, Review, Round, RoundMember, RoundPack, User, as_utc,
                     utcnow)
from .times import local_time
from .values import SYSTEM, AuditAction, ReviewContent, UserInfo

def _content_dict(r: Review | None) -> dict | None:
    if r is None:
        return None
    return {"status": r.status, "version": r.version, "levels": dict(r.levels or {}),
            "comments": dict(r.comments or {}), "bonus_marks": dict(r.bonus_marks or {}),
            "overall_comment": r.overall_comment or "",
            **({"applicant_comment": r.applicant_comment} if r.applicant_comment else {}), **({"stage": r.stage} if r.stage != Stage.document else {})}


REVIEW_STAGES = (Stage.document, Stage.hearing)
"""The stages a review belongs to (``reviews.stage``)."""

_u, _r, _p, _a, _v, _k = (User.__table__, Round.__table__, ProposalRow.__table__, Assignment.__table__,
                          Review.__table__, RoundPack.__table__)
_ACCESS = (
    select(_u.c.username, _u.c.role, _u.c.active, _r.c.status.label("round_status"), _r.c.name.label("round_name"),
           _p.c.id.label("proposal_pk"), _p.c.pack_id, _a.c.id.label("assignment_id"),
           select(func.count()).select_from(Conflict.__table__)
           .where(Conflict.__table__.c.round_id == _r.c.id, Conflict.__table__.c.user_id == _u.c.id)
           .scalar_subquery().label("n_conflicts"),
           select(func.count()).select_from(RoundMember.__table__)
           .where(RoundMember.__table__.c.round_id == _r.c.id, RoundMember.__table__.c.user_id == _u.c.id)
           .scalar_subquery().label("n_member"),
           _k.c.stage.label("pack_stage"), _k.c.shortlist,
           _v.c.id.label("review_id"), _v.c.version.label("review_version"), _v.c.status.label("review_status"),
           _v.c.levels, _v.c.comments, _v.c.bonus_marks, _v.c.overall_comment,
           _v.c.applicant_comment)
    .select_from(_u)
    .outerjoin(_r, _r.c.id == bindparam("rid"))
    .outerjoin(_p, (_p.c.round_id == _r.c.id) & (_p.c.proposal_id == bindparam("pid")))
    .outerjoin(_a, (_a.c.proposal_pk == _p.c.id) & (_a.c.user_id == _u.c.id))
    .outerjoin(_k, (_k.c.round_id == _r.c.id) & (_k.c.pack_id == _p.c.pack_id))
    .outerjoin(_v, (_v.c.proposal_pk == _p.c.id) & (_v.c.user_id == _u.c.id) & (_v.c.stage == bindparam("stage")))
    .where(_u.c.id == bindparam("uid"))
)


# --- reviews --------------------------------------------------------------------------------------------------

def _content(round_id: int, pid: str, reviewer: str, r: Review | None, stage: str = Stage.document) -> ReviewContent:
    if r is None:
        return ReviewContent(round_id, pid, reviewer, ReviewStatus.draft, 0, stage=str(stage))
    return ReviewContent(round_id, pid, reviewer, r.status, r.version, dict(r.levels or {}), dict(r.comments or {}),
                         dict(r.bonus_marks or {}), r.overall_comment or "", as_utc(r.updated_at), r.updated_by,
                         as_utc(r.submitted_at), stage=r.stage or Stage.document,
                         applicant_comment=r.applicant_comment or "")


def _stage(stage: str) -> Stage:
    if stage not in REVIEW_STAGES:
        raise InputError([Problem("(review)", None, "stage",
                                  f"{str(stage)[:40]!r} is not one of {[s.value for s in REVIEW_STAGES]}")])
    return Stage(stage)


def stage_lock(stage: Stage, pack_stage: str | None, shortlist, proposal_id: str, pack_id: str) -> ReviewLocked | None:
    """The refusal (with its reason) of writing a review of ``stage`` now (None: it may be written), from the
    pack's stage and fixed shortlist (docs/store.md "Hearing stage")."""
    pack_stage = pack_stage or Stage.document
    if stage == Stage.document:
        if pack_stage != Stage.document:
            return ReviewLocked(f"the document stage (書面審査) of pack {pack_id} is over (the pack is in stage "
                                f"{pack_stage}): document reviews are read-only", "stage_over")
        return None
    if pack_stage != Stage.hearing:
        return ReviewLocked(f"pack {pack_id} is not in the hearing stage (it is in stage {pack_stage}): no hearing "
                            "review now", "not_hearing")
    if proposal_id not in (shortlist or ()):
        return ReviewLocked(f"{proposal_id} is not on the hearing shortlist of pack {pack_id}", "not_shortlisted")
    return None


def _stale(current: ReviewContent, base: int) -> StaleReview:
    return StaleReview(f"this review was changed elsewhere at {local_time(current.updated_at)} "
                       f"(by {current.updated_by or '?'}; your edit started from version {base}, it is now "
                       f"version {current.version}): reload it — the newer content is kept", current)


def stage_criteria(pack: CriteriaPack, stage: str) -> list[str]:
    """The criterion ids a review of ``stage`` levels: the pack's, or its hearing criteria."""
    if stage == Stage.hearing:
        return list(pack.hearing.criterion_ids) if pack.hearing is not None else []
    return list(pack.criterion_ids)


def _clean_content(pack: CriteriaPack, pid: str, levels, comments, bonus_marks,
                   stage: str = Stage.document) -> tuple[dict, dict, dict]:
    """Validate a review's content against the pack; InputError lists every problem."""
    src = f"review of {pid}" if stage == Stage.document else f"hearing review of {pid}"
    problems = []
    scale = sorted(pack.levels)
    crit = stage_criteria(pack, stage)
    judged = [b.id for b in pack.judged_bonuses] if stage == Stage.document else []
    out_l, out_b, out_c = {}, {}, {}
    for c, v in dict(levels or {}).items():
        if c not in crit:
            problems.append(Problem(src, None, f"levels.{c}", f"not a {'hearing ' if stage == Stage.hearing else ''}criterion of pack {pack.id} "
                                    f"({', '.join(crit) or 'none'})"))
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


class ReviewService(ServiceBase):
    """``store.reviews``: reading, saving, submitting and reopening reviews."""

    def _load(self, s: Session, who: Actor, round_id: int, proposal_id: str, writable: bool,
              stage: Stage = Stage.document):
        r = self._round(s, round_id, writable=writable)
        p = self._proposal(s, r.id, proposal_id)
        if stage == Stage.document:
            self._require_access(s, who, r, p)
        else:
            self._require_hearing_access(s, who, r, p)
        if writable:
            self._refuse_by_stage(s, r, p, stage)
        row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == who.id,
                                            Review.stage == stage))
        return r, p, row

    def _require_hearing_access(self, s: Session, who: Actor, r: Round, p: ProposalRow) -> None:
        """A hearing review: any committee member of the round (the whole panel hears), never a conflicted one
        (listed absent for that slot)."""
        if who.id is None:
            raise deny(who, "write reviews")
        if not self._is_member(s, r.id, who.id):
            raise deny(who, f"hear {p.proposal_id}: they are not on the committee of round {r.name!r}")
        if self._conflicted(s, r.id, p, who.id):
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with {p.proposal_id}")

    def get_review(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str | None = None,
                   stage: str = Stage.document) -> ReviewContent:
        """The actor's own review (``reviewer=None``): needs an assignment and no conflict (a hearing review:
        committee membership and no conflict). The chair may read anyone's (``reviewer=…``). Before the first
        save: an empty draft with version 0. ``stage``: ``document`` (default) or ``hearing``."""
        stage = _stage(stage)
        with self.db.read() as s:
            who = self._who(s, actor)
            if reviewer is None or reviewer == who.username:
                r, p, row = self._load(s, who, round_id, proposal_id, writable=False, stage=stage)
                return _content(r.id, proposal_id, who.username, row, stage)
            if not who.is_(Role.chair):
                raise deny(who, "read other reviewers' reviews")
            r = self._round(s, round_id)
            p = self._proposal(s, r.id, proposal_id)
            if who.id is not None and self._conflicted(s, r.id, p, who.id):
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
            u = self._user(s, reviewer)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id,
                                                Review.stage == stage))
            return _content(r.id, proposal_id, reviewer, row, stage)

    def _current(self, round_id: int, proposal_id: str, username: str, stage: Stage) -> ReviewContent:
        with self.db.read() as s:
            p = self._proposal(s, round_id, proposal_id)
            u = self._user(s, username)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id,
                                                Review.stage == stage))
            return _content(round_id, proposal_id, username, row, stage)

    def save_draft(self, actor: UserInfo, round_id: int, proposal_id: str, levels: Mapping[str, int | None],
                   comments: Mapping[str, str] | None = None, bonus_marks: Mapping[str, int | None] | None = None,
                   overall_comment: str = "", base_version: int = 0, stage: str = Stage.document,
                   applicant_comment: str = "") -> int:
        """Save the actor's own review as a draft; returns the new version. Cheap enough for every change.

        The whole content is replaced (a missing or ``None`` level means "not levelled yet"). ``base_version`` is
        the version the edit started from (0 before the first save). If the stored version differs,
        :class:`StaleReview` ("this review was changed elsewhere at HH:MM") is raised and nothing is written.
        Levels must be on the pack's scale, criteria and bonuses must exist (:class:`scoring.errors.InputError`).
        Refused if submitted (:class:`ReviewLocked`), the round is locked, or the actor is not assigned or is
        conflicted (:class:`PermissionDenied` / :class:`ConflictOfInterest`). Logged with before → after.
        ``stage="hearing"``: the hearing review (hearing criteria, no bonus marks), refused (:class:`ReviewLocked`)
        unless the pack is in the hearing stage and the proposal on its fixed shortlist; a document review is
        refused once the pack left the document stage. ``applicant_comment``: 「申請者への所見」, the text written
        for the applicant (it may reach a notice when the round gives feedback), kept apart from the comments."""
        stage = _stage(stage)
        if actor is SYSTEM or not isinstance(actor, UserInfo):
            raise PermissionDenied("only a reviewer can write their own review")
        stale_base = None
        try:
            # The hot path: Core statements on one connection — one SELECT gathers everything the rules need.
            with self.db.write_conn() as c:
                a = c.execute(_ACCESS, {"uid": actor.id, "rid": round_id, "pid": proposal_id,
                                        "stage": stage.value}).mappings().first()
                who = self._check_access(c, actor, a, round_id, proposal_id, writable=True, stage=stage)
                lv, bm, cm = _clean_content(self.store._pack(c, round_id, a["pack_id"]), proposal_id, levels,
                                            comments, bonus_marks, stage)
                if a["review_status"] == ReviewStatus.submitted:
                    raise ReviewLocked(f"the review of {proposal_id} is submitted; the chair must reopen it first")
                now = utcnow()
                content = {"levels": lv, "comments": cm, "bonus_marks": bm, "overall_comment": overall_comment or "",
                           "applicant_comment": str(applicant_comment or "")}
                if a["review_id"] is None:
                    if base_version != 0:
                        raise NotFound(f"no saved review of {proposal_id} (version {base_version} does not exist)")
                    # a concurrent first save fails here on the unique (proposal, reviewer)
                    c.execute(insert(Review).values(round_id=round_id, proposal_pk=a["proposal_pk"], user_id=who.id,
                                                    status=ReviewStatus.draft, version=1, created_at=now,
                                                    updated_at=now, updated_by=who.username, position=0,
                                                    stage=stage.value, **content))
                    before = None
                else:
                    if a["review_version"] != base_version:
                        stale_base = base_version
                        raise StaleReview("stale")
                    before = {"status": a["review_status"], "version": a["review_version"],
                              "levels": a["levels"] or {}, "comments": a["comments"] or {},
                              "bonus_marks": a["bonus_marks"] or {}, "overall_comment": a["overall_comment"] or "",
                              "applicant_comment": a["applicant_comment"] or ""}
                    res = c.execute(update(Review).where(Review.id == a["review_id"], Review.version == base_version)
                                    .values(status=ReviewStatus.draft, version=base_version + 1, updated_at=now,
                                            updated_by=who.username, **content))
                    if res.rowcount != 1:  # PostgreSQL: another transaction committed after we read
                        stale_base = base_version
                        raise StaleReview("stale")
                after = {"status": ReviewStatus.draft, "version": base_version + 1, **content}
                if stage != Stage.document:
                    after["stage"] = stage.value
                c.execute(insert(AuditLog).values(at=now, actor=who.username, action=AuditAction.review_save,
                                                  entity="review", round_id=round_id, proposal_id=proposal_id,
                                                  subject=who.username, before=before, after=after))
                return base_version + 1
        except IntegrityError:
            stale_base = base_version
        except StaleReview as exc:
            if exc.current is not None:
                raise
        current = self._current(round_id, proposal_id, actor.username, stage)
        raise _stale(current, stale_base)

    def _check_access(self, c, actor: UserInfo, a, round_id: int, proposal_id: str, writable: bool,
                      stage: Stage = Stage.document) -> Actor:
        """The rules of :meth:`_require_access` over the row of ``_ACCESS``."""
        if a is None or a["username"] != actor.username:
            raise PermissionDenied(f"unknown user {actor.username!r}")
        if not a["active"]:
            raise PermissionDenied(f"user {a['username']!r} is deactivated")
        who = Actor(actor.id, a["username"], a["role"])
        if a["round_status"] is None:
            raise NotFound(f"no round {round_id!r}")
        if writable and a["round_status"] == RoundStatus.locked:
            raise RoundLocked(f"round {a['round_name']!r} is locked")
        if a["proposal_pk"] is None:
            raise NotFound(f"no proposal {proposal_id!r} in round {round_id}")
        if stage == Stage.document and a["assignment_id"] is None:
            raise deny(who, f"open {proposal_id}: it is not assigned to them")
        if stage == Stage.hearing and not a["n_member"]:
            raise deny(who, f"hear {proposal_id}: they are not on the committee of round {a['round_name']!r}")
        if a["n_conflicts"]:
            prop = c.execute(select(ProposalRow.id, ProposalRow.data, ProposalRow.proposal_id)
                             .where(ProposalRow.id == a["proposal_pk"])).first()
            if self._conflict_pairs(c, round_id, [prop], [who.id]):
                raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
        if writable:
            lock = stage_lock(stage, a["pack_stage"], a["shortlist"], proposal_id, a["pack_id"])
            if lock is not None:
                raise lock
        return who

    def submit(self, actor: UserInfo, round_id: int, proposal_id: str, version: int,
               stage: str = Stage.document) -> int:
        """Submit the actor's own review at ``version``; returns the new version. Refused if stale, or
        incomplete (:class:`IncompleteReview`: every criterion — of a hearing review, every hearing criterion —
        needs a level), or when the stage rules of :meth:`save_draft` refuse a save."""
        stage = _stage(stage)
        with self.db.write() as s:
            who = self._who(s, actor)
            r, p, row = self._load(s, who, round_id, proposal_id, writable=True, stage=stage)
            crit = stage_criteria(self.store._pack(s, r.id, p.pack_id), stage)
            if row is None:
                raise IncompleteReview(f"the review of {proposal_id} is empty", crit)
            if row.status == ReviewStatus.submitted:
                raise ReviewLocked(f"the review of {proposal_id} is already submitted")
            if row.version != version:
                raise _stale(_content(r.id, proposal_id, who.username, row, stage), version)
            missing = [c for c in crit if (row.levels or {}).get(c) is None]
            if missing:
                raise IncompleteReview(f"the review of {proposal_id} has no level for: {', '.join(missing)}", missing)
            before = _content_dict(row)
            now = utcnow()
            res = s.execute(update(Review).where(Review.id == row.id, Review.version == version)
                            .values(status=ReviewStatus.submitted, version=version + 1, updated_at=now,
                                    submitted_at=now, updated_by=who.username)
                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:
                raise StaleReview(f"this review was changed elsewhere at {local_time(now)}")
            self._audit(s, who, AuditAction.review_submit, "review", round_id=r.id, proposal_id=proposal_id,
                        subject=who.username, before=before, after={**before, "status": ReviewStatus.submitted,
                                                                     "version": version + 1})
            return version + 1

    def _refuse_by_stage(self, s, r, p, stage: str) -> None:
        """:class:`ReviewLocked` when the pack's stage does not let a ``stage`` review of ``p`` change."""
        k = s.execute(select(RoundPack.stage, RoundPack.shortlist)
                      .where(RoundPack.round_id == r.id, RoundPack.pack_id == p.pack_id)).first()
        lock = stage_lock(stage, k.stage if k else None, k.shortlist if k else None, p.proposal_id, p.pack_id)
        if lock is not None:
            raise lock

    def reopen(self, actor: UserInfo, round_id: int, proposal_id: str, reviewer: str, reason: str = "",
               stage: str = Stage.document) -> int:
        """Chair: turn a submitted review back into a draft (logged with the reason); returns the new version.
        Refused (:class:`ReviewLocked`) when the stage rules of :meth:`save_draft` would refuse its saves (a
        document review once the pack left the document stage: move the pack back first)."""
        stage = _stage(stage)
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "reopen reviews")
            r = self._round(s, round_id, writable=True)
            p = self._proposal(s, r.id, proposal_id)
            u = self._user(s, reviewer)
            self._refuse_by_stage(s, r, p, stage)
            row = s.scalar(select(Review).where(Review.proposal_pk == p.id, Review.user_id == u.id,
                                                Review.stage == stage))
            if row is None:
                raise NotFound(f"no review by {reviewer} of {proposal_id}")
            if row.status != ReviewStatus.submitted:
                raise InputError([Problem("(review)", None, "status", f"the review by {reviewer} of {proposal_id} "
                                          "is not submitted: nothing to reopen")])
            before = _content_dict(row)
            row.status = ReviewStatus.draft
            row.version += 1
            row.updated_at = utcnow()
            row.updated_by = who.username
            row.submitted_at = None
            self._audit(s, who, AuditAction.review_reopen, "review", round_id=r.id, proposal_id=proposal_id,
                        subject=reviewer, before=before,
                        after={**before, "status": ReviewStatus.draft, "version": row.version, "reason": reason or ""})
            s.flush()
            return row.version

    def list_reviews(self, actor: UserInfo, round_id: int, pack: str | None = None,
                     stage: str | None = Stage.document, proposal_id: str | None = None) -> list[ReviewContent]:
        """Chair: every saved review of the round — except those of proposals the chair is conflicted with.
        ``stage``: the document reviews (default), the hearing reviews, or ``None`` for both. ``proposal_id``:
        only the reviews of that proposal (read from the database, not filtered afterwards: one proposal's
        detail page should not read the whole round)."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "read every review")
            r = self._round(s, round_id)
            q = (select(Review, User.username, ProposalRow.proposal_id).join(User, Review.user_id == User.id)
                 .join(ProposalRow, Review.proposal_pk == ProposalRow.id).where(Review.round_id == r.id)
                 .order_by(ProposalRow.position, User.username))
            if pack is not None:
                q = q.where(ProposalRow.pack_id == pack)
            if stage is not None:
                q = q.where(Review.stage == _stage(stage))
            if proposal_id is not None:
                q = q.where(ProposalRow.proposal_id == proposal_id)
            hidden = self._withheld(s, who, r.id)
            return [_content(r.id, pid, name, row) for row, name, pid in s.execute(q) if pid not in hidden]
