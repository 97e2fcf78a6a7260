"""Named what-if scenarios on SQLite and PostgreSQL: the what-if comes back exactly as saved — "no budget"
included — and a locked round refuses a new one."""

from __future__ import annotations

import pytest

from scoring.params import NO_BUDGET, WhatIf
from scoring.store import RoundLocked
from scoring.store.scenarios import ScenarioService


def test_a_scenario_saved_without_a_budget_ranks_without_one(store, chair, small_round):
    svc = ScenarioService(store)
    svc.save_scenario(chair, small_round, "予算なし", "autonomous_l4", WhatIf(budget=NO_BUDGET, waitlist=1))
    svc.save_scenario(chair, small_round, "辞書で", "autonomous_l4", {"budget": None})
    saved = {s.name: s for s in svc.list_scenarios(chair, small_round, "autonomous_l4")}
    for name in ("予算なし", "辞書で"):
        whatif = saved[name].whatif
        assert whatif.budget is NO_BUDGET
        ranking = store.rounds.rank_round(chair, small_round, "autonomous_l4", params=whatif)
        assert ranking.budget_dict()["total_yen"] is None
        assert ranking.counts()["selected"] == 0
    assert saved["予算なし"].overrides == {"budget": None, "waitlist": 1}
    official = store.rounds.rank_round(chair, small_round, "autonomous_l4")
    assert official.budget_dict()["total_yen"] == 1_700_000_000


def test_a_locked_round_refuses_a_new_scenario(store, chair, small_round):
    store.rounds.lock_round(chair, small_round)
    with pytest.raises(RoundLocked):
        ScenarioService(store).save_scenario(chair, small_round, "後から", "autonomous_l4", WhatIf(budget=1))
    assert ScenarioService(store).list_scenarios(chair, small_round) == []
