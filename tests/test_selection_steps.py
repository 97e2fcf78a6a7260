"""One test per step of selection.md, with expectations computed by hand in the comments."""

import math

import pytest

from scoring.io.packs import load_pack
from tests.factories import by_id, pack_variant, proposal, rank_of, review_rows, reviewer

L4 = load_pack("autonomous_l4")      # points 20, 25, 15, 20, 20
AC = load_pack("advanced_comms")     # bonus cap 8: startup, digikatsu, local_ict (fact), shared_use (judged)


def five_reviews(pack, pid, levels_per_reviewer, **kw):
    rows = []
    for k, lv in enumerate(levels_per_reviewer):
        rows += review_rows(pack, f"R{k + 1}", pid, lv, **kw)
    return rows


def test_reviewer_base_score_is_points_times_ratio():
    # 20×1.00 + 25×0.75 + 15×0.50 + 20×0.25 + 20×0.00 = 51.25 (min_reviews lowered to 1)
    r = by_id(rank_of(L4, [proposal("P1")], review_rows(L4, "R1", "P1", [5, 4, 3, 2, 1]), min_reviews=1))
    assert r["P1"]["base_score"] == pytest.approx(51.25)
    assert r["P1"]["criteria"] == pytest.approx({"service_need": 20, "verification_items": 18.75,
                                                 "verification_environment": 7.5,
                                                 "remote_monitoring_safety": 5.0, "rollout_plan": 0.0})


@pytest.mark.parametrize("aggregation, expected", [
    ("mean", 65.0),      # totals 100, 100, 75, 50, 0 → 325 / 5
    ("median", 75.0),
    ("trimmed", 75.0),   # drop one 100 and the 0 → (100 + 75 + 50) / 3
])
def test_aggregation_methods(aggregation, expected):
    rows = five_reviews(L4, "P1", [5, 5, 4, 3, 1])
    r = by_id(rank_of(L4, [proposal("P1")], rows, aggregation=aggregation, criterion_floor=0.0))
    assert r["P1"]["base_score"] == pytest.approx(expected)


def test_trimmed_mean_needs_trim_min_reviews():
    # four reviews (< 5): plain mean of 100, 75, 50, 0 = 56.25
    rows = five_reviews(L4, "P1", [5, 4, 3, 1])
    r = by_id(rank_of(L4, [proposal("P1")], rows, aggregation="trimmed", criterion_floor=0.0))
    assert r["P1"]["base_score"] == pytest.approx(56.25)


def test_median_of_even_count_is_mean_of_middle_two():
    rows = five_reviews(L4, "P1", [5, 4, 3, 1])  # 100, 75, 50, 0 → (75 + 50) / 2
    r = by_id(rank_of(L4, [proposal("P1")], rows, aggregation="median", criterion_floor=0.0))
    assert r["P1"]["base_score"] == pytest.approx(62.5)


def test_zscore_normalisation():
    # A: 100, 75, 50 on P1..P3; B: 50, 25, 0. mean_all 50; sd_all² = 6250/6; sd_A² = sd_B² = 1250/3.
    # P1: A → 50 + sqrt(2.5)·25, B → 50 + sqrt(2.5)·25; P2: 50; P3: 50 − sqrt(2.5)·25.
    # C reviews only two proposals (< 3): keeps raw T.
    props = [proposal(p) for p in ("P1", "P2", "P3")]
    rows = (review_rows(L4, "A", "P1", 5) + review_rows(L4, "A", "P2", 4) + review_rows(L4, "A", "P3", 3)
            + review_rows(L4, "B", "P1", 3) + review_rows(L4, "B", "P2", 2) + review_rows(L4, "B", "P3", 1))
    r = by_id(rank_of(L4, props, rows, normalization="zscore", min_reviews=2, pass_line=0, criterion_floor=0))
    k = math.sqrt(2.5) * 25
    assert r["P1"]["base_score"] == pytest.approx(50 + k)
    assert r["P2"]["base_score"] == pytest.approx(50)
    assert r["P3"]["base_score"] == pytest.approx(50 - k)


def test_zscore_reviewer_with_fewer_than_three_reviews_keeps_raw():
    props = [proposal(p) for p in ("P1", "P2", "P3")]
    rows = (review_rows(L4, "A", "P1", 5) + review_rows(L4, "A", "P2", 4) + review_rows(L4, "A", "P3", 3)
            + review_rows(L4, "C", "P1", 2) + review_rows(L4, "C", "P2", 5))
    ranking = rank_of(L4, props, rows, normalization="zscore", min_reviews=1, pass_line=0, criterion_floor=0)
    c_mask = ranking.agg.counted & (ranking_reviewers(ranking) == "C")
    assert list(ranking.agg.totals[c_mask]) == list(ranking.agg.raw_totals[c_mask]) == [25.0, 100.0]
    a_mask = ranking_reviewers(ranking) == "A"
    assert list(ranking.agg.totals[a_mask]) != list(ranking.agg.raw_totals[a_mask])


def ranking_reviewers(ranking):
    return ranking.reviews.reviewer


def test_drafts_do_not_count_and_min_reviews_applies():
    rows = five_reviews(L4, "P1", [4, 4]) + review_rows(L4, "R9", "P1", 5, status="draft")
    r = by_id(rank_of(L4, [proposal("P1")], rows))
    assert r["P1"]["n_reviews"] == 2
    assert r["P1"]["base_score"] == pytest.approx(75)
    assert r["P1"]["decision"] == "insufficient_reviews"
    assert "提出済み評価が2件（最低3件必要）" in r["P1"]["reasons"]


def test_judged_bonus_needs_a_strict_majority():
    # four counted reviewers: two marks is a tie (no bonus), three is a majority (+2)
    p = [proposal("T", "advanced_comms"), proposal("M", "advanced_comms")]
    rows = []
    for k in range(4):
        rows += review_rows(AC, f"R{k}", "T", 4, marks={"shared_use": 1 if k < 2 else 0})
        rows += review_rows(AC, f"R{k}", "M", 4, marks={"shared_use": 1 if k < 3 else 0})
    r = by_id(rank_of(AC, p, rows))
    assert r["T"]["bonus"] == 0 and r["M"]["bonus"] == 2
    assert "4名中2名" in next(b["reason"] for b in r["T"]["bonus_items"] if b["id"] == "shared_use")


def test_bonus_points_never_exceed_the_packs_bonus_cap():
    members = [("新興テック株式会社", "startup"), ("地元ICT株式会社", "local_ict_company")]
    p = proposal("P", "advanced_comms", members=members, facts={"digikatsu_chusankan": True})
    rows = five_reviews(AC, "P", [4, 4, 4], marks={"shared_use": 1})
    assert by_id(rank_of(AC, [p], rows))["P"]["bonus"] == 8  # 2+2+2+2, cap 8
    capped = pack_variant("advanced_comms", bonus_cap=5)
    assert by_id(rank_of(capped, [p], rows))["P"]["bonus"] == 5
    assert by_id(rank_of(capped, [p], rows))["P"]["total_score"] == pytest.approx(75 + 5)


def test_bonus_never_lifts_a_proposal_over_the_pass_line():
    p = proposal("P", facts={"preceding_commercialization_area": True})
    rows = five_reviews(L4, "P", [[3, 3, 3, 4, 3]] * 3)  # 10+12.5+7.5+15+10 = 55
    r = by_id(rank_of(L4, [p], rows))["P"]
    assert (r["base_score"], r["bonus"], r["total_score"]) == (55, 5, 60)
    assert r["decision"] == "below_pass_line"


def test_reasons_show_scores_rounded_half_up_like_the_table():
    """selection.md, Rounding for display: 57.625 is shown 57.63 everywhere — also inside the reason text
    (Python's f"{57.625:.2f}" gives 57.62, which disagreed with the 基礎点 column)."""
    p = proposal("P")
    rows = five_reviews(L4, "P", [[3, 3, 3, 4, 3]] * 9 + [[5, 5, 4, 4, 3]])   # (9 × 55 + 81.25) / 10
    ranking = rank_of(L4, [p], rows)
    r = by_id(ranking)["P"]
    assert r["base_score"] == pytest.approx(57.625) and r["decision"] == "below_pass_line"
    assert ranking.reasons(0, "ja")[0] == "基礎点 57.63 が合格点 60.00 未満（加点は算入しません）"
    assert ranking.reasons(0, "en")[0] == "base score 57.63 < pass line 60.00 (bonus does not count)"


def test_ratio_bonus_and_cap_override():
    pp = load_pack("promotion_system")
    members = [(f"市{k}", "local_government") for k in range(3)]
    p = proposal("PP", "promotion_system", kind="prefecture", members=members, requested=80_000_000,
                 facts={"previously_selected": True, "previous_partner_count": 2, "municipalities_in_prefecture": 12})
    rows = five_reviews(pp, "PP", [4, 4, 4])
    r = by_id(rank_of(pp, [p], rows))["PP"]
    assert r["bonus"] == pytest.approx(5 * 3 / 12)   # 1.25
    assert r["funded_yen"] == 50_000_000 and r["capped"]  # previously selected: cap 5,000万円


def test_subsidy_grant_is_half_rounded_down_to_1000_yen():
    sb = load_pack("subsidy")
    p = proposal("S", "subsidy", requested=None, eligible_cost=123_456_789,
                 facts={"has_wireless_network": True, "has_solution_equipment": True})
    r = by_id(rank_of(sb, [p], five_reviews(sb, "S", [4, 4, 4])))["S"]
    assert r["funded_yen"] == 61_728_000  # floor(61,728,394.5 / 1,000) × 1,000
    assert r["conditions"] == []          # a local-government applicant: no condition


def test_subsidy_company_without_local_government_is_conditional():
    sb = load_pack("subsidy")
    p = proposal("S", "subsidy", kind="company", eligible_cost=10_000_000,
                 facts={"has_wireless_network": True, "has_solution_equipment": True})
    r = by_id(rank_of(sb, [p], five_reviews(sb, "S", [4, 4, 4])))["S"]
    assert r["decision"] == "selected"
    assert r["conditions"] == ["交付申請までに地方公共団体を1以上含むコンソーシアムを形成"]
    assert {e["rule"]: e["status"] for e in r["eligibility"]}["consortium_condition"] == "conditional"


def test_cap_clamps_and_flags():
    p = proposal("P", requested="1億6,000万円")
    r = by_id(rank_of(L4, [p], five_reviews(L4, "P", [4, 4, 4])))["P"]
    assert (r["requested_yen"], r["funded_yen"], r["capped"]) == (160_000_000, 150_000_000, True)


def test_over_cap_reject_is_an_eligibility_fail():
    strict = pack_variant("autonomous_l4", funding={"over_cap": "reject"})
    r = by_id(rank_of(strict, [proposal("P", requested=160_000_000)], five_reviews(L4, "P", [4, 4, 4])))["P"]
    assert r["decision"] == "ineligible"
    assert {e["rule"]: e["status"] for e in r["eligibility"]}["cap"] == "fail"


def test_missing_fact_is_needs_check_and_a_chair_can_resolve_it():
    ps = load_pack("planning_support")
    p = proposal("PS", "planning_support", requested=None)  # local government without fiscal_strength_index
    rows = five_reviews(ps, "PS", [4, 4, 4])
    ranking = rank_of(ps, [p], rows)
    r = by_id(ranking)["PS"]
    assert {e["rule"]: e["status"] for e in r["eligibility"]}["fiscal_strength"] == "needs_check"
    assert r["decision"] == "selected"      # needs_check keeps it in the ranking, marked
    assert any(x.startswith("要確認") for x in r["reasons"])
    from scoring.call import assemble
    import pandas as pd
    call = assemble(ps, [p], pd.DataFrame(rows), None)
    resolved = call.rank(resolutions={("PS", "fiscal_strength"): {"status": "fail", "by": "委員長", "note": "1.02"}})
    r2 = resolved.result(0)
    assert r2["decision"] == "ineligible"
    assert "委員長確認により不適合" in r2["reasons"][0]


def test_a_criterion_below_its_floor_disqualifies_whatever_the_total():
    # verification_environment all level 1 (ratio 0 < 0.25), others 5: base 85
    rows = five_reviews(L4, "P", [[5, 5, 1, 5, 5]] * 3)
    r = by_id(rank_of(L4, [proposal("P")], rows))["P"]
    assert r["base_score"] == 85 and r["decision"] == "below_criterion_floor"


def test_ineligible_takes_precedence_over_every_other_decision():
    p = proposal("P", kind="company")  # no local government
    r = by_id(rank_of(L4, [p], five_reviews(L4, "P", [1])))["P"]  # also too few reviews and below the line
    assert r["decision"] == "ineligible"


def _three_proposals():
    # totals 90, 80, 70 → ranks A, B, C; funded 150M, 140M, 90M
    props = [proposal("A", requested=150_000_000), proposal("B", requested=140_000_000),
             proposal("C", requested=90_000_000)]
    rows = []
    for pid, lv in (("A", [5, 5, 3, 5, 5]), ("B", [5, 4, 3, 4, 5]), ("C", [4, 4, 3, 4, 4])):
        rows += five_reviews(L4, pid, [lv] * 3)
    return props, rows


def test_greedy_skip_continues_past_a_proposal_that_does_not_fit():
    props, rows = _three_proposals()
    ranking = rank_of(L4, props, rows, budget=250_000_000, waitlist=1)
    r = by_id(ranking)
    assert [r[p]["decision"] for p in "ABC"] == ["selected", "waitlisted", "selected"]
    assert ranking.funding_line == 3        # drawn after the last selected (C): the skipped B stands above it
    assert r["B"]["waitlist_position"] == 1
    assert r["C"]["cumulative_funded_yen"] == 240_000_000
    assert "予算残額 100,000,000円 が交付額 140,000,000円 に不足" in r["B"]["reasons"]


def test_greedy_stop_stops_at_the_first_that_does_not_fit():
    props, rows = _three_proposals()
    ranking = rank_of(L4, props, rows, budget=250_000_000, waitlist=1, selection="greedy_stop")
    r = by_id(ranking)
    assert [r[p]["decision"] for p in "ABC"] == ["selected", "waitlisted", "over_budget"]
    assert ranking.budget_dict() == {"total_yen": 250_000_000, "used_yen": 150_000_000, "remaining_yen": 100_000_000}
    assert ranking.funding_line == 1


def test_no_budget_ranks_without_a_line():
    ai = load_pack("ai_edge")  # budget_yen: null (調整中)
    props = [proposal(p, "ai_edge") for p in "AB"]
    rows = five_reviews(ai, "A", [5] * 3) + five_reviews(ai, "B", [4] * 3)
    ranking = rank_of(ai, props, rows)
    r = by_id(ranking)
    assert (r["A"]["decision"], r["B"]["decision"]) == ("ranked", "ranked")
    assert (r["A"]["rank"], r["B"]["rank"]) == (1, 2)
    assert ranking.budget_dict() == {"total_yen": None, "used_yen": 0, "remaining_yen": None}
    assert ranking.funding_line is None
    # the chair enters a budget: the line appears
    r = by_id(rank_of(ai, props, rows, budget=150_000_000, waitlist=1))
    assert (r["A"]["decision"], r["B"]["decision"]) == ("selected", "waitlisted")


def test_capacity_pack_counts_recipients():
    ps = load_pack("planning_support")
    props = [proposal(p, "planning_support", requested=None, facts={"fiscal_strength_index": 0.4}) for p in "ABC"]
    rows = []
    for pid, lv in (("A", 5), ("B", 4), ("C", 3)):
        rows += five_reviews(ps, pid, [lv] * 3)
    ranking = rank_of(ps, props, rows, budget=2, pass_line=0)
    r = by_id(ranking)
    assert [r[p]["decision"] for p in "ABC"] == ["selected", "selected", "waitlisted"]
    assert r["A"]["funded_yen"] == 1
    assert ranking.budget_dict()["used_count"] == 2


def test_equal_totals_are_ordered_by_the_first_criterions_mean_ratio():
    # same total and base: the mean ratio of the first criterion decides
    x = five_reviews(L4, "X", [[5, 4, 4, 4, 4]] * 3)   # 20 + 18.75 + 11.25 + 15 + 15 = 80
    y = five_reviews(L4, "Y", [[4, 5, 4, 4, 4]] * 3)   # 15 + 25 + 11.25 + 15 + 15 = 81.25 → not a tie
    z = five_reviews(L4, "Z", [[4, 4, 4, 5, 4]] * 3)   # 15 + 18.75 + 11.25 + 20 + 15 = 80
    props = [proposal("X"), proposal("Y"), proposal("Z")]
    r = by_id(rank_of(L4, props, x + y + z))
    assert (r["Y"]["rank"], r["X"]["rank"], r["Z"]["rank"]) == (1, 2, 3)  # X beats Z on service_need
    # identical reviews: smaller requested amount first, then the id
    props = [proposal("B2", requested=90_000_000), proposal("A1", requested=100_000_000),
             proposal("A0", requested=90_000_000)]
    rows = sum((five_reviews(L4, p.id, [4] * 3) for p in props), [])
    r = by_id(rank_of(L4, props, rows))
    assert (r["A0"]["rank"], r["B2"]["rank"], r["A1"]["rank"]) == (1, 2, 3)


def test_scores_compare_after_rounding_to_six_decimals():
    # points 1, 1, 1, 97 and ratios 1, 1, 1, 0.7: exactly 70.9, in floating point 70.89999999999999
    scale = [{"level": 5, "label": {"ja": "a"}, "ratio": 1.0}, {"level": 4, "label": {"ja": "b"}, "ratio": 0.7},
             {"level": 3, "label": {"ja": "c"}, "ratio": 0.2}, {"level": 2, "label": {"ja": "d"}, "ratio": 0.1},
             {"level": 1, "label": {"ja": "e"}, "ratio": 0.0}]
    g = {lv: {"ja": "…"} for lv in range(1, 6)}
    crit = [{"id": f"c{k}", "order": k, "points": pts, "label": {"ja": f"項目{k}"}, "guidance": g}
            for k, pts in enumerate([1, 1, 1, 97])]
    pack = pack_variant("autonomous_l4", scale=scale, criteria=crit,
                        selection={"pass_line": 70.9, "criterion_floor": 0.0, "min_reviews": 1})
    rows = review_rows(pack, "R", "P", [5, 5, 5, 4])
    ranking = rank_of(pack, [proposal("P")], rows)
    assert ranking.base[0] < 70.9, "precondition: the float sum must fall just below 70.9"
    assert ranking.result(0)["decision"] == "selected"


def test_conflicted_review_is_excluded_by_organisation_name():
    p = proposal("P", members=[("株式会社みなと通信", "company")])
    rows = five_reviews(L4, "P", [4, 4, 4]) + review_rows(L4, "X", "P", 1)
    rvs = [reviewer("R1"), reviewer("R2"), reviewer("R3"), reviewer("X", "株式会社みなと通信")]
    r = by_id(rank_of(L4, [p], rows, reviewers=rvs))["P"]
    assert r["n_reviews"] == 3 and r["base_score"] == 75
    assert r["excluded_reviews"] == [{"reviewer_id": "X", "reason": "conflict_of_interest"}]
    rvs_id = [reviewer("R1"), reviewer("R2"), reviewer("R3"), reviewer("X", "Q;P")]
    assert by_id(rank_of(L4, [p], rows, reviewers=rvs_id))["P"]["n_reviews"] == 3
