"""Agreement between reviewers (selection.md §10): ICC(2,k) and ICC(3,k) (Shrout–Fleiss), Kendall's W, the
balanced block they are computed on, and the agreement part of the calibration with its reading."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import both, label
from .common import join_sentences, json_float


def icc_k(y: np.ndarray) -> dict:
    """Shrout–Fleiss (1979) two-way ICC(2,k) and ICC(3,k) of a complete targets × raters matrix."""
    y = np.asarray(y, float)
    n, k = y.shape
    gm = y.mean()
    ss_rows = k * ((y.mean(axis=1) - gm) ** 2).sum()
    ss_cols = n * ((y.mean(axis=0) - gm) ** 2).sum()
    ss_tot = ((y - gm) ** 2).sum()
    ss_err = ss_tot - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    icc2 = (msr - mse) / (msr + (msc - mse) / n) if (msr + (msc - mse) / n) != 0 else float("nan")
    icc3 = (msr - mse) / msr if msr != 0 else float("nan")
    return {"icc2k": float(icc2), "icc3k": float(icc3), "ms_rows": float(msr), "ms_cols": float(msc),
            "ms_error": float(mse)}


def kendall_w(y: np.ndarray) -> float:
    """Kendall's W with the tie correction, of a complete objects × raters matrix (raters rank the objects)."""
    # lazy: scipy.stats costs ~1.5 s on a cold start, paid only when an agreement is actually computed
    from scipy.stats import rankdata

    y = np.asarray(y, float)
    n, m = y.shape
    r = rankdata(y, axis=0)                                    # average ranks for ties, per rater (column)
    s = ((r.sum(axis=1) - m * (n + 1) / 2.0) ** 2).sum()
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(y[:, j], return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denom = m * m * (n ** 3 - n) - m * ties
    return float(12.0 * s / denom) if denom > 0 else float("nan")


def balanced_subset(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A complete block of a proposals × reviewers presence matrix: repeatedly drop the proposal or reviewer
    with the largest share of missing reviews (ties: the smaller line, then the later one) until complete.
    Returns (row mask, column mask)."""
    rows = present.any(axis=1)
    cols = present.any(axis=0)
    while rows.any() and cols.any():
        sub = present[np.ix_(rows, cols)]
        if sub.all():
            break
        r_idx, c_idx = np.nonzero(rows)[0], np.nonzero(cols)[0]
        r_miss = 1.0 - sub.mean(axis=1)
        c_miss = 1.0 - sub.mean(axis=0)
        rj = int(np.lexsort((-np.arange(len(r_miss)), -r_miss))[0])
        cj = int(np.lexsort((-np.arange(len(c_miss)), -c_miss))[0])
        if r_miss[rj] > c_miss[cj] or (r_miss[rj] == c_miss[cj] and len(c_idx) >= len(r_idx)):
            rows[r_idx[rj]] = False
        else:
            cols[c_idx[cj]] = False
    return rows, cols


def _agreement_reading(icc2: float | None, w: float | None, lang: str) -> str:
    parts = []
    if icc2 is not None:
        level = "excellent" if icc2 >= 0.9 else "good" if icc2 >= 0.75 else "moderate" if icc2 >= 0.5 else "poor"
        parts.append(label(f"analytics.agreement.icc.{level}", lang))
    if w is not None:
        level = "strong" if w >= 0.7 else "moderate" if w >= 0.5 else "weak" if w >= 0.3 else "poor"
        parts.append(label(f"analytics.agreement.w.{level}", lang))
    return join_sentences(parts, lang)


def agreement_block(prop, codes, t, n, V, uniq, ids) -> dict:
    """The agreement of the reviewer totals ``t`` (review rows: proposal ``prop``, reviewer code ``codes`` of
    ``V`` reviewers ``uniq``; ``n`` proposals with ``ids``): ICC(2,k), ICC(3,k) and Kendall's W on the largest
    balanced block (:func:`balanced_subset`), or None with the reason; with the chair's reading."""
    out: dict[str, Any] = {"icc2k": None, "icc3k": None, "kendall_w": None, "balanced": None,
                           "reason": None, "reason_en": None}
    if V < 2 or len(t) == 0:
        out["reason"], out["reason_en"] = both("analytics.agreement.too_few_reviewers")
        out["reading"], out["reading_en"] = out["reason"], out["reason_en"]
        return out
    y = np.full((n, V), np.nan)
    y[prop, codes] = t
    present = ~np.isnan(y)
    rows, cols = balanced_subset(present)
    nr, nc = int(rows.sum()), int(cols.sum())
    left_p = int(present.any(axis=1).sum()) - nr
    left_v = V - nc
    if nr < 3 or nc < 2:
        out["reason"] = label("analytics.agreement.unbalanced", "ja", proposals=nr, reviewers=nc)
        out["reason_en"] = label("analytics.agreement.unbalanced", "en", proposals=nr, reviewers=nc)
        out["reading"], out["reading_en"] = out["reason"], out["reason_en"]
        return out
    sub = y[np.ix_(rows, cols)]
    icc = icc_k(sub)
    w = kendall_w(sub)
    out.update({"icc2k": json_float(icc["icc2k"]), "icc3k": json_float(icc["icc3k"]), "kendall_w": json_float(w),
                "balanced": {"n_proposals": nr, "n_reviewers": nc,
                             "reviewer_ids": [str(u) for u in uniq[cols]],
                             "proposal_ids": [str(p) for p in ids[rows]],
                             "left_out_proposals": left_p, "left_out_reviewers": left_v}})
    if left_p or left_v:
        block = {"proposals": nr, "reviewers": nc, "left_proposals": left_p, "left_reviewers": left_v}
        out["reason"] = label("analytics.agreement.partial", "ja", **block)
        out["reason_en"] = label("analytics.agreement.partial", "en", **block)
    out["reading"] = _agreement_reading(out["icc2k"], out["kendall_w"], "ja")
    out["reading_en"] = _agreement_reading(out["icc2k"], out["kendall_w"], "en")
    return out
