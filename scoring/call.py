"""A call (公募) for one pack, assembled from validated inputs: the one shape every adapter ranks.

The CLI builds it from files, the store from its tables; both then call :func:`scoring.selection.rank`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from .errors import InputError
from .io import build_review_table, read_proposals, read_reviewers, read_reviews, split_by_pack
from .models import Proposal, Reviewer
from .packs import CriteriaPack, load_pack
from .params import Params, WhatIf
from .selection import Ranking, ReasonMemo, rank
from .table import ProposalTable, ReviewTable


@dataclass
class Call:
    pack: CriteriaPack
    proposals: list[Proposal]
    table: ProposalTable
    reviews: ReviewTable
    reviewers: list[Reviewer] | None
    skipped_other_packs: int = 0
    reason_memo: ReasonMemo = field(default_factory=ReasonMemo, repr=False, compare=False)

    def rank(self, params: Params | WhatIf | None = None, resolutions: dict | None = None) -> Ranking:
        """Rank the call with ``params`` (or a :class:`~scoring.params.WhatIf` on the pack; None = the pack's
        own). Rankings of one call share their budget-free reason texts."""
        if isinstance(params, WhatIf):
            params = params.params(self.pack)
        return rank(self.pack, self.table, self.reviews, self.reviewers, params, resolutions,
                    self.skipped_other_packs, self.reason_memo)


def assemble(pack: CriteriaPack, proposals: Sequence[Proposal], reviews: pd.DataFrame | None,
             reviewers: list[Reviewer] | None, reviews_source: str = "reviews") -> Call:
    mine, skipped = split_by_pack(proposals, pack)
    table = ProposalTable.from_proposals(mine)
    if reviews is None:
        rt = ReviewTable.empty(len(pack.criteria), len(pack.judged_bonuses))
    else:
        rt = build_review_table(reviews, pack, table, {p.id for p in proposals}, reviews_source, reviewers)
    return Call(pack, mine, table, rt, reviewers, skipped)


def load_call(pack: str | Path, proposals: str | Path, reviews: str | Path | None = None,
              reviewers: str | Path | None = None) -> Call:
    """Read and validate every input; all problems of all files are raised together."""
    problems = []
    the_pack = props = revs = rvrs = None
    for step in ("pack", "proposals", "reviewers", "reviews"):
        try:
            if step == "pack":
                the_pack = load_pack(pack)
            elif step == "proposals":
                props = read_proposals(proposals)
            elif step == "reviewers" and reviewers is not None:
                rvrs = read_reviewers(reviewers)
            elif step == "reviews" and reviews is not None:
                revs = read_reviews(reviews)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return assemble(the_pack, props, revs, rvrs, str(reviews))
