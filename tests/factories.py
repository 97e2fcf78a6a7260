"""Small builders for core tests: proposals, review tables and rankings from plain Python data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scoring.call import assemble
from scoring.models import Proposal, Reviewer
from scoring.io.packs import load_pack, pack_path, read_pack_file
from scoring.packs import validate_pack
from scoring.selection import Params

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"   # the specification beside the clone, where there is one
# The worked example of ../shared/examples/l4-small, kept in the repository so the suite runs from any clone;
# tests/test_example.py checks the copy against the specification's whenever that is beside the clone.
EXAMPLE = ROOT / "tests" / "data" / "l4-small"


def proposal(pid: str, pack: str = "autonomous_l4", *, kind: str = "local_government", name: str | None = None,
             members=(), requested=100_000_000, eligible_cost=None, technologies=("local5g",), facts=None,
             cost_lines=()) -> Proposal:
    return Proposal.model_validate({
        "id": pid, "pack": pack, "title": f"提案 {pid}",
        "applicant": {"name": name or f"申請者{pid}", "kind": kind},
        "consortium": [{"name": m[0], "kind": m[1]} for m in members],
        "requested_yen": requested, "eligible_cost_yen": eligible_cost,
        "technologies": list(technologies), "facts": facts or {}, "cost_lines": list(cost_lines),
    })


def review_rows(pack, reviewer: str, pid: str, levels, status: str = "submitted", marks=None) -> list[dict]:
    """Rows of the long review table; ``levels`` is one level for every criterion, or a list in pack order."""
    if isinstance(levels, int):
        levels = [levels] * len(pack.criteria)
    rows = [{"reviewer_id": reviewer, "proposal_id": pid, "item": c.id, "value": str(lv), "status": status,
             "comment": ""} for c, lv in zip(pack.criteria, levels)]
    for bid, v in (marks or {}).items():
        rows.append({"reviewer_id": reviewer, "proposal_id": pid, "item": f"bonus:{bid}", "value": str(v),
                     "status": status, "comment": ""})
    return rows


def rank_of(pack, proposals, rows, reviewers=None, **overrides):
    df = pd.DataFrame(rows, columns=["reviewer_id", "proposal_id", "item", "value", "status", "comment"])
    call = assemble(pack, proposals, df, reviewers, "reviews.csv")
    return call.rank(Params.from_pack(pack, **overrides))


def by_id(ranking) -> dict[str, dict]:
    return {r["proposal_id"]: r for r in ranking.results()}


def pack_variant(pack_id: str, **changes):
    """A shipped pack with top-level sections updated (dict merge one level deep)."""
    data = read_pack_file(pack_path(pack_id))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return validate_pack(data, source=f"{pack_id}-variant")


def reviewer(rid: str, conflicts: str = "") -> Reviewer:
    return Reviewer(reviewer_id=rid, name=rid, conflicts=conflicts)
