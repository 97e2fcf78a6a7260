"""What every analysis shares: decision codes and masks, the score scale, defaults, JSON-safe floats, the check
that a ReviewTable is the one a ranking was ranked from, and the joining words of the readings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..labels import label
from ..models import Decision
from ..packs import CriteriaPack
from ..selection import DECIMALS, Ranking
from ..table import ReviewTable

DECISION_CODE = {d: i for i, d in enumerate(Decision)}   # Decision → its code in Ranking.decision
DECISIONS = list(Decision)                              # code → Decision
QUALIFYING_CODES = np.array([DECISION_CODE[d] for d in (Decision.selected, Decision.waitlisted,
                                                        Decision.over_budget, Decision.ranked)])
SCALE = 10 ** DECIMALS                 # scores compared as integers of 1e-6 points (selection.md §8)
DEFAULT_RESAMPLES = 1000
DEFAULT_LENIENCY_THRESHOLD = 10.0      # points of the pack's total
AGREEMENT_RESAMPLES = 200              # bootstrap draws of proposals for the agreement intervals
SENSITIVITY_FACTORS = (0.8, 1.2)
INTERVALS = {"50": 0.50, "80": 0.80, "95": 0.95}   # rank intervals reported (docs/analytics.md §2)
GRAY_LEVEL = 0.95                      # default interval level of the gray zone (selection.md §10)
STABILITY_Z = 3.0                      # a membership is stable when 3 Monte Carlo SE from its threshold


def json_float(x: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf/None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def qualifying_mask(ranking: Ranking) -> np.ndarray:
    """Per proposal: qualifying (selected, waitlisted, over budget or ranked)."""
    return np.isin(ranking.decision, QUALIFYING_CODES)


def selected_mask(ranking: Ranking) -> np.ndarray:
    """Per proposal: selected by the official ranking."""
    return ranking.decision == DECISION_CODE[Decision.selected]


def budget_unit(pack: CriteriaPack) -> str:
    """What the budget counts: ``count`` (a capacity pack) or ``yen``."""
    return "count" if pack.is_capacity else "yen"


def check_reviews(ranking: Ranking, reviews: ReviewTable) -> None:
    """ValueError unless ``reviews`` has the rows the ranking was computed from."""
    if reviews.n != len(ranking.agg.counted):
        raise ValueError(f"reviews has {reviews.n} rows but the ranking was computed from "
                         f"{len(ranking.agg.counted)}: pass the ReviewTable the ranking was ranked from")


def _joiner(key: str, lang: str) -> str:
    return label(key, lang, a="", b="")  # the entry is "{a}<separator>{b}"


def join_list(items: list[str], lang: str) -> str:
    """Ids as one list in ``lang`` (``analytics.join.list``: 「、」 or ", ")."""
    return _joiner("analytics.join.list", lang).join(items)


def join_sentences(parts: list[str], lang: str) -> str:
    """Sentences of one reading in ``lang`` (``analytics.join.sentences``: run on in ja, a space in en)."""
    return _joiner("analytics.join.sentences", lang).join(parts)
