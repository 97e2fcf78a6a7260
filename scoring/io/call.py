"""A call from files: the pack, proposals, reviewers and reviews read and validated, every problem at once.

Each input is a source of :mod:`scoring.io.sources` (a path, bytes or a binary file object); the pack may also
be a shipped pack id. The call itself is the core's (:func:`scoring.call.assemble`).
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from ..call import Call, assemble
from ..errors import ProblemCollector
from ..models import Proposal, Reviewer
from ..packs import CriteriaPack
from .packs import load_pack
from .sources import Source, source_name
from .tables import read_proposals, read_reviewers, read_reviews


class Inputs(NamedTuple):
    """The inputs of a call as read (``None`` where a file was not given)."""

    pack: CriteriaPack
    proposals: list[Proposal]
    reviewers: list[Reviewer] | None
    reviews: pd.DataFrame | None


def read_inputs(pack: Source, proposals: Source, reviews: Source | None = None, reviewers: Source | None = None,
                *, names: dict[str, str] | None = None) -> Inputs:
    """Read every given file; all problems of all files are raised together (:class:`InputError`).

    ``names`` gives message names for content sources: ``{"pack": …, "proposals": …, "reviews": …,
    "reviewers": …}`` (paths are named by themselves).
    """
    names = names or {}
    found = ProblemCollector()
    the_pack = found.run(load_pack, pack, name=names.get("pack"))
    props = found.run(read_proposals, proposals, name=names.get("proposals"))
    rvrs = found.run(read_reviewers, reviewers, name=names.get("reviewers")) if reviewers is not None else None
    revs = found.run(read_reviews, reviews, name=names.get("reviews")) if reviews is not None else None
    found.raise_if_any()
    return Inputs(the_pack, props, rvrs, revs)


def load_call(pack: Source, proposals: Source, reviews: Source | None = None, reviewers: Source | None = None,
              *, names: dict[str, str] | None = None) -> Call:
    """Read and validate every input; all problems of all files are raised together."""
    inputs = read_inputs(pack, proposals, reviews, reviewers, names=names)
    shown = source_name(reviews, (names or {}).get("reviews"), "(reviews)") if reviews is not None else "reviews"
    return assemble(inputs.pack, inputs.proposals, inputs.reviews, inputs.reviewers, shown,
                    proposals_source=source_name(proposals, (names or {}).get("proposals"), "(proposals)"))


__all__ = ["Inputs", "read_inputs", "load_call"]
