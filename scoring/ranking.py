"""The result of one ranking run (:class:`Ranking`) and the views every reader takes of it: figures, the budget
view, each proposal's reasons (memoised), its JSON shape (formats.md) and the one ranking table that the CSV of
the command line and of the app both write.

:func:`scoring.selection.rank` computes it; nothing here changes a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .aggregate import Aggregate
from .bonus import BonusResult
from .eligibility import FAIL, NEEDS_CHECK, STATUS_OF_CODE, EligibilityResult
from .labels import label
from .money import format_score, round_half_up
from .models import DECISION_LABELS, Decision, SelectionMethod
from .packs import CriteriaPack
from .params import Params, WhatIf
from .table import ProposalTable, ReviewTable

DECIMALS = 6  # scores and thresholds are compared after rounding to 6 places (selection.md §8)
DECISION_CODES = list(Decision)
CODE = {d: i for i, d in enumerate(DECISION_CODES)}

# Decisions whose reasons read neither the budget, the remaining amount, the selection method nor the waitlist
# (see Ranking.reasons): their texts are shared between rankings that differ only in those.
BUDGET_FREE = frozenset(CODE[d] for d in (Decision.ineligible, Decision.insufficient_reviews,
                                          Decision.below_criterion_floor, Decision.below_pass_line))

RANK_CSV_COLUMNS = ["rank", "proposal_id", "title", "applicant", "decision", "decision_label", "waitlist_position",
                    "base_score", "bonus", "total_score", "n_reviews", "requested_yen", "funded_yen", "capped",
                    "cumulative_funded_yen"]


def r6(x: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), DECIMALS)


@dataclass(frozen=True)
class BudgetView:
    """How the selection uses the budget: ``unit`` is ``"yen"`` for money packs, ``"count"`` (recipients) for
    capacity packs; ``limit``/``remaining`` are None without a budget."""

    limit: int | None
    used: int
    unit: str

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else int(self.limit - self.used)

    @property
    def share(self) -> float | None:
        """Used / limit (None without a budget; 1.0 for a zero budget)."""
        if self.limit is None:
            return None
        return self.used / self.limit if self.limit else 1.0


class ReasonMemo:
    """Reason texts kept across rankings of one call: the budget-free ones (:data:`BUDGET_FREE`) are reused by
    every ranking whose parameters differ only in the budget (the common what-if). Keyed by the parameters
    without the budget and the needs_check resolutions the ranking read."""

    def __init__(self, keep: int = 4):
        self._keep = keep
        self._by_state: list[tuple[Params, Any, dict]] = []

    def texts_for(self, params: Params, resolutions: Any) -> dict:
        key = params.without_budget()
        for k, res, memo in self._by_state:
            if k == key and res is resolutions:
                return memo
        memo: dict = {}
        self._by_state = [(key, resolutions, memo), *self._by_state[: self._keep - 1]]
        return memo


def _num(x: float) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


@dataclass
class Ranking:
    pack: CriteriaPack
    params: Params
    table: ProposalTable
    agg: Aggregate
    bonus: BonusResult
    elig: EligibilityResult
    decision: np.ndarray        # int codes into Decision
    rank: np.ndarray            # int, 0 = unranked
    waitlist_position: np.ndarray  # int, 0 = none
    funded: np.ndarray          # int64 yen (count for capacity packs)
    capped: np.ndarray          # bool
    cap: np.ndarray             # int64 per-proposal cap
    cumulative: np.ndarray      # int64 cumulative funded among selected, in rank order (0 for others)
    order: np.ndarray           # output order (ranked, then unranked by id)
    remaining_at: np.ndarray    # remaining budget when the walk reached this proposal (-1 if not walked)
    reviews: ReviewTable | None = None
    skipped_other_packs: int = 0
    used: int = 0
    excluded: dict = field(default_factory=dict)
    shared_reasons: dict = field(default_factory=dict, repr=False)   # budget-free texts (ReasonMemo)
    own_reasons: dict = field(default_factory=dict, repr=False)      # texts that read the budget

    # --- figures -------------------------------------------------------------------------------------------
    @property
    def base(self) -> np.ndarray:
        return self.agg.base

    @property
    def total(self) -> np.ndarray:
        return self.agg.base + self.bonus.total

    def decisions(self) -> list[Decision]:
        return [DECISION_CODES[c] for c in self.decision]

    def budget_view(self) -> BudgetView:
        return BudgetView(self.params.budget_limit(self.pack), int(self.used),
                          "count" if self.pack.is_capacity else "yen")

    def budget_dict(self) -> dict:
        b = self.budget_view()
        if b.unit == "count":
            return {"total_yen": None, "used_yen": None, "remaining_yen": None, "capacity_count": b.limit,
                    "used_count": b.used, "remaining_count": b.remaining}
        return {"total_yen": b.limit, "used_yen": b.used, "remaining_yen": b.remaining}

    @property
    def funding_line(self) -> int | None:
        """selection.md §9, drawn: how many ranked proposals stand above the budget line — it is drawn after the
        last selected one (with greedy_skip an over_budget proposal may stand above it). None without a budget.
        The ranked table, the chart and the workbook all draw it here."""
        if self.params.budget_limit(self.pack) is None:
            return None
        ranked = self.order[self.rank[self.order] > 0]
        sel = np.flatnonzero(self.decision[ranked] == CODE[Decision.selected])
        return int(sel[-1]) + 1 if len(sel) else 0

    def counts(self) -> dict[str, int]:
        out = {d.value: 0 for d in Decision}
        for c in self.decision:
            out[DECISION_CODES[c].value] += 1
        return out

    # --- per proposal --------------------------------------------------------------------------------------
    def reasons(self, i: int, lang: str = "ja") -> list[str]:
        """Why proposal ``i`` stands where it does, in ``lang``; memoised (see :class:`ReasonMemo`)."""
        code = int(self.decision[i])
        memo = self.shared_reasons if code in BUDGET_FREE else self.own_reasons
        key = (int(i), code, lang)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = tuple(self._reasons(int(i), lang))
        return list(hit)

    def _reasons(self, i: int, lang: str) -> list[str]:
        d = DECISION_CODES[self.decision[i]]
        p = self.params
        out: list[str] = []
        if d == Decision.ineligible:
            for k in range(len(self.elig.rules)):
                if self.elig.status[i, k] == FAIL:
                    out.append(self.elig.reason(i, k, lang))
        elif d == Decision.insufficient_reviews:
            out.append(label("reason.insufficient_reviews", lang, n=int(self.agg.n_reviews[i]),
                             needed=p.min_reviews))
        elif d == Decision.below_criterion_floor:
            for c, crit in enumerate(self.pack.criteria):
                ratio = self.agg.crit_ratio[i, c]
                if r6(ratio) < r6(p.criterion_floor):
                    out.append(label("reason.below_criterion_floor", lang,
                                     criterion=crit.label.get(lang) if lang == "en" else crit.label.ja,
                                     ratio=format_score(ratio), floor=format_score(p.criterion_floor)))
        elif d == Decision.below_pass_line:
            out.append(label("reason.below_pass_line", lang, base=format_score(self.base[i]),
                             line=format_score(p.pass_line)))
        elif d in (Decision.over_budget, Decision.waitlisted):
            unit = "" if self.pack.is_capacity else "円"
            rem = int(self.remaining_at[i])
            if p.selection == SelectionMethod.greedy_stop and rem >= int(self.funded[i]):
                out.append(label("reason.below_funding_line_stop", lang))
            else:
                out.append(label("reason.budget_short", lang, remaining=f"{rem:,}{unit}",
                                 funded=f"{int(self.funded[i]):,}{unit}"))
            if d == Decision.waitlisted:
                out.append(label("reason.waitlist", lang, n=int(self.waitlist_position[i])))
        for k in range(len(self.elig.rules)):
            if self.elig.status[i, k] == NEEDS_CHECK:
                out.append(label("reason.needs_check", lang, reason=self.elig.reason(i, k, lang)))
        if self.capped[i]:
            out.append(label("reason.capped", lang, cap=f"{int(self.cap[i]):,}"))
        return out

    def reason_texts(self, lang: str = "ja", selected_blank: bool = True) -> list[str]:
        """One text per proposal in :attr:`order` (its reasons joined), "" for the selected ones."""
        sep = label("reason.separator", lang)
        sel = CODE[Decision.selected]
        return ["" if selected_blank and self.decision[i] == sel else sep.join(self.reasons(i, lang))
                for i in self.order.tolist()]

    def result(self, i: int, lang: str = "ja") -> dict:
        """One proposal's result in the JSON shape of formats.md (plus documented extra fields)."""
        t, pack = self.table, self.pack
        prop = t.proposals[i]
        d = DECISION_CODES[self.decision[i]]
        base = self.base[i]
        n_counted = int(self.agg.n_reviews[i])
        crit = {c.id: _num(self.agg.crit_points[i, k]) for k, c in enumerate(pack.criteria)}
        crit_ratio = {c.id: _num(self.agg.crit_ratio[i, k]) for k, c in enumerate(pack.criteria)}
        elig = [{"rule": r.id, "status": STATUS_OF_CODE[int(self.elig.status[i, k])].value,
                 "reason": self.elig.reason(i, k, "ja"), "reason_en": self.elig.reason(i, k, "en")}
                for k, r in enumerate(self.elig.rules)]
        bonus_items = [{"id": b.id, "kind": b.kind, "points": float(self.bonus.points[i, k]),
                        "awarded": bool(self.bonus.points[i, k] > 0),
                        "reason": self.bonus.reason(pack, i, k, n_counted, "ja"),
                        "reason_en": self.bonus.reason(pack, i, k, n_counted, "en")}
                       for k, b in enumerate(pack.bonuses)]
        ja, en = DECISION_LABELS[d]
        return {
            "proposal_id": prop.id,
            "decision": d.value,
            "decision_label": ja if lang == "ja" else en,
            "rank": int(self.rank[i]) or None,
            "waitlist_position": int(self.waitlist_position[i]) or None,
            "base_score": _num(base),
            "bonus": float(self.bonus.total[i]),
            "total_score": _num(base + self.bonus.total[i]),
            "n_reviews": n_counted,
            "requested_yen": prop.requested_yen,
            "eligible_cost_yen": prop.eligible_cost_yen,
            "funded_yen": int(self.funded[i]),
            "capped": bool(self.capped[i]),
            "cumulative_funded_yen": int(self.cumulative[i]) if self.cumulative[i] else None,
            "title": prop.title,
            "applicant": prop.applicant.name,
            "criteria": crit,
            "criteria_ratio": crit_ratio,
            "bonus_items": bonus_items,
            "eligibility": elig,
            "conditions": self.elig.conditions(i, "ja"),
            "reasons": self.reasons(i, "ja"),
            "reasons_en": self.reasons(i, "en"),
            "expense_flags": self.elig.expense_flags.get(i, []),
            "excluded_reviews": self.excluded.get(i, []),
        }

    def results(self, lang: str = "ja") -> list[dict]:
        return [self.result(int(i), lang) for i in self.order]

    def to_dict(self, lang: str = "ja", whatif: WhatIf | None = None) -> dict:
        """The ranking as JSON. Made under a ``whatif`` that changes anything, it says so (issue 14 §2): a
        ``whatif`` entry with ``official: false``, the banner of the what-if workbook and each setting that
        differs, the pack's value and the what-if's."""
        out = {"pack": self.pack.id, "pack_version": self.pack.version,
               "parameters": self.params.as_dict(self.pack), "budget": self.budget_dict(),
               "skipped_other_packs": self.skipped_other_packs, "counts": self.counts(),
               "results": self.results(lang)}
        if whatif is not None and not whatif.is_official:
            out["whatif"] = {"official": False, "note": label("workbook.whatif.banner", lang),
                             "changes": [{"setting": k, "pack": own, "whatif": mine}
                                         for k, own, mine in whatif.changes(self.pack)]}
        return out

    # --- tables --------------------------------------------------------------------------------------------
    def display_columns(self, lang: str = "ja") -> dict[str, Any]:
        """The ranked list as columns in :attr:`order`, for a screen: scores rounded half up to 2 places
        (as shown everywhere), money as integers, rank/waitlist 0 = none, reasons "" for the selected."""
        o = self.order
        return {"rank": self.rank[o], "id": np.asarray(self.table.ids, dtype=object)[o].astype(str),
                "title": [self.table.proposals[i].title for i in o.tolist()],
                "decision": [DECISION_CODES[c] for c in self.decision[o].tolist()],
                "waitlist_position": self.waitlist_position[o],
                "base": round_half_up(self.base[o]), "bonus": round_half_up(self.bonus.total[o]),
                "total": round_half_up(self.total[o]), "funded": self.funded[o],
                "capped": self.capped[o].astype(bool), "cumulative": self.cumulative[o],
                "reasons": self.reason_texts(lang)}

    def csv_table(self, lang: str = "ja") -> tuple[list[str], list[list]]:
        """The one ranking CSV (command line and app): header and rows in :attr:`order`. Reasons and conditions
        in ``lang``; criterion columns are the mean points per criterion."""
        crit = self.pack.criterion_ids
        header = RANK_CSV_COLUMNS + [f"criterion:{c}" for c in crit] + ["reasons", "conditions"]
        sep = label("reason.separator", lang)
        rows = []
        for i in self.order.tolist():
            r = self.result(i, lang)
            reasons = r["reasons_en"] if lang == "en" else r["reasons"]
            rows.append([r[k] for k in RANK_CSV_COLUMNS] + [r["criteria"][c] for c in crit]
                        + [sep.join(reasons), sep.join(self.elig.conditions(i, lang))])
        return header, rows
