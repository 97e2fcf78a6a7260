"""A call (公募) for one pack, assembled from validated inputs: the one shape every adapter ranks.

The file adapter builds it from files (:func:`scoring.io.call.load_call`), the store from its tables; both
then rank it (:meth:`Call.rank` → :func:`scoring.selection.rank`). Nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from .models import Proposal, Reviewer
from .packs import CriteriaPack
from .params import Params, WhatIf
from .reviews import build_review_table, split_by_pack
from .selection import Ranking, ReasonMemo, rank
from .stages import HearingParams, HearingRanking, ShortlistEdit, rank_hearing
from .table import ProposalTable, ReviewTable


@dataclass
class Call:
    """One pack's proposals (and their columnar table), the validated reviews and the reviewers, if given.

    ``withheld``: the proposals whose individual reviews (levels, comments, bonus marks per reviewer) the reader
    of this call may not see because of their conflicts of interest (the store sets it for the acting user and
    leaves those proposals' comments out). Ranking still uses every review — the aggregate figures are the
    committee's — but every reader that shows individual reviews (the chair workbook's 委員別/所見 sheets,
    reviewer calibration, the proposal page) leaves these proposals out (docs/security/coi.md)."""

    pack: CriteriaPack
    proposals: list[Proposal]
    table: ProposalTable
    reviews: ReviewTable
    reviewers: list[Reviewer] | None
    skipped_other_packs: int = 0
    withheld: frozenset[str] = frozenset()   # proposals whose individual reviews the reader may not see (COI)
    reason_memo: ReasonMemo = field(default_factory=ReasonMemo, repr=False, compare=False)

    def rank(self, params: Params | WhatIf | None = None, resolutions: dict | None = None) -> Ranking:
        """Rank the call with ``params`` (or a :class:`~scoring.params.WhatIf` on the pack; None = the pack's
        own). Rankings of one call share their budget-free reason texts."""
        if isinstance(params, WhatIf):
            params = params.params(self.pack)
        return rank(self.pack, self.table, self.reviews, self.reviewers, params, resolutions,
                    self.skipped_other_packs, self.reason_memo)

    def rank_hearing(self, params: Params | WhatIf | None = None, edits: Sequence[ShortlistEdit] = (),
                     hearing: HearingParams | None = None, resolutions: dict | None = None, *,
                     edits_source: str = "shortlist", strict: bool = True, lenient_edits: bool = False
                     ) -> HearingRanking:
        """Both stages (stages.md, :func:`scoring.stages.rank_hearing`): the document stage with ``params``, the
        shortlist of the ``hearing`` parameters (None = the pack's) with the chair's ``edits``, the hearing
        reviews (``self.reviews.hearing``), the final ranking and budget line."""
        if isinstance(params, WhatIf):
            params = params.params(self.pack)
        return rank_hearing(self.pack, self.table, self.reviews, self.reviewers, params, hearing, edits,
                            resolutions, edits_source=edits_source, skipped_other_packs=self.skipped_other_packs,
                            strict=strict, lenient_edits=lenient_edits)


def assemble(pack: CriteriaPack, proposals: Sequence[Proposal], reviews: pd.DataFrame | None,
             reviewers: list[Reviewer] | None, reviews_source: str = "reviews", *,
             proposals_source: str = "(proposals)", known_packs: Iterable[str] = ()) -> Call:
    """The call of ``pack``: its proposals (those of other known packs are counted as skipped) and the reviews
    validated against it.

    ``reviews`` is the long table of :func:`scoring.reviews.build_review_table` (``None``: no reviews yet);
    its problems name ``reviews_source``. A proposal of an unknown pack (not shipped, not ``pack``, not in
    ``known_packs``) is an :class:`~scoring.errors.InputError` naming ``proposals_source:[i]:pack``
    (:func:`scoring.reviews.split_by_pack`).
    """
    mine, skipped = split_by_pack(proposals, pack, known_packs, proposals_source)
    table = ProposalTable.from_proposals(mine)
    if reviews is None:
        rt = ReviewTable.empty(len(pack.criteria), len(pack.judged_bonuses))
    else:
        rt = build_review_table(reviews, pack, table, {p.id for p in proposals}, reviews_source, reviewers)
    return Call(pack, mine, table, rt, reviewers, skipped)
