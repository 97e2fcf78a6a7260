"""What a committee member sees of the hearing stage (``store.hearing_forms``; issue 17, docs/store.md "Hearing
forms"): the hearing forms they may fill in, and the document stage's comments on a shortlisted proposal shown as
question prompts (「書面審査での指摘（質問の参考）」).

Rules (the same as the hearing review's own, :mod:`scoring.store.reviews`):

- forms: every committee member gets one per proposal on the fixed shortlist of a pack in the hearing stage,
  except the proposals they are conflicted with (not listed at all);
- prompts: read by a committee member or a chair, only for a proposal on the fixed shortlist of a pack in the
  hearing (or decided) stage, and never by a reader conflicted with it (:class:`ConflictOfInterest`, whatever the
  role). They are the comments (per criterion, per judged bonus, overall) of the **submitted** document reviews of
  reviewers not conflicted with the proposal — the reviews that count — without levels. A chair sees who wrote
  each; a member sees "委員1, 委員2 …" (numbered per proposal), since other reviewers' reviews are not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..models import ReviewStatus, Role, RoundStatus, Stage
from .base import ServiceBase, deny
from .errors import ConflictOfInterest, ReviewLocked
from .schema import ProposalRow, Review, Round, RoundMember, RoundPack, User, as_utc
from .values import UserInfo

PROMPT_STAGES = (Stage.hearing, Stage.decided)


@dataclass(frozen=True)
class HearingForm:
    """A hearing form a member may open: ``status`` ``assigned`` (nothing saved) | ``draft`` | ``submitted``."""

    round_id: int
    pack: str
    proposal_id: str
    title: str
    status: str
    version: int = 0
    updated_at: datetime | None = None
    round_locked: bool = False


@dataclass(frozen=True)
class Prompt:
    """One document-stage comment: ``item`` a criterion id, ``bonus:<id>`` or ``overall``; ``reviewer`` the
    writer's username for a chair, else ``None`` with ``number`` the writer's number (1, 2 …) for this proposal."""

    item: str
    text: str
    number: int
    reviewer: str | None = None


class HearingFormService(ServiceBase):
    """``store.hearing_forms``: a member's hearing forms and the question prompts of a proposal."""

    def list_for(self, actor: UserInfo, round_id: int | None = None) -> list[HearingForm]:
        """The actor's hearing forms in every round they sit on (or one), locked rounds included (read-only),
        in shortlist order per pack; conflicted proposals are left out."""
        with self.db.read() as s:
            who = self._who(s, actor)
            out: list[HearingForm] = []
            for r, k in self._member_hearing_packs(s, who, round_id):
                ids = list(k.shortlist or ())
                rows = {p.proposal_id: p for p in s.scalars(select(ProposalRow).where(
                    ProposalRow.round_id == r.id, ProposalRow.proposal_id.in_(ids)))}
                hidden = {pid for _, pid in self._conflict_pairs(s, r.id, list(rows.values()), [who.id])}
                mine = {pk: rv for pk, rv in s.execute(
                    select(Review.proposal_pk, Review).where(Review.round_id == r.id, Review.user_id == who.id,
                                                              Review.stage == Stage.hearing))}
                for pid in ids:
                    p = rows.get(pid)
                    if p is None or pid in hidden:
                        continue
                    rv = mine.get(p.id)
                    out.append(HearingForm(r.id, k.pack_id, pid, p.title or "",
                                           "assigned" if rv is None else rv.status,
                                           0 if rv is None else rv.version,
                                           None if rv is None else as_utc(rv.updated_at),
                                           r.status == RoundStatus.locked))
            return out

    def _hearing_access(self, s, who, r: Round, proposal_id: str) -> ProposalRow:
        """The rule of the hearing forms and prompts: a chair or a committee member, a proposal on the fixed
        shortlist of a pack in the hearing (or decided) stage, no conflict of interest whatever the role."""
        if not who.is_(Role.chair) and not self._is_member(s, r.id, who.id):
            raise deny(who, f"see the hearing of round {r.name!r}")
        p = self._proposal(s, r.id, proposal_id)
        k = s.scalar(select(RoundPack).where(RoundPack.round_id == r.id, RoundPack.pack_id == p.pack_id))
        if (k.stage or Stage.document) not in PROMPT_STAGES or proposal_id not in (k.shortlist or ()):
            raise ReviewLocked(f"{proposal_id} is not on the fixed hearing shortlist of pack {p.pack_id}",
                               "not_shortlisted")
        if who.id is not None and self._conflicted(s, r.id, p, who.id):
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with {proposal_id}")
        return p

    def get_proposal(self, actor: UserInfo, round_id: int, proposal_id: str):
        """A shortlisted proposal (:class:`scoring.models.Proposal`) for the member hearing it — assigned to
        them or not: the whole committee hears every slot — under the rule of :meth:`prompts`."""
        with self.db.read() as s:
            who = self._who(s, actor)
            p = self._hearing_access(s, who, self._round(s, round_id), proposal_id)
            return self.store._proposal_model(p)

    def prompts(self, actor: UserInfo, round_id: int, proposal_id: str) -> list[Prompt]:
        """The question prompts of one shortlisted proposal (rules in the module's docstring), per writer in
        the committee's order, each writer's comments in the pack's criterion order, bonuses, then overall."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            p = self._hearing_access(s, who, r, proposal_id)
            is_chair = who.is_(Role.chair)
            rows = list(s.execute(
                select(User.id, User.username, Review.comments, Review.overall_comment)
                .join(Review, Review.user_id == User.id)
                .outerjoin(RoundMember, (RoundMember.user_id == User.id) & (RoundMember.round_id == r.id))
                .where(Review.proposal_pk == p.id, Review.stage == Stage.document,
                       Review.status == ReviewStatus.submitted)
                .order_by(RoundMember.position, User.username)))
            counted = {uid for uid, *_ in rows} - {uid for uid, _ in self._conflict_pairs(
                s, r.id, [p], [uid for uid, *_ in rows])}
            pack = self.store._pack(s, r.id, p.pack_id)
            items = list(pack.criterion_ids) + [f"bonus:{b.id}" for b in pack.judged_bonuses]
            out: list[Prompt] = []
            number = 0
            for uid, username, comments, overall in rows:
                if uid not in counted:
                    continue
                texts = [(i, str((comments or {}).get(i) or "").strip()) for i in items]
                texts.append(("overall", (overall or "").strip()))
                texts = [(i, x) for i, x in texts if x]
                if not texts:
                    continue
                number += 1
                out += [Prompt(i, x, number, username if is_chair else None) for i, x in texts]
            return out
