"""Rank uncertainty (selection.md §10): bootstrap rank intervals, selection probabilities, expected rank,
rankogram and SUCRA, and the gray zone around the funding line, from
:class:`~scoring.analytics.bootstrap.BootstrapEngine`."""

from __future__ import annotations

import math

import numpy as np

from ..labels import label
from ..models import Decision
from ..selection import Ranking
from ..table import ReviewTable
from .bootstrap import BootstrapEngine
from .common import (DEFAULT_RESAMPLES, GRAY_LEVEL, INTERVALS, STABILITY_Z, join_list, json_float,
                     selected_mask)


def order_stat_bounds(R: int, level: float) -> tuple[int, int]:
    """Indices (0-based, into the R sorted values) of the lower and upper bound of a central interval."""
    a = (1.0 - level) / 2.0
    lo = int(math.floor(a * R + 1e-9))
    hi = int(math.ceil((1.0 - a) * R - 1e-9)) - 1
    return lo, max(lo, hi)


def line_rank(ranking: Ranking) -> int:
    """L: the funding line lies after rank L, where the budget first stops a proposal — ranks 1..L are all
    selected, rank L + 1 is not (0: rank 1 is not selected). With greedy_stop and capacity packs L is the
    number selected; with greedy_skip a proposal further down can still be funded by skipping: it lies below
    the line (its P(selected) says it is funded)."""
    ranks = np.sort(ranking.rank[selected_mask(ranking)])
    prefix = ranks == np.arange(1, len(ranks) + 1)
    return int(prefix.argmin()) if not prefix.all() else len(ranks)


def stable_draws(p: float, thresholds: tuple[float, float], z: float = STABILITY_Z) -> int | None:
    """Draws R at which a share ``p`` lies z Monte Carlo SE (√(p(1−p)/R)) from the nearer threshold, so that
    another seed does not move it across (None: p sits on a threshold)."""
    if p <= 0.0 or p >= 1.0:
        return 1
    d = min(abs(p - t) for t in thresholds)
    return None if d == 0 else int(math.ceil(z * z * p * (1.0 - p) / (d * d)))


def bootstrap_ranks(ranking: Ranking, reviews: ReviewTable, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0, threads: int | None = None, level: float = GRAY_LEVEL) -> dict:
    """Rank intervals, selection probabilities, expected rank, rankogram and SUCRA by resampling each
    proposal's counted reviews; and the gray zone of selection.md §10.

    Per proposal: median and expected rank, 50%, 80% and 95% rank intervals (``rank_interval`` at ``level``),
    P(selected) with its Monte Carlo standard error, P(qualifying), the rankogram (P(rank = j)), SUCRA, and
    whether it is in the gray zone: its rank interval at ``level`` crosses the funding line, i.e. its lower
    bound is at or above the line (≤ L, :func:`line_rank`) and its upper bound below it (> L or unranked).
    Deterministic for a given seed, whatever the number of ``threads`` (default: up to 2, the CPUs available).
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    if not any(abs(level - v) < 1e-12 for v in INTERVALS.values()):
        raise ValueError(f"level must be one of {sorted(INTERVALS.values())} (got {level})")
    eng = BootstrapEngine(ranking, reviews, threads=threads)
    n = eng.n
    id_ranks, id_sel = eng.identity()
    reproduces = bool(np.array_equal(id_ranks, ranking.rank) and np.array_equal(id_sel, selected_mask(ranking)))
    ranks_c, selected_c, qual_c = eng.run(n_resamples, seed)
    R = n_resamples
    unranked = n + 1
    bounds = {name: order_stat_bounds(R, lvl) for name, lvl in INTERVALS.items()}
    level_name = next(name for name, lvl in INTERVALS.items() if abs(lvl - level) < 1e-12)
    # per proposal: sorted resampled ranks (unranked = n + 1, worse than any rank); non-candidates never rank
    sorted_c = np.where(ranks_c.T > 0, ranks_c.T, unranked)                  # [nc, R]
    sorted_c.sort(axis=1)
    # per proposal, the order statistics read: its resampled ranks in ascending order at these positions
    at = sorted({(R - 1) // 2} | {j for lh in bounds.values() for j in lh})
    stats = np.full((n, len(at)), unranked, np.int64)
    stats[eng.cols] = sorted_c[:, at]
    col = {j: stats[:, m].tolist() for m, j in enumerate(at)}
    med = col[(R - 1) // 2]  # the lower median: always an attained rank
    n_sel = np.zeros(n, np.int64)
    n_sel[eng.cols] = selected_c.sum(axis=0)
    n_qual = np.zeros(n, np.int64)
    n_qual[eng.cols] = qual_c.sum(axis=0)
    p_sel = (n_sel / R).tolist()
    p_qual = (n_qual / R).tolist()
    has_line = eng.limit is not None
    # the gray zone (selection.md §10): the rank interval at ``level`` crosses the line after rank L
    L = line_rank(ranking) if has_line else 0
    lo_i, hi_i = bounds[level_name]
    n_above = np.zeros(n, np.int64)
    n_above[eng.cols] = ((ranks_c > 0) & (ranks_c <= L)).sum(axis=0)
    p_above = (n_above / R).tolist()
    # interval [sorted[lo_i], sorted[hi_i]] crosses: sorted[lo_i] ≤ L (n_above > lo_i), sorted[hi_i] > L
    gray = (has_line & eng.cand & (n_above > lo_i) & (n_above <= hi_i)).tolist()
    thresholds = ((lo_i + 0.5) / R, (hi_i + 0.5) / R)
    summary = rank_summaries(eng, ranks_c, n, R)

    def bound(v: int) -> int | None:
        return None if v >= unranked else int(v)

    def mcse(p: float) -> float:
        return math.sqrt(p * (1.0 - p) / R)

    decisions = [d.value for d in Decision]
    ids, rank_, dec, total, cand = (ranking.table.ids, ranking.rank.tolist(), ranking.decision.tolist(),
                                    ranking.total, eng.cand.tolist())
    rows, unstable = [], []
    for i in ranking.order.tolist():
        iv = {name: [bound(col[lo][i]), bound(col[hi][i])] for name, (lo, hi) in bounds.items()}
        need = stable_draws(p_above[i], thresholds) if has_line and cand[i] else 1
        if need is None or need > R:
            unstable.append((str(ids[i]), need))
        rows.append({
            "proposal_id": str(ids[i]),
            "rank": int(rank_[i]) or None,
            "decision": decisions[dec[i]],
            "total_score": json_float(total[i]),
            "median_rank": bound(med[i]),
            "expected_rank": summary["expected_rank"][i], "sucra": summary["sucra"][i],
            "rank_50": iv["50"], "rank_80": iv["80"], "rank_95": iv["95"], "rank_interval": iv[level_name],
            "p_selected": float(p_sel[i]) if has_line else None,
            "p_selected_mcse": mcse(p_sel[i]) if has_line else None,
            "p_above_line": float(p_above[i]) if has_line else None,
            "p_qualifying": float(p_qual[i]),
            "rankogram": summary["rankogram"][i], "p_unranked": float(1.0 - p_qual[i]) if cand[i] else None,
            "gray_zone": bool(gray[i]),
            "stable_draws": need,
            "resampled": bool(cand[i]),
        })
    gray_ids = [r["proposal_id"] for r in rows if r["gray_zone"]]
    needs = [x for _, x in unstable]
    return {
        "n_resamples": R, "seed": int(seed), "aggregation": eng.agg_method.value,
        "budget_line": has_line, "reproduces_official": reproduces,
        "level": float(level), "n_candidates": int(eng.nc),
        "gray_zone": gray_ids,
        "gray_zone_rule": {"definition": "rank interval crosses the funding line (selection.md §10)",
                           "level": float(level), "line_after_rank": L if has_line else None,
                           "lower_index": lo_i + 1, "upper_index": hi_i + 1},
        "stability": {"z": STABILITY_Z, "unstable": [pid for pid, _ in unstable],
                      "draws_needed": (None if None in needs else max(needs)) if needs else R},
        "proposals": rows,
        "reading": _uncertainty_reading(gray_ids, has_line, R, level, L, "ja"),
        "reading_en": _uncertainty_reading(gray_ids, has_line, R, level, L, "en"),
    }


def rank_summaries(eng: BootstrapEngine, ranks_c: np.ndarray, n: int, R: int) -> dict:
    """Per proposal (None for those not resampled): expected rank, SUCRA and the rankogram, from the draws.

    Among the N resampled candidates, a draw in which a proposal does not qualify places it after every
    qualifying one: at the mid-rank of the places left, (q + 1 + N) / 2 for q qualifying in that draw (ties
    share the mean of their places). SUCRA = (N − E[rank]) / (N − 1) (Salanti et al. 2011). The rankogram
    ``{"from": j0, "p": [...]}`` lists P(rank = j) for j = j0, j0 + 1, … up to the worst rank the proposal
    attains (unranked draws apart: ``p_unranked``)."""
    N = eng.nc
    er: list = [None] * n
    su: list = [None] * n
    rg: list = [None] * n
    if N == 0:
        return {"expected_rank": er, "sucra": su, "rankogram": rg}
    ranked = ranks_c > 0
    q = ranked.sum(axis=1)                                                    # qualifying per draw
    # E[rank] = (Σ ranked ranks + Σ over unranked draws of that draw's mid-rank (q + 1 + N)/2) / R; the sums
    # are of integers (twice the mid-ranks), exact in float64
    twice_mid = (q + 1 + N).astype(np.float64)
    unranked_sum = (twice_mid.sum() - twice_mid @ ranked.astype(np.float64)) / 2.0
    exp_rank = (ranks_c.sum(axis=0, dtype=np.int64) + unranked_sum) / R
    counts = np.bincount((ranks_c + np.arange(0, N * (N + 1), N + 1, dtype=np.int32)[None, :]).ravel(),
                         minlength=N * (N + 1)).reshape(N, N + 1)            # [:, 0]: unranked
    last = ranks_c.max(axis=0).tolist()
    first = np.where(ranked, ranks_c, N + 1).min(axis=0).tolist()
    exp_l, sucra_l = exp_rank.tolist(), ((N - exp_rank) / (N - 1) if N > 1 else np.ones(N)).tolist()
    for j, i in enumerate(eng.cols.tolist()):
        er[i] = exp_l[j]
        su[i] = sucra_l[j]
        lo, hi = first[j], last[j]
        rg[i] = {"from": lo if hi else None, "p": (counts[j, lo:hi + 1] / R).tolist() if hi else []}
    return {"expected_rank": er, "sucra": su, "rankogram": rg}


def _uncertainty_reading(gray: list[str], has_line: bool, R: int, level: float, L: int, lang: str) -> str:
    pct = round(level * 100)
    if not has_line:
        return label("analytics.uncertainty.no_budget", lang)
    if not gray:
        return label("analytics.uncertainty.no_gray_zone", lang, resamples=R, level=pct, line=L)
    return label("analytics.uncertainty.gray_zone", lang, n=len(gray), ids=join_list(gray, lang), level=pct,
                 line=L)
