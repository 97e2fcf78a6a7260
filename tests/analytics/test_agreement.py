"""Reviewer agreement and calibration: ICC(2,k), ICC(3,k) against pingouin, Kendall's W against scipy."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy.stats import friedmanchisquare

from scoring.analytics import balanced_subset, calibration, icc_k, kendall_w
from scoring.selection import rank

from .synth import make_pack, make_proposals, make_reviews, random_round


def pingouin_icc(y: np.ndarray) -> dict[str, float]:
    n, k = y.shape
    df = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "y": y.ravel()})
    out = pg.intraclass_corr(data=df, targets="t", raters="r", ratings="y")
    got = dict(zip(out["Type"], out["ICC"]))
    # pingouin 0.7 labels the Shrout–Fleiss forms after McGraw & Wong: ICC(2,k) = ICC(A,k), ICC(3,k) = ICC(C,k)
    return {"ICC2k": got.get("ICC2k", got.get("ICC(A,k)")), "ICC3k": got.get("ICC3k", got.get("ICC(C,k)"))}


def scipy_w(y: np.ndarray) -> float:
    """Kendall's W from scipy's tie-corrected Friedman statistic: W = χ²_F / (m (n − 1))."""
    n, m = y.shape  # objects × raters: each object is a "treatment" measured in every rater's "block"
    stat = friedmanchisquare(*[y[i] for i in range(n)]).statistic
    return stat / (m * (n - 1))


@pytest.mark.parametrize("seed", range(12))
def test_icc_and_w_equal_pingouin_and_scipy(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(3, 25)), int(rng.integers(2, 8))
    quality = rng.normal(70, 10, n)
    # discrete scores (many ties) and a lenient/strict rater offset
    y = np.round((quality[:, None] + rng.normal(0, 6, (n, k)) + rng.normal(0, 4, k)) / 1.25) * 1.25
    ref = pingouin_icc(y)
    mine = icc_k(y)
    assert mine["icc2k"] == pytest.approx(ref["ICC2k"], abs=1e-9)
    assert mine["icc3k"] == pytest.approx(ref["ICC3k"], abs=1e-9)
    assert kendall_w(y) == pytest.approx(scipy_w(y), abs=1e-9)


def test_calibration_reports_pingouin_and_scipy_figures_on_a_round():
    pack, table, reviews = random_round(4, n_props=15, n_reviewers=4, noise=0.9)
    ranking = rank(pack, table, reviews)
    cal = calibration(ranking, reviews)
    y = np.zeros((15, 4))
    y[reviews.prop, [int(r[1:]) for r in reviews.reviewer]] = ranking.agg.raw_totals
    ref = pingouin_icc(y)
    ag = cal["agreement"]
    assert ag["balanced"]["n_proposals"] == 15 and ag["balanced"]["n_reviewers"] == 4
    assert ag["icc2k"] == pytest.approx(ref["ICC2k"], abs=1e-9)
    assert ag["icc3k"] == pytest.approx(ref["ICC3k"], abs=1e-9)
    assert ag["kendall_w"] == pytest.approx(scipy_w(y), abs=1e-9)
    assert ag["reading"] and ag["reading_en"]


def test_unbalanced_design_gives_none_with_a_reason():
    # every proposal scored by its own two reviewers: no complete block of ≥ 3 proposals
    pack = make_pack()
    table = make_proposals([50_000_000] * 6)
    levels = np.full((6, 12, 5), 4)
    present = np.zeros((6, 12), bool)
    for p in range(6):
        present[p, 2 * p:2 * p + 2] = True
    reviews = make_reviews(levels, present=present)
    ranking = rank(pack, table, reviews, params=None)
    ag = calibration(ranking, reviews)["agreement"]
    assert ag["icc2k"] is None and ag["icc3k"] is None and ag["kendall_w"] is None
    assert "均衡" in ag["reason"] and "balanced" in ag["reason_en"]


def test_balanced_subset_drops_the_sparse_reviewer():
    present = np.ones((5, 4), bool)
    present[:, 3] = False
    present[0, 3] = True  # reviewer 3 scored one proposal only
    rows, cols = balanced_subset(present)
    assert rows.all() and cols.tolist() == [True, True, True, False]


def test_lenient_reviewer_is_flagged_with_per_criterion_leniency():
    rng = np.random.default_rng(1)
    P, V = 10, 4
    base_levels = rng.integers(2, 5, (P, 1, 5))
    levels = np.repeat(base_levels, V, axis=1)
    levels[:, 3, :] += 1  # reviewer R03 gives one level more on every criterion: +25 points
    pack = make_pack(budget_yen=None, pass_line=0, criterion_floor=0)
    table = make_proposals([10_000_000] * P)
    reviews = make_reviews(levels)
    ranking = rank(pack, table, reviews)
    cal = calibration(ranking, reviews, threshold=10)
    by_id = {r["reviewer_id"]: r for r in cal["reviewers"]}
    lenient = by_id["R03"]
    # panel mean on the same proposals = the other three (identical) reviewers' totals
    others = ranking.agg.raw_totals[reviews.reviewer != "R03"].reshape(P, 3).mean(axis=1)
    mine = ranking.agg.raw_totals[reviews.reviewer == "R03"]
    assert lenient["leniency"] == pytest.approx(float((mine - others).mean()))
    assert lenient["flagged"] and lenient["leniency"] == pytest.approx(25.0)
    assert sum(lenient["criteria_leniency"].values()) == pytest.approx(lenient["leniency"])
    assert not any(by_id[r]["flagged"] for r in ("R00", "R01", "R02"))
    assert cal["n_flagged"] == 1
    # disagreement: every proposal's spread comes from R03 alone
    assert all(d["n"] == 4 and d["range"] == pytest.approx(d["max"] - d["min"]) for d in cal["disagreement"])
    sds = [d["sd"] for d in cal["disagreement"]]
    assert sds == sorted(sds, reverse=True)


def test_calibration_leaves_out_the_reviews_of_excluded_proposals():
    """A reader conflicted with a proposal (scoring.call.Call.withheld) sees calibration figures computed as if
    it had not been reviewed: no per-reviewer mean or per-proposal min/max gives its individual scores away."""
    rng = np.random.default_rng(7)
    P, V = 8, 3
    levels = rng.integers(1, 6, (P, V, 5))
    present = np.ones((P, V), bool)
    present[1:, 2] = False            # R02 reviewed only P0000: their figures are P0000's own scores
    pack = make_pack(budget_yen=None, pass_line=0, criterion_floor=0)
    table = make_proposals([10_000_000] * P)
    reviews = make_reviews(levels, present=present)
    ranking = rank(pack, table, reviews)
    full = calibration(ranking, reviews)
    assert "R02" in {r["reviewer_id"] for r in full["reviewers"]}
    assert "P0000" in {d["proposal_id"] for d in full["disagreement"]}

    cal = calibration(ranking, reviews, exclude={"P0000"})
    assert cal["excluded"] == ["P0000"] and full["excluded"] == []
    by_id = {r["reviewer_id"]: r for r in cal["reviewers"]}
    assert set(by_id) == {"R00", "R01"}
    assert "P0000" not in {d["proposal_id"] for d in cal["disagreement"]}
    kept = reviews.prop != 0
    for rid in ("R00", "R01"):
        mine = ranking.agg.raw_totals[kept & (reviews.reviewer == rid)]
        assert by_id[rid]["n_reviews"] == P - 1 and by_id[rid]["mean"] == pytest.approx(float(mine.mean()))
    # the leniency-adjusted ranking is the same for every reader, but R02's effect (P0000 alone) is not shown
    from scoring.analytics.leniency_adjusted import leniency_adjusted

    open_, closed = leniency_adjusted(ranking, reviews), leniency_adjusted(ranking, reviews, exclude={"P0000"})
    assert "R02" in {r["reviewer_id"] for r in open_["reviewers"]} and closed["reviewers"] == []
    assert closed["proposals"] == open_["proposals"]


def incomplete_design(seed: int):
    """Proposals each scored by 2–4 of V reviewers (an incomplete crossed design), with reviewer leniency."""
    rng = np.random.default_rng(seed)
    P, V = int(rng.integers(6, 30)), int(rng.integers(4, 10))
    a, b = rng.normal(0, 8, P), rng.normal(0, 4, V)
    prop, rater, y = [], [], []
    for p in range(P):
        for r in rng.choice(V, int(rng.integers(2, min(4, V) + 1)), replace=False):
            prop.append(p)
            rater.append(int(r))
            y.append(70 + a[p] + b[r] + rng.normal(0, 6))
    return np.array(prop), np.array(rater), np.array(y)


@pytest.mark.parametrize("seed", range(6))
def test_crossed_reml_equals_statsmodels_mixedlm(seed):
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    from scoring.analytics.variance_components import crossed_reml

    prop, rater, y = incomplete_design(seed)
    n = len(y)
    zp = np.zeros((n, prop.max() + 1))
    zp[np.arange(n), prop] = 1
    zr = np.zeros((n, rater.max() + 1))
    zr[np.arange(n), rater] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MixedLM(y, np.ones((n, 1)), groups=np.zeros(n), exog_vc={"p": {0: zp}, "r": {0: zr}}).fit(reml=True)
    mine = crossed_reml(prop, rater, y)
    # the REML optimum is flat: both optimisers stop within 1e-3 (relative) of each other on the components
    scale = ref.scale + ref.vcomp.sum()
    assert mine["sigma2_proposal"] == pytest.approx(ref.vcomp[0], abs=2e-3 * scale)
    assert mine["sigma2_reviewer"] == pytest.approx(ref.vcomp[1], abs=2e-3 * scale)
    assert mine["sigma2_error"] == pytest.approx(ref.scale, abs=2e-3 * scale)
    assert mine["mean"] == pytest.approx(ref.fe_params[0], abs=1e-3 * scale)


def test_agreement_uses_every_counted_review_of_the_sample_round():
    import krippendorff

    from scoring.io.call import load_call

    s = "sample_proposals"
    call = load_call("planning_support", f"{s}/proposals.json", f"{s}/reviews.csv", f"{s}/reviewers.csv")
    ranking = call.rank()
    ag = calibration(ranking, call.reviews)["agreement"]
    a = ag["all"]
    counted = np.nonzero(ranking.agg.counted)[0]
    assert a["n_reviews"] == len(counted) == 25 and a["n_proposals"] == 5 and a["n_reviewers"] == 6
    # issue 13: the crossed REML ICC(A,k̂) on all 25 reviews is 0.701, Krippendorff's α 0.18 — not the 0.969
    # of the 3 × 3 complete block, which stays as the secondary view
    assert a["icc_ak"] == pytest.approx(0.701, abs=1e-3)
    y = np.full((6, 5), np.nan)
    rev = np.unique(call.reviews.reviewer[counted].astype(str), return_inverse=True)[1]
    prop = np.unique(call.reviews.prop[counted], return_inverse=True)[1]
    y[rev, prop] = ranking.agg.raw_totals[counted]
    assert a["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=y, level_of_measurement="interval"))
    assert a["alpha"] == pytest.approx(0.180, abs=1e-3)
    for name in ("icc_ak", "alpha"):
        lo, hi = a[f"{name}_ci"]
        assert lo <= a[name] <= hi
    assert ag["icc2k"] == pytest.approx(0.969, abs=1e-3) and ag["balanced"]["n_proposals"] == 3
    assert "25" in ag["reading"] and "0.70" in ag["reading"] and "α" in ag["reading_en"]
    assert "非常によく一致" not in ag["reading"]
