"""decisions.md §1–3 in the core: the proposed decisions, each refusal rule of the committee's changes (one test
per rule, all problems listed at once), amounts, reserve positions, bands and the applicant comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.call import assemble
from scoring.decision_rules import decide, subsidy_grant
from scoring.decisions import DecisionEdit as E
from scoring.errors import InputError
from scoring.io.call import load_call
from scoring.io.packs import load_pack
from scoring.notices_data import applicant_comments, bands
from tests.factories import ROOT, proposal, review_rows
from tests.test_stages import call_of, small_pack

L4 = ROOT / "tests" / "data" / "l4-small"
EX = ROOT / "tests" / "data" / "decisions-small"


@pytest.fixture(scope="module")
def l4():
    """l4-small with a 300M budget: EX-2 (F 150M) and EX-1 (F 140M) adopted, 10M left; EX-3 ineligible."""
    from scoring.params import WhatIf
    call = load_call("autonomous_l4", L4 / "proposals.json", L4 / "reviews.csv", L4 / "reviewers.csv")
    return call.rank(WhatIf.from_overrides(budget=300_000_000))


@pytest.fixture(scope="module")
def sub():
    call = load_call(EX / "pack.yaml", EX / "proposals.json", EX / "reviews.csv", EX / "reviewers.csv")
    return call.rank()


def problems(ranking, edits, **kw) -> list[str]:
    with pytest.raises(InputError) as exc:
        decide(ranking, edits, source="d.csv", **kw)
    return [str(p) for p in exc.value.problems]


def only(ranking, edits, start: str, **kw) -> str:
    got = problems(ranking, edits, **kw)
    assert len(got) == 1 and got[0].startswith(start), got
    return got[0]


# --- §1 proposed ------------------------------------------------------------------------------------------------

def test_proposed_decisions_follow_the_ranking(l4):
    d = decide(l4)
    got = {r["proposal_id"]: (r["proposed_decision"], r["awarded_yen"]) for r in d.results()}
    assert got == {"EX-2": ("adopted", 150_000_000), "EX-1": ("adopted", 140_000_000),
                   "EX-3": ("not_adopted", 0), "EX-4": ("not_adopted", 0), "EX-5": ("not_adopted", 0)}
    assert not d.departure.any() and d.remaining == 10_000_000


def test_without_a_budget_ranked_proposals_are_proposed_not_adopted_and_nothing_limits_the_total():
    call = load_call("autonomous_l4", L4 / "proposals.json", L4 / "reviews.csv", L4 / "reviewers.csv")
    from scoring.params import NO_BUDGET, WhatIf
    r = call.rank(WhatIf.from_overrides(budget=NO_BUDGET))
    d = decide(r, [E("EX-2", "adopted", reason="委員会の判断", row="2")])
    assert d.budget_total is None and d.remaining is None and d.awarded_total == 150_000_000
    assert decide(r).awarded_total == 0


def test_hearing_stage_proposes_from_the_final_ranking():
    pack = small_pack(budget=200_000_000, shortlist={"method": "top_n", "n": 2})
    call = call_of(pack, {"P1": (5, 5), "P2": (4, 4), "P3": (4, 3)}, {"P1": (4, 4), "P2": (5, 5)})
    r = call.rank_hearing()
    got = {x["proposal_id"]: (x["computed_decision"], x["proposed_decision"]) for x in decide(r).results()}
    assert got["P3"] == ("not_shortlisted", "not_adopted")
    assert got["P2"][1] == "adopted" and r.rank[r.table.index_of()["P2"]] == 1
    # the not-shortlisted proposal qualified at the document stage: it is banded after the finalists, not D
    b = dict(zip(r.table.ids, bands(r)))
    assert b == {"P2": "A", "P1": "B", "P3": "C"}


# --- §2–3 refusals, one rule each ----------------------------------------------------------------------------------

def test_unknown_proposal_is_refused_and_one_of_another_pack_skipped(l4):
    only(l4, [E("EX-9", row="2")], "d.csv:2:proposal_id: 'EX-9' is not a proposal of pack autonomous_l4")
    assert not decide(l4, [E("X-1", "adopted", row="2")], other_pack_ids={"X-1"}).edits


def test_a_proposal_changed_twice_is_refused(l4):
    only(l4, [E("EX-4", row="2"), E("EX-4", row="3")], "d.csv:3:proposal_id: 'EX-4' is changed twice (also on row 2)")


def test_an_unknown_decision_is_refused(l4):
    only(l4, [E("EX-4", "selected", row="2")], "d.csv:2:decision: 'selected' is not one of")


def test_an_ineligible_proposal_is_never_adopted_nor_a_reserve(l4):
    got = problems(l4, [E("EX-3", "adopted", reason="x", row="2")])   # (its F also overruns the budget)
    assert got[0].startswith("d.csv:2:decision: 'EX-3' is ineligible (a fail not resolved)")
    only(l4, [E("EX-3", "reserve", reason="x", row="2")], "d.csv:2:decision: 'EX-3' is ineligible")


def test_awarded_above_f_is_refused(l4):
    only(l4, [E("EX-2", awarded_yen="1.6億円", reason="x", row="2")], "d.csv:2:awarded_yen: the awarded amount "
         "160,000,000円 must not exceed F(p) = 150,000,000円")


def test_awarded_zero_for_an_adopted_proposal_is_refused(l4):
    only(l4, [E("EX-2", awarded_yen="0", reason="x", row="2")], "d.csv:2:awarded_yen: the awarded amount must be "
                                                                 "more than 0")


def test_an_amount_for_a_proposal_not_adopted_is_refused(l4):
    only(l4, [E("EX-4", awarded_yen="1000", row="2")], "d.csv:2:awarded_yen: only an adopted proposal has an awarded")
    assert decide(l4, [E("EX-4", awarded_yen="0", row="2")]).awarded.sum() == 290_000_000   # 0 is fine


def test_an_unreadable_amount_is_refused_quoting_it(l4):
    only(l4, [E("EX-2", awarded_yen="百万円", reason="x", row="2")], "d.csv:2:awarded_yen: cannot read as yen: '百万円'")


def test_typed_amounts_are_read(l4):
    d = decide(l4, [E("EX-2", awarded_yen="１億２０００万円", reason="査定", row="2")])
    assert int(d.awarded[l4.table.index_of()["EX-2"]]) == 120_000_000 and d.reduced.sum() == 1


def test_an_approved_cost_outside_a_subsidy_pack_is_refused(l4):
    only(l4, [E("EX-2", approved_cost_yen="1000", reason="x", row="2")], "d.csv:2:approved_cost_yen: only a subsidy")


def test_an_awarded_amount_in_a_subsidy_pack_is_refused(sub):
    only(sub, [E("D-1", awarded_yen="1000", reason="x", row="2")], "d.csv:2:awarded_yen: a subsidy pack takes "
                                                                   "approved_cost_yen")


def test_an_approved_cost_above_the_eligible_cost_is_refused(sub):
    only(sub, [E("D-1", approved_cost_yen="80,001,001", reason="x", row="2")],
         "d.csv:2:approved_cost_yen: the approved cost 80,001,001円 must not exceed the eligible cost 80,001,000円")


def test_an_approved_cost_rounding_to_zero_is_refused(sub):
    only(sub, [E("D-1", approved_cost_yen="1999", reason="x", row="2")], "d.csv:2:approved_cost_yen: the awarded "
                                                                         "amount must be more than 0")


def test_subsidy_grant_is_exact_integer_arithmetic():
    assert subsidy_grant(50_001_999, 1, 2, 1000) == 25_000_000
    assert subsidy_grant(3 * 10**13, 2, 3, 1000) == 2 * 10**13     # a float would drift here
    assert subsidy_grant(10**13 + 1999, 2, 3, 1000) == 6_666_666_667_000


def test_a_conditional_adoption_needs_conditions(l4):
    only(l4, [E("EX-2", "adopted_conditional", reason="x", row="2")], "d.csv:2:conditions: a conditional adoption")
    d = decide(l4, [E("EX-2", "adopted_conditional", conditions="体制を確定", reason="x", row="2")])
    assert d.conditions[l4.table.index_of()["EX-2"]] == "体制を確定"


def test_a_departure_needs_a_reason(l4):
    only(l4, [E("EX-1", "not_adopted", row="2")], "d.csv:2:reason: a departure from the proposed decision "
                                                  "(adopted → not_adopted) needs a reason")
    only(l4, [E("EX-1", awarded_yen="1億円", reason=" ", row="2")], "d.csv:2:reason: a departure")


def test_a_reserve_position_on_a_proposal_that_is_no_reserve_is_refused(l4):
    only(l4, [E("EX-4", reserve_position="1", row="2")], "d.csv:2:reserve_position: only a reserve has a position")


@pytest.mark.parametrize("value", ["0", "1.5", "-1", "一"])
def test_a_reserve_position_must_be_a_whole_number_from_one(l4, value):
    only(l4, [E("EX-4", "reserve", reason="x", reserve_position=value, row="2")], "d.csv:2:reserve_position: must be")


def test_reserve_positions_are_one_to_k_without_gaps_and_distinct(l4):
    got = problems(l4, [E("EX-4", "reserve", reason="x", reserve_position="3", row="2"),
                        E("EX-5", "reserve", reason="x", reserve_position="1", row="3"),
                        E("EX-1", "reserve", reason="x", reserve_position="1", row="4")])
    assert any(x.startswith("d.csv:4:reserve_position: position 1 is also given to") for x in got)
    assert not any(x.startswith("d.csv:2:") for x in got)   # 3 of 3 reserves is fine
    got = problems(l4, [E("EX-4", "reserve", reason="x", reserve_position="2", row="2")])
    assert got == ["d.csv:2:reserve_position: reserve positions are 1..1 without gaps (1 reserves; got 2)"]


def test_blank_reserve_positions_fill_the_unused_numbers_in_rank_order(sub):
    d = decide(sub, [E("D-6", "reserve", reason="委員会の判断", reserve_position="1", row="2")])
    pos = {pid: int(d.position[i]) for pid, i in sub.table.index_of().items() if d.position[i]}
    assert pos == {"D-6": 1, "D-4": 2, "D-5": 3}


def test_the_budget_is_never_exceeded(l4):
    got = only(l4, [E("EX-4", "adopted", reason="x", row="2")], "d.csv: (budget): the adopted proposals' awarded "
                                                                "total 410,000,000円 exceeds the budget 300,000,000円")
    assert "by 110,000,000円" in got


def test_a_conflicted_member_cannot_change_the_decision(l4):
    only(l4, [E("EX-2", awarded_yen="1億円", reason="x", row="2")], "d.csv:2:proposal_id: 'EX-2': a member "
         "conflicted", conflicted={"EX-2"})


def test_every_problem_is_listed_at_once_in_row_order(l4):
    got = problems(l4, [E("EX-4", "adopted", row="5"), E("EX-3", "adopted", reason="x", row="2"),
                        E("EX-9", row="3")])
    assert [g.split(":")[1] for g in got] == ["2", "3", "5", " (budget)"]


def test_without_strict_the_problems_are_kept_for_a_draft(l4):
    d = decide(l4, [E("EX-4", "adopted", row="2")], strict=False)
    assert not d.confirmable and len(d.problems) == 2 and d.remaining == 300_000_000 - 410_000_000


# --- capacity packs --------------------------------------------------------------------------------------------

def capacity_ranking():
    pack = load_pack("planning_support")
    props = [proposal(f"C-{k}", pack.id) for k in range(3)]
    rows = [r for k in range(3) for rv in ("R1", "R2", "R3") for r in review_rows(pack, rv, f"C-{k}", 5 - k)]
    df = pd.DataFrame(rows, columns=["reviewer_id", "proposal_id", "item", "value", "status", "comment"])
    from scoring.params import WhatIf
    return assemble(pack, props, df, None, "reviews.csv").rank(WhatIf.from_overrides(budget=1))


def test_a_capacity_pack_awards_one_and_counts_recipients():
    r = capacity_ranking()
    d = decide(r)
    assert d.awarded_total == 1 and d.budget_dict()["remaining_count"] == 0
    only(r, [E("C-0", awarded_yen="2", reason="x", row="2")], "d.csv:2:awarded_yen: a capacity pack awards 1")
    got = only(r, [E("C-1", "adopted", reason="x", row="2")], "d.csv: (budget): the adopted proposals' awarded total 2")
    assert "円" not in got


# --- feedback ---------------------------------------------------------------------------------------------------

def test_ties_on_the_total_take_the_band_of_the_better():
    pack = small_pack(budget=None)
    # four proposals: P1 alone on top, P2/P3/P4 tied on the total: positions 2-4 would be A, B, C
    docs = {"P1": (5, 5), "P2": (4, 4), "P3": (4, 4), "P4": (4, 4)}
    props = [proposal(pid, pack.id, requested=100_000_000 + k) for k, pid in enumerate(docs)]
    rows = [[rv, pid, c, str(v), "submitted", ""] for pid, lv in docs.items() for rv in ("R1", "R2", "R3")
            for c, v in zip("ab", lv)]
    r = assemble(pack, props, pd.DataFrame(rows, columns=["reviewer_id", "proposal_id", "item", "value", "status",
                                                          "comment"]), None, "reviews.csv").rank()
    assert dict(zip(r.table.ids, bands(r))) == {"P1": "A", "P2": "A", "P3": "A", "P4": "A"}


def test_applicant_comments_skip_drafts_and_conflicted_reviewers_and_never_the_internal_comment():
    pack = load_pack("autonomous_l4")
    props = [proposal("P1", pack.id, name="甲社")]
    rows = []
    for rv, status, ac in (("R1", "submitted", "見せる所見"), ("R2", "draft", "下書きの所見"),
                           ("R3", "submitted", "利害関係者の所見"), ("R4", "submitted", "")):
        for row in review_rows(pack, rv, "P1", 4, status=status):
            rows.append({**row, "comment": "内部", "applicant_comment": ac})
    from scoring.models import Reviewer
    reviewers = [Reviewer(reviewer_id=r, name=r, conflicts="甲社" if r == "R3" else "") for r in ("R1", "R2", "R3", "R4")]
    r = assemble(pack, props, pd.DataFrame(rows), reviewers, "reviews.csv").rank()
    assert applicant_comments(r, 0) == ("見せる所見",)
    assert r.reviews.comments and all("内部" not in t for t in applicant_comments(r, 0))


def test_the_reviews_table_reads_without_applicant_comment(l4):
    assert l4.reviews.applicant_comments == {} and np.all(bands(l4) != "")
