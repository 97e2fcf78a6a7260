"""The committee's changes applied to the proposed decisions, every rule of decisions.md §2–3 checked and every
broken one listed at once (:func:`decide`).

Each problem names the source, the edit's row and the field (``decisions.csv:4:reason: …``); a problem of the
whole set (the budget, a reserve not in the file) names no row. With ``strict`` the problems raise one
:class:`~scoring.errors.InputError`; without, they are kept on the returned :class:`~scoring.decisions.Decisions`
(a draft shown live, e.g. the budget gauge of a page). Money is integer yen throughout (the subsidy grant with
integer arithmetic on the pack's exact rate, never a float).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .decisions import (ADOPTED, CONDITIONAL_ADOPTED, NOT_ADOPTED, OUTCOME_CODE, OUTCOMES, RESERVE,
                        DecisionEdit, Decisions, propose)
from .errors import InputError, Problem, quote
from .models import Decision
from .money import MoneyError, format_yen, parse_yen
from .ranking import CODE, Ranking

MAX_POSITION_TEXT = 12


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _row_key(row: str | None) -> int:
    return int(row) if row and row.isdigit() else 0


def subsidy_grant(approved_cost: int, numerator: int, denominator: int, rounding: int) -> int:
    """decisions.md §2: A = floor(C' × rate ÷ rounding) × rounding, in integers (rate = numerator/denominator)."""
    return (int(approved_cost) * int(numerator)) // (int(denominator) * int(rounding)) * int(rounding)


def _amount(d: Decisions, i: int, e: DecisionEdit, final: int, problem) -> int:
    """A for an edited proposal (§2): blank → F when adopting, else 0; subsidy packs derive A from C'."""
    pack = d.ranking.pack
    f = int(d.funded[i])
    adopts = final in (ADOPTED, CONDITIONAL_ADOPTED)
    subsidy = pack.funding.mode == "subsidy"
    given, other = ("approved_cost_yen", "awarded_yen") if subsidy else ("awarded_yen", "approved_cost_yen")
    if not _blank(getattr(e, other)):
        problem(other, f"{'a subsidy pack takes approved_cost_yen (A is derived from it)' if subsidy else 'only a subsidy pack takes an approved cost; give awarded_yen'}"
                       f" (got {quote(getattr(e, other))})")
    raw = getattr(e, given)
    if _blank(raw):
        return f if adopts else 0
    try:
        value = parse_yen(raw)
    except MoneyError as exc:
        problem(given, str(exc))
        return f if adopts else 0
    if not adopts:
        if value != 0:
            problem(given, f"only an adopted proposal has an awarded amount (decision {OUTCOMES[final].value}; "
                           f"got {quote(raw)})")
        return 0
    if subsidy:
        eligible = int(d.ranking.table.eligible_cost[i])
        if value > eligible:
            problem(given, f"the approved cost {format_yen(value)} must not exceed the eligible cost "
                           f"{format_yen(eligible)}")
            return f
        rate = pack.funding.subsidy_rate
        d.approved_cost[i] = value
        a = subsidy_grant(value, rate.numerator, rate.denominator, pack.funding.rounding_yen)
    elif pack.is_capacity:
        if value != 1:
            problem(given, f"a capacity pack awards 1 (one recipient), got {quote(raw)}")
            return 1
        a = 1
    else:
        a = value
    if a <= 0:
        problem(given, f"the awarded amount must be more than 0 (got {format_yen(a)}"
                       + (f" from the approved cost {format_yen(value)})" if subsidy else ")"))
    elif a > f:
        problem(given, f"the awarded amount {format_yen(a)} must not exceed F(p) = {format_yen(f)} "
                       "(the cap and the grant rule)")
    return a


def _position(raw, problem) -> int:
    """A reserve position as given (0 = blank); a bad one is a problem."""
    if _blank(raw):
        return 0
    if isinstance(raw, bool):
        problem("reserve_position", f"must be a whole number ≥ 1 (got {quote(raw)})")
        return 0
    text = str(raw).strip()
    if isinstance(raw, (int, np.integer)) or (len(text) <= MAX_POSITION_TEXT and text.isdecimal()):
        value = int(text)
        if value >= 1:
            return value
    problem("reserve_position", f"must be a whole number ≥ 1 (got {quote(raw)})")
    return 0


def decide(ranking: Ranking, edits: Iterable[DecisionEdit] = (), *, source: str = "decisions",
           other_pack_ids: Iterable[str] = (), conflicted: Iterable[str] = (), strict: bool = True) -> Decisions:
    """The proposed decisions of ``ranking`` (:func:`~scoring.decisions.propose`) with the committee's ``edits``
    applied (decisions.md §2 and "Command line") and every rule of §2–3 checked, all problems at once.

    - A blank decision keeps the proposed one; a proposal not edited keeps everything proposed. Edits of
      ``other_pack_ids`` (proposals of other packs in the same proposals file) are skipped, as in ``rank``.
    - A blank amount is F(p) when the final decision adopts and 0 otherwise; subsidy packs take
      ``approved_cost_yen`` C' ≤ eligible cost and A = floor(C' × rate ÷ rounding) × rounding (the pack's
      ``rounding_yen``, 1,000 by default), other packs ``awarded_yen``, capacity packs 1. 0 < A ≤ F(p).
    - Blank conditions keep the proposed ones while the decision stays conditional; a conditional adoption
      needs conditions. A departure needs a reason.
    - An ineligible proposal is never adopted nor a reserve. Reserve positions given are distinct within
      1..k (k reserves); the blank ones — and the reserves not edited — fill the unused numbers in rank order.
    - Σ A over the adopted ≤ the budget (yen or the capacity count; no budget: no limit).
    - ``conflicted``: proposal ids the acting member is conflicted with — an edit of one is refused.

    ``strict``: raise :class:`~scoring.errors.InputError` with every problem; else keep them on the result."""
    d = propose(ranking)
    problems: list[Problem] = []
    index = ranking.table.index_of()
    skip = set(other_pack_ids)
    barred = set(conflicted)
    seen: dict[str, str | None] = {}
    given_pos: dict[int, int] = {}
    ineligible = ranking.decision == CODE[Decision.ineligible]
    for e in edits:
        def problem(fld: str, message: str, e=e) -> None:
            problems.append(Problem(source, e.row, fld, message))

        pid = _text(e.proposal_id)
        if pid in seen:
            problem("proposal_id", f"{quote(pid)} is changed twice (also on row {seen[pid]})")
            continue
        seen[pid] = e.row
        i = index.get(pid)
        if i is None:
            if pid not in skip:
                problem("proposal_id", f"{quote(pid)} is not a proposal of pack {ranking.pack.id}"
                        if pid else "required field is empty")
            continue
        if pid in barred:
            problem("proposal_id", f"{quote(pid)}: a member conflicted with this proposal cannot record or change "
                                   "its decision (another chair-role member must)")
            continue
        d.edits[i] = e
        final = int(d.proposed[i])
        if not _blank(e.decision):
            code = OUTCOME_CODE.get(_text(e.decision))
            if code is None:
                problem("decision", f"{quote(e.decision)} is not one of {[o.value for o in OUTCOMES]}")
            else:
                final = code
        if ineligible[i] and final != NOT_ADOPTED:
            problem("decision", f"{quote(pid)} is ineligible (a fail not resolved): it can never be adopted "
                                f"nor a reserve (got {OUTCOMES[final].value})")
        d.decision[i] = final
        d.awarded[i] = _amount(d, i, e, final, problem)
        text = _text(e.conditions)
        if text:
            d.conditions[i] = text
        elif final != CONDITIONAL_ADOPTED:
            d.conditions.pop(i, None)
        if final == CONDITIONAL_ADOPTED and not d.conditions.get(i):
            problem("conditions", "a conditional adoption needs its conditions")
        if _text(e.reason):
            d.reasons[i] = _text(e.reason)
        pos = _position(e.reserve_position, problem)
        if pos and final != RESERVE:
            problem("reserve_position", f"only a reserve has a position (decision {OUTCOMES[final].value})")
        elif pos:
            given_pos[i] = pos
    # departures need a reason (derived: a decision other than proposed, or an adopted proposal's A ≠ F)
    for i in np.flatnonzero(d.departure).tolist():
        if not d.reasons.get(i):
            e = d.edits[i]
            what = (f"{OUTCOMES[int(d.proposed[i])].value} → {OUTCOMES[int(d.decision[i])].value}"
                    if d.decision[i] != d.proposed[i] else
                    f"awarded {format_yen(int(d.awarded[i]))} instead of F(p) {format_yen(int(d.funded[i]))}")
            problems.append(Problem(source, e.row, "reason", f"a departure from the proposed decision ({what}) "
                                                             "needs a reason"))
    _fill_positions(d, given_pos, source, problems)
    total, limit = d.awarded_total, d.budget_total
    if limit is not None and total > int(limit):
        unit = (lambda x: f"{x:,}") if d.unit == "count" else format_yen
        problems.append(Problem(source, None, "(budget)",
                                f"the adopted proposals' awarded total {unit(total)} exceeds the budget "
                                f"{unit(int(limit))} by {unit(total - int(limit))}"))
    problems.sort(key=lambda p: (p.row is None, _row_key(p.row)))  # stable: a row's problems in rule order
    d.problems = problems
    if strict and problems:
        raise InputError(problems)
    return d


def _fill_positions(d: Decisions, given: dict[int, int], source: str, problems: list[Problem]) -> None:
    """Reserve positions 1..k without gaps: the given ones distinct and within 1..k, the others filling the
    unused numbers in rank order (the ranking's order)."""
    reserves = np.flatnonzero(d.decision == RESERVE)
    k = len(reserves)
    d.position[:] = 0
    taken: dict[int, int] = {}
    for i, pos in sorted(given.items(), key=lambda x: (x[1], _row_key(d.edits[x[0]].row), x[0])):
        row = d.edits[i].row
        if pos > k:
            problems.append(Problem(source, row, "reserve_position",
                                    f"reserve positions are 1..{k} without gaps ({k} reserves; got {pos})"))
        elif pos in taken:
            other = d.edits[taken[pos]]
            problems.append(Problem(source, row, "reserve_position",
                                    f"position {pos} is also given to {quote(other.proposal_id)} (row {other.row})"))
        else:
            taken[pos] = i
            d.position[i] = pos
    order = d.ranking.order
    blank = order[(d.decision[order] == RESERVE) & (d.position[order] == 0)]
    free = [p for p in range(1, k + 1) if p not in taken]    # as many as the blank reserves
    d.position[blank] = free


__all__ = ["decide", "subsidy_grant"]
