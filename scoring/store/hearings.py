"""The hearing stage in the store (``store.hearings``; stages.md, docs/store.md "Hearing stage"): a pack's stage
in a round (書面審査 → ヒアリング対象の選定 → ヒアリング → 決定), the chair's shortlist edits, and the two-stage
ranking through the core (:meth:`scoring.call.Call.rank_hearing`).

Rules (every one enforced here, whatever the UI shows):

- only the chair moves a pack's stage; forward one step at a time, back to any earlier stage with a reason;
  every move is logged (``stage.set``). A pack without a ``hearing`` section goes document ⇄ decided only;
- shortlist edits (add/remove with a reason, stages.md §2) only by the chair and only while the pack is in the
  shortlist stage; refused exactly as the core refuses them (:func:`scoring.stages.apply_edits`), nothing written;
- moving to the hearing stage fixes the shortlist (the method's cut with the stored edits, with the hearing
  parameters given — the pack's by default) and stores it with those parameters; moving back before the hearing
  clears it. A shortlist that leaves out a proposal with a saved hearing review is refused;
- the review rules per stage are in :mod:`scoring.store.reviews` (document reviews read-only once the pack left
  the document stage; hearing reviews only of shortlisted proposals while the pack is in the hearing stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InputError, Problem
from ..hearing_ranking import HearingParams, HearingRanking, ShortlistEdit
from ..models import STAGE_ORDER, Role, Stage
from ..params import Params
from .base import Actor, ServiceBase, deny
from .errors import NotFound
from .schema import ProposalRow, Round, RoundPack, ShortlistEditRow, as_utc, utcnow
from .values import AuditAction, UserInfo

STAGE_ENTITY = "stage"          # the audit-log entity of stage moves and shortlist edits
EDITS_SOURCE = "shortlist (stored)"


@dataclass(frozen=True)
class PackStage:
    """A pack's stage in a round; from the hearing stage on, the fixed shortlist (ids in document rank order)
    and the hearing parameters it was cut with (:meth:`HearingParams` keys)."""

    round_id: int
    pack_id: str
    stage: str
    has_hearing: bool
    shortlist: tuple[str, ...] | None = None
    hearing_params: dict | None = None


def params_json(hp: HearingParams) -> dict:
    """The hearing parameters as stored (``multiple`` exact, as text)."""
    out: dict[str, Any] = {}
    for k in HearingParams.KEYS:
        v = getattr(hp, k)
        out[k] = str(v) if isinstance(v, Fraction) else v
    return out


def params_from_json(data: dict) -> HearingParams:
    return HearingParams(**{k: v for k, v in data.items() if k in HearingParams.KEYS})


def _problem(field: str, message: str) -> InputError:
    return InputError([Problem("(stage)", None, field, message)])


class HearingService(ServiceBase):
    """``store.hearings``: stages, shortlist edits, the two-stage ranking."""

    # -- reading ----------------------------------------------------------------------------------------------
    def _pack_row(self, s: Session, r: Round, pack_id: str | None) -> RoundPack:
        pid = self.store.rounds._pack_id(s, r.id, pack_id)
        return s.scalar(select(RoundPack).where(RoundPack.round_id == r.id, RoundPack.pack_id == pid))

    def _info(self, s: Session, r: Round, k: RoundPack) -> PackStage:
        pack = self.store._pack(s, r.id, k.pack_id)
        return PackStage(r.id, k.pack_id, k.stage or Stage.document, pack.hearing is not None,
                         None if k.shortlist is None else tuple(k.shortlist),
                         None if k.hearing_params is None else dict(k.hearing_params))

    def get_stage(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> PackStage:
        """The pack's stage: for the chair, the secretariat and the round's committee."""
        with self.db.read() as s:
            who = self._who(s, actor)
            r = self._round(s, round_id)
            if not who.is_(Role.chair, Role.secretariat) and not self._is_member(s, r.id, who.id):
                raise deny(who, f"see round {r.name!r}")
            return self._info(s, r, self._pack_row(s, r, pack))

    def list_edits(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> list[ShortlistEdit]:
        """Chair: the stored shortlist edits in order (``row`` is the stored id; ``by``/``at`` who and when)."""
        with self.db.read() as s:
            who = self._chair(s, actor, "see the shortlist edits")
            r = self._round(s, round_id)
            return self._edits(s, r, self._pack_row(s, r, pack).pack_id)

    def _chair(self, s: Session, actor: UserInfo, what: str) -> Actor:
        who = self._who(s, actor)
        if not who.is_(Role.chair):
            raise deny(who, what)
        return who

    def _edits(self, s: Session, r: Round, pack_id: str) -> list[ShortlistEdit]:
        q = (select(ShortlistEditRow, ProposalRow.proposal_id)
             .join(ProposalRow, ShortlistEditRow.proposal_pk == ProposalRow.id)
             .where(ShortlistEditRow.round_id == r.id, ShortlistEditRow.pack_id == pack_id)
             .order_by(ShortlistEditRow.id))
        return [ShortlistEdit(pid, e.action, e.reason, row=str(e.id), by=e.created_by,
                              at=as_utc(e.created_at).isoformat()) for e, pid in s.execute(q)]

    # -- the two-stage ranking ------------------------------------------------------------------------------
    def _rank(self, s: Session, who: Actor, r: Round, k: RoundPack, params: Params | None,
              hearing: HearingParams | None, edits: list[ShortlistEdit], strict: bool,
              overrides: dict) -> HearingRanking:
        call, resolutions = self.store.rounds._call(s, r, k.pack_id, self._withheld(s, who, r.id))
        if call.pack.hearing is None:
            raise _problem("pack", f"pack {k.pack_id} has no hearing stage (no hearing section)")
        the_params = params if params is not None else Params.from_pack(call.pack, **overrides)
        if hearing is None and k.hearing_params is not None:
            hearing = params_from_json(k.hearing_params)
        return call.rank_hearing(the_params, edits, hearing, resolutions, edits_source=EDITS_SOURCE, strict=strict)

    def rank_hearing_round(self, actor: UserInfo, round_id: int | str, pack: str | None = None, params=None,
                           hearing: HearingParams | None = None, *, strict: bool = True,
                           **overrides) -> HearingRanking:
        """Chair: both stages of one pack (:meth:`scoring.call.Call.rank_hearing`) over the stored proposals,
        document and hearing reviews, reviewers with their conflicts, resolutions and shortlist edits.
        ``hearing``: a what-if of the hearing parameters (None: those the shortlist was fixed with, else the
        pack's); ``params`` / ``overrides`` as for :meth:`RoundService.rank_round`. ``strict=False`` leaves out
        hearing reviews of proposals the what-if does not shortlist instead of refusing them."""
        with self.db.read() as s:
            who = self._chair(s, actor, "rank a round")
            r = self._round(s, round_id)
            k = self._pack_row(s, r, pack)
            return self._rank(s, who, r, k, params, hearing, self._edits(s, r, k.pack_id), strict, overrides)

    # -- stage moves ------------------------------------------------------------------------------------------
    def set_stage(self, actor: UserInfo, round_id: int | str, pack: str | None, stage: str, reason: str = "",
                  hearing: HearingParams | None = None) -> PackStage:
        """Chair: move the pack to ``stage`` (logged with the reason). Forward one step at a time; back to any
        earlier stage only with a reason. ``hearing`` (moving forward into the shortlist or hearing stage): the
        hearing parameters the chair chose (a what-if of the method), stored and used from then on (None: those
        stored, else the pack's). Entering the hearing stage fixes the shortlist (the method's cut with the stored
        edits); going back to the shortlist stage clears it, back to the document stage clears the parameters."""
        if stage not in STAGE_ORDER:
            raise _problem("stage", f"{str(stage)[:40]!r} is not one of {[x.value for x in STAGE_ORDER]}")
        stage = Stage(stage)
        reason = (reason or "").strip()
        with self.db.write() as s:
            who = self._chair(s, actor, "move a pack's stage")
            r = self._round(s, round_id, writable=True)
            k = self._pack_row(s, r, pack)
            has_hearing = self.store._pack(s, r.id, k.pack_id).hearing is not None
            order = STAGE_ORDER if has_hearing else (Stage.document, Stage.decided)
            current = Stage(k.stage or Stage.document)
            if stage not in order:
                raise _problem("stage", f"pack {k.pack_id} has no hearing section: its stages are "
                                        f"{[x.value for x in order]}")
            i, j = order.index(current), order.index(stage)
            if j == i:
                raise _problem("stage", f"pack {k.pack_id} is already in stage {stage.value}")
            if j > i + 1:
                raise _problem("stage", f"pack {k.pack_id} is in stage {current.value}: the next stage is "
                                        f"{order[i + 1].value}, not {stage.value}")
            if j < i and not reason:
                raise _problem("reason", f"moving pack {k.pack_id} back from {current.value} to {stage.value} "
                                         "needs a reason")
            before = {"pack": k.pack_id, "stage": current.value}
            after: dict[str, Any] = {"pack": k.pack_id, "stage": stage.value, "reason": reason}
            if hearing is not None and j > i and stage in (Stage.shortlist, Stage.hearing):
                k.hearing_params = params_json(hearing)
                after["hearing_params"] = k.hearing_params
            if stage == Stage.hearing and current == Stage.shortlist:
                ranking = self._rank(s, who, r, k, None, None, self._edits(s, r, k.pack_id), True, {})
                k.shortlist = ranking.shortlist_ids()
                k.hearing_params = params_json(ranking.hearing_params)
                after.update(shortlist=list(k.shortlist), hearing_params=k.hearing_params)
            elif j < i and stage in (Stage.document, Stage.shortlist):
                if k.shortlist is not None:
                    before["shortlist"] = list(k.shortlist)
                k.shortlist = None
                if stage == Stage.document:
                    k.hearing_params = None
            k.stage = stage.value
            self._audit(s, who, AuditAction.stage_set, STAGE_ENTITY, round_id=r.id, before=before, after=after)
            s.flush()
            return self._info(s, r, k)

    # -- shortlist edits --------------------------------------------------------------------------------------
    def add_to_shortlist(self, actor: UserInfo, round_id: int | str, pack: str | None, proposal_id: str,
                         reason: str) -> ShortlistEdit:
        """Chair, in the shortlist stage: add a qualifying proposal (with a reason)."""
        return self._edit(actor, round_id, pack, proposal_id, "add", reason)

    def remove_from_shortlist(self, actor: UserInfo, round_id: int | str, pack: str | None, proposal_id: str,
                              reason: str) -> ShortlistEdit:
        """Chair, in the shortlist stage: remove a shortlisted proposal (with a reason)."""
        return self._edit(actor, round_id, pack, proposal_id, "remove", reason)

    def _edit(self, actor: UserInfo, round_id: int | str, pack: str | None, proposal_id: str, action: str,
              reason: str) -> ShortlistEdit:
        reason = (reason or "").strip()
        with self.db.write() as s:
            who = self._chair(s, actor, "change the hearing shortlist")
            r = self._round(s, round_id, writable=True)
            k = self._pack_row(s, r, pack)
            if (k.stage or Stage.document) != Stage.shortlist:
                raise _problem("stage", f"pack {k.pack_id} is in stage {k.stage}: the shortlist is changed only "
                                        f"in stage {Stage.shortlist.value}")
            new = ShortlistEdit(str(proposal_id), action, reason, row="new", by=who.username)
            # the core's rules (stages.md §2) on the stored edits plus this one; InputError names the refusal
            self._rank(s, who, r, k, None, None, self._edits(s, r, k.pack_id) + [new], False, {})
            try:
                p = self._proposal(s, r.id, str(proposal_id))
            except NotFound:
                raise _problem("proposal_id", f"{str(proposal_id)[:80]!r} is not a proposal of the round") from None
            now = utcnow()
            row = ShortlistEditRow(round_id=r.id, pack_id=k.pack_id, proposal_pk=p.id, action=action, reason=reason,
                                   created_by=who.username, created_at=now)
            s.add(row)
            s.flush()
            self._audit(s, who, AuditAction.shortlist_add if action == "add" else AuditAction.shortlist_remove,
                        STAGE_ENTITY, round_id=r.id, proposal_id=p.proposal_id,
                        after={"pack": k.pack_id, "action": action, "reason": reason})
            return ShortlistEdit(p.proposal_id, action, reason, row=str(row.id), by=who.username,
                                 at=as_utc(now).isoformat())
