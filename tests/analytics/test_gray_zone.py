"""The gray zone of selection.md §10 (rank interval crosses the line), P(selected) with its Monte Carlo error,
stability across seeds, the interval level, expected rank, rankogram and SUCRA (issue 13 §3, §5)."""

from pathlib import Path

import numpy as np
import pytest

from scoring.analytics import bootstrap_ranks
from scoring.analytics.bootstrap import BootstrapEngine
from scoring.analytics.uncertainty import line_rank
from scoring.selection import rank

from .synth import random_round

ROOT = Path(__file__).resolve().parents[2]


def sample(pack_id: str):
    from scoring.io.call import load_call

    d = ROOT / "sample_proposals"
    call = load_call(pack_id, d / "proposals.json", d / "reviews.csv", d / "reviewers.csv")
    return call.rank(), call.reviews


def rows(b: dict) -> dict:
    return {r["proposal_id"]: r for r in b["proposals"]}


def test_gray_zone_is_the_interval_crossing_the_line_not_a_selection_probability_band():
    # issue 13: L4-008 (rank_95 [15, —], wholly below the line after rank 11) is not in the gray zone although
    # 2.5% < P(selected) < 97.5%; PP-001 (interval [1, 3] across the line after rank 2) is, although it is
    # selected in more than 97.5% of the draws
    ranking, reviews = sample("autonomous_l4")
    b = bootstrap_ranks(ranking, reviews, 1000, seed=0)
    assert b["gray_zone_rule"]["line_after_rank"] == 11
    l4 = rows(b)["L4-008"]
    assert l4["rank_95"][0] > 11 and 0.025 < l4["p_selected"] < 0.975
    assert not l4["gray_zone"] and "L4-008" not in b["gray_zone"]
    ranking, reviews = sample("promotion_system")
    assert line_rank(ranking) == 2  # rank 3 is over budget; rank 4 is funded by skipping, below the line
    b = bootstrap_ranks(ranking, reviews, 1000, seed=0)
    pp = rows(b)["PP-001"]
    assert pp["rank_95"] == [1, 3] and pp["p_selected"] >= 0.975
    assert pp["gray_zone"] and "PP-001" in b["gray_zone"]


def test_p_selected_comes_with_its_monte_carlo_standard_error():
    ranking, reviews = sample("autonomous_l4")
    b = bootstrap_ranks(ranking, reviews, 1000, seed=0)
    for r in b["proposals"]:
        p = r["p_selected"]
        assert r["p_selected_mcse"] == pytest.approx(np.sqrt(p * (1 - p) / 1000))
    assert "採択ライン（11位と次の間）" in b["reading"] and "after rank 11" in b["reading_en"]


@pytest.mark.parametrize("pack_id", ["autonomous_l4", "promotion_system", "planning_support"])
def test_membership_of_proposals_far_from_the_line_does_not_flip_between_seeds(pack_id):
    ranking, reviews = sample(pack_id)
    runs = [bootstrap_ranks(ranking, reviews, 1000, seed=s) for s in range(5)]
    first = rows(runs[0])
    # far from the line: its share of draws above the line lies ≥ 3 Monte Carlo SE from the thresholds in
    # every run (stable_draws ≤ 1000); such a proposal keeps its membership whatever the seed
    stable = [pid for pid, r in first.items()
              if all(rows(b)[pid]["stable_draws"] is not None and rows(b)[pid]["stable_draws"] <= 1000
                     for b in runs)]
    assert stable
    for b in runs[1:]:
        for pid in stable:
            assert rows(b)[pid]["gray_zone"] == first[pid]["gray_zone"], pid
    # the others are reported, with the number of draws that would make them stable
    for b in runs:
        assert set(b["stability"]["unstable"]) == {pid for pid, r in rows(b).items()
                                                    if r["stable_draws"] is None or r["stable_draws"] > 1000}


@pytest.mark.parametrize("level,name", [(0.5, "rank_50"), (0.8, "rank_80"), (0.95, "rank_95")])
def test_interval_level_is_configurable_and_defines_the_gray_zone(level, name):
    pack, table, reviews = random_round(3, n_props=30, n_reviewers=4, noise=1.2, budget_share=0.35)
    ranking = rank(pack, table, reviews)
    b = bootstrap_ranks(ranking, reviews, 1000, seed=2, level=level)
    line = b["gray_zone_rule"]["line_after_rank"]
    assert b["level"] == level
    for r in b["proposals"]:
        assert r["rank_interval"] == r[name]
        lo, hi = r[name]
        assert r["gray_zone"] == (r["resampled"] and lo is not None and lo <= line and (hi is None or hi > line))
    with pytest.raises(ValueError):
        bootstrap_ranks(ranking, reviews, 1000, seed=2, level=0.9)


def test_expected_rank_rankogram_and_sucra_from_the_draws():
    pack, table, reviews = random_round(5, n_props=25, n_reviewers=4, noise=1.2)
    ranking = rank(pack, table, reviews)
    R = 1000
    b = bootstrap_ranks(ranking, reviews, R, seed=7)
    eng = BootstrapEngine(ranking, reviews)
    ranks, _, _ = eng.run(R, 7)
    N = eng.nc
    by_id = rows(b)
    for j, i in enumerate(eng.cols):
        r = by_id[str(ranking.table.ids[i])]
        col = ranks[:, j]
        # rankogram: P(rank = k) over the ranks attained; the rest of the mass is "unranked"
        rg = r["rankogram"]
        assert sum(rg["p"]) + r["p_unranked"] == pytest.approx(1.0)
        for k in range(1, N + 1):
            j = k - rg["from"] if rg["p"] else -1   # (never ranked: no rankogram, "from" is None)
            assert (rg["p"][j] if 0 <= j < len(rg["p"]) else 0.0) == pytest.approx(np.mean(col == k))
        # expected rank: an unranked draw sits at the mid-rank of the places after the qualifying ones
        q = (ranks > 0).sum(axis=1)
        expected = np.where(col > 0, col, (q + 1 + N) / 2).mean()
        assert r["expected_rank"] == pytest.approx(expected)
        assert r["sucra"] == pytest.approx((N - expected) / (N - 1))
        assert 0.0 <= r["sucra"] <= 1.0
    # the official first has the highest SUCRA among the resampled
    first = next(r for r in b["proposals"] if r["rank"] == 1)
    assert first["sucra"] == max(r["sucra"] for r in b["proposals"] if r["sucra"] is not None)
