"""What a notice to an applicant says (decisions.md §5), as values — the pure side of notices.

:class:`NoticeFields` (with its optional :class:`Feedback`) is everything one notice needs; :func:`placeholders`
is the template context (exactly :data:`PLACEHOLDERS`), the adapter :mod:`scoring.io.notices` fills a .docx with
it. :func:`notice_fields` builds the fields of every proposal from :class:`~scoring.decisions.Decisions`;
:func:`bands` and :func:`feedback` compute the feedback (band A/B/C/D, per-criterion standing against the
adopted proposals, the reviewers' comments written for the applicant — never the internal ``comment``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

import numpy as np

from .decisions import NOT_ADOPTED, OUTCOMES, RESERVE, Decisions, outcome_label
from .models import Decision
from .money import format_man_oku, format_score, format_yen
from .ranking import CODE, DECIMALS, Ranking


@dataclass(frozen=True)
class CriterionStanding:
    criterion_id: str
    label_ja: str
    label_en: str
    ratio: float                 # the proposal's mean ratio on the criterion (NaN: no counted review)
    adopted_mean: float | None   # the mean of that ratio over the adopted proposals (None: none adopted)


@dataclass(frozen=True)
class Feedback:
    base_score: float
    pass_line: float | None
    band: str                    # A / B / C / D
    criteria: tuple[CriterionStanding, ...]
    applicant_comments: tuple[str, ...]   # anonymised; never the internal `comment`


@dataclass(frozen=True)
class NoticeFields:
    proposal_id: str
    title: str
    applicant_name: str
    programme_name: str
    round_name: str
    decision_code: str           # adopted | adopted_conditional | reserve | not_adopted
    decision_label: str          # 採択 | 条件付き採択 | 補欠 | 不採択 (ja)
    awarded_yen: int
    conditions: str
    reserve_position: int | None
    notice_date: date
    sender: str
    feedback: Feedback | None    # None unless feedback is on and the decision is reserve / not_adopted


PLACEHOLDERS: frozenset[str] = frozenset({
    "applicant_name", "proposal_id", "title", "programme_name", "round_name", "decision", "decision_code",
    "awarded_yen", "awarded_man", "conditions", "reserve_position", "notice_date", "sender", "feedback",
    "base_score", "pass_line", "band", "criteria", "applicant_comments"})


def japanese_date(d: date) -> str:
    """``2026年11月29日``."""
    return f"{d.year}年{d.month}月{d.day}日"


def _score(x: float | None) -> str:
    return "—" if x is None or x != x else format_score(x)


def placeholders(f: NoticeFields) -> dict[str, object]:
    """The template context of one notice: keys exactly :data:`PLACEHOLDERS`. Money as ``40,000,000円`` and
    ``4,000万円``, the date as ``2026年11月29日``, scores with 2 decimals; a missing reserve position or
    feedback score is ``—`` and an absent reserve position ``""`` (a template never shows ``None``)."""
    fb = f.feedback
    return {
        "applicant_name": f.applicant_name, "proposal_id": f.proposal_id, "title": f.title,
        "programme_name": f.programme_name, "round_name": f.round_name,
        "decision": f.decision_label, "decision_code": f.decision_code,
        "awarded_yen": format_yen(f.awarded_yen), "awarded_man": format_man_oku(f.awarded_yen),
        "conditions": f.conditions,
        "reserve_position": "" if f.reserve_position is None else f.reserve_position,
        "notice_date": japanese_date(f.notice_date), "sender": f.sender,
        "feedback": fb is not None,
        "base_score": _score(fb.base_score) if fb else "",
        "pass_line": _score(fb.pass_line) if fb else "",
        "band": fb.band if fb else "",
        "criteria": [{"label": c.label_ja, "ratio": _score(c.ratio), "adopted_mean": _score(c.adopted_mean)}
                     for c in fb.criteria] if fb else [],
        "applicant_comments": list(fb.applicant_comments) if fb else [],
    }


# --- feedback -------------------------------------------------------------------------------------------------

def qualifying_order(ranking: Ranking) -> np.ndarray:
    """The proposals the bands divide, best first: the finally ranked ones in rank order; for a two-stage run
    (stages.md) the proposals that qualified at the document stage but were not shortlisted follow, in document
    rank order (they qualified, below every finalist)."""
    ranked = ranking.order[ranking.rank[ranking.order] > 0]
    doc = getattr(ranking, "document", None)
    if doc is None:
        return ranked
    later = doc.order[(doc.rank[doc.order] > 0) & (ranking.decision[doc.order] == CODE[Decision.not_shortlisted])]
    return np.concatenate([ranked, later]).astype(np.int64)


def bands(ranking: Ranking) -> np.ndarray:
    """decisions.md §5, per proposal: ``A``/``B``/``C`` = the top/middle/bottom third of the qualifying
    proposals (:func:`qualifying_order`; position p of n is A when 3(p−1) < n, B when 3(p−1) < 2n, else C), a
    proposal tied with a better one on the total score (6 places) in the better one's band; ``D`` = did not
    qualify."""
    out = np.full(ranking.table.n, "D", dtype=object)
    rows = qualifying_order(ranking)
    n = len(rows)
    if not n:
        return out
    p3 = 3 * np.arange(n)
    band = np.where(p3 < n, "A", np.where(p3 < 2 * n, "B", "C")).astype(object)
    total = np.round(np.asarray(ranking.total, dtype=float)[rows], DECIMALS)
    new_run = np.ones(n, bool)
    new_run[1:] = total[1:] != total[:-1]
    start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    out[rows] = band[start]
    return out


def applicant_comments(ranking: Ranking, i: int) -> tuple[str, ...]:
    """The comments written for the applicant of proposal ``i`` by reviewers whose review counted (submitted,
    not conflicted), anonymised: texts only, each reviewer's repeats once, ordered by text."""
    reviews = ranking.reviews
    if reviews is None or not reviews.applicant_comments:
        return ()
    pid = str(ranking.table.ids[i])
    counted = set()
    for table, agg in ((reviews, ranking.agg), (reviews.hearing, getattr(ranking, "hearing_agg", None))):
        if table is None or agg is None:
            continue
        mine = np.flatnonzero((table.prop == i) & agg.counted)
        counted.update(str(table.reviewer[j]) for j in mine.tolist())
    texts: set[str] = set()
    for rid in counted:
        texts.update(t for t in reviews.applicant_comments.get((rid, pid), {}).values() if t)
    return tuple(sorted(texts))


def feedback(decisions: Decisions, i: int, band_of: np.ndarray | None = None) -> Feedback:
    """The feedback of proposal ``i`` (decisions.md §5): base score vs the pass line, per criterion its mean
    ratio vs the mean over the adopted proposals, its band, the applicant comments."""
    r = decisions.ranking
    band_of = bands(r) if band_of is None else band_of
    adopted = decisions.adopted
    crit = []
    for k, c in enumerate(r.pack.criteria):
        col = r.agg.crit_ratio[adopted, k] if adopted.any() else np.empty(0)
        col = col[~np.isnan(col)]
        crit.append(CriterionStanding(c.id, c.label.get("ja"), c.label.get("en"), float(r.agg.crit_ratio[i, k]),
                                      float(col.mean()) if len(col) else None))
    return Feedback(float(r.base[i]), float(r.params.pass_line), str(band_of[i]), tuple(crit),
                    applicant_comments(r, i))


def notice_fields(decisions: Decisions, *, round_name: str, notice_date: date, sender: str,
                  programme_name: str | None = None, with_feedback: bool = False,
                  rows: Iterable[int] | None = None) -> list[NoticeFields]:
    """One :class:`NoticeFields` per proposal (``rows``; default every proposal in the ranking's order).
    Feedback only when ``with_feedback`` and the decision is reserve or not adopted."""
    r = decisions.ranking
    programme = programme_name if programme_name is not None else r.pack.programme.name.get("ja")
    rows = r.order.tolist() if rows is None else list(rows)
    band_of = bands(r) if with_feedback else None
    out = []
    for i in rows:
        prop = r.table.proposals[i]
        code = int(decisions.decision[i])
        fb = feedback(decisions, i, band_of) if with_feedback and code in (RESERVE, NOT_ADOPTED) else None
        out.append(NoticeFields(
            proposal_id=prop.id, title=prop.title, applicant_name=prop.applicant.name, programme_name=programme,
            round_name=round_name, decision_code=OUTCOMES[code].value, decision_label=outcome_label(code, "ja"),
            awarded_yen=int(decisions.awarded[i]), conditions=decisions.conditions.get(i, ""),
            reserve_position=int(decisions.position[i]) or None, notice_date=notice_date, sender=sender,
            feedback=fb))
    return out


__all__ = ["CriterionStanding", "Feedback", "NoticeFields", "PLACEHOLDERS", "placeholders", "japanese_date",
           "bands", "qualifying_order", "applicant_comments", "feedback", "notice_fields"]
