"""A what-if is a core value (scoring.params.WhatIf): "no budget" is explicit, it is applied in one place, the
ranking's budget view and reasons follow it, and the one ranking CSV is the same for every reader."""

from __future__ import annotations

import pytest

from scoring.io.call import load_call
from scoring.cli import main
from scoring.io import csv_bytes
from scoring.params import NO_BUDGET, Params, WhatIf, WhatIfError
from scoring.selection import rank
from tests.factories import ROOT

SAMPLE = ROOT / "sample_proposals"


@pytest.fixture(scope="module")
def l4():
    return load_call("autonomous_l4", SAMPLE / "proposals.json", SAMPLE / "reviews.csv", SAMPLE / "reviewers.csv")


@pytest.fixture(scope="module")
def capacity():
    return load_call("planning_support", SAMPLE / "proposals.json", SAMPLE / "reviews.csv",
                     SAMPLE / "reviewers.csv")


def test_no_budget_survives_the_stored_form_and_ranks_without_a_line(l4):
    stored = WhatIf(budget=NO_BUDGET).to_dict()
    assert stored == {"budget": None}
    back = WhatIf.from_dict(stored)
    assert back.budget is NO_BUDGET
    ranking = l4.rank(back)
    assert ranking.budget_dict()["total_yen"] is None and ranking.funding_line is None
    assert ranking.counts()["selected"] == 0 and ranking.counts()["ranked"] > 0


def test_an_unset_budget_is_the_packs_and_none_from_the_command_line_means_not_given(l4):
    assert WhatIf().params(l4.pack) == Params.of_pack(l4.pack)
    assert Params.from_pack(l4.pack, budget=None).budget_yen == l4.pack.budget.budget_yen == 1_700_000_000
    assert Params.from_pack(l4.pack, budget=NO_BUDGET).budget_yen is None


def test_settings_of_a_form_reduce_to_what_differs_from_the_pack(l4):
    own = WhatIf().settings(l4.pack)
    assert WhatIf.from_settings(l4.pack, own).is_official
    w = WhatIf.from_settings(l4.pack, {**own, "budget": None, "pass_line": 70.0})
    assert w.to_dict() == {"budget": None, "pass_line": 70.0}
    assert w.changes(l4.pack) == [("budget", 1_700_000_000, None), ("pass_line", own["pass_line"], 70.0)]
    assert w.settings(l4.pack) == {**own, "budget": None, "pass_line": 70.0}


def test_a_capacity_pack_takes_the_budget_as_a_count(capacity):
    w = WhatIf(budget=2)
    assert w.params(capacity.pack).capacity_count == 2 and w.params(capacity.pack).budget_yen is None
    view = capacity.rank(w).budget_view()
    assert (view.unit, view.limit, view.used, view.remaining) == ("count", 2, 2, 0)
    assert capacity.rank(WhatIf(budget=NO_BUDGET)).budget_view().limit is None


@pytest.mark.parametrize("data, key", [({"budget": -1}, "budget"), ({"budget": 1.5}, "budget"),
                                       ({"aggregation": "mode"}, "aggregation"), ({"waitlist": -2}, "waitlist"),
                                       ({"pass_line": float("nan")}, "pass_line"), ({"colour": 1}, "colour")])
def test_a_bad_whatif_value_is_refused_naming_its_key(data, key):
    with pytest.raises(WhatIfError) as info:
        WhatIf.from_dict(data)
    assert info.value.key == key and str(info.value).startswith(key)


def test_budget_view_money_pack(l4):
    view = l4.rank().budget_view()
    assert (view.unit, view.limit, view.used) == ("yen", 1_700_000_000, 1_562_000_000)
    assert view.remaining == 138_000_000 and view.share == pytest.approx(1_562 / 1_700)


def test_reasons_are_shared_across_budgets_and_equal_freshly_computed_ones(l4):
    """Budget-free reasons are reused by rankings that differ only in the budget — and still say exactly what a
    ranking computed from scratch says, after any sequence of what-ifs."""
    seen = set()
    rankings = []
    for budget, line in ((2_000_000_000, None), (600_000_000, None), (600_000_000, 75.0), (2_000_000_000, None)):
        w = WhatIf(budget=budget, pass_line=line)
        ranking = l4.rank(w)
        fresh = rank(l4.pack, l4.table, l4.reviews, l4.reviewers, w.params(l4.pack))
        for lang in ("ja", "en"):
            assert ranking.reason_texts(lang) == fresh.reason_texts(lang)
        seen |= set(ranking.decisions())
        rankings.append(ranking)
    assert rankings[0].shared_reasons is rankings[1].shared_reasons       # only the budget differs
    assert rankings[1].shared_reasons is not rankings[2].shared_reasons   # the pass line differs
    assert len(seen) >= 4


def test_the_one_ranking_csv_is_what_the_command_line_writes(l4, tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert main(["rank", "--pack", "autonomous_l4", "--proposals", str(SAMPLE / "proposals.json"),
                 "--reviews", str(SAMPLE / "reviews.csv"), "--reviewers", str(SAMPLE / "reviewers.csv"),
                 "--format", "csv", "--out", str(out)]) == 0
    assert out.read_bytes() == csv_bytes(*l4.rank().csv_table("ja"))
    header, rows = l4.rank().csv_table("en")
    assert header[:4] == ["rank", "proposal_id", "title", "applicant"] and header[-2:] == ["reasons", "conditions"]
    assert any("waitlist #1" in r[-2] for r in rows)


def test_a_whatif_ranking_json_says_so_and_lists_what_differs(l4):
    """Issue 14 §2 for the JSON export (the workbook: tests/excel/test_chair_workbook.py; the file names:
    tests/app/test_pages_chair.py): made under a what-if on the chair's page it says so and lists each changed
    setting; the official one has no such entry. (The command line's options are the run's parameters, not a
    what-if: docs/excel.md.)"""
    whatif = WhatIf(budget=300_000_000, pass_line=70)
    data = l4.rank(whatif).to_dict("ja", whatif)
    assert data["whatif"] == {"official": False, "note": "試算 — 公式の審査結果ではありません",
                              "changes": [{"setting": "budget", "pack": 1_700_000_000, "whatif": 300_000_000},
                                          {"setting": "pass_line", "pack": 60.0, "whatif": 70.0}]}
    assert "whatif" not in l4.rank().to_dict("ja", WhatIf()) and "whatif" not in l4.rank().to_dict("ja")


@pytest.mark.parametrize("option, value, message", [
    ("--pass-line", "inf", "--pass-line: must be a number from 0 to 1000 (got 'inf')"),
    ("--pass-line", "nan", "--pass-line: must be a number from 0 to 1000 (got 'nan')"),
    ("--pass-line", "5000", "--pass-line: must be a number from 0 to 1000"),
    ("--waitlist", "2000000", "--waitlist: must be a whole number from 0 to 1,000,000"),
])
def test_whatif_options_out_of_range_exit_2_naming_the_option(option, value, message, capsys):
    ex = ROOT / "tests" / "data" / "l4-small"
    assert main(["rank", "--pack", "autonomous_l4", "--proposals", str(ex / "proposals.json"),
                 "--reviews", str(ex / "reviews.csv"), option, value, "--out", "-"]) == 2
    assert message in capsys.readouterr().err
