"""What a notice to an applicant says (decisions.md §5): the fields of one notice and the template context.

Pure core: :class:`NoticeFields` is built by the decisions core from a confirmed version; :func:`placeholders`
turns it into the named values a Word template uses (:data:`PLACEHOLDERS`, the only names a template may use).
The adapter ``scoring.io.notices`` fills the templates. Internal review comments are never part of these fields:
:class:`Feedback` carries only the reviewers' comments written for the applicant (「申請者への所見」), anonymised.

(The interface between the decisions core and the notices adapter: both helpers keep to it exactly.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .money import format_man_oku, format_score, format_yen


@dataclass(frozen=True)
class CriterionStanding:
    """One criterion of the feedback: the proposal's mean ratio against the mean of the adopted proposals."""

    criterion_id: str
    label_ja: str
    label_en: str
    ratio: float
    adopted_mean: float | None


@dataclass(frozen=True)
class Feedback:
    """Feedback for a reserve or not-adopted proposal (only when the round enables it)."""

    base_score: float
    pass_line: float | None
    band: str                                   # A / B / C (thirds of the qualifying proposals) / D (did not qualify)
    criteria: tuple[CriterionStanding, ...]
    applicant_comments: tuple[str, ...]         # the reviewers' 「申請者への所見」, anonymised — never `comment`


@dataclass(frozen=True)
class NoticeFields:
    proposal_id: str
    title: str
    applicant_name: str
    programme_name: str
    round_name: str
    decision_code: str            # adopted | adopted_conditional | reserve | not_adopted
    decision_label: str           # 採択 | 条件付き採択 | 補欠 | 不採択 (ja)
    awarded_yen: int
    conditions: str
    reserve_position: int | None
    notice_date: date
    sender: str
    feedback: Feedback | None     # None unless feedback is on and the decision is reserve / not_adopted


PLACEHOLDERS: frozenset[str] = frozenset({
    "applicant_name", "proposal_id", "title", "programme_name", "round_name", "decision", "decision_code",
    "awarded_yen", "awarded_man", "conditions", "reserve_position", "notice_date", "sender", "feedback",
    "base_score", "pass_line", "band", "criteria", "applicant_comments",
})
"""Every name a notice template may use (a template using any other is refused on upload)."""


def _ratio(value: float | None) -> str:
    return "—" if value is None else format_score(value, 2)


def _date_ja(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def placeholders(f: NoticeFields) -> dict[str, object]:
    """The template context of one notice: exactly the keys of :data:`PLACEHOLDERS`.

    Money as ``40,000,000円`` and ``4,000万円``; the date as ``2026年11月29日``; scores and ratios as text with two
    decimals (``—`` where there is none); ``feedback`` a bool, the feedback values empty when it is off."""
    fb = f.feedback
    return {
        "applicant_name": f.applicant_name,
        "proposal_id": f.proposal_id,
        "title": f.title,
        "programme_name": f.programme_name,
        "round_name": f.round_name,
        "decision": f.decision_label,
        "decision_code": f.decision_code,
        "awarded_yen": format_yen(f.awarded_yen),
        "awarded_man": format_man_oku(f.awarded_yen),
        "conditions": f.conditions,
        "reserve_position": f.reserve_position,
        "notice_date": _date_ja(f.notice_date),
        "sender": f.sender,
        "feedback": fb is not None,
        "base_score": format_score(fb.base_score) if fb else "",
        "pass_line": _ratio(fb.pass_line) if fb else "",
        "band": fb.band if fb else "",
        "criteria": [{"label": c.label_ja, "ratio": _ratio(c.ratio), "adopted_mean": _ratio(c.adopted_mean)}
                     for c in fb.criteria] if fb else [],
        "applicant_comments": list(fb.applicant_comments) if fb else [],
    }


__all__ = ["CriterionStanding", "Feedback", "NoticeFields", "PLACEHOLDERS", "placeholders"]
