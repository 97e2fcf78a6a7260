"""After the ranking: the committee's decision (採否), the awarded amounts and the departures (decisions.md §1–3).

:func:`propose` turns a final ranking (:class:`~scoring.ranking.Ranking` or
:class:`~scoring.hearing_ranking.HearingRanking`) into the proposed decisions (案); the committee's changes
(:class:`DecisionEdit`) are applied and checked by :func:`scoring.decision_rules.decide`. Both give a
:class:`Decisions`: per proposal the computed, proposed and final decision, F and A (integer yen, or 1 for a
capacity pack), conditions, reserve position, reason — and the derived views (departures, reductions, the budget,
the first reserve that fits what is left). A departure is derived, never typed.

Arrays are indexed like the ranking's :class:`~scoring.table.ProposalTable`. Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from .eligibility import CONDITIONAL
from .labels import label
from .models import Decision
from .ranking import CODE, DECISION_CODES, Ranking


class Outcome(StrEnum):
    """The committee's decision on a proposal (decisions.md §1–2)."""

    adopted = "adopted"                          # 採択
    adopted_conditional = "adopted_conditional"  # 条件付き採択
    reserve = "reserve"                          # 補欠
    not_adopted = "not_adopted"                  # 不採択


OUTCOMES = list(Outcome)
ADOPTED, CONDITIONAL_ADOPTED, RESERVE, NOT_ADOPTED = range(4)   # int codes into OUTCOMES
OUTCOME_CODE = {o.value: k for k, o in enumerate(OUTCOMES)}

DECISION_FILE_COLUMNS = ["proposal_id", "decision", "awarded_yen", "approved_cost_yen", "conditions", "reason",
                         "reserve_position"]
RESULT_KEYS = ["proposal_id", "rank", "computed_decision", "proposed_decision", "decision", "funded_yen",
               "awarded_yen", "reduced", "conditions", "reserve_position", "departure", "reason"]


def outcome_label(code: int | str | Outcome, lang: str = "ja") -> str:
    """採択 / 条件付き採択 / 補欠 / 不採択 (or the English) of an outcome code, value or member."""
    value = OUTCOMES[code].value if isinstance(code, (int, np.integer)) else str(getattr(code, "value", code))
    return label(f"outcome.{value}", lang)


def promotion_reason(lang: str = "ja") -> str:
    """The reason the tool offers for a 補欠繰上げ: 「補欠繰上げ（減額による予算残）」."""
    return label("outcome.promotion_reason", lang)


@dataclass(frozen=True)
class DecisionEdit:
    """The committee's change to one proposal (decisions.md §2, the CSV of ``decide --decisions``).

    Blank fields (None or "") keep the proposed value (see :func:`scoring.decision_rules.decide`). Money and the
    reserve position may be given as typed text (``4,000万円``, ``"2"``); they are read and checked with the
    other rules. ``row`` names where the edit came from in messages (a CSV line); ``by``/``at`` who and when."""

    proposal_id: str
    decision: str | None = None
    awarded_yen: int | str | None = None
    approved_cost_yen: int | str | None = None
    conditions: str | None = None
    reason: str | None = None
    reserve_position: int | str | None = None
    row: str | None = None
    by: str | None = None
    at: str | None = None


def adopting(codes: np.ndarray) -> np.ndarray:
    """True where an outcome code adopts (採択 or 条件付き採択)."""
    return (codes == ADOPTED) | (codes == CONDITIONAL_ADOPTED)


@dataclass
class Decisions:
    """Proposed and final decisions of one ranking; every per-proposal array is indexed like ``ranking.table``.

    ``problems`` are the broken rules of §2–3 (empty: the set can be confirmed); ``edits`` the committee's
    changes by row. ``awarded`` is A (0 unless adopted); ``funded`` is the ranking's F."""

    ranking: Ranking
    proposed: np.ndarray            # int8 outcome codes
    decision: np.ndarray            # int8 outcome codes, final
    proposed_position: np.ndarray   # int64 reserve position proposed (0 = none)
    position: np.ndarray            # int64 reserve position, final (0 = none)
    awarded: np.ndarray             # int64 A
    proposed_conditions: dict[int, str] = field(default_factory=dict)
    conditions: dict[int, str] = field(default_factory=dict)
    approved_cost: dict[int, int] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)
    edits: dict[int, DecisionEdit] = field(default_factory=dict)
    problems: list = field(default_factory=list)

    # --- derived ----------------------------------------------------------------------------------------------
    @property
    def funded(self) -> np.ndarray:
        return self.ranking.funded

    @property
    def ids(self) -> list[str]:
        return [str(x) for x in self.ranking.table.ids]

    @property
    def adopted(self) -> np.ndarray:
        return adopting(self.decision)

    @property
    def departure(self) -> np.ndarray:
        """decisions.md §2: a decision other than proposed, or an adopted proposal's A ≠ F(p)."""
        return (self.decision != self.proposed) | (self.adopted & (self.awarded != self.funded))

    @property
    def reduced(self) -> np.ndarray:
        """減額: adopted with A below F(p)."""
        return self.adopted & (self.awarded < self.funded)

    @property
    def confirmable(self) -> bool:
        return not self.problems

    @property
    def unit(self) -> str:
        return "count" if self.ranking.pack.is_capacity else "yen"

    @property
    def budget_total(self) -> int | None:
        return self.ranking.params.budget_limit(self.ranking.pack)

    @property
    def awarded_total(self) -> int:
        return int(self.awarded[self.adopted].sum())

    @property
    def remaining(self) -> int | None:
        total = self.budget_total
        return None if total is None else int(total) - self.awarded_total

    def budget_dict(self) -> dict:
        if self.unit == "count":
            return {"total_yen": None, "awarded_yen": None, "remaining_yen": None,
                    "capacity_count": self.budget_total, "awarded_count": self.awarded_total,
                    "remaining_count": self.remaining}
        return {"total_yen": self.budget_total, "awarded_yen": self.awarded_total, "remaining_yen": self.remaining}

    def reserves(self) -> np.ndarray:
        """The final reserves' rows in reserve-position order."""
        rows = np.flatnonzero(self.decision == RESERVE)
        return rows[np.argsort(self.position[rows], kind="stable")]

    def promotion_candidate(self) -> int | None:
        """decisions.md §3: the first reserve (by position) whose F fits the remaining budget, or None (also
        without a budget)."""
        rem = self.remaining
        if rem is None:
            return None
        rows = self.reserves()
        fits = rows[self.funded[rows] <= rem]
        return int(fits[0]) if len(fits) else None

    def is_promotion(self, i: int) -> bool:
        """A proposed reserve adopted (補欠繰上げ)."""
        return bool(self.proposed[i] == RESERVE and adopting(self.decision[i:i + 1])[0])

    # --- output -----------------------------------------------------------------------------------------------
    def result(self, i: int, lang: str = "ja") -> dict:
        """One proposal in the JSON shape of decisions.md "Command line" (plus documented extra fields)."""
        r = self.ranking
        prop = r.table.proposals[i]
        code = int(self.decision[i])
        total = float(r.total[i])
        base = float(r.base[i])
        return {
            "proposal_id": prop.id,
            "rank": int(r.rank[i]) or None,
            "computed_decision": DECISION_CODES[int(r.decision[i])].value,
            "proposed_decision": OUTCOMES[int(self.proposed[i])].value,
            "decision": OUTCOMES[code].value,
            "funded_yen": int(self.funded[i]),
            "awarded_yen": int(self.awarded[i]),
            "reduced": bool(self.reduced[i]),
            "conditions": self.conditions.get(i, ""),
            "reserve_position": int(self.position[i]) or None,
            "departure": bool(self.departure[i]),
            "reason": self.reasons.get(i, ""),
            # extra fields (formats.md: added freely)
            "decision_label": outcome_label(code, lang),
            "proposed_reserve_position": int(self.proposed_position[i]) or None,
            "approved_cost_yen": self.approved_cost.get(i),
            "title": prop.title,
            "applicant": prop.applicant.name,
            "base_score": None if base != base else base,
            "total_score": None if total != total else total,
        }

    def results(self, lang: str = "ja") -> list[dict]:
        """Every proposal in final-rank order, then the others (the ranking's order)."""
        return [self.result(int(i), lang) for i in self.ranking.order]

    def parameters(self) -> dict:
        r = self.ranking
        out = r.params.as_dict(r.pack)
        hp = getattr(r, "hearing_params", None)
        if hp is not None:
            out = {**out, "stage": "hearing", "hearing": hp.as_dict()}
        return out

    def to_dict(self, lang: str = "ja") -> dict:
        return {"pack": self.ranking.pack.id, "parameters": self.parameters(), "budget": self.budget_dict(),
                "skipped_other_packs": self.ranking.skipped_other_packs, "confirmable": self.confirmable,
                "results": self.results(lang)}

    def csv_table(self, lang: str = "ja") -> tuple[list[str], list[list[Any]]]:
        """The decisions as one CSV: the JSON result keys, then the labels, title, applicant and scores."""
        extra = ["decision_label", "approved_cost_yen", "title", "applicant", "base_score", "total_score"]
        header = RESULT_KEYS + extra
        return header, [[res[k] for k in header] for res in self.results(lang)]


def conditions_text(ranking: Ranking, i: int, lang: str = "ja") -> str:
    """The condition text of proposal ``i``'s conditional eligibility entries (decisions.md §1), joined; a
    conditional rule without condition text contributes its reason."""
    sep = label("reason.separator", lang)
    texts = ranking.elig.conditions(i, lang)
    if not texts:
        status = ranking.elig.status
        texts = [ranking.elig.reason(i, k, lang) for k in range(status.shape[1]) if status[i, k] == CONDITIONAL]
    return sep.join(texts)


def propose(ranking: Ranking) -> Decisions:
    """decisions.md §1, vectorised: ``selected`` → adopted (conditional when an eligibility entry is
    conditional, the condition text carried), ``waitlisted`` → reserve at the same position, everything else
    (``ranked`` without a budget included) → not adopted; A = F for the adopted, 0 otherwise."""
    dec = ranking.decision
    n = len(dec)
    selected = dec == CODE[Decision.selected]
    waitlisted = dec == CODE[Decision.waitlisted]
    status = ranking.elig.status
    cond = (status == CONDITIONAL).any(axis=1) if status.size else np.zeros(n, bool)
    proposed = np.full(n, NOT_ADOPTED, np.int8)
    proposed[selected] = ADOPTED
    proposed[selected & cond] = CONDITIONAL_ADOPTED
    proposed[waitlisted] = RESERVE
    position = np.where(waitlisted, ranking.waitlist_position, 0).astype(np.int64)
    awarded = np.where(selected, ranking.funded, 0).astype(np.int64)
    conditions = {int(i): conditions_text(ranking, int(i)) for i in np.flatnonzero(selected & cond)}
    return Decisions(ranking, proposed, proposed.copy(), position, position.copy(), awarded,
                     proposed_conditions=conditions, conditions=dict(conditions))


__all__ = ["Outcome", "OUTCOMES", "OUTCOME_CODE", "ADOPTED", "CONDITIONAL_ADOPTED", "RESERVE", "NOT_ADOPTED",
           "DecisionEdit", "Decisions", "propose", "adopting", "outcome_label", "promotion_reason",
           "conditions_text", "DECISION_FILE_COLUMNS", "RESULT_KEYS"]
