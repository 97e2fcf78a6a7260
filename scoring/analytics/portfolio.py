"""The optimal portfolio (selection.md §10): the exact 0/1 knapsack of qualifying proposals within the budget,
beside the greedy funding line. Reported for information; the official decision follows the ranking."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import label
from ..models import Decision
from ..selection import Ranking
from .common import SCALE, budget_unit, json_float, qualifying_mask, selected_mask

LEX_NODE_LIMIT = 500   # branch-and-bound nodes per tie-break solve (a count, not a time: deterministic)
LEX_MAX_ITEMS = 300    # the exact lexicographic search runs up to this many candidates (each solve can take as
                       # long as the optimum itself); beyond, equal-(score, amount) swaps only — still order-free


def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int, time_limit: float | None = None,
             prefer: np.ndarray | None = None, report: dict | None = None) -> tuple[np.ndarray, str]:
    """Exact 0/1 knapsack: maximise Σ values·x subject to Σ weights·x ≤ capacity, x ∈ {0,1}.

    ``values`` are integers (scores × 10⁶), ``weights`` and ``capacity`` non-negative integers (yen or a
    count). Solved with :func:`scipy.optimize.milp` (HiGHS) with a zero optimality gap, then checked in exact
    integer arithmetic. Returns (chosen mask, status) where status is ``optimal`` or ``time_limit``.

    ``prefer`` (distinct integers, lower = preferred; e.g. the rank): among equal-value optima the one that is
    best lexicographically by it — it holds the most preferred item any optimum can hold, then the next, … —
    so that the answer never depends on the order of the input (:func:`lexicographic_optimum`). The items go
    to the solver in that order too. ``report["tie_break_complete"]`` says whether every tie-break solve
    finished within ``LEX_NODE_LIMIT`` nodes (else the optimum is the best found by rank up to that item).
    """
    # lazy: scipy.optimize costs ~0.7 s on a cold start, paid only when a portfolio is actually solved
    from scipy.optimize import Bounds, LinearConstraint, milp

    values = np.asarray(values, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.int64)
    n = len(values)
    chosen = np.zeros(n, bool)
    if n == 0 or capacity < 0:
        return chosen, "optimal"
    # items that can never help (too heavy or worthless) are left out; free items with value are always in
    free = (weights == 0) & (values > 0)
    cand = np.nonzero((weights > 0) & (weights <= capacity) & (values > 0))[0]
    if prefer is not None:  # a canonical order for the solver: the input's order never reaches it
        prefer = np.asarray(prefer)
        cand = cand[np.argsort(prefer[cand], kind="stable")]
    if report is not None:
        report["tie_break_complete"] = True
    chosen[free] = True
    if len(cand) == 0:
        return chosen, "optimal"
    w = weights[cand]
    if int(w.sum()) <= capacity:  # everything fits
        chosen[cand] = True
        return chosen, "optimal"
    g = int(np.gcd.reduce(w))  # exact rescaling keeps the numbers small for the solver
    ws, cap = w // g, capacity // g
    v = values[cand].astype(float)
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(c=-v, integrality=np.ones(len(cand)), bounds=Bounds(0, 1),
               constraints=LinearConstraint(ws.astype(float)[None, :], -np.inf, float(cap)), options=options)
    if res.x is None:
        raise RuntimeError(f"knapsack solver failed: {res.message}")
    x = res.x > 0.5
    # exact feasibility in integers; should the solver's tolerance ever admit an overweight set, drop the
    # lowest value-per-weight items until it fits (and say it is not proven optimal)
    status = "optimal" if res.status == 0 else "time_limit"
    if int(w[x].sum()) > capacity:
        order = np.argsort(v[x] / w[x], kind="stable")
        idx = np.nonzero(x)[0][order]
        for j in idx:
            x[j] = False
            if int(w[x].sum()) <= capacity:
                break
        status = "time_limit"
    if prefer is not None and status == "optimal":
        x, complete = lexicographic_optimum(v.astype(np.int64), ws, cap, x, prefer[cand])
        if report is not None:
            report["tie_break_complete"] = complete
    chosen[cand[x]] = True
    return chosen, status


def _feasible_optimum(v: np.ndarray, w: np.ndarray, cap: int, target: int, lb: np.ndarray, ub: np.ndarray
                      ) -> np.ndarray | None | bool:
    """A set of value ≥ target within cap and the bounds lb ≤ x ≤ ub (checked in exact integer arithmetic),
    None when there is none, False when the solve stopped at ``LEX_NODE_LIMIT`` nodes without an answer."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    cons = [LinearConstraint(w.astype(float)[None, :], -np.inf, float(cap)),
            LinearConstraint(v.astype(float)[None, :], float(target) - 0.5, np.inf)]
    res = milp(c=-v.astype(float), integrality=np.ones(len(v)), bounds=Bounds(lb, ub), constraints=cons,
               options={"mip_rel_gap": 0.0, "presolve": True, "node_limit": LEX_NODE_LIMIT})
    if res.x is None:
        return None if res.status == 2 else False      # 2: infeasible
    x = res.x > 0.5
    if int(w[x].sum()) > cap or int(v[x].sum()) < target or (x < lb).any() or (x > ub).any():
        return False
    return x


def _lp_bound(v: np.ndarray, w: np.ndarray, cap: int, fixed_in: np.ndarray, free: np.ndarray,
              by_ratio: np.ndarray) -> float:
    """Dantzig's bound: the fixed items plus the free ones taken by value per weight, the last one in part."""
    room = cap - int(w[fixed_in].sum())
    if room < 0:
        return -np.inf
    idx = by_ratio[free[by_ratio]]
    cw = np.cumsum(w[idx])
    k = int(np.searchsorted(cw, room, side="right"))       # the first k fit whole
    bound = float(v[fixed_in].sum()) + float(v[idx[:k]].sum())
    if k < len(idx):
        used = int(cw[k - 1]) if k else 0
        bound += float(v[idx[k]]) * (room - used) / float(w[idx[k]])
    return bound


def lexicographic_optimum(v: np.ndarray, w: np.ndarray, cap: int, x: np.ndarray, prefer: np.ndarray
                          ) -> tuple[np.ndarray, bool]:
    """Given an optimum ``x`` of the knapsack (v, w, cap), the optimum that is lexicographically best by
    ``prefer`` (lower first), and whether the search completed.

    First, among items equal in value and weight, the chosen ones become the preferred ones (an exact swap).
    Then the items are fixed one at a time in preference order — in, if some optimum holding the items fixed so
    far also holds it, else out. The incumbent answers "yes" for free when it holds the item; Dantzig's LP
    bound answers most "no"s; a feasibility solve (Σ v ≥ optimum, at most ``LEX_NODE_LIMIT`` nodes) the rest.
    A solve that stops at the node limit ends the search (the incumbent is still an optimum), and beyond
    ``LEX_MAX_ITEMS`` candidates only the first step is taken: not complete. Either way the solver sees the
    items in preference order, so the answer is a function of the ranked data, never of the input's order."""
    target = int(v[x].sum())
    n = len(v)
    pos = np.argsort(prefer, kind="stable")
    x = x.copy()
    # equal (value, weight): take the preferred members of each class
    _, cls = np.unique(np.stack([v, w], axis=1), axis=0, return_inverse=True)
    cls = np.asarray(cls).reshape(-1)
    for c in np.unique(cls[x]):
        members = pos[cls[pos] == c]
        k = int(x[members].sum())
        x[members] = False
        x[members[:k]] = True
    if n > LEX_MAX_ITEMS:
        return x, False
    lb, ub = np.zeros(n), np.ones(n)
    by_ratio = np.argsort(-(v / w), kind="stable")
    for i in pos:
        if not x[i]:
            lb[i] = 1.0
            fixed_in = lb > 0.5
            free = (ub > 0.5) & ~fixed_in
            alt = None
            if _lp_bound(v, w, cap, fixed_in, free, by_ratio) >= target - 0.5:
                alt = _feasible_optimum(v, w, cap, target, lb, ub)
            if alt is False:
                return x, False
            if alt is None:
                lb[i], ub[i] = 0.0, 0.0
                continue
            x = alt
        lb[i] = ub[i] = 1.0
    return x, True


def optimal_portfolio(ranking: Ranking, time_limit: float | None = 60.0) -> dict:
    """The set of qualifying proposals maximising Σ S(p) within the budget, beside the greedy selection."""
    pack, params = ranking.pack, ranking.params
    limit = params.budget_limit(pack)
    unit = budget_unit(pack)
    if limit is None:
        return {"available": False, "unit": unit, "budget": None,
                "reason": label("analytics.portfolio.no_budget", "ja"),
                "reason_en": label("analytics.portfolio.no_budget", "en")}
    q = np.nonzero(qualifying_mask(ranking))[0]
    # only qualifying proposals are packed; the others (NaN total: no counted review) never reach the solver
    score = np.zeros(ranking.table.n, np.int64)
    score[q] = np.round(ranking.total[q] * SCALE).astype(np.int64)
    funded = ranking.funded.astype(np.int64)
    greedy = selected_mask(ranking)
    # among equal-score optima, the one best by rank (lexicographically): independent of the file's order
    info: dict = {}
    chosen_q, status = knapsack(score[q], funded[q], int(limit), time_limit, prefer=ranking.rank[q], report=info)
    optimal = np.zeros(ranking.table.n, bool)
    optimal[q[chosen_q]] = True
    g_score, o_score = int(score[greedy].sum()), int(score[optimal].sum())
    if g_score > o_score:  # the solver stopped short of the greedy set itself: not a proven optimum
        status = "not_proven"
    if g_score >= o_score:
        # the greedy line is itself optimal (ties included): show it as the optimum, so that the "difference"
        # is never an arbitrary equal-score swap chosen by the solver
        optimal = greedy.copy()
        o_score = g_score

    def side(mask: np.ndarray) -> dict:
        idx = [i for i in ranking.order if mask[i]]
        used = int(funded[mask].sum())
        return {"proposal_ids": [str(ranking.table.ids[i]) for i in idx], "n": len(idx),
                "total_score": float(score[mask].sum()) / SCALE, "used": used, "unused": int(limit) - used}

    def rows(mask: np.ndarray) -> list[dict]:
        return [{"proposal_id": str(ranking.table.ids[i]), "rank": int(ranking.rank[i]) or None,
                 "decision": list(Decision)[ranking.decision[i]].value,
                 "total_score": json_float(ranking.total[i]), "funded": int(funded[i])}
                for i in ranking.order if mask[i]]

    gain = (o_score - g_score) / SCALE
    g, o = side(greedy), side(optimal)
    return {
        "available": True, "unit": unit, "budget": int(limit), "method": "milp", "status": status,
        "tie_break": "rank" if info.get("tie_break_complete", True) else "rank_partial",
        "selection_method": params.selection.value,
        "greedy": g, "optimal": o,
        "only_in_optimal": rows(optimal & ~greedy), "only_in_greedy": rows(greedy & ~optimal),
        "score_gain": gain, "greedy_is_optimal": o_score == g_score,
        "greedy_unused": g["unused"],
        "reading": _portfolio_reading(g, o, gain, unit, "ja"), "reading_en": _portfolio_reading(g, o, gain, unit, "en"),
    }


def _amount(x: int, unit: str, lang: str) -> str:
    return label(f"analytics.amount.{unit}", lang, n=x)


def _portfolio_reading(g: dict, o: dict, gain: float, unit: str, lang: str) -> str:
    left = _amount(g["unused"], unit, lang)
    if gain <= 0:
        return label("analytics.portfolio.greedy_optimal", lang, left=left)
    return label("analytics.portfolio.gain", lang, gain=gain, optimal=o["total_score"], greedy=g["total_score"],
                 left=left)
