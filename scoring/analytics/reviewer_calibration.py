"""Reviewer calibration (selection.md §10): each reviewer's leniency against the panel, the agreement of the
panel and per-proposal disagreement, from the raw reviewer totals of counted reviews."""

from __future__ import annotations

import math
from typing import Collection

import numpy as np

from ..labels import label
from ..models import Decision
from ..selection import Ranking
from ..table import ReviewTable
from .agreement import agreement_block
from .common import DEFAULT_LENIENCY_THRESHOLD, check_reviews, json_float


def _leniency_reading(len_: float | None, flagged: bool, threshold: float, lang: str) -> str:
    if len_ is None:
        return label("analytics.leniency.no_shared", lang)
    if flagged:
        return label("analytics.leniency.lenient" if len_ > 0 else "analytics.leniency.strict", lang,
                     diff=abs(len_), threshold=threshold)
    return label("analytics.leniency.in_line", lang, diff=len_)


def calibration(ranking: Ranking, reviews: ReviewTable, reviewers: list | None = None,
                threshold: float = DEFAULT_LENIENCY_THRESHOLD, exclude: Collection[str] = ()) -> dict:
    """Per reviewer leniency against the panel, agreement (ICC(2,k), ICC(3,k), Kendall's W) and per-proposal
    disagreement. Uses the raw reviewer totals T(r,p) (before any normalisation) of counted reviews.

    ``exclude``: proposal ids whose reviews are left out of every figure here, as if they had not been
    reviewed — the proposals the reader has a conflict of interest with (a per-reviewer mean or a proposal's
    min/max would otherwise give their individual scores away)."""
    check_reviews(ranking, reviews)
    pack, agg, table = ranking.pack, ranking.agg, ranking.table
    n, C = table.n, len(pack.criteria)
    use = np.asarray(agg.counted, bool)
    excluded = set(map(str, exclude))
    out = np.array([str(x) in excluded for x in table.ids], bool)
    if out.any():
        use = use & ~out[np.asarray(reviews.prop, np.int64)]
    idx = np.nonzero(use)[0]
    prop = reviews.prop[idx]
    t = np.asarray(agg.raw_totals, float)[idx]
    points = np.array([c.points for c in pack.criteria], float)
    cp = agg.ratios[idx] * points[None, :] if len(idx) else np.zeros((0, C))
    rev = reviews.reviewer[idx].astype(str)
    uniq, codes = np.unique(rev, return_inverse=True) if len(idx) else (np.zeros(0, str), np.zeros(0, np.int64))
    V = len(uniq)
    names = {r.reviewer_id: r.name for r in (reviewers or [])}

    # leniency: T(r,p) − mean of the other reviewers' T on p, averaged over r's proposals that others reviewed
    cnt = np.bincount(prop, minlength=n)
    s_t = np.bincount(prop, weights=t, minlength=n)
    s_c = np.stack([np.bincount(prop, weights=cp[:, c], minlength=n) for c in range(C)], axis=1) if C else \
        np.zeros((n, 0))
    has_other = cnt[prop] >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (s_t[prop] - t) / (cnt[prop] - 1)
        others_c = (s_c[prop] - cp) / (cnt[prop] - 1)[:, None]
    diff = np.where(has_other, t - others, 0.0)
    diff_c = np.where(has_other[:, None], cp - others_c, 0.0)
    n_r = np.bincount(codes, minlength=V)
    n_shared = np.bincount(codes, weights=has_other.astype(float), minlength=V)
    mean_r = np.bincount(codes, weights=t, minlength=V) / np.maximum(n_r, 1)
    dev = t - mean_r[codes]
    var_r = np.bincount(codes, weights=dev * dev, minlength=V) / np.maximum(n_r - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        len_r = np.bincount(codes, weights=diff, minlength=V) / n_shared
        panel_r = np.bincount(codes, weights=np.where(has_other, others, 0.0), minlength=V) / n_shared
        len_c = np.stack([np.bincount(codes, weights=diff_c[:, c], minlength=V) for c in range(C)], axis=1) \
            / n_shared[:, None] if C else np.zeros((V, 0))
    reviewer_rows = []
    for v in range(V):
        lv = json_float(len_r[v]) if n_shared[v] else None
        flagged = lv is not None and abs(lv) > threshold
        reviewer_rows.append({
            "reviewer_id": str(uniq[v]), "name": names.get(str(uniq[v]), ""),
            "n_reviews": int(n_r[v]), "n_shared": int(n_shared[v]),
            "mean": json_float(mean_r[v]), "sd": json_float(math.sqrt(var_r[v])) if n_r[v] >= 2 else None,
            "panel_mean": json_float(panel_r[v]) if n_shared[v] else None,
            "leniency": lv,
            "criteria_leniency": {c.id: (json_float(len_c[v, k]) if n_shared[v] else None)
                                  for k, c in enumerate(pack.criteria)},
            "flagged": bool(flagged),
            "reading": _leniency_reading(lv, flagged, threshold, "ja"),
            "reading_en": _leniency_reading(lv, flagged, threshold, "en"),
        })
    reviewer_rows.sort(key=lambda r: (-(abs(r["leniency"]) if r["leniency"] is not None else -1), r["reviewer_id"]))

    agreement = agreement_block(prop, codes, t, n, V, uniq, table.ids)

    # disagreement per proposal: sd and range of the counted reviewer totals
    dis = []
    if len(idx):
        order = np.lexsort((t, prop))
        ts, ps = t[order], prop[order]
        starts = np.searchsorted(ps, np.arange(n))
        mean_p = s_t / np.maximum(cnt, 1)
        dev_p = t - mean_p[prop]
        var_p = np.bincount(prop, weights=dev_p * dev_p, minlength=n) / np.maximum(cnt - 1, 1)
        for i in range(n):
            k = int(cnt[i])
            if k < 2:
                continue
            lo, hi = float(ts[starts[i]]), float(ts[starts[i] + k - 1])
            dis.append({"proposal_id": str(table.ids[i]), "n": k, "mean": json_float(mean_p[i]),
                        "sd": json_float(math.sqrt(var_p[i])), "min": lo, "max": hi, "range": hi - lo,
                        "rank": int(ranking.rank[i]) or None,
                        "decision": list(Decision)[ranking.decision[i]].value})
        dis.sort(key=lambda r: (-(r["sd"] or 0.0), r["proposal_id"]))
    return {"threshold": float(threshold), "basis": "raw reviewer totals of counted reviews",
            "excluded": [str(x) for x in np.asarray(table.ids)[out]],
            "n_reviewers": V, "n_flagged": sum(r["flagged"] for r in reviewer_rows),
            "reviewers": reviewer_rows, "agreement": agreement, "disagreement": dis}
