"""Rank uncertainty: the vectorised bootstrap applies the core's rules, is reproducible, and reads right."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scoring.analytics import BootstrapEngine, analyze, bootstrap_ranks
from scoring.selection import rank

from tests.factories import ROOT

from .synth import make_pack, make_proposals, make_reviews, random_round


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["mean", "median", "trimmed"]),
       st.sampled_from(["greedy_skip", "greedy_stop"]), st.booleans(), st.integers(3, 7), st.booleans())
def test_engine_on_the_original_reviews_is_the_official_ranking(seed, aggregation, method, judged, n_rev, grid):
    pack, table, reviews = random_round(seed, n_props=25, n_reviewers=n_rev, judged=judged,
                                        aggregation=aggregation, method=method, noise=0.3 + (seed % 10) / 10)
    ranking = rank(pack, table, reviews)
    ranks, selected = BootstrapEngine(ranking, reviews, use_grid=grid).identity()
    assert ranks.tolist() == ranking.rank.tolist()
    assert selected.tolist() == (ranking.decision == 0).tolist()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from(["mean", "median", "trimmed"]), st.booleans())
def test_exact_integer_keys_and_rounded_means_give_the_same_resamples(seed, aggregation, judged):
    pack, table, reviews = random_round(seed, n_props=20, n_reviewers=5, judged=judged, aggregation=aggregation)
    ranking = rank(pack, table, reviews)
    fast = BootstrapEngine(ranking, reviews, use_grid=True)
    assert fast.grid is not None  # quarters: the exact grid applies
    a = fast.run(60, seed)
    b = BootstrapEngine(ranking, reviews, use_grid=False).run(60, seed)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


def check_resamples_against_rank(pack, table, reviews, params=None, n=5, seed=3):
    """Single resamples of the engine, each checked against scoring.selection.rank on the reviews it drew."""
    ranking = rank(pack, table, reviews, None, params)
    eng = BootstrapEngine(ranking, reviews)
    rng = np.random.default_rng(seed)
    for _ in range(n):
        positions, rows = [], []
        for grp in eng.groups:
            k, c0, c1 = grp["k"], grp["c0"], grp["c1"]
            g = c1 - c0
            draw = rng.integers(0, k, size=(g, k))
            positions.append(draw[:, None, :])
            # the review rows behind each group's columns, in the engine's order (ascending T within a proposal)
            props = eng.cols[c0:c1]
            for i, p in enumerate(props):
                own = np.nonzero((reviews.prop == p) & ranking.agg.counted)[0]
                own = own[np.lexsort((own, ranking.agg.totals[own]))]
                rows.extend(own[draw[i]].tolist())
        r, s, _ = eng.rank_positions(positions)
        resampled = reviews.subset(np.array(rows))
        official = rank(pack, table, resampled, None, params)
        got = np.zeros(table.n, np.int64)
        got[eng.cols] = r[0]
        assert got.tolist() == official.rank.tolist()
        sel = np.zeros(table.n, bool)
        sel[eng.cols] = s[0]
        assert sel.tolist() == (official.decision == 0).tolist()
    return eng


def test_every_resample_is_a_real_rank_of_resampled_reviews():
    """One resample, checked against scoring.selection.rank on the reviews it drew."""
    pack, table, reviews = random_round(7, n_props=15, n_reviewers=4, judged=True, noise=1.0)
    check_resamples_against_rank(pack, table, reviews)


SMALL_KS = (3, 4, 5, 6)            # exact grids: one composite int64 key
LARGE_KS = (3, 4, 5, 7, 10, 15, 16, 17)  # fine grids (fallbacks), explicit position counts for k > 15


def mixed_round(seed, aggregation, method="greedy_skip", ks=SMALL_KS):
    """Proposals with different numbers of counted reviews (groups of several k, pair tables with an odd single
    draw, 4-bit position counts for k ≤ 15 and explicit counts above), a judged bonus, some under the pass line."""
    rng = np.random.default_rng(seed)
    P, V = 40, max(ks)
    quality = rng.uniform(2.0, 5.0, P)
    levels = np.clip(np.rint(quality[:, None, None] + rng.normal(0, 1.0, (P, V, 5))), 1, 5).astype(int)
    k = rng.choice(ks, size=P)
    present = np.arange(V)[None, :] < k[:, None]
    requested = (rng.integers(20, 150, P) * 1_000_000).tolist()
    pack = make_pack(int(sum(requested) * 0.35), judged=True, aggregation=aggregation, method=method)
    marks = rng.integers(0, 2, (P, V, 1))
    return pack, make_proposals(requested), make_reviews(levels, marks=marks, present=present)


@pytest.mark.parametrize("aggregation", ["mean", "median", "trimmed"])
@pytest.mark.parametrize("method", ["greedy_skip", "greedy_stop"])
@pytest.mark.parametrize("ks", [SMALL_KS, LARGE_KS], ids=["small_k", "large_k"])
def test_mixed_review_counts_resample_like_rank(aggregation, method, ks):
    pack, table, reviews = mixed_round(4, aggregation, method, ks)
    eng = check_resamples_against_rank(pack, table, reviews, n=4)
    assert {g["k"] for g in eng.groups} == set(ks)
    if ks == SMALL_KS:
        assert eng.tint is not None and eng.grid is not None and eng.composite
    elif aggregation != "mean":
        assert {g["k"] for g in eng.groups if g["needs_pos"] and not g["nibbles"]} == {16, 17}
    # and the whole engine: exact integers vs rounded floats, one composite key vs the radix sort of every key
    ranking = rank(pack, table, reviews)
    a = eng.run(300, 1)
    for other in (BootstrapEngine(ranking, reviews, use_grid=False),
                  BootstrapEngine(ranking, reviews, composite=False)):
        for x, y in zip(a, other.run(300, 1)):
            assert np.array_equal(x, y)


def test_normalised_totals_take_the_float_path_and_still_reproduce_the_ranking():
    from scoring.selection import Params

    pack, table, reviews = mixed_round(8, "trimmed", ks=LARGE_KS)
    params = Params.from_pack(pack, normalization="zscore")
    ranking = rank(pack, table, reviews, None, params)
    eng = BootstrapEngine(ranking, reviews)
    assert eng.tint is None  # z-scores are not on a grid
    ranks, selected = eng.identity()
    assert ranks.tolist() == ranking.rank.tolist() and selected.tolist() == (ranking.decision == 0).tolist()
    b = bootstrap_ranks(ranking, reviews, 1000, seed=2)
    assert b["reproduces_official"] is True and b == bootstrap_ranks(ranking, reviews, 1000, seed=2)


def test_the_result_of_a_seed_does_not_depend_on_the_threads():
    pack, table, reviews = random_round(12, n_props=40, n_reviewers=5, judged=True, noise=1.2)
    ranking = rank(pack, table, reviews)
    runs = [BootstrapEngine(ranking, reviews, threads=t).run(1000, 9) for t in (1, 2, 3)]
    for other in runs[1:]:
        for x, y in zip(runs[0], other):
            assert np.array_equal(x, y)
    assert not np.array_equal(runs[0][0], BootstrapEngine(ranking, reviews).run(1000, 10)[0])  # the seed matters


def test_reproducible_with_a_seed():
    pack, table, reviews = random_round(11, n_props=30, n_reviewers=5, noise=1.2)
    ranking = rank(pack, table, reviews)
    a = bootstrap_ranks(ranking, reviews, 1000, seed=42)
    b = bootstrap_ranks(ranking, reviews, 1000, seed=42)
    assert a == b
    assert a["reproduces_official"] is True
    json.dumps(a, allow_nan=False)


def test_all_reviewers_agree_gives_certain_selection():
    rng = np.random.default_rng(5)
    P, V = 20, 5
    levels = np.repeat(rng.integers(2, 6, (P, 1, 5)), V, axis=1)  # every reviewer gives the same levels
    requested = (rng.integers(20, 150, P) * 1_000_000).tolist()
    pack = make_pack(budget_yen=int(sum(requested) * 0.4))
    table = make_proposals(requested)
    reviews = make_reviews(levels)
    ranking = rank(pack, table, reviews)
    b = bootstrap_ranks(ranking, reviews, 1000, seed=0)
    assert b["gray_zone"] == []
    for row in b["proposals"]:
        assert row["p_selected"] == (1.0 if row["decision"] == "selected" else 0.0)
        if row["rank"] is not None:
            assert row["rank_95"] == [row["rank"], row["rank"]] and row["median_rank"] == row["rank"]
    assert any(r["decision"] == "selected" for r in b["proposals"])
    assert any(r["decision"] in ("over_budget", "waitlisted") for r in b["proposals"])


@pytest.mark.parametrize("seed", range(6))
def test_far_above_the_line_is_never_in_the_gray_zone(seed):
    pack, table, reviews = random_round(seed, n_props=30, n_reviewers=5, noise=1.3, budget_share=0.3)
    levels = reviews.levels.copy()
    star = 0
    levels[reviews.prop == star] = 5  # every reviewer: top level on every criterion
    reviews.levels[:] = levels
    ranking = rank(pack, table, reviews)
    assert ranking.rank[star] == 1
    b = bootstrap_ranks(ranking, reviews, 1000, seed=seed)
    row = next(r for r in b["proposals"] if r["proposal_id"] == "P0000")
    assert row["gray_zone"] is False and row["p_selected"] == 1.0 and row["rank_95"][0] == 1
    # the gray zone is exactly the proposals whose 95% rank interval crosses the line (selection.md §10)
    line = b["gray_zone_rule"]["line_after_rank"]
    for r in b["proposals"]:
        lo, hi = r["rank_95"]
        crosses = lo is not None and lo <= line and (hi is None or hi > line)
        assert r["gray_zone"] == (r["resampled"] and crosses)
    assert b["gray_zone"], "a noisy round should have proposals near the line"


def test_intervals_are_nested_and_ordered():
    pack, table, reviews = random_round(2, n_props=40, n_reviewers=4, noise=1.1)
    ranking = rank(pack, table, reviews)
    b = bootstrap_ranks(ranking, reviews, 1000, seed=1)
    for r in b["proposals"]:
        lo95, hi95 = r["rank_95"]
        lo80, hi80 = r["rank_80"]
        if None not in (lo95, lo80, hi80, hi95, r["median_rank"]):
            assert lo95 <= lo80 <= r["median_rank"] <= hi80 <= hi95


def test_analyze_is_json_and_never_changes_the_decision():
    pack, table, reviews = random_round(9, n_props=20, n_reviewers=4, judged=True, noise=1.0)
    ranking = rank(pack, table, reviews)
    before = (ranking.decision.copy(), ranking.rank.copy())
    a = analyze(ranking, reviews, n_resamples=1000, seed=0)
    text = json.dumps(a, ensure_ascii=False, allow_nan=False)
    assert set(a) >= {"portfolio", "uncertainty", "calibration", "sensitivity"}
    assert np.array_equal(before[0], ranking.decision) and np.array_equal(before[1], ranking.rank)
    # this round's line falls among close scores: the reading names exactly the proposals in the gray zone
    u = a["uncertainty"]
    gray = [r["proposal_id"] for r in u["proposals"] if r.get("gray_zone")]
    assert len(gray) >= 2 and gray == u["gray_zone"]
    assert f"グレーゾーンに {len(gray)} 件（{'、'.join(gray)}）" in u["reading"]
    assert "グレーゾーン" in text


def test_no_budget_gives_intervals_without_probabilities():
    pack, table, reviews = random_round(3)
    pack = make_pack(budget_yen=None)
    ranking = rank(pack, table, reviews)
    b = bootstrap_ranks(ranking, reviews, 1000, seed=0)
    assert b["budget_line"] is False and b["gray_zone"] == []
    assert all(r["p_selected"] is None for r in b["proposals"])
    assert any(r["rank_95"][0] is not None for r in b["proposals"])


SHIPPED = sorted(p.stem for p in (ROOT / "criteria").glob("*.yaml"))


@pytest.mark.parametrize("pack_id", SHIPPED)
def test_every_shipped_pack_resamples_like_rank_on_the_demo_round(pack_id):
    """Real packs: fact and ratio bonuses, capacity packs, subsidy rates; exact and float paths agree."""
    from scoring.io.call import load_call

    d = ROOT / "sample_proposals"
    call = load_call(pack_id, d / "proposals.json", d / "reviews.csv", d / "reviewers.csv")
    assert call.table.n >= 3
    eng = check_resamples_against_rank(call.pack, call.table, call.reviews.subset(~call.rank().agg.conflicted),
                                       n=3)
    ranking = call.rank()
    ranks, selected = BootstrapEngine(ranking, call.reviews).identity()
    assert ranks.tolist() == ranking.rank.tolist() and selected.tolist() == (ranking.decision == 0).tolist()
    a = BootstrapEngine(ranking, call.reviews).run(200, 4)
    for other in (BootstrapEngine(ranking, call.reviews, use_grid=False),
                  BootstrapEngine(ranking, call.reviews, composite=False)):
        for x, y in zip(a, other.run(200, 4)):
            assert np.array_equal(x, y)
    assert eng.nc > 0
