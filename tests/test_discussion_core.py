"""The pure rules of the panel's discussion (scoring/discussion.py) and the pack's ``review_visibility``."""

import pytest

from scoring.discussion import effective_visibility, merge_mentions, mentioned_criteria, sees_others, with_labels
from scoring.errors import PackError
from scoring.io.packs import pack_path, read_pack_file
from scoring.packs import validate_pack


def test_the_round_setting_wins_then_the_pack_then_after_own_submit():
    assert effective_visibility(None, None) == "after_own_submit"
    assert effective_visibility(None, "always") == "always"
    assert effective_visibility("never", "always") == "never"


@pytest.mark.parametrize("policy,submitted,sees", [
    ("never", False, False), ("never", True, False), ("after_own_submit", False, False),
    ("after_own_submit", True, True), ("always", False, True), ("always", True, True)])
def test_sees_others_per_policy(policy, submitted, sees):
    assert sees_others(policy, submitted) is sees


def test_mentions_of_known_criteria_only_in_the_packs_order():
    ids = ["service_need", "rollout_plan", "safety"]
    assert mentioned_criteria("#rollout_plan と #service_need、#unknown", ids) == ["rollout_plan", "service_need"]
    assert merge_mentions(["safety"], "#service_need", ids) == ["service_need", "safety"]
    assert with_labels("#service_need が弱い #x", {"service_need": "必要性"}) == "#必要性 が弱い #x"


def _raw():
    return read_pack_file(pack_path("autonomous_l4"))


def test_pack_review_visibility_is_validated():
    assert validate_pack({**_raw(), "review_visibility": "always"}).review_visibility == "always"
    assert validate_pack(_raw()).review_visibility is None
    with pytest.raises(PackError) as exc:
        validate_pack({**_raw(), "review_visibility": "sometimes"})
    assert any(p.field == "review_visibility" for p in exc.value.problems)
    raw = _raw()
    raw["policy"] = {**raw["policy"], "reviewers_see_others": True}
    with pytest.raises(PackError, match="contradicts"):
        validate_pack({**raw, "review_visibility": "never"})
