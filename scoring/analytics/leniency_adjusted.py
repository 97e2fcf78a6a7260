"""A leniency-adjusted ranking (docs/analytics.md §5), shown beside the official one and never replacing it.

The crossed random-effects model of :mod:`.variance_components` is fitted to the raw reviewer totals T(r,p) of
all counted reviews; each reviewer's estimated effect b̂_r (the BLUP: how much more lenient than the panel,
shrunk towards 0 when the reviewer scored few proposals) is removed from their totals, and the officially
qualifying proposals are ordered again by the mean adjusted total plus their official bonus.
"""

from __future__ import annotations

from typing import Collection

import numpy as np

from ..labels import label
from ..selection import Ranking
from ..table import ReviewTable
from .common import check_reviews, join_list, json_float, qualifying_mask
from .uncertainty import line_rank
from .variance_components import crossed_reml


def leniency_adjusted(ranking: Ranking, reviews: ReviewTable, exclude: Collection[str] = ()) -> dict:
    """Per qualifying proposal: the adjusted score (mean of T(r,p) − b̂_r over its counted reviews + its
    official bonus), its rank by that score (ties: the official order) and the shift from the official rank;
    per reviewer: b̂_r. Which proposals would move across the official funding line is named in the reading.
    ``exclude``: proposals whose individual reviews the reader may not see (conflicts of interest): the fit still
    uses every counted review (the adjusted ranking is the same for every reader), but the per-reviewer effects
    are not reported, since with few reviews an effect can give a withheld score away."""
    check_reviews(ranking, reviews)
    agg, table = ranking.agg, ranking.table
    idx = np.nonzero(agg.counted)[0]
    prop = reviews.prop[idx]
    t = np.asarray(agg.raw_totals, float)[idx]
    rev = reviews.reviewer[idx].astype(str)
    out: dict = {"available": False, "basis": "raw reviewer totals of counted reviews", "reviewers": [],
                 "proposals": [], "crossing": []}
    if len(np.unique(rev)) < 2 or len(np.unique(prop)) < 2 or len(t) < 3:
        out["reading"] = label("analytics.adjusted.unavailable", "ja")
        out["reading_en"] = label("analytics.adjusted.unavailable", "en")
        return out
    fit = crossed_reml(prop, rev, t)
    uniq, codes = np.unique(rev, return_inverse=True)
    effect = fit["reviewer_effects"]
    adj = t - effect[codes]
    n = table.n
    cnt = np.bincount(prop, minlength=n)
    mean_adj = np.bincount(prop, weights=adj, minlength=n) / np.maximum(cnt, 1)
    bonus = np.asarray(ranking.bonus.total, float)
    q = np.nonzero(qualifying_mask(ranking) & (cnt > 0))[0]
    score = mean_adj[q] + bonus[q]
    order = q[np.lexsort((ranking.rank[q], -np.round(score, 6)))]
    adj_rank = np.zeros(n, np.int64)
    adj_rank[order] = np.arange(1, len(order) + 1)
    L = line_rank(ranking) if ranking.params.budget_limit(ranking.pack) is not None else None
    rows, crossing = [], []
    for i in ranking.order.tolist():
        if adj_rank[i] == 0:
            continue
        r0, r1 = int(ranking.rank[i]), int(adj_rank[i])
        rows.append({"proposal_id": str(table.ids[i]), "rank": r0, "adjusted_rank": r1, "shift": r0 - r1,
                     "total_score": json_float(ranking.total[i]),
                     "adjusted_score": json_float(mean_adj[i] + bonus[i])})
        if L is not None and (r0 <= L) != (r1 <= L):
            crossing.append(str(table.ids[i]))
    out.update({"available": True, "line_after_rank": L, "reviewers_withheld": bool(exclude),
                "reviewers": [] if exclude else sorted(({"reviewer_id": str(u), "effect": json_float(e)} for u, e in zip(uniq, effect)),
                                    key=lambda r: (-abs(r["effect"] or 0.0), r["reviewer_id"])),
                "proposals": rows, "crossing": crossing,
                "n_moved": sum(1 for r in rows if r["shift"] != 0)})
    out["reading"] = _reading(out, "ja")
    out["reading_en"] = _reading(out, "en")
    return out


def _reading(a: dict, lang: str) -> str:
    if a["crossing"]:
        return label("analytics.adjusted.crossing", lang, n=len(a["crossing"]), ids=join_list(a["crossing"], lang))
    if a["n_moved"]:
        return label("analytics.adjusted.moved", lang, n=a["n_moved"])
    return label("analytics.adjusted.same", lang)


__all__ = ["leniency_adjusted"]
