"""The committee's decisions in the store (``store.decisions``; decisions.md, issue 18 item 3, docs/store.md
"Decisions"): per round and pack the draft edits, the checks, confirmation (確定) into numbered versions and
reopening — all through the core (:func:`scoring.decision_rules.decide`).

Rules (every one enforced here, whatever the UI shows):

- the proposed decisions come from the final ranking: the two-stage ranking (:meth:`HearingService.
  rank_hearing_round`) where the pack holds hearings and is in stage 決定, else the document ranking;
- only a chair edits, checks, confirms and reopens; a chair conflicted with a proposal can neither record nor
  change its decision (:class:`ConflictOfInterest`: another chair must) and the board tells them which rows;
- every edit carries the version it started from: another chair's newer edit of the same proposal refuses it
  (:class:`StaleDecision`), nothing is overwritten;
- confirming checks every rule of decisions.md §2–3 and refuses with all problems at once; it freezes the whole
  decided set as version 1, 2, … and locks the round (no review, resolution, shortlist or stage change; unlocking
  is refused while a version is in force); edits are refused until a chair reopens it with a reason;
- the secretariat reads the confirmed versions (never the draft nor the scores of the ranking); everything
  changed is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..decision_rules import decide
from ..decisions import OUTCOME_CODE, DecisionEdit, Decisions
from ..errors import InputError, Problem, quote
from ..models import Role, RoundStatus, Stage
from ..money import MoneyError, parse_yen
from ..params import Params
from .base import Actor, ServiceBase, deny
from .errors import ConflictOfInterest, NotFound, RoundLocked, StoreError
from .schema import DecisionEditRow, DecisionVersionRow, ProposalRow, Round, RoundPack, as_utc, utcnow
from .values import AuditAction, UserInfo

ENTITY = "decision"
SOURCE = "decisions"
MAX_TEXT = 4000


class StaleDecision(StoreError):
    """Another chair changed this proposal's decision after the screen read it; nothing was written.
    ``current`` is the edit stored now (None: it was cleared)."""

    def __init__(self, message: str, current: "EditInfo | None" = None):
        super().__init__(message)
        self.current = current


class DecisionsConfirmed(RoundLocked):
    """The pack's decisions are confirmed (確定): reopen them (with a reason) before changing anything."""


@dataclass(frozen=True)
class EditInfo:
    """A stored draft edit of one proposal (blank fields keep the proposed value)."""

    proposal_id: str
    decision: str | None
    awarded_yen: int | None
    approved_cost_yen: int | None
    conditions: str
    reason: str
    reserve_position: int | None
    version: int
    by: str
    at: datetime


@dataclass(frozen=True)
class ConfirmedVersion:
    """A confirmed version: the decided set as it was confirmed (``results``: the JSON results of
    :meth:`scoring.decisions.Decisions.results` with ``by``/``at`` of each edit), the budget line, who and when;
    reopened when ``reopened_at`` is set."""

    round_id: int
    pack_id: str
    version: int
    results: list[dict]
    budget: dict
    by: str
    at: datetime
    reopened_by: str | None = None
    reopened_at: datetime | None = None
    reopen_reason: str | None = None

    @property
    def in_force(self) -> bool:
        return self.reopened_at is None


@dataclass
class DecisionBoard:
    """What the chair's page shows: the live decisions (draft edits applied, problems kept, never raised), the
    stored edits by proposal id, the proposals the chair is conflicted with, and the versions (newest last)."""

    round_id: int
    pack_id: str
    decisions: Decisions
    edits: dict[str, EditInfo]
    conflicted: frozenset[str]
    versions: list[ConfirmedVersion]
    stage: str

    @property
    def confirmed(self) -> ConfirmedVersion | None:
        """The version in force (None: a draft)."""
        return self.versions[-1] if self.versions and self.versions[-1].in_force else None


def _edit_info(row: DecisionEditRow, pid: str) -> EditInfo:
    return EditInfo(pid, row.decision, row.awarded_yen, row.approved_cost_yen, row.conditions or "", row.reason or "",
                    row.reserve_position, row.version, row.updated_by, as_utc(row.updated_at))


def _version_info(row: DecisionVersionRow) -> ConfirmedVersion:
    data = row.data or {}
    return ConfirmedVersion(row.round_id, row.pack_id, row.version, list(data.get("results", [])),
                            dict(data.get("budget", {})), row.confirmed_by, as_utc(row.confirmed_at),
                            row.reopened_by, as_utc(row.reopened_at), row.reopen_reason)


def _problem(field: str, message: str, row: str | None = None) -> InputError:
    return InputError([Problem(SOURCE, row, field, message)])


def _money(value: Any, field: str, pid: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_yen(value)
    except MoneyError as exc:
        raise _problem(field, str(exc), pid) from None


def _position(value: Any, pid: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdecimal() or len(text) > 6 or int(text) < 1:
        raise _problem("reserve_position", f"must be a whole number ≥ 1 (got {quote(value)})", pid)
    return int(text)


def _text(value: Any, field: str, pid: str) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise _problem(field, f"at most {MAX_TEXT} characters (got {len(text)})", pid)
    return text


class DecisionService(ServiceBase):
    """``store.decisions``: the board, edits, checks, confirmation, versions, reopening."""

    # -- helpers ----------------------------------------------------------------------------------------------
    def _chair(self, s: Session, actor: UserInfo, what: str) -> Actor:
        who = self._who(s, actor)
        if not who.is_(Role.chair):
            raise deny(who, what)
        return who

    def _pack_row(self, s: Session, r: Round, pack: str | None) -> RoundPack:
        pid = self.store.rounds._pack_id(s, r.id, pack)
        return s.scalar(select(RoundPack).where(RoundPack.round_id == r.id, RoundPack.pack_id == pid))

    def _ranking(self, s: Session, who: Actor, r: Round, k: RoundPack, call=None):
        """The final ranking: both stages where the pack holds hearings and is decided, else the document one.
        ``call``: the actor's ``(call, resolutions)`` of this pack when the caller holds it (see :meth:`board`)."""
        pack = self.store._pack(s, r.id, k.pack_id)
        if pack.hearing is not None and (k.stage or Stage.document) == Stage.decided:
            hs = self.store.hearings
            return hs._rank(s, who, r, k, None, None, hs._edits(s, r, k.pack_id), True, {})
        if call is None or call[0].pack.id != k.pack_id:
            call = self.store.rounds._call(s, r, k.pack_id, self._withheld(s, who, r.id))
        call, resolutions = call
        return call.rank(Params.from_pack(call.pack), resolutions)

    def _edit_rows(self, s: Session, r: Round, pack_id: str) -> list[tuple[DecisionEditRow, str]]:
        q = (select(DecisionEditRow, ProposalRow.proposal_id)
             .join(ProposalRow, DecisionEditRow.proposal_pk == ProposalRow.id)
             .where(DecisionEditRow.round_id == r.id, DecisionEditRow.pack_id == pack_id)
             .order_by(ProposalRow.position))
        return [(row, pid) for row, pid in s.execute(q)]

    def _versions(self, s: Session, r: Round, pack_id: str) -> list[DecisionVersionRow]:
        return list(s.scalars(select(DecisionVersionRow).where(DecisionVersionRow.round_id == r.id,
                                                               DecisionVersionRow.pack_id == pack_id)
                              .order_by(DecisionVersionRow.version)))

    def _in_force(self, s: Session, r: Round, pack_id: str) -> DecisionVersionRow | None:
        rows = self._versions(s, r, pack_id)
        return rows[-1] if rows and rows[-1].reopened_at is None else None

    def _decide(self, s: Session, who: Actor, r: Round, k: RoundPack,
                call=None) -> tuple[Decisions, dict[str, EditInfo]]:
        ranking = self._ranking(s, who, r, k, call)
        infos = {pid: _edit_info(row, pid) for row, pid in self._edit_rows(s, r, k.pack_id)}
        edits = [DecisionEdit(e.proposal_id, e.decision, e.awarded_yen, e.approved_cost_yen, e.conditions, e.reason,
                              e.reserve_position, row=e.proposal_id, by=e.by, at=e.at.isoformat())
                 for e in infos.values()]
        return decide(ranking, edits, source=SOURCE, strict=False), infos

    def _refuse_confirmed(self, s: Session, r: Round, pack_id: str) -> None:
        v = self._in_force(s, r, pack_id)
        if v is not None:
            raise DecisionsConfirmed(f"the decisions of pack {pack_id} in round {r.name!r} are confirmed "
                                     f"(version {v.version}): reopen them first")

    # -- reading ----------------------------------------------------------------------------------------------
    def board(self, actor: UserInfo, round_id: int | str, pack: str | None = None, call=None) -> DecisionBoard:
        """Chair: the live decisions of one pack with their problems, the stored edits, the proposals the chair is
        conflicted with, the confirmed versions. ``call``: the ``(call, resolutions)`` that
        :meth:`RoundService.call` gives this actor for this round and pack, when the caller holds it already (the
        app keeps it while the round's audit log is unchanged): the ranking is then not rebuilt from the
        database (issue 15: most of the 採否・通知 page's time). A call of another pack is ignored."""
        with self.db.read() as s:
            who = self._chair(s, actor, "see the draft decisions")
            r = self._round(s, round_id)
            k = self._pack_row(s, r, pack)
            d, infos = self._decide(s, who, r, k, call)
            return DecisionBoard(r.id, k.pack_id, d, infos, self._withheld(s, who, r.id),
                                 [_version_info(v) for v in self._versions(s, r, k.pack_id)], k.stage or "document")

    def versions(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> list[ConfirmedVersion]:
        """Chair, secretariat: every confirmed version, oldest first (the in-force one last, unless reopened)."""
        with self.db.read() as s:
            self._admin(s, actor, "see the confirmed decisions")
            r = self._round(s, round_id)
            k = self._pack_row(s, r, pack)
            return [_version_info(v) for v in self._versions(s, r, k.pack_id)]

    def confirmed(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> ConfirmedVersion | None:
        """Chair, secretariat: the version in force, or None (a draft, or reopened)."""
        versions = self.versions(actor, round_id, pack)
        return versions[-1] if versions and versions[-1].in_force else None

    def is_confirmed(self, s: Session, round_id: int) -> bool:
        """Whether any pack of the round has a version in force (the round stays locked while one has)."""
        latest = (select(DecisionVersionRow.pack_id, func.max(DecisionVersionRow.version).label("v"))
                  .where(DecisionVersionRow.round_id == round_id).group_by(DecisionVersionRow.pack_id).subquery())
        q = (select(DecisionVersionRow.id).join(latest, (latest.c.pack_id == DecisionVersionRow.pack_id)
                                                & (latest.c.v == DecisionVersionRow.version))
             .where(DecisionVersionRow.round_id == round_id, DecisionVersionRow.reopened_at.is_(None)).limit(1))
        return s.scalar(q) is not None

    def check(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> list[Problem]:
        """Chair: every broken rule of decisions.md §2–3 of the draft (empty: it can be confirmed)."""
        return list(self.board(actor, round_id, pack).decisions.problems)

    # -- edits ------------------------------------------------------------------------------------------------
    def set_edit(self, actor: UserInfo, round_id: int | str, pack: str | None, proposal_id: str, *,
                 decision: str | None = None, awarded_yen: int | str | None = None,
                 approved_cost_yen: int | str | None = None, conditions: str | None = None,
                 reason: str | None = None, reserve_position: int | str | None = None,
                 base_version: int = 0) -> EditInfo:
        """Chair: record the committee's change to one proposal (replacing the stored one). Money as typed
        (``4,000万円``); blank fields keep the proposed value. ``base_version``: the version the screen started from
        (0: none stored). Refused: a conflicted chair, a confirmed pack, a stale version, a value that cannot be
        read. The rules of the whole set (budget, reasons, …) are checked by :meth:`check` and :meth:`confirm`."""
        pid = str(proposal_id)
        dec = None if decision is None or not str(decision).strip() else str(decision).strip()
        if dec is not None and dec not in OUTCOME_CODE:
            raise _problem("decision", f"{quote(decision)} is not one of {list(OUTCOME_CODE)}", pid)
        values = dict(decision=dec, awarded_yen=_money(awarded_yen, "awarded_yen", pid),
                      approved_cost_yen=_money(approved_cost_yen, "approved_cost_yen", pid),
                      conditions=_text(conditions, "conditions", pid), reason=_text(reason, "reason", pid),
                      reserve_position=_position(reserve_position, pid))
        with self.db.write() as s:
            who, r, k, p, row = self._load_edit(s, actor, round_id, pack, pid, base_version)
            now = utcnow()
            before = None if row is None else {**self._row_dict(row), "version": row.version}
            if row is None:
                row = DecisionEditRow(round_id=r.id, pack_id=k.pack_id, proposal_pk=p.id, version=1)
                s.add(row)
            else:
                row.version += 1
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_by, row.updated_at = who.username, now
            s.flush()
            self._audit(s, who, AuditAction.decision_set, ENTITY, round_id=r.id, proposal_id=pid, before=before,
                        after={"pack": k.pack_id, **values, "version": row.version})
            return _edit_info(row, pid)

    def clear_edit(self, actor: UserInfo, round_id: int | str, pack: str | None, proposal_id: str,
                   base_version: int) -> None:
        """Chair: back to everything proposed for one proposal (same refusals as :meth:`set_edit`)."""
        pid = str(proposal_id)
        with self.db.write() as s:
            who, r, k, p, row = self._load_edit(s, actor, round_id, pack, pid, base_version)
            if row is None:
                return
            self._audit(s, who, AuditAction.decision_clear, ENTITY, round_id=r.id, proposal_id=pid,
                        before={**self._row_dict(row), "version": row.version}, after={"pack": k.pack_id})
            s.delete(row)

    @staticmethod
    def _row_dict(row: DecisionEditRow) -> dict:
        return {"decision": row.decision, "awarded_yen": row.awarded_yen, "approved_cost_yen": row.approved_cost_yen,
                "conditions": row.conditions, "reason": row.reason, "reserve_position": row.reserve_position}

    def _load_edit(self, s: Session, actor: UserInfo, round_id, pack, pid: str, base_version: int):
        who = self._chair(s, actor, "record decisions")
        r = self._round(s, round_id)
        k = self._pack_row(s, r, pack)
        try:
            p = self._proposal(s, r.id, pid)
        except NotFound:
            raise _problem("proposal_id", f"{quote(pid)} is not a proposal of round {r.name!r}", pid) from None
        if p.pack_id != k.pack_id:
            raise _problem("proposal_id", f"{quote(pid)} is not a proposal of pack {k.pack_id}", pid)
        if who.id is not None and self._conflicted(s, r.id, p, who.id):
            raise ConflictOfInterest(f"{who.username} has a conflict of interest with {pid}: another chair must "
                                     "record its decision")
        self._refuse_confirmed(s, r, k.pack_id)
        row = s.scalar(select(DecisionEditRow).where(DecisionEditRow.proposal_pk == p.id))
        stored = 0 if row is None else row.version
        if stored != int(base_version):
            raise StaleDecision(f"the decision of {pid} was changed elsewhere"
                                + (f" by {row.updated_by}" if row is not None else ""),
                                None if row is None else _edit_info(row, pid))
        return who, r, k, p, row

    # -- confirmation -----------------------------------------------------------------------------------------
    def confirm(self, actor: UserInfo, round_id: int | str, pack: str | None = None) -> ConfirmedVersion:
        """Chair: check every rule (all problems at once, :class:`InputError`, nothing written), freeze the decided
        set as the next version and lock the round. A pack that holds hearings must be in stage 決定 first."""
        with self.db.write() as s:
            who = self._chair(s, actor, "confirm decisions")
            r = self._round(s, round_id)
            k = self._pack_row(s, r, pack)
            self._refuse_confirmed(s, r, k.pack_id)
            if self.store._pack(s, r.id, k.pack_id).hearing is not None and k.stage != Stage.decided:
                raise _problem("stage", f"pack {k.pack_id} holds hearings and is in stage {k.stage}: move it to "
                                        f"stage {Stage.decided.value} before confirming")
            d, infos = self._decide(s, who, r, k)
            if d.problems:
                raise InputError(list(d.problems))
            results = d.results()
            for res in results:
                e = infos.get(res["proposal_id"])
                res["by"], res["at"] = (e.by, e.at.isoformat()) if e is not None else (None, None)
            number = (s.scalar(select(func.max(DecisionVersionRow.version)).where(
                DecisionVersionRow.round_id == r.id, DecisionVersionRow.pack_id == k.pack_id)) or 0) + 1
            now = utcnow()
            data = {"pack": k.pack_id, "parameters": _plain(d.parameters()), "budget": d.budget_dict(),
                    "results": _plain(results)}
            row = DecisionVersionRow(round_id=r.id, pack_id=k.pack_id, version=number, data=data,
                                     confirmed_by=who.username, confirmed_at=now)
            s.add(row)
            if r.status != RoundStatus.locked:
                r.status, r.locked_at = RoundStatus.locked, now
                self._audit(s, who, AuditAction.round_lock, "round", round_id=r.id, before={"status": "open"},
                            after={"status": "locked", "by": "decision.confirm"})
            s.flush()
            self._audit(s, who, AuditAction.decision_confirm, ENTITY, round_id=r.id,
                        after={"pack": k.pack_id, "version": number, "budget": d.budget_dict(),
                               "departures": int(d.departure.sum())})
            return _version_info(row)

    def reopen(self, actor: UserInfo, round_id: int | str, pack: str | None, reason: str) -> ConfirmedVersion:
        """Chair: reopen the confirmed decisions (a reason is required; logged). The round stays locked — a chair
        unlocks it on its own when reviews must change."""
        reason = (reason or "").strip()
        with self.db.write() as s:
            who = self._chair(s, actor, "reopen decisions")
            r = self._round(s, round_id)
            k = self._pack_row(s, r, pack)
            if not reason:
                raise _problem("reason", "reopening confirmed decisions needs a reason")
            row = self._in_force(s, r, k.pack_id)
            if row is None:
                raise _problem("version", f"the decisions of pack {k.pack_id} are not confirmed: nothing to reopen")
            row.reopened_by, row.reopened_at, row.reopen_reason = who.username, utcnow(), _text(reason, "reason", "")
            s.flush()
            self._audit(s, who, AuditAction.decision_reopen, ENTITY, round_id=r.id,
                        before={"pack": k.pack_id, "version": row.version}, after={"reason": reason})
            return _version_info(row)


def _plain(value: Any) -> Any:
    """JSON-safe (NaN scores → None, numpy numbers → Python)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, Fraction):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())
    return value


__all__ = ["DecisionService", "DecisionBoard", "EditInfo", "ConfirmedVersion", "StaleDecision",
           "DecisionsConfirmed"]
