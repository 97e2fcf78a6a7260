"""Sensitivity (selection.md §10): the official ranking again with each criterion's points scaled (±20%) and
under every other aggregation method, compared with the official list. When a criterion's points are scaled
the pass line is rescaled with the pack's total by default (``pass_line="scaled"``), so that a variant changes
the weights and not the bar; ``pass_line="raw"`` keeps the official pass line."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..labels import label
from ..models import Aggregation, Decision
from ..packs import CriteriaPack, pack_to_dict, validate_pack
from ..selection import Ranking, rank
from ..table import ReviewTable
from .common import SENSITIVITY_FACTORS, check_reviews, join_list, join_sentences, selected_mask


def _resolutions(ranking: Ranking) -> dict:
    """The chair's resolutions the ranking was computed with, rebuilt from its eligibility result."""
    rules = ranking.elig.rules
    return {(str(ranking.table.ids[i]), rules[k].id): res for (i, k), res in ranking.elig.resolved_by.items()}


def _rerank(ranking: Ranking, reviews: ReviewTable, pack: CriteriaPack | None = None, **param_changes) -> Ranking:
    """rank() again with the same inputs (conflicted rows removed, so no reviewer list is needed; resolutions
    rebuilt) and a changed pack or parameters."""
    sub = reviews.subset(~ranking.agg.conflicted)
    params = replace(ranking.params, **param_changes) if param_changes else ranking.params
    return rank(pack or ranking.pack, ranking.table, sub, None, params, _resolutions(ranking))


def scaled_pack(pack: CriteriaPack, criterion_id: str, factor: float) -> CriteriaPack:
    """A validated copy of the pack with one criterion's points × factor (total_points follows)."""
    data = pack_to_dict(pack)
    for c in data["criteria"]:
        if c["id"] == criterion_id:
            c["points"] = float(c["points"]) * factor
            break
    else:
        raise KeyError(criterion_id)
    data["total_points"] = sum(float(c["points"]) for c in data["criteria"])
    return validate_pack(data, source=f"{pack.source or pack.id} ({criterion_id} ×{factor:g})")


def _compare(base: Ranking, other: Ranking) -> dict:
    ids = base.table.ids
    sel0, sel1 = selected_mask(base), selected_mask(other)
    changed = np.nonzero(base.decision != other.decision)[0]
    both = (base.rank > 0) & (other.rank > 0)
    shift = np.abs(base.rank - other.rank)[both]
    dec = list(Decision)
    return {
        "entered": [str(ids[i]) for i in other.order if sel1[i] and not sel0[i]],
        "left": [str(ids[i]) for i in base.order if sel0[i] and not sel1[i]],
        "decision_changes": [{"proposal_id": str(ids[i]), "from": dec[base.decision[i]].value,
                              "to": dec[other.decision[i]].value,
                              "rank_from": int(base.rank[i]) or None, "rank_to": int(other.rank[i]) or None}
                             for i in changed],
        "n_rank_changes": int((base.rank != other.rank).sum()),
        "max_rank_shift": int(shift.max()) if len(shift) else 0,
    }


PASS_LINE_MODES = ("scaled", "raw")


def sensitivity(ranking: Ranking, reviews: ReviewTable, factors: tuple[float, ...] = SENSITIVITY_FACTORS,
                pass_line: str = "scaled") -> dict:
    """Re-rank with each criterion's points × each factor, and under every other aggregation method.

    ``pass_line``: ``scaled`` (default) — a variant's pass line is the official one × (variant total / official
    total); ``raw`` — the official pass line as it is."""
    if pass_line not in PASS_LINE_MODES:
        raise ValueError(f"pass_line must be one of {PASS_LINE_MODES} (got {pass_line!r})")
    check_reviews(ranking, reviews)
    same = _rerank(ranking, reviews)
    if not (np.array_equal(same.decision, ranking.decision) and np.array_equal(same.rank, ranking.rank)):
        raise ValueError("the ranking cannot be reproduced from these reviews: pass the ReviewTable it was "
                         "ranked from")
    crit_rows = []
    flips: dict[str, list[str]] = {}
    for c in ranking.pack.criteria:
        for f in factors:
            pk = scaled_pack(ranking.pack, c.id, f)
            line = float(ranking.params.pass_line)
            if pass_line == "scaled":
                line = line * float(pk.total_points) / float(ranking.pack.total_points)
            other = _rerank(ranking, reviews, pack=pk, pass_line=line)
            row = {"criterion": c.id, "label": c.label.ja, "label_en": c.label.get("en"), "factor": float(f),
                   "points": float(c.points * f), "total_points": float(pk.total_points), "pass_line": line,
                   **_compare(ranking, other)}
            crit_rows.append(row)
            for pid in row["entered"] + row["left"]:
                flips.setdefault(pid, []).append(f"{c.id}×{f:g}")
    agg_rows = []
    for a in Aggregation:
        if a == ranking.params.aggregation:
            continue
        other = _rerank(ranking, reviews, aggregation=a)
        row = {"aggregation": a.value, **_compare(ranking, other)}
        agg_rows.append(row)
        for pid in row["entered"] + row["left"]:
            flips.setdefault(pid, []).append(f"aggregation={a.value}")
    return {"factors": [float(f) for f in factors], "pass_line": float(ranking.params.pass_line),
            "pass_line_mode": pass_line,
            "criteria": crit_rows, "aggregation": agg_rows,
            "flips": [{"proposal_id": pid, "under": v} for pid, v in flips.items()],
            "reading": _sensitivity_reading(flips, pass_line, "ja"),
            "reading_en": _sensitivity_reading(flips, pass_line, "en")}


def _sensitivity_reading(flips: dict[str, list[str]], pass_line: str, lang: str) -> str:
    mode = label(f"analytics.sensitivity.pass_line.{pass_line}", lang)
    if not flips:
        return join_sentences([label("analytics.sensitivity.stable", lang), mode], lang)
    return join_sentences([label("analytics.sensitivity.flips", lang, n=len(flips), ids=join_list(list(flips), lang)),
                           mode], lang)
