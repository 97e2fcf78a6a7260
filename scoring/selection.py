"""From reviews to a ranked selection list (selection.md §6–9): qualify → funded amount → rank → budget line.

:func:`rank` is the one entry point every adapter (CLI, store, app, Excel) calls. It returns a
:class:`Ranking` that holds the columns and renders per-proposal results with their reasons on demand.
"""

from __future__ import annotations

import numpy as np

from .aggregate import aggregate_scores
from .bonus import compute_bonus
from .eligibility import evaluate, per_proposal_cap
from .models import Decision, Reviewer, SelectionMethod
from .packs import CriteriaPack
from .params import NO_BUDGET, Params, WhatIf
from .ranking import CODE, DECIMALS, Ranking, ReasonMemo, r6
from .table import ProposalTable, ReviewTable

__all__ = ["rank", "Params", "WhatIf", "NO_BUDGET", "Ranking", "ReasonMemo", "DECIMALS", "r6", "requested_key",
           "tie_break_order", "greedy_skip", "greedy_stop", "funded_amounts", "budget_line"]


def tie_break_order(rows: np.ndarray, total6: np.ndarray, base6: np.ndarray, crit6: np.ndarray,
                    requested: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    """selection.md §8: S desc, B desc, criterion mean ratios in pack order desc, requested asc, id asc.

    Sorts on (S, B) first, then refines only the runs that still tie, one key at a time (criteria packed three
    to an int64, then requested, then id — unique, so the refining ends there). Each step sorts only what is
    still tied, which on real calls (few distinct totals: most rows tie on S and B) is much less than a
    lexsort of every tied row on every key. The result equals one stable lexsort over the whole chain
    (tests/test_properties.py checks exactly that).
    """
    if not len(rows):
        return rows
    order = rows[_desc_order(total6[rows], base6[rows])]
    s, b = total6[order], base6[order]
    same = (s[1:] == s[:-1]) & (b[1:] == b[:-1])
    if not same.any():
        return order
    pos, run = _runs(np.arange(len(order)), same)
    keys = [(lambda sub, c=c: _criterion_key(crit6[sub, c:c + 3])) for c in range(0, crit6.shape[1], 3)]
    keys += [lambda sub: requested[sub], lambda sub: id_rank[sub]]
    for key in keys:                      # most significant first; all ascending
        sub = order[pos]
        kv = key(sub)
        perm = np.lexsort((kv, run))
        sub, kv, run = sub[perm], kv[perm], run[perm]
        order[pos] = sub                  # a run keeps its block of positions, sorted inside it
        same = (run[1:] == run[:-1]) & (kv[1:] == kv[:-1])
        if not same.any():
            break
        pos, run = _runs(pos, same)
    return order


def _runs(pos: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions that tie with a neighbour (``same[j]``: element j+1 ties with j) and a run id for each."""
    tied = np.zeros(len(pos), bool)
    tied[1:] |= same
    tied[:-1] |= same
    idx = np.nonzero(tied)[0]
    start = np.ones(len(idx), bool)
    inner = idx > 0
    start[inner] = ~same[idx[inner] - 1]
    return pos[idx], np.cumsum(start)


def _desc_order(total6: np.ndarray, base6: np.ndarray) -> np.ndarray:
    """Stable order by S desc, then B desc. Both are rounded to 6 places: as integers of micro-points they pack
    into one int64 key (one sort instead of a two-key lexsort) whenever they are finite and fit in 62 bits."""
    if np.isfinite(total6).all() and np.isfinite(base6).all():
        t = np.rint(total6 * 1_000_000).astype(np.int64)
        b = np.rint(base6 * 1_000_000).astype(np.int64)
        t -= t.min()
        b -= b.min()
        shift = int(b.max()).bit_length()
        if shift + int(t.max()).bit_length() <= 62:
            return np.argsort(-((t << shift) | b), kind="stable")
    return np.lexsort((-base6, -total6))


def _criterion_key(crit6: np.ndarray) -> np.ndarray:
    """An ascending sort key for 'these (at most three) criteria's mean ratios, in pack order, descending'.
    Ratios rounded to 6 places lie in [0, 1]: as integers of 20 bits, three pack into one int64, exactly."""
    micro = np.rint(np.nan_to_num(crit6, nan=0.0) * 1_000_000).astype(np.int64)  # 0 … 1,000,000 < 2**20
    key = np.zeros(len(crit6), np.int64)
    for c in range(crit6.shape[1]):
        key = (key << 20) | micro[:, c]
    return -key


def requested_key(table: ProposalTable, funded: np.ndarray) -> np.ndarray:
    """selection.md §8's 'requested asc' key: the requested amount, or the funded one where none was requested."""
    return np.where(table.requested_known, table.requested, funded)


def greedy_stop(amounts: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """selection.md §9, greedy_stop: take the ranked amounts in order until the first that does not fit; nothing
    after it. Returns (selected, remaining budget when each was reached), as :func:`greedy_skip`."""
    f = np.asarray(amounts, dtype=np.int64)
    cum = np.cumsum(f)
    k = int(np.searchsorted(cum, limit, side="right"))    # f[:k] fit together; the walk stops at f[k]
    sel = np.zeros(len(f), bool)
    sel[:k] = True
    return sel, int(limit) - np.minimum(cum - f, cum[k - 1] if k else 0)


def greedy_skip(amounts: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """selection.md §9, greedy_skip: walk the ranked amounts, take each one that still fits in the remaining
    budget, skip the others. Returns (selected, remaining budget when each was reached); integer yen throughout.

    Everything up to the first amount that does not fit is taken at once (a cumulative sum); after it only
    amounts no larger than what is then left can ever fit, and what is left only shrinks, so the sequential
    walk visits just those candidates."""
    f = np.asarray(amounts, dtype=np.int64)
    sel = np.zeros(len(f), bool)
    cum = np.cumsum(f)
    k = int(np.searchsorted(cum, limit, side="right"))    # f[:k] fit together; f[k] (if any) does not
    sel[:k] = True
    remaining = int(limit) - (int(cum[k - 1]) if k else 0)
    if k < len(f):
        tail = np.nonzero(f[k:] <= remaining)[0] + k
        for j, amount in zip(tail.tolist(), f[tail].tolist()):   # sequential by nature, ints stay exact
            if amount <= remaining:
                sel[j] = True
                remaining -= amount
    taken = np.where(sel, f, 0)
    rem_at = int(limit) - (np.cumsum(taken) - taken)
    return sel, rem_at


def budget_line(ranked: np.ndarray, funded: np.ndarray, limit: int | None, params: Params,
                decision: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """selection.md §9 on a ranked order (rows, best first): sets ``decision`` of the ranked rows to selected /
    over_budget / waitlisted (left as they are without a budget) and returns (waitlist position, cumulative
    funded among the selected, remaining budget when the walk reached each row (-1 if not walked), used)."""
    n = len(funded)
    waitlist_pos = np.zeros(n, np.int64)
    cumulative = np.zeros(n, np.int64)
    remaining_at = np.full(n, -1, np.int64)
    used = 0
    if limit is not None and len(ranked):
        f = funded[ranked]
        walk = greedy_stop if params.selection == SelectionMethod.greedy_stop else greedy_skip
        sel, rem_at = walk(f, int(limit))
        decision[ranked[sel]] = CODE[Decision.selected]
        over = ranked[~sel]
        decision[over] = CODE[Decision.over_budget]
        wl = over[: params.waitlist]
        decision[wl] = CODE[Decision.waitlisted]
        waitlist_pos[wl] = np.arange(1, len(wl) + 1)
        cumulative[ranked[sel]] = np.cumsum(f[sel])
        remaining_at[ranked] = rem_at
        used = int(f[sel].sum())
    return waitlist_pos, cumulative, remaining_at, used


def funded_amounts(pack: CriteriaPack, table: ProposalTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """selection.md §7: (funded, capped, cap) per proposal; integer yen, no floating point in money."""
    f = pack.funding
    n = table.n
    cap = per_proposal_cap(pack, table)
    if f.mode == "capacity":
        return np.ones(n, np.int64), np.zeros(n, bool), cap
    if f.mode == "subsidy":
        rate = f.subsidy_rate
        grant = (table.eligible_cost * rate.numerator) // (rate.denominator * f.rounding_yen) * f.rounding_yen
        capped = grant > cap
        return np.minimum(grant, cap), capped & (f.over_cap == "clamp"), cap
    req = table.requested
    if f.over_cap == "clamp":
        capped = req > cap
        return np.minimum(req, cap), capped, cap
    return req.copy(), np.zeros(n, bool), cap


def rank(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable, reviewers: list[Reviewer] | None = None,
         params: Params | None = None, resolutions: dict | None = None, skipped_other_packs: int = 0,
         reason_memo: ReasonMemo | None = None) -> Ranking:
    """Rank one pack's proposals exactly as selection.md says. ``reason_memo`` (kept by a :class:`~scoring.call.Call`)
    lets rankings that differ only in the budget share their budget-free reason texts."""
    params = params or Params.from_pack(pack)
    n = table.n
    elig = evaluate(pack, table, resolutions)
    agg = aggregate_scores(pack, table, reviews, reviewers, params.aggregation, params.normalization,
                           params.trim_min_reviews)
    bonus = compute_bonus(pack, table, reviews, agg.counted, agg.n_reviews)
    funded, capped, cap = funded_amounts(pack, table)

    # §6 qualifying, in precedence order
    base6 = r6(np.nan_to_num(agg.base, nan=-np.inf))
    decision = np.full(n, CODE[Decision.ranked], np.int64)
    below_pass = base6 < r6(params.pass_line)
    crit6 = r6(agg.crit_ratio)
    with np.errstate(invalid="ignore"):  # NaN (no counted review) is never below: insufficient_reviews decides
        below_floor = (crit6 < r6(params.criterion_floor)).any(axis=1) if crit6.size else np.zeros(n, bool)
    insufficient = agg.n_reviews < params.min_reviews
    ineligible = elig.ineligible
    decision[below_pass] = CODE[Decision.below_pass_line]
    decision[below_floor] = CODE[Decision.below_criterion_floor]
    decision[insufficient] = CODE[Decision.insufficient_reviews]
    decision[ineligible] = CODE[Decision.ineligible]
    qualifying = np.nonzero(decision == CODE[Decision.ranked])[0]

    # §8 ranking: S desc, B desc, criterion mean ratios in pack order desc, requested asc, id asc
    total = agg.base + bonus.total
    id_rank = table.id_rank()
    ranked = tie_break_order(qualifying, r6(total), base6, crit6, requested_key(table, funded), id_rank)
    rank_no = np.zeros(n, np.int64)
    rank_no[ranked] = np.arange(1, len(ranked) + 1)

    # §9 budget line
    waitlist_pos, cumulative, remaining_at, used = budget_line(ranked, funded, params.budget_limit(pack), params,
                                                               decision)

    by_id = table.id_order()
    unranked = by_id[rank_no[by_id] == 0]
    order = np.concatenate([ranked, unranked]).astype(np.int64)

    excluded: dict[int, list] = {}
    if agg.conflicted.any():
        for j in np.nonzero(agg.conflicted)[0]:
            excluded.setdefault(int(reviews.prop[j]), []).append(
                {"reviewer_id": str(reviews.reviewer[j]), "reason": "conflict_of_interest"})

    return Ranking(pack, params, table, agg, bonus, elig, decision, rank_no, waitlist_pos, funded, capped, cap,
                   cumulative, order, remaining_at, reviews, skipped_other_packs, used, excluded,
                   shared_reasons=reason_memo.texts_for(params, resolutions) if reason_memo is not None else {})
