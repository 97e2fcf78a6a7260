"""Counted reviews, reviewer base scores, normalisation and aggregation (selection.md §2–4), vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import Aggregation, Normalization, Reviewer
from .packs import CriteriaPack
from .table import ProposalTable, ReviewTable


def conflict_mask(reviews: ReviewTable, table: ProposalTable, reviewers: list[Reviewer] | None) -> np.ndarray:
    """True for review rows whose reviewer has a COI on the proposal (by proposal id or organisation name)."""
    mask = np.zeros(reviews.n, bool)
    if not reviewers or not reviews.n:
        return mask
    pairs = conflict_pairs(table, reviewers)
    if not pairs:
        return mask
    codes = {rid: k for k, rid in enumerate(sorted({r for r, _ in pairs}))}
    n = max(table.n, 1)
    keys = np.array([codes[r] * n + p for r, p in pairs], dtype=np.int64)
    rev_code = np.array([codes.get(r, -1) for r in reviews.reviewer], dtype=np.int64) if reviews.n else \
        np.zeros(0, np.int64)
    row_keys = np.where(rev_code >= 0, rev_code * n + reviews.prop, -1)
    return np.isin(row_keys, keys) & (rev_code >= 0)


def conflict_pairs(table: ProposalTable, reviewers: list[Reviewer]) -> set[tuple[str, int]]:
    """(reviewer_id, proposal row) for every conflict of interest."""
    by_id = table.index_of()
    by_name: dict[str, set[int]] = {}
    for name, prop in zip(table.m_name, table.m_prop):
        by_name.setdefault(name, set()).add(int(prop))
    pairs = set()
    for r in reviewers:
        for token in r.conflicts:
            if token in by_id:
                pairs.add((r.reviewer_id, by_id[token]))
            for prop in by_name.get(token, ()):
                pairs.add((r.reviewer_id, prop))
    return pairs


@dataclass
class Aggregate:
    counted: np.ndarray        # bool per review row
    conflicted: np.ndarray     # bool per review row
    totals: np.ndarray         # T(r,p) per review row (after normalisation where applied), NaN if incomplete
    raw_totals: np.ndarray     # T(r,p) before normalisation
    n_reviews: np.ndarray      # counted reviews per proposal
    base: np.ndarray           # B(p), NaN with no counted review
    crit_ratio: np.ndarray     # [n, C] mean ratio per criterion over counted reviews (NaN with none)
    crit_points: np.ndarray    # [n, C] mean points per criterion
    ratios: np.ndarray         # [rows, C] ratio per review row and criterion


def ratio_table(pack: CriteriaPack) -> np.ndarray:
    levels = pack.levels
    lut = np.full(max(levels) + 1, np.nan)
    for level, ratio in levels.items():
        lut[level] = ratio
    return lut


def reviewer_totals(pack: CriteriaPack, reviews: ReviewTable) -> tuple[np.ndarray, np.ndarray]:
    """Per review row: the ratio matrix and T = Σ points × ratio (NaN where a level is missing)."""
    lut = ratio_table(pack)
    levels = np.clip(reviews.levels, 0, len(lut) - 1)
    ratios = lut[levels] if reviews.n else np.zeros((0, len(pack.criteria)))
    points = np.array([c.points for c in pack.criteria], dtype=float)
    totals = ratios @ points
    return ratios, totals


def normalise_zscore(totals: np.ndarray, reviewer: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """selection.md §3: mean_all + sd_all × (T − mean_r) / sd_r for reviewers with ≥ 3 reviews and sd_r > 0."""
    out = totals.copy()
    idx = np.nonzero(counted)[0]
    if len(idx) == 0:
        return out
    t = totals[idx]
    codes, uniq = _factorize(reviewer[idx])
    cnt = np.bincount(codes, minlength=len(uniq))
    s1 = np.bincount(codes, weights=t, minlength=len(uniq))
    s2 = np.bincount(codes, weights=t * t, minlength=len(uniq))
    mean_r = s1 / np.maximum(cnt, 1)
    var_r = np.maximum(s2 / np.maximum(cnt, 1) - mean_r ** 2, 0.0)
    # recompute variance exactly (two-pass) to avoid cancellation for near-constant reviewers
    dev = t - mean_r[codes]
    var_r = np.bincount(codes, weights=dev * dev, minlength=len(uniq)) / np.maximum(cnt, 1)
    sd_r = np.sqrt(var_r)
    mean_all = t.mean()
    sd_all = t.std()
    applies = (cnt >= 3) & (np.round(sd_r, 12) > 0)
    z = np.where(applies[codes], mean_all + sd_all * dev / np.where(sd_r[codes] > 0, sd_r[codes], 1.0), t)
    out[idx] = z
    return out


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.int64), uniq


def aggregate_scores(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable,
                     reviewers: list[Reviewer] | None, aggregation: Aggregation, normalization: Normalization,
                     trim_min_reviews: int) -> Aggregate:
    n = table.n
    conflicted = conflict_mask(reviews, table, reviewers)
    counted = reviews.submitted & ~conflicted
    ratios, raw = reviewer_totals(pack, reviews)
    counted &= ~np.isnan(raw)  # an incomplete review cannot count (refused at input; belt and braces)
    totals = normalise_zscore(raw, reviews.reviewer, counted) if normalization == Normalization.zscore else raw
    prop_c = reviews.prop[counted]
    t_c = totals[counted]
    n_rev = np.bincount(prop_c, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(prop_c, weights=t_c, minlength=n) / n_rev
    base = mean
    if aggregation != Aggregation.mean and len(t_c):
        order = np.lexsort((t_c, prop_c))
        ts = t_c[order]
        starts = np.concatenate(([0], np.cumsum(n_rev)[:-1]))
        has = n_rev > 0
        base = np.full(n, np.nan)
        if aggregation == Aggregation.median:
            lo = starts + (n_rev - 1) // 2
            hi = starts + n_rev // 2
            base[has] = (ts[lo[has]] + ts[hi[has]]) / 2.0
        else:  # trimmed
            trim = n_rev >= trim_min_reviews
            lowest = ts[np.minimum(starts, len(ts) - 1)]
            highest = ts[np.minimum(starts + n_rev - 1, len(ts) - 1)]
            sums = np.bincount(prop_c, weights=t_c, minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                trimmed = (sums - lowest - highest) / (n_rev - 2)
            base = np.where(trim, trimmed, mean)
            base[~has] = np.nan
    C = len(pack.criteria)
    crit_ratio = np.full((n, C), np.nan)
    r_c = ratios[counted]
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in range(C):
            crit_ratio[:, c] = np.bincount(prop_c, weights=r_c[:, c], minlength=n) / n_rev
    points = np.array([c.points for c in pack.criteria], dtype=float)
    return Aggregate(counted, conflicted, totals, raw, n_rev, base, crit_ratio, crit_ratio * points, ratios)
