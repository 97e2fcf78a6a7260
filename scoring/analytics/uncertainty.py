"""Rank uncertainty (selection.md §10): bootstrap rank intervals, selection probabilities and the gray zone
around the funding line, from :class:`~scoring.analytics.bootstrap.BootstrapEngine`."""

from __future__ import annotations

import math

import numpy as np

from ..labels import label
from ..models import Decision
from ..selection import Ranking
from ..table import ReviewTable
from .bootstrap import BootstrapEngine
from .common import DEFAULT_RESAMPLES, GRAY_LEVEL, INTERVALS, join_list, json_float, selected_mask


def order_stat_bounds(R: int, level: float) -> tuple[int, int]:
    """Indices (0-based, into the R sorted values) of the lower and upper bound of a central interval."""
    a = (1.0 - level) / 2.0
    lo = int(math.floor(a * R + 1e-9))
    hi = int(math.ceil((1.0 - a) * R - 1e-9)) - 1
    return lo, max(lo, hi)


def bootstrap_ranks(ranking: Ranking, reviews: ReviewTable, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0, threads: int | None = None) -> dict:
    """Rank intervals and selection probabilities by resampling each proposal's counted reviews.

    Per proposal: median rank, 80% and 95% rank intervals, P(selected), P(qualifying) and whether it is in the
    gray zone (strictly more than 2.5% of the resamples on each side of the funding line, i.e. its 95%
    interval of outcomes holds both "selected" and "not selected"). Deterministic for a given seed, whatever
    the number of ``threads`` (default: up to 2, the CPUs available).
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    eng = BootstrapEngine(ranking, reviews, threads=threads)
    n = eng.n
    id_ranks, id_sel = eng.identity()
    reproduces = bool(np.array_equal(id_ranks, ranking.rank) and np.array_equal(id_sel, selected_mask(ranking)))
    ranks_c, selected_c, qual_c = eng.run(n_resamples, seed)
    R = n_resamples
    unranked = n + 1
    bounds = {name: order_stat_bounds(R, lvl) for name, lvl in INTERVALS.items()}
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
    side_min = int(math.floor((1.0 - GRAY_LEVEL) / 2.0 * R + 1e-9))  # more than this on each side
    gray = (has_line & eng.cand & (n_sel > side_min) & ((R - n_sel) > side_min)).tolist()

    def bound(v: int) -> int | None:
        return None if v >= unranked else int(v)

    decisions = [d.value for d in Decision]
    ids, rank_, dec, total, cand = (ranking.table.ids, ranking.rank.tolist(), ranking.decision.tolist(),
                                    ranking.total, eng.cand.tolist())
    rows = []
    for i in ranking.order.tolist():
        iv = {name: [bound(col[lo][i]), bound(col[hi][i])] for name, (lo, hi) in bounds.items()}
        rows.append({
            "proposal_id": str(ids[i]),
            "rank": int(rank_[i]) or None,
            "decision": decisions[dec[i]],
            "total_score": json_float(total[i]),
            "median_rank": bound(med[i]),
            "rank_80": iv["80"], "rank_95": iv["95"],
            "p_selected": float(p_sel[i]) if has_line else None,
            "p_qualifying": float(p_qual[i]),
            "gray_zone": bool(gray[i]),
            "resampled": bool(cand[i]),
        })
    gray_ids = [r["proposal_id"] for r in rows if r["gray_zone"]]
    return {
        "n_resamples": R, "seed": int(seed), "aggregation": eng.agg_method.value,
        "budget_line": has_line, "reproduces_official": reproduces,
        "gray_zone": gray_ids,
        "gray_zone_rule": {"level": GRAY_LEVEL, "min_resamples_each_side": side_min + 1},
        "proposals": rows,
        "reading": _uncertainty_reading(gray_ids, has_line, R, "ja"),
        "reading_en": _uncertainty_reading(gray_ids, has_line, R, "en"),
    }


def _uncertainty_reading(gray: list[str], has_line: bool, R: int, lang: str) -> str:
    if not has_line:
        return label("analytics.uncertainty.no_budget", lang)
    if not gray:
        return label("analytics.uncertainty.no_gray_zone", lang, resamples=R)
    return label("analytics.uncertainty.gray_zone", lang, n=len(gray), ids=join_list(gray, lang))
