"""Conflicts of interest by organisation match the organisation, not its spelling (issue 12 §6)."""

from __future__ import annotations

import pytest

from scoring.aggregate import conflict_pairs
from scoring.models import Reviewer
from scoring.organisations import organisation_key
from scoring.table import ProposalTable
from tests.factories import proposal


@pytest.mark.parametrize("declared, registered", [
    ("株式会社　テスト7", "株式会社テスト7"),          # full-width space
    ("㈱テスト8", "株式会社テスト8"),                 # the one-character abbreviation
    ("株式会社テスト９", "株式会社テスト9"),           # full-width digit
    ("(株)テスト10", "テスト10株式会社"),             # legal form before or after the name
    ("（株） テスト11", "株式会社テスト11"),           # full-width parentheses and a space
    ("一般社団法人 まちづくり協会", "(一社)まちづくり協会"),
    ("NPO法人みらい", "特定非営利活動法人 みらい"),
    ("ＡＢＣ Co., Ltd.", "abc co.,ltd."),
    ("テスト・ラボ", "テスト-ラボ"),
])
def test_spellings_of_one_organisation_share_a_key(declared, registered):
    assert organisation_key(declared) == organisation_key(registered)


@pytest.mark.parametrize("a, b", [("株式会社テスト7", "株式会社テスト8"), ("みらい市", "みらい町"),
                                  ("株式会社", "有限会社")])
def test_different_organisations_stay_different(a, b):
    assert organisation_key(a) != organisation_key(b)


def test_a_reviewer_conflicted_with_any_spelling_is_conflicted_with_the_proposal():
    props = [proposal(f"P{i}", kind="company", name=f"株式会社テスト{i}",
                      members=[(f"テスト市{i}", "local_government")]) for i in (7, 8, 9, 10)]
    table = ProposalTable.from_proposals(props)
    reviewers = [Reviewer(reviewer_id="A", name="A", conflicts=("株式会社　テスト7",)),
                 Reviewer(reviewer_id="B", name="B", conflicts=("㈱テスト8", "テスト市10")),
                 Reviewer(reviewer_id="C", name="C", conflicts=("株式会社テスト９",)),
                 Reviewer(reviewer_id="D", name="D", conflicts=("株式会社テスト1",))]
    pairs = {(r, str(table.ids[p])) for r, p in conflict_pairs(table, reviewers)}
    assert pairs == {("A", "P7"), ("B", "P8"), ("B", "P10"), ("C", "P9")}
