"""How far a round's reviews are, counted for the pages 担当案件 (a reviewer's own) and 進捗 (the chair's and
secretariat's matrix): pure, no Streamlit, so the pages only draw what is counted here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence

from scoring.store.times import local_tz

REVIEW_STATUSES = ("assigned", "draft", "submitted")           # a reviewer's own list (conflicts are not listed)
MATRIX_STATUSES = ("assigned", "draft", "submitted", "conflict")
OPEN_STATUSES = ("assigned", "draft")                          # still to be submitted
CELL_SYMBOLS = {"assigned": "○", "draft": "✎", "submitted": "✔", "conflict": "✖", "": ""}


def days_left(deadline: date, today: date | None = None) -> int:
    """Whole days from today (the committee's time zone, SHINSA_TZ) to the deadline; negative once past."""
    today = today or datetime.now(local_tz()).date()
    return (deadline - today).days


def status_counts(statuses: Sequence[str]) -> dict[str, int]:
    """How many of ``statuses`` are in each of :data:`REVIEW_STATUSES`."""
    return {s: sum(1 for x in statuses if x == s) for s in REVIEW_STATUSES}


def share_submitted(counts: dict[str, int]) -> float:
    """The submitted share of a reviewer's list (0 for an empty one), for the progress bar."""
    total = sum(counts.values())
    return counts["submitted"] / total if total else 0.0


def next_open(items: Sequence, proposal_id: str) -> str | None:
    """The next proposal in ``items`` (assignments in list order) after ``proposal_id``, wrapping round, that is
    neither submitted nor conflicted; None when every other one is."""
    ids = [a.proposal_id for a in items]
    k = ids.index(proposal_id) if proposal_id in ids else -1
    for a in list(items[k + 1:]) + list(items[:k + 1]):
        if a.proposal_id != proposal_id and a.status not in ("conflict", "submitted"):
            return a.proposal_id
    return None


@dataclass(frozen=True)
class Pending:
    """A reviewer with reviews still to submit in one programme of a round."""
    reviewer: str
    assigned: int                # not started
    draft: int
    proposals: tuple[str, ...]   # the open ones, in the matrix's order


def pending_reviews(matrix) -> list[Pending]:
    """Every reviewer of a :class:`~scoring.store.values.ProgressMatrix` with something still to submit."""
    out = []
    for reviewer in matrix.reviewers:
        cells = [(p, matrix.cell(reviewer, p)) for p in matrix.proposals]
        todo = tuple(p for p, v in cells if v in OPEN_STATUSES)
        if todo:
            out.append(Pending(reviewer, sum(1 for _, v in cells if v == "assigned"),
                               sum(1 for _, v in cells if v == "draft"), todo))
    return out
