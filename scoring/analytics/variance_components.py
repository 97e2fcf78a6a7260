"""Variance components of reviewer totals on all counted reviews (docs/analytics.md §3): a crossed
random-effects model fitted by REML, the ICCs of incomplete designs derived from it, and the reviewer effects
(leniency) it estimates.

Model: T(r,p) = μ + a_p + b_r + e_rp, with a_p ~ N(0, σ²_p) (proposal), b_r ~ N(0, σ²_r) (reviewer),
e_rp ~ N(0, σ²_e), all independent; every proposal × reviewer cell at most once. The restricted likelihood is
evaluated through Henderson's mixed-model equations (dimension 1 + proposals + reviewers), with σ²_e profiled out
and the two variance ratios optimised on the log scale (scipy). It is the same estimate as statsmodels'
``MixedLM(..., exog_vc=…).fit(reml=True)`` (the tests check it), at a fraction of the cost on large rounds:
MixedLM treats the crossed design as one group of dense n × (P + V) matrices.
"""

from __future__ import annotations

import math

import numpy as np

LOG_RATIO_BOUNDS = (-23.0, 12.0)       # variance ratios σ²_x / σ²_e between 1e-10 and 1.6e5


def _design(prop: np.ndarray, rater: np.ndarray, y: np.ndarray) -> dict:
    """The cross-products of the mixed-model equations, arranged for absorbing the factor with more levels
    (its block is diagonal): K = [μ | kept factor] block, C = absorbed × [μ | kept] counts, diagonal counts."""
    codes = [np.unique(prop, return_inverse=True)[1], np.unique(rater, return_inverse=True)[1]]
    sizes = [int(c.max()) + 1 for c in codes]
    a = 0 if sizes[0] >= sizes[1] else 1            # absorb the larger factor (proposals, usually)
    b = 1 - a
    ca, cb, La, Lb = codes[a], codes[b], sizes[a], sizes[b]
    cnt_a = np.bincount(ca, minlength=La).astype(float)
    cnt_b = np.bincount(cb, minlength=Lb).astype(float)
    K = np.zeros((1 + Lb, 1 + Lb))
    K[0, 0] = len(y)
    K[0, 1:] = K[1:, 0] = cnt_b
    K[1 + np.arange(Lb), 1 + np.arange(Lb)] = cnt_b
    C = np.zeros((La, 1 + Lb))
    C[:, 0] = cnt_a
    np.add.at(C, (ca, 1 + cb), 1.0)
    r_k = np.concatenate([[y.sum()], np.bincount(cb, weights=y, minlength=Lb)])
    r_d = np.bincount(ca, weights=y, minlength=La)
    return {"a": a, "sizes": sizes, "K": K, "C": C, "cnt_a": cnt_a, "r_k": r_k, "r_d": r_d}


def crossed_reml(prop, rater, y, start: tuple[float, float] | None = None, xatol: float = 1e-8) -> dict:
    """REML fit of T = μ + proposal + reviewer + error on every review (``prop``, ``rater`` codes or ids per
    review, ``y`` the totals). Returns the variance components, μ, the BLUPs of the proposal and reviewer
    effects (in the order of ``np.unique`` of the codes) and whether the optimiser converged. ``start``:
    log variance ratios to start from (else two starts); ``xatol``: their tolerance."""
    # lazy: scipy.optimize costs a cold start, paid only when agreement is computed
    from scipy.optimize import minimize

    y = np.asarray(y, float)
    n = len(y)
    d = _design(np.asarray(prop), np.asarray(rater), y)
    P, V = d["sizes"]
    if n < 3 or P < 2 or V < 2:
        raise ValueError("a variance-components fit needs at least 2 proposals, 2 reviewers and 3 reviews")
    a = d["a"]
    K, C, cnt_a, r_k, r_d = d["K"], d["C"], d["cnt_a"], d["r_k"], d["r_d"]
    La, Lb = d["sizes"][a], d["sizes"][1 - a]
    yty = float(y @ y)
    dof = n - 1
    kdiag = 1 + np.arange(Lb)

    def solve(theta: np.ndarray):
        # theta = log(σ²_proposal/σ²_e), log(σ²_reviewer/σ²_e); the absorbed factor's diagonal block D
        th_a, th_b = (theta[0], theta[1]) if a == 0 else (theta[1], theta[0])
        dd = cnt_a + math.exp(-th_a)
        s = K.copy()
        s[kdiag, kdiag] += math.exp(-th_b)
        cd = C / dd[:, None]
        s -= C.T @ cd
        s[0, 0] += 1e-12 * n          # (numerically harmless; keeps a degenerate design factorisable)
        sign, logdet_s = np.linalg.slogdet(s)
        if sign <= 0:
            raise np.linalg.LinAlgError("not positive definite")
        sol_k = np.linalg.solve(s, r_k - cd.T @ r_d)
        sol_d = (r_d - C @ sol_k) / dd
        quad = yty - float(sol_k @ r_k) - float(sol_d @ r_d)
        logdet = float(np.log(dd).sum()) + float(logdet_s)
        return quad, logdet, sol_k, sol_d, La * th_a + Lb * th_b

    def objective(theta: np.ndarray) -> float:
        try:
            quad, logdet, _, _, logdet_lambda = solve(theta)
        except np.linalg.LinAlgError:
            return 1e300
        return dof * math.log(max(quad, 1e-300) / dof) + logdet_lambda + logdet

    lo, hi = LOG_RATIO_BOUNDS

    def clipped(theta: np.ndarray) -> float:
        return objective((min(max(theta[0], lo), hi), min(max(theta[1], lo), hi)))

    best = None
    for x0 in ([start] if start is not None else [(0.0, -1.0), (2.0, -3.0)]):
        x0 = np.asarray(x0, float)
        simplex = np.array([x0, x0 + (0.5, 0.0), x0 + (0.0, 0.5)])
        res = minimize(clipped, x0, method="Nelder-Mead",
                       options={"xatol": xatol, "fatol": min(1e-4, xatol), "maxiter": 2000,
                                "initial_simplex": simplex})
        if best is None or res.fun < best.fun - 1e-10:
            best = res
    best.x = np.clip(best.x, lo, hi)
    theta = best.x
    quad, _, sol_k, sol_d, _ = solve(theta)
    s2e = max(quad, 0.0) / dof
    s2p = s2e * math.exp(theta[0])
    s2r = s2e * math.exp(theta[1])
    at_bound = [float(x) <= LOG_RATIO_BOUNDS[0] + 1e-6 for x in theta]
    eff_a, eff_b = sol_d.copy(), sol_k[1:].copy()
    prop_eff, rev_eff = (eff_a, eff_b) if a == 0 else (eff_b, eff_a)
    return {"sigma2_proposal": 0.0 if at_bound[0] else s2p, "sigma2_reviewer": 0.0 if at_bound[1] else s2r,
            "sigma2_error": s2e, "mean": float(sol_k[0]), "proposal_effects": prop_eff,
            "reviewer_effects": rev_eff, "converged": bool(best.success), "n": n, "P": P, "V": V,
            "neg2_reml": float(best.fun), "theta": (float(theta[0]), float(theta[1]))}


def harmonic_k(prop) -> float:
    """k̂: the harmonic mean number of reviews per proposal (ten Hove et al. 2022)."""
    counts = np.unique(np.asarray(prop), return_counts=True)[1]
    return float(len(counts) / (1.0 / counts).sum())


def iccs(fit: dict, k_hat: float) -> dict:
    """The ICCs of a variance-components fit: ICC(A,1), ICC(A,k̂) (absolute agreement: reviewer leniency counts
    as error), ICC(C,k̂) (consistency: leniency removed), for the mean of k̂ reviews per proposal."""
    sp, sr, se = fit["sigma2_proposal"], fit["sigma2_reviewer"], fit["sigma2_error"]

    def ratio(num: float, den: float) -> float | None:
        return num / den if den > 0 else None

    return {"icc_a1": ratio(sp, sp + sr + se), "icc_ak": ratio(sp, sp + (sr + se) / k_hat),
            "icc_ck": ratio(sp, sp + se / k_hat), "k_hat": k_hat}


__all__ = ["crossed_reml", "harmonic_k", "iccs"]
