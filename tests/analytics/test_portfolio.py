"""The optimal portfolio is an exact 0/1 knapsack: equal to brute force on small instances."""

import itertools

import numpy as np
import pytest
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


def lex_best_brute_force(values, weights, capacity, priority):
    """Among the optimal sets, the one that is best lexicographically by priority (lower = preferred)."""
    order = sorted(range(len(values)), key=lambda i: priority[i])
    best_v, best_key, best = -1, None, None
    for mask in itertools.product((0, 1), repeat=len(values)):
        if sum(w for w, m in zip(weights, mask) if m) > capacity:
            continue
        v = sum(x for x, m in zip(values, mask) if m)
        key = tuple(-mask[i] for i in order)
        if v > best_v or (v == best_v and key < best_key):
            best_v, best_key, best = v, key, mask
    return list(best)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 4)), min_size=1, max_size=9),
       st.integers(0, 12), st.randoms(use_true_random=False))
def test_knapsack_with_ties_is_order_free_and_lexicographically_best_by_rank(items, capacity, rnd):
    # few distinct values and weights: many equal-score optima (worthless items are never chosen: values ≥ 1)
    values = [v * 10**6 for v, _ in items]
    weights = [w * 10**7 for _, w in items]
    cap = capacity * 10**7
    priority = list(range(len(items)))
    rnd.shuffle(priority)
    chosen, status = knapsack(np.array(values), np.array(weights), cap, prefer=np.array(priority))
    assert status == "optimal"
    assert chosen.astype(int).tolist() == lex_best_brute_force(values, weights, cap, priority)
    perm = list(range(len(items)))
    rnd.shuffle(perm)
    chosen_p, _ = knapsack(np.array(values)[perm], np.array(weights)[perm], cap, prefer=np.array(priority)[perm])
    assert chosen_p.tolist() == chosen[perm].tolist()  # permuting the input never changes the answer


def tied_round(order: list[int]):
    """One best proposal (60 M) and four identical ones (50 M, equal score): budget 100 M, so greedy funds the
    best alone and every optimum is two of the four — which two must not depend on the file's order."""
    pack = make_pack(budget_yen=100_000_000, pass_line=0, criterion_floor=0)
    requested = [60_000_000] + [50_000_000] * 4
    levels = np.zeros((5, 3, 5), int)
    levels[0] = 5
    levels[1:] = 4
    props = make_proposals(requested)
    perm = [props.ids[i] for i in order]
    from scoring.models import Proposal
    from scoring.table import ProposalTable
    table = ProposalTable.from_proposals([Proposal(id=pid, pack="synthetic", title=pid,
                                                   applicant={"name": pid, "kind": "local_government"},
                                                   requested_yen=requested[int(pid[1:])]) for pid in perm])
    return rank(pack, table, make_reviews(levels[order]))


@pytest.mark.parametrize("order", [list(range(5)), [4, 3, 2, 1, 0], [0, 4, 2, 3, 1], [3, 1, 4, 0, 2]])
def test_optimal_portfolio_among_equal_optima_is_the_best_ranked_whatever_the_file_order(order):
    p = optimal_portfolio(tied_round(order))
    # P0001..P0004 tie on score and amount; the ranking orders them by id, so the preferred optimum is 1 and 2
    assert p["optimal"]["proposal_ids"] == ["P0001", "P0002"]
    assert p["optimal"]["total_score"] == 150.0 and p["tie_break"] == "rank"


@pytest.mark.parametrize("order", [list(range(5)), [4, 3, 2, 1, 0], [3, 1, 4, 0, 2]])
def test_beyond_the_exact_search_size_equal_proposals_still_resolve_by_rank(order, monkeypatch):
    import scoring.analytics.portfolio as portfolio

    monkeypatch.setattr(portfolio, "LEX_MAX_ITEMS", 0)  # as for a round larger than the exact search runs on
    p = optimal_portfolio(tied_round(order))
    assert p["optimal"]["proposal_ids"] == ["P0001", "P0002"] and p["tie_break"] == "rank_partial"
