"""Agreement between reviewers (selection.md §10, docs/analytics.md §3).

Primary, on all counted reviews: the ICCs of a crossed random-effects REML fit (:mod:`.variance_components`)
and Krippendorff's α (interval; the ``krippendorff`` package), each with a bootstrap interval over proposals and
the number of reviews used. Secondary: ICC(2,k), ICC(3,k) (Shrout–Fleiss) and Kendall's W on a complete block
(:func:`balanced_subset`), exact for that block only. With the chair's reading."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels import both, label
from .common import AGREEMENT_RESAMPLES, join_sentences, json_float
from .variance_components import crossed_reml, harmonic_k, iccs

CI_LEVEL = 0.95


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


def krippendorff_alpha(prop: np.ndarray, rater: np.ndarray, y: np.ndarray) -> float | None:
    """Krippendorff's α (interval metric) of reviews (proposal code, reviewer code, value): the
    ``krippendorff`` package on the reviewers × proposals matrix (missing = not reviewed)."""
    import krippendorff  # lazy: only when agreement is computed

    _, pc = np.unique(prop, return_inverse=True)
    _, rc = np.unique(rater, return_inverse=True)
    m = np.full((int(rc.max()) + 1, int(pc.max()) + 1), np.nan)
    m[rc, pc] = y
    pairable = (~np.isnan(m)).sum(axis=0) >= 2
    if pairable.sum() < 2 or np.nanstd(m[:, pairable]) == 0:
        return None
    return json_float(krippendorff.alpha(reliability_data=m[:, pairable], level_of_measurement="interval"))


def _percentile_ci(values: list[float]) -> list[float | None]:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], float)
    if len(v) < 10:
        return [None, None]
    a = (1.0 - CI_LEVEL) / 2.0
    return [json_float(np.quantile(v, a)), json_float(np.quantile(v, 1.0 - a))]


def all_reviews_agreement(prop: np.ndarray, rater: np.ndarray, y: np.ndarray,
                          resamples: int = AGREEMENT_RESAMPLES, seed: int = 0) -> dict:
    """Agreement on every counted review: ICC(A,1), ICC(A,k̂), ICC(C,k̂) of the crossed REML fit and
    Krippendorff's α, with percentile intervals from ``resamples`` bootstrap draws of whole proposals (each
    with all its reviews; a proposal drawn twice counts as two), seeded; and what was used."""
    prop, rater, y = np.asarray(prop), np.asarray(rater), np.asarray(y, float)
    k_hat = harmonic_k(prop)
    out: dict[str, Any] = {"basis": "all counted reviews", "n_reviews": int(len(y)),
                           "n_proposals": int(len(np.unique(prop))), "n_reviewers": int(len(np.unique(rater))),
                           "k_hat": json_float(k_hat), "ci_level": CI_LEVEL, "ci_resamples": int(resamples),
                           "ci_seed": int(seed)}
    fit = crossed_reml(prop, rater, y)
    icc = iccs(fit, k_hat)
    out.update({"icc_a1": json_float(icc["icc_a1"]), "icc_ak": json_float(icc["icc_ak"]),
                "icc_ck": json_float(icc["icc_ck"]), "alpha": krippendorff_alpha(prop, rater, y),
                "variance_components": {"proposal": json_float(fit["sigma2_proposal"]),
                                        "reviewer": json_float(fit["sigma2_reviewer"]),
                                        "residual": json_float(fit["sigma2_error"])},
                "converged": fit["converged"]})
    # bootstrap over proposals: redraw proposals, keep each one's reviews; refit from the full-data estimate
    _, pc = np.unique(prop, return_inverse=True)
    order = np.argsort(pc, kind="stable")
    starts = np.searchsorted(pc[order], np.arange(out["n_proposals"] + 1))
    rng = np.random.default_rng(seed)
    draws: dict[str, list] = {"icc_ak": [], "icc_ck": [], "alpha": []}
    for _ in range(resamples):
        pick = rng.integers(0, out["n_proposals"], out["n_proposals"])
        rows = np.concatenate([order[starts[j]:starts[j + 1]] for j in pick])
        new_p = np.repeat(np.arange(len(pick)), starts[pick + 1] - starts[pick])
        r_b, y_b = rater[rows], y[rows]
        if len(np.unique(r_b)) < 2 or len(y_b) < 3:
            continue
        try:
            f_b = crossed_reml(new_p, r_b, y_b, start=fit["theta"], xatol=1e-2)
        except (ValueError, np.linalg.LinAlgError):
            continue
        ic = iccs(f_b, harmonic_k(new_p))
        draws["icc_ak"].append(ic["icc_ak"])
        draws["icc_ck"].append(ic["icc_ck"])
        draws["alpha"].append(krippendorff_alpha(new_p, r_b, y_b))
    for name, vals in draws.items():
        out[f"{name}_ci"] = _percentile_ci(vals)
    return out


def _level(x: float, bands: tuple[tuple[float, str], ...], last: str) -> str:
    for bound, name in bands:
        if x >= bound:
            return name
    return last


def _all_reading(ag: dict, lang: str) -> str:
    parts = [label("analytics.agreement.all.used", lang, reviews=ag["n_reviews"], proposals=ag["n_proposals"],
                   reviewers=ag["n_reviewers"])]
    if ag.get("icc_ak") is not None:
        lo, hi = ag.get("icc_ak_ci") or [None, None]
        level = _level(ag["icc_ak"], ((0.9, "excellent"), (0.75, "good"), (0.5, "moderate")), "poor")
        ci = "" if lo is None else label("analytics.agreement.all.ci", lang, lo=lo, hi=hi)
        parts.append(label(f"analytics.agreement.all.icc.{level}", lang, icc=ag["icc_ak"], ci=ci))
    if ag.get("alpha") is not None:
        lo, hi = ag.get("alpha_ci") or [None, None]
        level = _level(ag["alpha"], ((0.8, "reliable"), (0.667, "tentative")), "low")
        ci = "" if lo is None else label("analytics.agreement.all.ci", lang, lo=lo, hi=hi)
        parts.append(label(f"analytics.agreement.all.alpha.{level}", lang, alpha=ag["alpha"], ci=ci))
    return join_sentences(parts, lang)


def _agreement_reading(icc2: float | None, w: float | None, lang: str) -> str:
    parts = []
    if icc2 is not None:
        level = "excellent" if icc2 >= 0.9 else "good" if icc2 >= 0.75 else "moderate" if icc2 >= 0.5 else "poor"
        parts.append(label(f"analytics.agreement.icc.{level}", lang))
    if w is not None:
        level = "strong" if w >= 0.7 else "moderate" if w >= 0.5 else "weak" if w >= 0.3 else "poor"
        parts.append(label(f"analytics.agreement.w.{level}", lang))
    return join_sentences(parts, lang)


def agreement_block(prop, codes, t, n, V, uniq, ids, resamples: int = AGREEMENT_RESAMPLES, seed: int = 0
                    ) -> dict:
    """The agreement of the reviewer totals ``t`` (review rows: proposal ``prop``, reviewer code ``codes`` of
    ``V`` reviewers ``uniq``; ``n`` proposals with ``ids``). Primary (``all``): :func:`all_reviews_agreement`
    on every review. Secondary: ICC(2,k), ICC(3,k) and Kendall's W on the largest balanced block
    (:func:`balanced_subset`), or None with the reason. With the chair's reading (of the primary figures)."""
    out: dict[str, Any] = {"all": None, "icc2k": None, "icc3k": None, "kendall_w": None, "balanced": None,
                           "reason": None, "reason_en": None, "block_reading": None, "block_reading_en": None}
    if V < 2 or len(t) == 0 or len(np.unique(prop)) < 2 or len(t) < 3:
        out["reason"], out["reason_en"] = both("analytics.agreement.too_few_reviewers")
        out["reading"], out["reading_en"] = out["reason"], out["reason_en"]
        return out
    out["all"] = all_reviews_agreement(prop, codes, t, resamples, seed)
    out["reading"] = _all_reading(out["all"], "ja")
    out["reading_en"] = _all_reading(out["all"], "en")
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
    out["block_reading"] = _agreement_reading(out["icc2k"], out["kendall_w"], "ja")
    out["block_reading_en"] = _agreement_reading(out["icc2k"], out["kendall_w"], "en")
    return out
