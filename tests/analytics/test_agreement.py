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
