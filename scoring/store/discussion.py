"""The panel's discussion (``store.discussion``; 委員間の議論, issue 16 §7–9): a thread of comments per proposal, the
round's review-visibility policy, the other reviewers' reviews as a reviewer may see them, and per-user read
markers ("new since you last looked").

Who reads what (docs/store.md "Discussion"):

- a member conflicted with the proposal (whatever their role) reads nothing of it: no thread, no other review —
  :class:`ConflictOfInterest`;
- a chair (and the command line) reads every comment, ``chairs``-only ones included, and every review;
- a reviewer needs the proposal assigned to them (or, from the hearing stage on, a place on the committee with
  the proposal on the fixed shortlist); they read their own comments always, and the committee's comments and
  the others' submitted reviews only as the policy says (:func:`scoring.discussion.sees_others`): ``never``,
  ``after_own_submit`` (default: once a review of theirs of the proposal is submitted) or ``always``.
  ``chairs``-only comments of others they never read;
- the secretariat takes no part in the discussion.

Every post and edit is one transaction with its audit line; an edit keeps the earlier text as a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..discussion import MAX_COMMENT_CHARS, effective_visibility, merge_mentions, sees_others
from ..errors import InputError, Problem
from ..models import CommentVisibility, ReviewStatus, ReviewVisibility, Role, RoundStatus, Stage
from .base import Actor, ServiceBase, deny
from .errors import ConflictOfInterest, NotFound, PermissionDenied, StaleReview
from .reviews import stage_criteria
from .schema import (Assignment, DiscussionComment, DiscussionRead, DiscussionVersion, ProposalRow, Review, Round,
                     RoundPack, User, as_utc, utcnow)
from .values import AuditAction, ReviewContent, UserInfo

ENTITY = "discussion"


@dataclass(frozen=True)
class CommentInfo:
    """One comment as its reader may see it."""

    id: int
    round_id: int
    proposal_id: str
    author: str                    # username
    author_name: str               # display name
    visibility: str                # a CommentVisibility: committee | chairs
    body: str
    criteria: tuple[str, ...]      # mentioned criterion ids (the pack's order)
    version: int                   # 1 = never edited; pass back as base_version to edit
    created_at: datetime
    updated_at: datetime
    mine: bool = False

    @property
    def edited(self) -> bool:
        return self.version > 1


@dataclass(frozen=True)
class CommentVersionInfo:
    version: int
    body: str
    visibility: str
    criteria: tuple[str, ...]
    at: datetime
    by: str


@dataclass(frozen=True)
class Thread:
    """The discussion of one proposal as one reader sees it."""

    round_id: int
    proposal_id: str
    policy: str                    # the ReviewVisibility in force
    sees_others: bool              # False: a reviewer who (as yet) sees only their own comments
    can_post: bool                 # the round is open
    comments: tuple[CommentInfo, ...] = ()
    hidden: int = 0                # committee comments of others the policy withholds for now (a count only)
    unread: frozenset[int] = field(default_factory=frozenset)   # ids of comments new or edited since last looked


@dataclass(frozen=True)
class _Access:
    who: Actor
    round: Round
    prop: ProposalRow
    chair: bool
    policy: ReviewVisibility
    others: bool                   # sees the committee's comments and the others' reviews


def _clean_visibility(value: str) -> CommentVisibility:
    if value not in tuple(CommentVisibility):
        raise InputError([Problem("(comment)", None, "visibility",
                                  f"{str(value)[:40]!r} is not one of {[v.value for v in CommentVisibility]}")])
    return CommentVisibility(value)


class DiscussionService(ServiceBase):
    """``store.discussion``: the thread of each proposal, the round's review-visibility policy, read markers."""

    # -- the policy ---------------------------------------------------------------------------------------------
    def set_round_visibility(self, actor: UserInfo, round_id: int, value: str | None) -> str | None:
        """Chair: the round's review-visibility policy (``never`` / ``after_own_submit`` / ``always``), or
        ``None`` to follow each pack's ``review_visibility`` (default ``after_own_submit``). Logged; refused in a
        locked round. Returns the stored value."""
        if value is not None and value not in tuple(ReviewVisibility):
            raise InputError([Problem("(round)", None, "review_visibility",
                                      f"{str(value)[:40]!r} is not one of {[v.value for v in ReviewVisibility]}")])
        with self.db.write() as s:
            who = self._who(s, actor)
            if not who.is_(Role.chair):
                raise deny(who, "set the review-visibility policy")
            r = self._round(s, round_id, writable=True)
            before = r.review_visibility
            r.review_visibility = value
            self._audit(s, who, AuditAction.round_visibility, "round", round_id=r.id,
                        before={"review_visibility": before}, after={"review_visibility": value})
            return value

    def policy(self, actor: UserInfo, round_id: int, pack_id: str) -> ReviewVisibility:
        """The policy in force for the proposals of ``pack_id`` in the round (round setting, else the pack's,
        else ``after_own_submit``)."""
        with self.db.read() as s:
            self._who(s, actor)
            r = self._round(s, round_id)
            return self._policy(s, r, pack_id)

    def _policy(self, s: Session, r: Round, pack_id: str) -> ReviewVisibility:
        return effective_visibility(r.review_visibility, self.store._pack(s, r.id, pack_id).review_visibility)

    # -- access -------------------------------------------------------------------------------------------------
    def _access(self, s: Session, actor: UserInfo, round_id: int, proposal_id: str, writable: bool = False) -> _Access:
        who = self._who(s, actor)
        r = self._round(s, round_id, writable=writable)
        p = self._proposal(s, r.id, proposal_id)
        policy = self._policy(s, r, p.pack_id)
        if who.id is None:
            if writable:
                raise deny(who, "post to the discussion")
            return _Access(who, r, p, True, policy, True)
        if who.role not in (Role.chair, Role.reviewer):
            raise deny(who, "take part in the committee's discussion")
        if self._conflicted(s, r.id, p, who.id):
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
        if who.role == Role.chair:
            return _Access(who, r, p, True, policy, True)
        if not self._takes_part(s, who, r, p):
            raise deny(who, f"read the discussion of {proposal_id}: it is not assigned to them")
        submitted = s.scalar(select(Review.id).where(Review.proposal_pk == p.id, Review.user_id == who.id,
                                                     Review.status == ReviewStatus.submitted).limit(1)) is not None
        return _Access(who, r, p, False, policy, sees_others(policy, submitted))

    def _takes_part(self, s: Session, who: Actor, r: Round, p: ProposalRow) -> bool:
        """Assigned to the proposal, or on the committee once it is on the fixed hearing shortlist."""
        if s.scalar(select(Assignment.id).where(Assignment.proposal_pk == p.id,
                                                Assignment.user_id == who.id)) is not None:
            return True
        k = s.execute(select(RoundPack.stage, RoundPack.shortlist).where(
            RoundPack.round_id == r.id, RoundPack.pack_id == p.pack_id)).first()
        return (k is not None and k.stage in (Stage.hearing, Stage.decided) and p.proposal_id in (k.shortlist or ())
                and self._is_member(s, r.id, who.id))

    @staticmethod
    def _visible(a: _Access, author_id: int, visibility: str) -> bool:
        if a.chair or author_id == a.who.id:
            return True
        return a.others and visibility == CommentVisibility.committee

    # -- the thread ---------------------------------------------------------------------------------------------
    def thread(self, actor: UserInfo, round_id: int, proposal_id: str) -> Thread:
        """The comments of the proposal ``actor`` may read, oldest first, with those new to them since their
        last :meth:`mark_read`."""
        with self.db.read() as s:
            a = self._access(s, actor, round_id, proposal_id)
            rows = s.execute(select(DiscussionComment, User.username, User.display_name)
                             .join(User, DiscussionComment.author_id == User.id)
                             .where(DiscussionComment.proposal_pk == a.prop.id).order_by(DiscussionComment.id)).all()
            seen = self._seen(s, a.who.id, a.prop.id)
            newest = dict(s.execute(select(DiscussionVersion.comment_id, func.max(DiscussionVersion.id))
                                    .where(DiscussionVersion.proposal_pk == a.prop.id)
                                    .group_by(DiscussionVersion.comment_id)).all())
            shown, hidden, unread = [], 0, set()
            for c, username, name in rows:
                if not self._visible(a, c.author_id, c.visibility):
                    hidden += int(c.visibility == CommentVisibility.committee)
                    continue
                mine = c.author_id == a.who.id
                shown.append(CommentInfo(c.id, a.round.id, proposal_id, username, name or username, c.visibility,
                                         c.body, tuple(c.criteria or ()), c.version, as_utc(c.created_at),
                                         as_utc(c.updated_at), mine))
                if not mine and newest.get(c.id, 0) > seen:
                    unread.add(c.id)
            return Thread(a.round.id, proposal_id, a.policy.value, a.others,
                          a.round.status != RoundStatus.locked and a.who.id is not None, tuple(shown), hidden,
                          frozenset(unread))

    def history(self, actor: UserInfo, round_id: int, comment_id: int) -> list[CommentVersionInfo]:
        """Every text a comment had, oldest first (version 1 as posted) — for a reader who may read it now."""
        with self.db.read() as s:
            c = s.get(DiscussionComment, int(comment_id))
            if c is None or c.round_id != int(round_id):
                raise NotFound(f"no comment {comment_id} in round {round_id}")
            p = s.get(ProposalRow, c.proposal_pk)
            a = self._access(s, actor, round_id, p.proposal_id)
            if not self._visible(a, c.author_id, c.visibility):
                raise NotFound(f"no comment {comment_id} in round {round_id}")
            return [CommentVersionInfo(v.version, v.body, v.visibility, tuple(v.criteria or ()), as_utc(v.at), name)
                    for v, name in s.execute(select(DiscussionVersion, User.username)
                                             .join(User, DiscussionVersion.by_user_id == User.id)
                                             .where(DiscussionVersion.comment_id == c.id)
                                             .order_by(DiscussionVersion.version))]

    def _clean(self, s: Session, a: _Access, body: str, criteria: Sequence[str] | None) -> tuple[str, list[str]]:
        pack = self.store._pack(s, a.round.id, a.prop.pack_id)
        ids = list(pack.criterion_ids) + [c for c in stage_criteria(pack, Stage.hearing) if c not in pack.criterion_ids]
        text = (body or "").strip() if isinstance(body, str) else None
        problems = []
        if not text:
            problems.append(Problem("(comment)", None, "body", "a comment needs some text"))
        elif len(text) > MAX_COMMENT_CHARS:
            problems.append(Problem("(comment)", None, "body",
                                    f"{len(text):,} characters: at most {MAX_COMMENT_CHARS:,}"))
        for c in criteria or ():
            if c not in ids:
                problems.append(Problem("(comment)", None, "criteria",
                                        f"{str(c)[:60]!r} is not a criterion of pack {pack.id}"))
        if problems:
            raise InputError(problems)
        return text, merge_mentions(criteria or (), text, ids)

    def post(self, actor: UserInfo, round_id: int, proposal_id: str, body: str,
             visibility: str = CommentVisibility.committee, criteria: Sequence[str] = ()) -> CommentInfo:
        """A new comment by a committee member who may read the thread (see the module); ``visibility``
        ``committee`` (default) or ``chairs``; ``criteria``: criterion ids picked (``#criterion_id`` in the text
        counts too). Refused in a locked round. Logged."""
        vis = _clean_visibility(visibility)
        with self.db.write() as s:
            a = self._access(s, actor, round_id, proposal_id, writable=True)
            text, crit = self._clean(s, a, body, criteria)
            now = utcnow()
            c = DiscussionComment(round_id=a.round.id, proposal_pk=a.prop.id, author_id=a.who.id, visibility=vis.value,
                                  body=text, criteria=crit, version=1, created_at=now, updated_at=now)
            s.add(c)
            s.flush()
            s.execute(insert(DiscussionVersion).values(comment_id=c.id, proposal_pk=a.prop.id, version=1,
                                                       visibility=vis.value, body=text, criteria=crit, at=now,
                                                       by_user_id=a.who.id))
            self._audit(s, a.who, AuditAction.discussion_post, ENTITY, round_id=a.round.id, proposal_id=proposal_id,
                        subject=a.who.username, after={"comment": c.id, "version": 1, "visibility": vis.value,
                                                       "body": text, "criteria": crit})
            name = s.scalar(select(User.display_name).where(User.id == a.who.id)) or a.who.username
            return CommentInfo(c.id, a.round.id, proposal_id, a.who.username, name, vis.value, text,
                               tuple(crit), 1, now, now, True)

    def edit(self, actor: UserInfo, round_id: int, comment_id: int, body: str, base_version: int,
             visibility: str | None = None, criteria: Sequence[str] | None = None) -> int:
        """The author edits their comment (the earlier text stays as a version); returns the new version.
        ``base_version``: the version the edit started from — if the comment changed since,
        :class:`StaleReview` and nothing is written. ``visibility``/``criteria`` None: unchanged (the picked
        criteria are kept; ``#criterion_id`` in the new text is added). Logged with before → after."""
        vis = None if visibility is None else _clean_visibility(visibility)
        with self.db.write() as s:
            c = s.get(DiscussionComment, int(comment_id))
            if c is None or c.round_id != int(round_id):
                raise NotFound(f"no comment {comment_id} in round {round_id}")
            p = s.get(ProposalRow, c.proposal_pk)
            a = self._access(s, actor, round_id, p.proposal_id, writable=True)
            if c.author_id != a.who.id:
                if not self._visible(a, c.author_id, c.visibility):
                    raise NotFound(f"no comment {comment_id} in round {round_id}")
                raise deny(a.who, "edit another member's comment")
            if c.version != base_version:
                raise StaleReview(f"this comment was edited elsewhere (your edit started from version "
                                  f"{base_version}, it is now version {c.version}): reload it")
            text, crit = self._clean(s, a, body, c.criteria if criteria is None else criteria)
            new_vis = vis.value if vis is not None else c.visibility
            before = {"comment": c.id, "version": c.version, "visibility": c.visibility, "body": c.body,
                      "criteria": list(c.criteria or ())}
            now = utcnow()
            res = s.execute(update(DiscussionComment).where(DiscussionComment.id == c.id,
                                                            DiscussionComment.version == base_version)
                            .values(body=text, criteria=crit, visibility=new_vis, version=base_version + 1,
                                    updated_at=now).execution_options(synchronize_session=False))
            if res.rowcount != 1:
                raise StaleReview("this comment was edited elsewhere: reload it")
            s.execute(insert(DiscussionVersion).values(comment_id=c.id, proposal_pk=p.id, version=base_version + 1,
                                                       visibility=new_vis, body=text, criteria=crit, at=now,
                                                       by_user_id=a.who.id))
            self._audit(s, a.who, AuditAction.discussion_edit, ENTITY, round_id=a.round.id, proposal_id=p.proposal_id,
                        subject=a.who.username, before=before,
                        after={"comment": c.id, "version": base_version + 1, "visibility": new_vis, "body": text,
                               "criteria": crit})
            return base_version + 1

    # -- the others' reviews ------------------------------------------------------------------------------------
    def others_reviews(self, actor: UserInfo, round_id: int, proposal_id: str,
                       stage: str = Stage.document) -> list[ReviewContent]:
        """The other reviewers' submitted reviews of the proposal as ``actor`` may read them: none while the
        policy withholds them (see the module; under ``after_own_submit`` the hearing reviews of ``stage``
        ``hearing`` only once the reader's own hearing review is submitted); a chair reads them all. Conflicted: :class:`ConflictOfInterest`."""
        with self.db.read() as s:
            a = self._access(s, actor, round_id, proposal_id)
            if not a.others:
                return []
            if (not a.chair and a.policy == ReviewVisibility.after_own_submit and stage != Stage.document
                    and s.scalar(select(Review.id).where(
                        Review.proposal_pk == a.prop.id, Review.user_id == a.who.id, Review.stage == stage,
                        Review.status == ReviewStatus.submitted).limit(1)) is None):
                return []   # the others' hearing scores only after one's own hearing review is submitted
            q = (select(Review, User.username).join(User, Review.user_id == User.id)
                 .where(Review.proposal_pk == a.prop.id, Review.stage == stage,
                        Review.status == ReviewStatus.submitted).order_by(User.username))
            if a.who.id is not None:
                q = q.where(Review.user_id != a.who.id)
            return [ReviewContent(a.round.id, proposal_id, name, r.status, r.version, dict(r.levels or {}),
                                  dict(r.comments or {}), dict(r.bonus_marks or {}), r.overall_comment or "",
                                  as_utc(r.updated_at), None, as_utc(r.submitted_at), stage=r.stage)
                    for r, name in s.execute(q)]

    # -- read markers -------------------------------------------------------------------------------------------
    @staticmethod
    def _seen(s: Session, user_id: int | None, proposal_pk: int) -> int:
        if user_id is None:
            return 0
        return s.scalar(select(DiscussionRead.seen_upto).where(DiscussionRead.user_id == user_id,
                                                               DiscussionRead.proposal_pk == proposal_pk)) or 0

    def mark_read(self, actor: UserInfo, round_id: int, proposal_id: str) -> None:
        """Record that ``actor`` has now seen the discussion of the proposal. Nothing is recorded while the
        policy shows them only their own comments: what they could not read is still new when it appears.

        Pages call this on every run that shows the thread; when the marker is already at the thread's latest
        version (nothing new since the last look) it is found so in a read, without a write transaction."""
        with self.db.read() as s:
            if not self._marker_moves(s, actor, round_id, proposal_id):
                return
        with self.db.write() as s:
            a = self._access(s, actor, round_id, proposal_id)
            if a.who.id is None or not a.others:
                return
            upto = s.scalar(select(func.max(DiscussionVersion.id))
                            .where(DiscussionVersion.proposal_pk == a.prop.id)) or 0
            row = s.scalar(select(DiscussionRead).where(DiscussionRead.user_id == a.who.id,
                                                        DiscussionRead.proposal_pk == a.prop.id))
            if row is None:
                s.add(DiscussionRead(user_id=a.who.id, proposal_pk=a.prop.id, seen_upto=upto, seen_at=utcnow()))
            elif upto > row.seen_upto:
                row.seen_upto = upto
                row.seen_at = utcnow()

    def _marker_moves(self, s: Session, actor: UserInfo, round_id: int, proposal_id: str) -> bool:
        """Whether :meth:`mark_read` would record anything (a first look, or a version newer than the marker);
        the access checks are :meth:`mark_read`'s own (a refusal is raised here, as there)."""
        a = self._access(s, actor, round_id, proposal_id)
        if a.who.id is None or not a.others:
            return False
        upto = s.scalar(select(func.max(DiscussionVersion.id))
                        .where(DiscussionVersion.proposal_pk == a.prop.id)) or 0
        seen = s.scalar(select(DiscussionRead.seen_upto).where(DiscussionRead.user_id == a.who.id,
                                                               DiscussionRead.proposal_pk == a.prop.id))
        return seen is None or upto > seen

    def unread(self, actor: UserInfo, round_id: int) -> dict[str, int]:
        """Proposal id → how many comments are new or edited since ``actor`` last looked (those they may read
        now; their own excluded). Only proposals with something new are listed. A chair: every proposal they
        are not conflicted with; a reviewer: their assigned ones (and the shortlist at the hearing stage) as
        the policy lets them see the thread."""
        with self.db.read() as s:
            who = self._who(s, actor)
            if who.id is None or who.role not in (Role.chair, Role.reviewer):
                return {}
            r = self._round(s, round_id)
            latest = (select(DiscussionVersion.comment_id, func.max(DiscussionVersion.id).label("vid"))
                      .group_by(DiscussionVersion.comment_id).subquery())
            rows = s.execute(
                # the proposal's key and id, not its row with the JSON (issue 15: 進捗 and 提案の詳細 ask on every run)
                select(ProposalRow.id, ProposalRow.proposal_id, DiscussionComment.author_id,
                       DiscussionComment.visibility, latest.c.vid, DiscussionRead.seen_upto)
                .join(DiscussionComment, DiscussionComment.proposal_pk == ProposalRow.id)
                .join(latest, latest.c.comment_id == DiscussionComment.id)
                .outerjoin(DiscussionRead, (DiscussionRead.proposal_pk == ProposalRow.id)
                           & (DiscussionRead.user_id == who.id))
                .where(ProposalRow.round_id == r.id, DiscussionComment.author_id != who.id)).all()
            if not rows:
                return {}
            withheld = self._withheld(s, who, r.id, list(dict.fromkeys(pid for _, pid, *_ in rows)))
            access: dict[int, _Access | None] = {}
            out: dict[str, int] = {}
            for pk, pid, author_id, visibility, vid, seen in rows:
                if pid in withheld or vid <= (seen or 0):
                    continue
                if pk not in access:
                    try:
                        access[pk] = self._access(s, actor, r.id, pid)
                    except (PermissionDenied, ConflictOfInterest):
                        access[pk] = None
                a = access[pk]
                if a is not None and self._visible(a, author_id, visibility):
                    out[pid] = out.get(pid, 0) + 1
            return out
