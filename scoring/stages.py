"""Two stages, 書面審査 → ヒアリング審査 (stages.md): shortlist → hearing scores → final score → final ranking.

:func:`rank_hearing` is the one entry point (the command line's ``rank --stage hearing``, the store and the app
call it, the latter through :meth:`scoring.call.Call.rank_hearing`): a pure function of the call (pack, proposal
table, reviews — the hearing reviews are ``reviews.hearing`` —, reviewers), the run's parameters, the hearing
parameters and the chair's shortlist edits. It returns a :class:`~scoring.hearing_ranking.HearingRanking`.
Without a ``hearing`` section in the pack there is nothing here to call: :func:`scoring.selection.rank` alone.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .aggregate import Aggregate, aggregate_scores
from .errors import InputError, Problem
from .hearing_ranking import (EDIT_ACTIONS, HearingParams, HearingRanking, ShortlistEdit, exact_multiple,
                              final_order_keys)
from .models import Decision, Reviewer
from .packs import CriteriaPack
from .params import Params
from .ranking import CODE, Ranking, r6
from .selection import budget_line, rank, requested_key
from .table import ProposalTable, ReviewTable

__all__ = ["rank_hearing", "shortlist_cut", "apply_edits", "hearing_scores", "HearingParams", "HearingRanking",
           "ShortlistEdit", "exact_multiple", "shortlist_problem", "sort_edits", "edit_refusals",
           "EDIT_REFUSALS"]


def shortlist_problem(pack: CriteriaPack, message: str, field: str = "shortlist.method") -> InputError:
    return InputError([Problem(pack.source or pack.id, None, field, message)])


def shortlist_cut(document: Ranking, hearing: HearingParams, limit: int | None) -> np.ndarray:
    """stages.md §2, the method's cut of the document stage's ranked (qualifying) proposals — a bool mask.

    - ``top_n``: the first n, and every proposal tied with the n-th on S_d (rounded to 6 places);
    - ``budget_multiple``: in rank order while the cumulative funded amount stays ≤ M × budget, and the first
      one that would exceed it (also when the cumulative equals M × budget exactly); exact integer arithmetic;
    - ``line``: the proposals the document stage's budget line marks ``selected`` or ``waitlisted``.
    ``limit`` is the budget (yen, or the capacity count); ``budget_multiple`` and ``line`` refuse to cut without.
    """
    n = document.table.n
    mask = np.zeros(n, bool)
    ranked = document.order[document.rank[document.order] > 0]
    method = hearing.shortlist_method
    if method in ("budget_multiple", "line") and limit is None:
        raise shortlist_problem(document.pack, f"shortlist method {method} needs a budget: the pack has none and "
                                               "none was given (--budget)")
    if not len(ranked):
        return mask
    if method == "top_n":
        k = min(int(hearing.n), len(ranked))
        s6 = r6(document.total[ranked])
        take = (np.arange(len(ranked)) < k) | (s6 == s6[k - 1])
        mask[ranked[take]] = True
    elif method == "budget_multiple":
        m = exact_multiple(hearing.multiple)
        cap = (m.numerator * int(limit)) // m.denominator     # F (an integer) ≤ M × budget ⇔ F ≤ ⌊M × budget⌋
        f = document.funded[ranked].astype(np.int64)
        before = np.cumsum(f) - f                              # cumulative before each proposal
        mask[ranked[before <= cap]] = True                     # … so the first to exceed is in too
    else:
        d = document.decision[ranked]
        mask[ranked[(d == CODE[Decision.selected]) | (d == CODE[Decision.waitlisted])]] = True
    return mask


EDIT_REFUSALS = ("unknown_action", "no_reason", "unknown_proposal", "not_qualifying", "already_shortlisted",
                 "not_shortlisted")


def edit_refusals(document: Ranking, short: np.ndarray, index: dict, e: ShortlistEdit) -> tuple[int | None, list[str]]:
    """Why one chair's edit does not apply to the shortlist ``short`` (stages.md §2), as codes of
    :data:`EDIT_REFUSALS` (empty: it applies), and the proposal's row (None when unknown)."""
    codes = []
    if e.action not in EDIT_ACTIONS:
        codes.append("unknown_action")
    if not str(e.reason or "").strip():
        codes.append("no_reason")
    i = index.get(str(e.proposal_id or ""))
    if i is None:
        return None, codes + ["unknown_proposal"]
    if codes:
        return i, codes
    if e.action == "add":
        if document.rank[i] == 0:
            codes.append("not_qualifying")
        elif short[i]:
            codes.append("already_shortlisted")
    elif not short[i]:
        codes.append("not_shortlisted")
    return i, codes


def sort_edits(document: Ranking, cut: np.ndarray, edits: Iterable[ShortlistEdit]
               ) -> tuple[np.ndarray, dict[int, ShortlistEdit], list[tuple[ShortlistEdit, int | None, list[str]]]]:
    """The chair's edits applied in order to the method's cut, leaving out those that do not apply: the
    shortlist, per row the edit that last changed it, and each refused edit with its row and refusal codes
    (:func:`edit_refusals`). A what-if of the method shows which stored edits no longer fit this way;
    :func:`apply_edits` refuses them."""
    short = cut.copy()
    by_row: dict[int, ShortlistEdit] = {}
    refused = []
    index = document.table.index_of()
    for e in edits:
        i, codes = edit_refusals(document, short, index, e)
        if codes:
            refused.append((e, i, codes))
            continue
        short[i] = e.action == "add"
        by_row[i] = e
    return short, by_row, refused


def apply_edits(document: Ranking, cut: np.ndarray, edits: Iterable[ShortlistEdit],
                source: str = "shortlist") -> tuple[np.ndarray, dict[int, ShortlistEdit]]:
    """The chair's additions and removals applied in order to the method's cut (stages.md §2).

    Refused, every problem at once as ``source:row:field``: an unknown action, a row without reason, an unknown
    proposal, adding a proposal that does not qualify at the document stage (never shortlisted) or one already
    shortlisted, removing one that is not shortlisted. Returns the shortlist and, per row, the edit that last
    changed it."""
    short, by_row, refused = sort_edits(document, cut, edits)
    problems: list[Problem] = []
    for e, i, codes in refused:
        pid = str(e.proposal_id or "")
        for code in codes:
            field, message = {
                "unknown_action": ("action", f"{str(e.action)[:80]!r} is not one of {list(EDIT_ACTIONS)}"),
                "no_reason": ("reason", "a shortlist change needs a reason"),
                "unknown_proposal": ("proposal_id", f"{pid[:80]!r} is not a proposal of pack {document.pack.id}"),
                "already_shortlisted": ("proposal_id", f"{pid[:80]!r} is already shortlisted"),
                "not_shortlisted": ("proposal_id", f"{pid[:80]!r} is not shortlisted: it cannot be removed"),
            }.get(code) or ("proposal_id", f"{pid[:80]!r} does not qualify at the document stage "
                                           f"({list(Decision)[int(document.decision[i])].value}): "
                                           "a non-qualifying proposal can never be shortlisted")
            problems.append(Problem(source, e.row, field, message))
    if problems:
        raise InputError(problems)
    return short, by_row


def hearing_pack(pack: CriteriaPack) -> CriteriaPack:
    """The pack seen by the hearing stage: the hearing criteria on the pack's scale, no bonus."""
    return pack.model_copy(update={"criteria": list(pack.hearing.criteria), "bonuses": []})


def hearing_scores(pack: CriteriaPack, table: ProposalTable, hearing_reviews: ReviewTable,
                   reviewers: list[Reviewer] | None, params: Params) -> Aggregate:
    """stages.md §3: T_h(r,p) over the hearing criteria, counted as selection.md §2, normalised and aggregated
    with the run's policy over the hearing reviews alone (those of shortlisted proposals)."""
    return aggregate_scores(hearing_pack(pack), table, hearing_reviews, reviewers, params.aggregation,
                            params.normalization, params.trim_min_reviews)


def unlisted_reviews(hearing_reviews: ReviewTable, shortlisted: np.ndarray, table: ProposalTable) -> list[Problem]:
    """A hearing review of a proposal that is not shortlisted is invalid input (stages.md §3)."""
    bad = ~shortlisted[hearing_reviews.prop] if hearing_reviews.n else np.zeros(0, bool)
    out = []
    for j in np.nonzero(bad)[0]:
        row = None if hearing_reviews.line is None else str(hearing_reviews.line[j])
        pid = str(table.ids[hearing_reviews.prop[j]])
        out.append(Problem(hearing_reviews.source or "reviews", row, "proposal_id",
                           f"hearing review by {str(hearing_reviews.reviewer[j])[:40]!r} of {pid[:40]!r}: the "
                           "proposal is not shortlisted"))
    return out


def rank_hearing(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable,
                 reviewers: list[Reviewer] | None = None, params: Params | None = None,
                 hearing: HearingParams | None = None, edits: Iterable[ShortlistEdit] = (),
                 resolutions: dict | None = None, *, edits_source: str = "shortlist", skipped_other_packs: int = 0,
                 strict: bool = True, lenient_edits: bool = False) -> HearingRanking:
    """Both stages exactly as stages.md says.

    ``params`` are the run's (aggregation and normalisation apply to both stages; the budget, selection method
    and waitlist to the final line); ``hearing`` the hearing parameters (None: the pack's); ``edits`` the chair's
    shortlist changes in order (problems name ``edits_source``). A hearing review of a proposal that ends up
    not shortlisted is refused (:class:`InputError`) — with ``strict=False`` it is left out instead (a what-if
    of the method over reviews already given). With ``lenient_edits`` an edit that does not apply to this cut
    is left out instead of refused and named in ``refused_edits`` (the app's what-if of the method over the
    stored edits).
    """
    if pack.hearing is None:
        raise shortlist_problem(pack, f"pack {pack.id} has no hearing stage: rank the document stage alone",
                                field="hearing")
    params = params or Params.from_pack(pack)
    hp = hearing or HearingParams.from_pack(pack)
    n = table.n
    limit = params.budget_limit(pack)
    document = rank(pack, table, reviews, reviewers, params, resolutions, skipped_other_packs)
    cut = shortlist_cut(document, hp, limit)
    if lenient_edits:
        shortlisted, edited, refused = sort_edits(document, cut, edits)
    else:
        (shortlisted, edited), refused = apply_edits(document, cut, edits, edits_source), []

    hrev = reviews.hearing
    if hrev is None:
        hrev = ReviewTable.empty(len(pack.hearing.criteria), 0)
    unlisted = unlisted_reviews(hrev, shortlisted, table)
    if unlisted and strict:
        raise InputError(unlisted)
    if unlisted:
        hrev = hrev.subset(shortlisted[hrev.prop])
    hagg = hearing_scores(pack, table, hrev, reviewers, params)

    # §4 final score and qualifying
    bonus = document.bonus.total
    b_d, b_h = document.base, hagg.base
    if hp.combine == "hearing_only":
        final = b_h + bonus
    else:
        final = hp.document_weight * b_d + hp.hearing_weight * b_h + bonus
    total = np.where(shortlisted, final, document.total)
    decision = document.decision.copy()
    decision[(document.rank > 0) & ~shortlisted] = CODE[Decision.not_shortlisted]
    decision[shortlisted] = CODE[Decision.ranked]
    if hp.pass_line is not None:
        below = shortlisted & (r6(np.nan_to_num(b_h, nan=-np.inf)) < r6(hp.pass_line))
        decision[below] = CODE[Decision.below_pass_line]
    decision[shortlisted & (hagg.n_reviews < hp.min_reviews)] = CODE[Decision.insufficient_reviews]
    qualifying = np.nonzero(decision == CODE[Decision.ranked])[0]

    # §5 final ranking and budget line
    ranked = final_order_keys(qualifying, total, b_h, b_d, hagg.crit_ratio, requested_key(table, document.funded),
                              table.id_rank())
    rank_no = np.zeros(n, np.int64)
    rank_no[ranked] = np.arange(1, len(ranked) + 1)
    waitlist_pos, cumulative, remaining_at, used = budget_line(ranked, document.funded, limit, params, decision)
    by_id = table.id_order()
    order = np.concatenate([ranked, by_id[rank_no[by_id] == 0]]).astype(np.int64)

    excluded: dict[int, list] = {}
    for j in np.nonzero(hagg.conflicted)[0]:
        excluded.setdefault(int(hrev.prop[j]), []).append(
            {"reviewer_id": str(hrev.reviewer[j]), "reason": "conflict_of_interest"})
    return HearingRanking(
        pack, params, table, document.agg, document.bonus, document.elig, decision, rank_no, waitlist_pos,
        document.funded, document.capped, document.cap, cumulative, order, remaining_at, reviews,
        skipped_other_packs, used, document.excluded, document=document, hearing_params=hp,
        hearing_criteria=list(pack.hearing.criteria), cut=cut, shortlisted=shortlisted, edits=edited,
        hearing_agg=hagg, final_total=total, hearing_excluded=excluded,
        refused_edits=[(e, codes) for e, _, codes in refused])
