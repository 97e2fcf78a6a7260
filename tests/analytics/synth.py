"""Synthetic rounds for the analytics tests: a minimal pack and tables built directly (no files)."""

from __future__ import annotations

import numpy as np

from scoring.models import Proposal
from scoring.io.packs import load_pack
from scoring.packs import pack_to_dict, validate_pack
from scoring.table import ProposalTable, ReviewTable


def make_pack(budget_yen: int | None = 1_000_000_000, judged: bool = False, aggregation: str = "mean",
              method: str = "greedy_skip", cap_yen: int | None = None, pass_line: float = 60.0,
              criterion_floor: float = 0.25):
    """autonomous_l4 without eligibility rules or fact bonuses (optionally with one judged bonus)."""
    data = pack_to_dict(load_pack("autonomous_l4"))
    data["id"] = "synthetic"
    data["eligibility"] = []
    data["expense_checks"] = []
    data["bonuses"] = []
    data["bonus_cap"] = 0
    if judged:
        data["bonuses"] = [{"id": "shared_use", "kind": "judged", "points": 5,
                            "label": {"ja": "共同利用", "en": "Shared use"}}]
        data["bonus_cap"] = 5
    data["funding"]["cap_yen"] = cap_yen
    data["funding"]["cap_overrides"] = []
    data["budget"]["budget_yen"] = budget_yen
    data["selection"].update(aggregation=aggregation, method=method, pass_line=pass_line,
                             criterion_floor=criterion_floor)
    return validate_pack(data, source="<synthetic>")


def make_proposals(requested: list[int]) -> ProposalTable:
    props = [Proposal(id=f"P{i:04d}", pack="synthetic", title=f"提案{i}",
                      applicant={"name": f"申請者{i}", "kind": "local_government"}, requested_yen=int(r))
             for i, r in enumerate(requested)]
    return ProposalTable.from_proposals(props)


def make_reviews(levels: np.ndarray, reviewer_ids: list[str] | None = None, marks: np.ndarray | None = None,
                 present: np.ndarray | None = None) -> ReviewTable:
    """levels[p, r, c] → one review row per (proposal, reviewer) where present[p, r] (all by default)."""
    P, V, C = levels.shape
    present = np.ones((P, V), bool) if present is None else present
    reviewer_ids = reviewer_ids or [f"R{v:02d}" for v in range(V)]
    pp, vv = np.nonzero(present)
    rev = np.array([reviewer_ids[v] for v in vv] + [""], dtype=object)[:-1]
    mk = np.zeros((len(pp), 0), np.int8) if marks is None else marks[pp, vv].reshape(len(pp), -1).astype(np.int8)
    return ReviewTable(rev, pp.astype(np.int64), np.ones(len(pp), bool), levels[pp, vv].astype(np.int16), mk)


def random_round(seed: int, n_props: int = 30, n_reviewers: int = 5, budget_share: float = 0.4, noise: float = 0.8,
                 judged: bool = False, aggregation: str = "mean", method: str = "greedy_skip"):
    """A round where each proposal has a latent quality and reviewers add noise; levels 1..5."""
    rng = np.random.default_rng(seed)
    quality = rng.uniform(2.5, 5.0, n_props)
    lv = np.clip(np.rint(quality[:, None, None] + rng.normal(0, noise, (n_props, n_reviewers, 5))), 1, 5)
    requested = (rng.integers(20, 150, n_props) * 1_000_000).tolist()
    budget = int(sum(requested) * budget_share) // 1_000_000 * 1_000_000
    pack = make_pack(budget, judged=judged, aggregation=aggregation, method=method)
    marks = rng.integers(0, 2, (n_props, n_reviewers, 1)) if judged else None
    return pack, make_proposals(requested), make_reviews(lv.astype(int), marks=marks)
