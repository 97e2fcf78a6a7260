"""Beyond the funding line (selection.md §10): optimal portfolio, rank uncertainty, reviewer calibration,
sensitivity. Everything here is reported beside the official decision and never changes it.

Pure numpy/scipy: no Streamlit, database or spreadsheet import. Every function takes the official
:class:`~scoring.selection.Ranking` and the :class:`~scoring.table.ReviewTable` it was ranked from (a
:class:`~scoring.call.Call` also works for :func:`analyze`) and returns plain JSON-serialisable dicts.
Definitions and how to read the figures: ``docs/analytics.md``.

Modules: :mod:`.portfolio` (exact knapsack beside the greedy line), :mod:`.bootstrap` and
:mod:`.bootstrap_layout` (the vectorised bootstrap engine), :mod:`.uncertainty` (rank intervals, gray zone),
:mod:`.agreement` (ICC, Kendall's W, balanced block), :mod:`.reviewer_calibration` (leniency, disagreement),
:mod:`.sensitivity_analysis` (scaled points, other aggregations), :mod:`.variance_components` (crossed REML
fit, ICCs of incomplete designs), :mod:`.leniency_adjusted` (the ranking with reviewer effects removed),
:mod:`.common` (shared helpers, defaults).
The readings' words are in ``scoring/vocabulary/analytics.yaml``.
"""

from __future__ import annotations

from typing import Any, Collection

from ..selection import Ranking
from ..table import ReviewTable
from .agreement import all_reviews_agreement, balanced_subset, icc_k, kendall_w, krippendorff_alpha
from .bootstrap import BootstrapEngine
from .bootstrap_layout import threads_default
from .common import DEFAULT_LENIENCY_THRESHOLD, DEFAULT_RESAMPLES, GRAY_LEVEL
from .leniency_adjusted import leniency_adjusted
from .portfolio import knapsack, optimal_portfolio
from .reviewer_calibration import calibration
from .sensitivity_analysis import scaled_pack, sensitivity
from .uncertainty import bootstrap_ranks
from .variance_components import crossed_reml


def analyze(source: Any, reviews: ReviewTable | None = None, *, reviewers: list | None = None, params=None,
            resolutions: dict | None = None, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
            leniency_threshold: float = DEFAULT_LENIENCY_THRESHOLD, portfolio_time_limit: float | None = 60.0,
            exclude: Collection[str] | None = None, level: float = GRAY_LEVEL,
            sensitivity_pass_line: str = "scaled") -> dict:
    """All analyses of one pack's round as one JSON-serialisable dict.

    ``source`` is a :class:`~scoring.call.Call` (ranked here with ``params``/``resolutions``) or an official
    :class:`~scoring.selection.Ranking` (then ``reviews`` is the ReviewTable it was ranked from).
    ``exclude``: proposals whose individual reviews the reader may not see (conflicts of interest; default a
    Call's ``withheld``): the reviewer calibration leaves their reviews out; the other analyses are per-proposal
    aggregates and keep them. ``level``: the rank interval of the gray zone (0.5, 0.8 or 0.95);
    ``sensitivity_pass_line``: ``scaled`` (the pass line follows the total when points are scaled, default) or
    ``raw``.
    """
    if isinstance(source, Ranking):
        if reviews is None:
            raise ValueError("analyze(ranking, reviews): the ReviewTable the ranking was ranked from is needed")
        ranking = source
    else:  # a Call
        ranking = source.rank(params, resolutions)
        reviews = source.reviews if reviews is None else reviews
        reviewers = source.reviewers if reviewers is None else reviewers
        exclude = getattr(source, "withheld", ()) if exclude is None else exclude
    return {
        "pack": ranking.pack.id, "pack_version": ranking.pack.version,
        "parameters": ranking.params.as_dict(ranking.pack), "budget": ranking.budget_dict(),
        "counts": ranking.counts(),
        "portfolio": optimal_portfolio(ranking, portfolio_time_limit),
        "uncertainty": bootstrap_ranks(ranking, reviews, n_resamples, seed, level=level),
        "calibration": calibration(ranking, reviews, reviewers, leniency_threshold, exclude or ()),
        "leniency_adjusted": leniency_adjusted(ranking, reviews, exclude or ()),
        "sensitivity": sensitivity(ranking, reviews, pass_line=sensitivity_pass_line),
    }


__all__ = ["analyze", "optimal_portfolio", "bootstrap_ranks", "calibration", "sensitivity", "knapsack", "icc_k",
           "kendall_w", "balanced_subset", "scaled_pack", "BootstrapEngine", "threads_default", "leniency_adjusted",
           "all_reviews_agreement", "krippendorff_alpha", "crossed_reml"]
