"""Counted reviews, reviewer base scores, normalisation and aggregation (selection.md §2–4), vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
import pandas as pd

from .models import Aggregation, Normalization, Reviewer
from .organisations import organisation_key
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
    code_of = {name: k for k, name in enumerate(reviews.reviewer_names)}
    n = max(table.n, 1)
    pair_keys = np.fromiter((code_of[r] * n + p for r, p in pairs if r in code_of), dtype=np.int64)
    keys = reviews.rcode * n + reviews.prop
    mask = np.isin(keys, pair_keys, kind="table" if len(pair_keys) and int(keys.max()) < 50_000_000 else None)
    return mask


def conflict_pairs(table: ProposalTable, reviewers: list[Reviewer]) -> set[tuple[str, int]]:
    """(reviewer_id, proposal row) for every conflict of interest: a declared token is a proposal id, or an
    organisation compared by :func:`scoring.organisations.organisation_key` with the applicant and every
    consortium member (「株式会社　テスト7」, 「㈱テスト7」 and 「テスト７」 are one organisation)."""
    tokens = {t for r in reviewers for t in r.conflicts}
    if not tokens:
        return set()
    key = tuple((r.reviewer_id, tuple(r.conflicts)) for r in reviewers)
    cached = table.conflict_cache.get(key)
    if cached is None:      # once per table and reviewers (both stages, every what-if); callers only read it
        cached = table.conflict_cache[key] = frozenset(_pairs(table, reviewers, tokens))
    return cached


def _pairs(table: ProposalTable, reviewers: list[Reviewer], tokens: set[str]) -> set[tuple[str, int]]:
    by_id = table.index_of()
    codes_of_key = table.organisation_codes()                 # once per table
    wanted_keys = {organisation_key(t) for t in tokens} & set(codes_of_key)
    by_key: dict[str, set[int]] = {}
    if wanted_keys:
        key_of_code = {c: k for k in wanted_keys for c in codes_of_key[k]}
        wanted = np.array(sorted(key_of_code), dtype=np.int64)
        hits = np.nonzero(np.isin(table.m_name_code, wanted))[0]
        for j in hits:
            by_key.setdefault(key_of_code[int(table.m_name_code[j])], set()).add(int(table.m_prop[j]))
    pairs = set()
    for r in reviewers:
        for token in r.conflicts:
            if token in by_id:
                pairs.add((r.reviewer_id, by_id[token]))
            for prop in by_key.get(organisation_key(token), ()):
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
    ratios = lut[reviews.levels] if reviews.n else np.zeros((0, len(pack.criteria)))  # levels validated at load
    points = np.array([c.points for c in pack.criteria], dtype=float)
    totals = ratios @ points
    return ratios, totals


def normalise_zscore(totals: np.ndarray, rcode: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """selection.md §3: mean_all + sd_all × (T − mean_r) / sd_r for reviewers with ≥ 3 reviews and sd_r > 0."""
    out = totals.copy()
    idx = np.nonzero(counted)[0]
    if len(idx) == 0:
        return out
    t = totals[idx]
    codes = rcode[idx]
    m = int(codes.max()) + 1
    cnt = np.bincount(codes, minlength=m)
    mean_r = np.bincount(codes, weights=t, minlength=m) / np.maximum(cnt, 1)
    dev = t - mean_r[codes]  # two-pass variance: no cancellation for near-constant reviewers
    var_r = np.bincount(codes, weights=dev * dev, minlength=m) / np.maximum(cnt, 1)
    sd_r = np.sqrt(var_r)
    mean_all = t.mean()
    sd_all = t.std()
    applies = (cnt >= 3) & (np.round(sd_r, 12) > 0)
    z = np.where(applies[codes], mean_all + sd_all * dev / np.where(sd_r[codes] > 0, sd_r[codes], 1.0), t)
    out[idx] = z
    return out


def aggregate_scores(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable,
                     reviewers: list[Reviewer] | None, aggregation: Aggregation, normalization: Normalization,
                     trim_min_reviews: int) -> Aggregate:
    n = table.n
    conflicted = conflict_mask(reviews, table, reviewers)
    counted = reviews.submitted & ~conflicted
    ratios, raw = reviewer_totals(pack, reviews)
    counted &= ~np.isnan(raw)  # an incomplete review cannot count (refused at input; belt and braces)
    totals = normalise_zscore(raw, reviews.rcode, counted) if normalization == Normalization.zscore else raw
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
    # per-criterion means: one sparse (proposal × review row) product instead of C strided bincounts
    rows = reviews.by_prop[counted[reviews.by_prop]]  # counted rows grouped by proposal: CSR without a sort
    indptr = np.concatenate(([0], np.cumsum(n_rev)))
    incidence = sparse.csr_matrix((np.ones(len(rows)), rows, indptr), shape=(n, reviews.n))
    with np.errstate(invalid="ignore", divide="ignore"):
        crit_ratio = np.asarray(incidence @ ratios) / n_rev[:, None]  # reads counted rows only: no NaN
    points = np.array([c.points for c in pack.criteria], dtype=float)
    return Aggregate(counted, conflicted, totals, raw, n_rev, base, crit_ratio, crit_ratio * points, ratios)
