"""Bonus items (加点, selection.md §5): fact, judged (strict majority of counted reviewers) and ratio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eligibility import EvalContext, condition, numeric_values, operand_values
from .labels import label as text
from .packs import CriteriaPack
from .table import ProposalTable, ReviewTable


@dataclass
class BonusResult:
    ids: list[str]
    points: np.ndarray      # [n, K] points awarded per item (before the cap)
    known: np.ndarray       # [n, K] False where a fact needed was missing
    marks: np.ndarray       # [n, K] judged: reviewers who marked it (else 0)
    total: np.ndarray       # [n] min(Σ, bonus_cap)
    raw_total: np.ndarray   # [n] Σ before the cap

    def reason(self, pack: CriteriaPack, row: int, k: int, n_counted: int, lang: str = "ja") -> str:
        item = pack.bonuses[k]
        pts = float(self.points[row, k])
        label = item.label.get(lang)
        if item.kind == "judged":
            key = "bonus.judged_majority" if pts else "bonus.judged_no_majority"
            return text(key, lang, label=label, n=n_counted, m=int(self.marks[row, k]))
        if not self.known[row, k]:
            return text("bonus.missing_facts", lang, label=label)
        if item.kind == "ratio":
            return text("bonus.ratio", lang, label=label, points=f"{pts:g}", full=f"{item.points:g}")
        return text("bonus.applies" if pts else "bonus.does_not_apply", lang, label=label)


def compute_bonus(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable, counted: np.ndarray,
                  n_counted: np.ndarray) -> BonusResult:
    n, K = table.n, len(pack.bonuses)
    pts = np.zeros((n, K))
    known = np.ones((n, K), bool)
    marks = np.zeros((n, K), np.int64)
    ctx = EvalContext(table)
    judged_col = {b.id: j for j, b in enumerate(pack.judged_bonuses)}
    for k, item in enumerate(pack.bonuses):
        if item.kind == "fact":
            v, kn = condition(pack.compiled(f"bonus:{item.id}"), ctx)
            pts[:, k] = np.where(v & kn, item.points, 0.0)
            known[:, k] = kn
        elif item.kind == "judged":
            j = judged_col[item.id]
            marked = counted & (reviews.marks[:, j] == 1) if reviews.n else np.zeros(0, bool)
            m = np.bincount(reviews.prop, weights=marked, minlength=n).astype(np.int64)
            marks[:, k] = m
            pts[:, k] = np.where(2 * m > n_counted, item.points, 0.0)  # a tie is not a majority
        else:  # ratio
            applies = np.ones(n, bool)
            if item.when is not None:
                wv, wk = condition(pack.compiled(f"bonus_when:{item.id}"), ctx)
                applies = wv & wk
                known[:, k] = wk
            nv, nk = operand_values(pack.compiled(f"bonus_numerator:{item.id}"), ctx)
            dv, dk = operand_values(pack.compiled(f"bonus_denominator:{item.id}"), ctx)
            nf, nk = numeric_values(nv, nk)
            df, dk = numeric_values(dv, dk)
            ok = applies & nk & dk & (np.nan_to_num(df) > 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.clip(nf / df, 0.0, 1.0)
            pts[:, k] = np.where(ok, item.points * np.nan_to_num(frac), 0.0)
            known[:, k] &= ~applies | (nk & dk)
    raw = pts.sum(axis=1) if K else np.zeros(n)
    return BonusResult([b.id for b in pack.bonuses], pts, known, marks, np.minimum(raw, pack.bonus_cap), raw)
