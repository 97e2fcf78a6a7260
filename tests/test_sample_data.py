"""The shipped demo data shows the cases a chair meets (sample_proposals/README.md)."""

import pytest

from scoring.io.call import load_call
from tests.factories import ROOT

S = ROOT / "sample_proposals"


def ranked(pack):
    call = load_call(pack, S / "proposals.json", S / "reviews.csv", S / "reviewers.csv")
    return call, {r["proposal_id"]: r for r in call.rank().results()}


@pytest.mark.parametrize("pack, ineligible, capped, below_pass, below_floor", [
    ("advanced_comms", "AC-011", "AC-003", "AC-013", "AC-012"),
    ("ai_edge", "AI-011", "AI-002", "AI-009", "AI-013"),
    ("autonomous_l4", "L4-013", "L4-002", "L4-008", "L4-014"),
    ("subsidy", "SB-006", None, "SB-010", "SB-012"),
])
def test_each_required_pack_shows_the_chairs_cases(pack, ineligible, capped, below_pass, below_floor):
    call, r = ranked(pack)
    assert len(call.proposals) >= 12
    assert len({rv for rv, _ in call.reviews.comments}) >= 5
    assert r[ineligible]["decision"] == "ineligible" and r[ineligible]["reasons"]
    if capped:
        assert r[capped]["capped"] and r[capped]["funded_yen"] < r[capped]["requested_yen"]
    assert r[below_pass]["decision"] == "below_pass_line"
    assert r[below_floor]["decision"] == "below_criterion_floor" and r[below_floor]["base_score"] >= 60
    assert not call.reviews.submitted.all(), "a draft review is in the data"


def test_conflict_tie_and_funding_line_in_autonomous_l4():
    call, r = ranked("autonomous_l4")
    assert "R03" not in {rv for rv, p in call.reviews.comments if p == "L4-006"}
    assert r["L4-011"]["total_score"] == r["L4-012"]["total_score"]
    assert r["L4-012"]["rank"] + 1 == r["L4-011"]["rank"]  # smaller request first
    assert r["L4-012"]["decision"] == "selected" and r["L4-011"]["decision"] == "waitlisted"
    assert [r[p]["waitlist_position"] for p in ("L4-011", "L4-016", "L4-017")] == [1, 2, 3]


def test_subsidy_condition_and_needs_check():
    _, r = ranked("subsidy")
    assert r["SB-007"]["conditions"]
    assert {e["rule"]: e["status"] for e in r["SB-009"]["eligibility"]}["rental_cloud_years"] == "needs_check"
