"""The optimal portfolio is an exact 0/1 knapsack: equal to brute force on small instances."""

import itertools

import numpy as np
from hypothesis import given, settings, strategies as st

from scoring.analytics import knapsack, optimal_portfolio
from scoring.selection import rank

from .synth import make_pack, make_proposals, make_reviews, random_round


def brute_force(values, weights, capacity) -> int:
    best = 0
    n = len(values)
    for mask in itertools.product((0, 1), repeat=n):
        w = sum(wi for wi, m in zip(weights, mask) if m)
        if w <= capacity:
            best = max(best, sum(v for v, m in zip(values, mask) if m))
    return best


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**8), st.integers(0, 3 * 10**9)), min_size=0, max_size=11),
       st.integers(0, 6 * 10**9))
def test_knapsack_equals_brute_force(items, capacity):
    values = [v for v, _ in items]
    weights = [w for _, w in items]
    chosen, status = knapsack(np.array(values, np.int64), np.array(weights, np.int64), capacity)
    assert status == "optimal"
    assert sum(w for w, c in zip(weights, chosen) if c) <= capacity
    assert sum(v for v, c in zip(values, chosen) if c) == brute_force(values, weights, capacity)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.1, 0.9))
def test_portfolio_of_a_round_equals_brute_force(seed, share):
    pack, table, reviews = random_round(seed, n_props=12, n_reviewers=3, budget_share=share)
    ranking = rank(pack, table, reviews)
    p = optimal_portfolio(ranking)
    q = np.nonzero(ranking.rank > 0)[0]
    scores = np.round(ranking.total[q] * 1e6).astype(np.int64).tolist()
    funded = ranking.funded[q].tolist()
    best = brute_force(scores, funded, pack.budget.budget_yen)
    assert round(p["optimal"]["total_score"] * 1e6) == best
    assert p["optimal"]["used"] <= p["budget"]
    greedy_ids = [str(ranking.table.ids[i]) for i in ranking.order if ranking.decision[i] == 0]
    assert p["greedy"]["proposal_ids"] == greedy_ids
    assert p["greedy"]["used"] == ranking.used and p["greedy_unused"] == p["budget"] - ranking.used
    assert p["score_gain"] >= 0
    # the differences are exactly the symmetric difference of the two sets
    only_o = {r["proposal_id"] for r in p["only_in_optimal"]}
    only_g = {r["proposal_id"] for r in p["only_in_greedy"]}
    assert only_o == set(p["optimal"]["proposal_ids"]) - set(greedy_ids)
    assert only_g == set(greedy_ids) - set(p["optimal"]["proposal_ids"])
    if p["greedy_is_optimal"]:
        assert not only_o and not only_g


def test_greedy_leaves_budget_that_the_optimum_uses():
    # budget 100: greedy takes the best (score 90, costs 60) and cannot fit either 50-cost proposal;
    # the optimum takes the two of 80 (160 > 90)
    pack = make_pack(budget_yen=100_000_000, pass_line=0, criterion_floor=0)
    table = make_proposals([60_000_000, 50_000_000, 50_000_000])
    levels = np.zeros((3, 3, 5), int)
    levels[0] = 5
    levels[1] = 4
    levels[2] = 4
    ranking = rank(pack, table, make_reviews(levels))
    p = optimal_portfolio(ranking)
    assert p["greedy"]["proposal_ids"] == ["P0000"] and p["greedy_unused"] == 40_000_000
    assert sorted(p["optimal"]["proposal_ids"]) == ["P0001", "P0002"] and p["optimal"]["unused"] == 0
    assert p["score_gain"] == 75.0 + 75.0 - 100.0
    assert [r["proposal_id"] for r in p["only_in_greedy"]] == ["P0000"]
    assert "未使用" in p["reading"] and "unused" in p["reading_en"]


def test_no_budget_means_no_portfolio():
    pack, table, reviews = random_round(1)
    pack = make_pack(budget_yen=None)
    ranking = rank(pack, table, reviews)
    p = optimal_portfolio(ranking)
    assert p["available"] is False and p["reason"] and p["reason_en"]
