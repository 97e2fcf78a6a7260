"""The values of the hearing stage (stages.md): its parameters (:class:`HearingParams`, a pack's defaults with a
chair's what-if), a chair's shortlist edit (:class:`ShortlistEdit`) and the result of a two-stage run
(:class:`HearingRanking`, a :class:`~scoring.ranking.Ranking` whose decisions, ranks and budget line are the
final ones).

:func:`scoring.stages.rank_hearing` computes it; nothing here changes a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .aggregate import Aggregate
from .eligibility import NEEDS_CHECK
from .labels import label
from .models import Decision
from .money import format_score
from .packs import CriteriaPack, Criterion
from .params import WhatIfError
from .ranking import CODE, RANK_CSV_COLUMNS, Ranking, r6

SHORTLIST_METHODS = ("top_n", "budget_multiple", "line")
COMBINE_METHODS = ("hearing_only", "weighted")
EDIT_ACTIONS = ("add", "remove")
HEARING_CSV_COLUMNS = ["shortlisted", "document_rank", "document_score", "hearing_score", "n_hearing_reviews"]


def exact_multiple(value: Any) -> Fraction:
    """A shortlist multiple as an exact fraction: ``1.5`` (as written in YAML, a float) → 3/2, ``"2"`` → 2."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return Fraction(repr(value) if isinstance(value, float) else str(value).strip())


@dataclass(frozen=True)
class HearingParams:
    """The hearing stage's parameters of one run (stages.md "Pack fields"); the pack gives the defaults
    (:meth:`from_pack`), a chair's what-if any of them. ``multiple`` is exact (a :class:`~fractions.Fraction`)."""

    shortlist_method: str = "top_n"
    n: int | None = None
    multiple: Fraction | None = None
    combine: str = "hearing_only"
    document_weight: float = 0.0
    hearing_weight: float = 1.0
    pass_line: float | None = None
    min_reviews: int = 3

    KEYS = ("shortlist_method", "n", "multiple", "combine", "document_weight", "hearing_weight", "pass_line",
            "min_reviews")

    def __post_init__(self) -> None:
        if self.shortlist_method not in SHORTLIST_METHODS:
            raise WhatIfError("shortlist.method", f"unknown method {str(self.shortlist_method)[:40]!r} "
                                                  f"(known: {', '.join(SHORTLIST_METHODS)})")
        if self.shortlist_method == "top_n" and (self.n is None or isinstance(self.n, bool)
                                                 or int(self.n) != self.n or self.n < 1):
            raise WhatIfError("shortlist.n", f"top_n needs a whole number n ≥ 1 (got {str(self.n)[:40]!r})")
        if self.shortlist_method == "budget_multiple":
            try:
                m = exact_multiple(self.multiple) if self.multiple is not None else None
            except (ValueError, ZeroDivisionError):
                m = None
            if m is None or m <= 0:
                raise WhatIfError("shortlist.multiple", f"budget_multiple needs a multiple > 0 "
                                                        f"(got {str(self.multiple)[:40]!r})")
            object.__setattr__(self, "multiple", m)
        if self.combine not in COMBINE_METHODS:
            raise WhatIfError("combine.method", f"unknown method {str(self.combine)[:40]!r} "
                                                f"(known: {', '.join(COMBINE_METHODS)})")
        wd, wh = float(self.document_weight), float(self.hearing_weight)
        if self.combine == "hearing_only":
            wd, wh = 0.0, 1.0
        if not (wd >= 0 and wh >= 0) or abs(wd + wh - 1.0) > 1e-9:
            raise WhatIfError("combine", f"document_weight + hearing_weight must be 1, both ≥ 0 (got {wd:g}, {wh:g})")
        object.__setattr__(self, "document_weight", wd)
        object.__setattr__(self, "hearing_weight", wh)
        if self.pass_line is not None and not 0 <= float(self.pass_line) < float("inf"):
            raise WhatIfError("pass_line", f"must be a finite number ≥ 0 (got {str(self.pass_line)[:40]!r})")
        if isinstance(self.min_reviews, bool) or int(self.min_reviews) != self.min_reviews or self.min_reviews < 1:
            raise WhatIfError("min_reviews", f"must be a whole number ≥ 1 (got {str(self.min_reviews)[:40]!r})")

    @classmethod
    def from_pack(cls, pack: CriteriaPack, **overrides: Any) -> "HearingParams":
        """The pack's hearing defaults with ``overrides`` (keys :attr:`KEYS`; ``None`` = the pack's own)."""
        h = pack.hearing
        if h is None:
            raise WhatIfError("hearing", f"pack {pack.id} has no hearing section")
        unknown = set(overrides) - set(cls.KEYS)
        if unknown:
            raise WhatIfError(sorted(unknown)[0], f"not a hearing parameter (known: {', '.join(cls.KEYS)})")
        own = {"shortlist_method": h.shortlist.method, "n": h.shortlist.n,
               "multiple": None if h.shortlist.multiple is None else exact_multiple(h.shortlist.multiple),
               "combine": h.combine.method, "document_weight": h.combine.document_weight or 0.0,
               "hearing_weight": 1.0 if h.combine.hearing_weight is None else h.combine.hearing_weight,
               "pass_line": h.pass_line, "min_reviews": h.min_reviews}
        own.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**own)

    def as_dict(self) -> dict:
        shortlist: dict[str, Any] = {"method": self.shortlist_method}
        if self.shortlist_method == "top_n":
            shortlist["n"] = int(self.n)
        if self.shortlist_method == "budget_multiple":
            m = self.multiple
            shortlist["multiple"] = int(m) if m.denominator == 1 else float(m)
        combine: dict[str, Any] = {"method": self.combine}
        if self.combine == "weighted":
            combine.update(document_weight=self.document_weight, hearing_weight=self.hearing_weight)
        return {"shortlist": shortlist, "combine": combine, "min_reviews": int(self.min_reviews),
                "pass_line": None if self.pass_line is None else float(self.pass_line)}


@dataclass(frozen=True)
class ShortlistEdit:
    """A chair's change to the method's shortlist (stages.md §2): ``action`` ``add`` | ``remove``, with a reason.
    ``row`` names where it came from in messages (a CSV line, a stored id); ``by``/``at`` record who and when."""

    proposal_id: str
    action: str
    reason: str
    row: str | None = None
    by: str | None = None
    at: str | None = None

    def as_dict(self) -> dict:
        return {"proposal_id": self.proposal_id, "action": self.action, "reason": self.reason, "by": self.by,
                "at": self.at}


def _num(x: float) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


@dataclass
class HearingRanking(Ranking):
    """A two-stage run. The inherited columns are the final ones (decision, rank, waitlist, budget line); ``agg``
    and ``bonus`` stay the document stage's (``base`` is B_d); ``document`` is the document-stage ranking."""

    document: Ranking | None = None
    hearing_params: HearingParams | None = None
    hearing_criteria: list[Criterion] = field(default_factory=list)
    cut: np.ndarray | None = None          # bool: the method's shortlist, before the chair's edits
    shortlisted: np.ndarray | None = None  # bool: the shortlist after the edits
    edits: dict = field(default_factory=dict)   # row → the ShortlistEdit that last changed it
    hearing_agg: Aggregate | None = None
    final_total: np.ndarray | None = None  # S(p) for shortlisted proposals, S_d(p) for the others
    hearing_excluded: dict = field(default_factory=dict)
    refused_edits: list = field(default_factory=list)   # (ShortlistEdit, refusal codes) left out (lenient_edits)

    @property
    def total(self) -> np.ndarray:
        return self.final_total

    @property
    def hearing_base(self) -> np.ndarray:
        """B_h(p) (NaN without a counted hearing review)."""
        return self.hearing_agg.base

    def shortlist_ids(self) -> list[str]:
        """The shortlisted proposals' ids, in document rank order (the default hearing order)."""
        rows = self.document.order[self.shortlisted[self.document.order]]
        return [str(self.table.ids[i]) for i in rows.tolist()]

    # --- per proposal --------------------------------------------------------------------------------------
    def _reasons(self, i: int, lang: str) -> list[str]:
        d = self.decision[i]
        hp = self.hearing_params
        edit = self.edits.get(i)
        if not self.shortlisted[i] and d != CODE[Decision.not_shortlisted]:
            return super()._reasons(i, lang)       # not qualifying at the document stage: its decision stands
        out: list[str] = []
        if d == CODE[Decision.not_shortlisted]:
            if edit is not None and edit.action == "remove":
                out.append(label("reason.shortlist_removed", lang, reason=edit.reason))
            else:
                out.append(label("reason.not_shortlisted", lang, rank=int(self.document.rank[i]),
                                 method=label(f"shortlist_method.{hp.shortlist_method}", lang)))
        elif d == CODE[Decision.insufficient_reviews]:
            out.append(label("reason.hearing_insufficient_reviews", lang, n=int(self.hearing_agg.n_reviews[i]),
                             needed=int(hp.min_reviews)))
        elif d == CODE[Decision.below_pass_line]:
            out.append(label("reason.hearing_below_pass_line", lang, score=format_score(self.hearing_base[i]),
                             line=format_score(hp.pass_line)))
        else:
            return super()._reasons(i, lang) + self._added(i, lang)
        for k in range(len(self.elig.rules)):
            if self.elig.status[i, k] == NEEDS_CHECK:
                out.append(label("reason.needs_check", lang, reason=self.elig.reason(i, k, lang)))
        if self.capped[i]:
            out.append(label("reason.capped", lang, cap=f"{int(self.cap[i]):,}"))
        return out + self._added(i, lang)

    def _added(self, i: int, lang: str) -> list[str]:
        edit = self.edits.get(i)
        if edit is not None and edit.action == "add":
            return [label("reason.shortlist_added", lang, reason=edit.reason)]
        return []

    def result(self, i: int, lang: str = "ja") -> dict:
        """formats.md's result plus stages.md's fields: ``shortlisted``, ``document_score`` (B_d),
        ``hearing_score`` (B_h or null), ``n_hearing_reviews``; ``total_score`` is S(p) for shortlisted
        proposals and S_d(p) for the others; ``rank`` is the final rank."""
        out = super().result(i, lang)
        h = self.hearing_agg
        short = bool(self.shortlisted[i])
        edit = self.edits.get(i)
        out.update({
            "total_score": _num(self.final_total[i]),
            "shortlisted": short,
            "document_rank": int(self.document.rank[i]) or None,
            "document_score": _num(self.base[i]),
            "document_total_score": _num(self.document.total[i]),
            "hearing_score": _num(h.base[i]) if short else None,
            "n_hearing_reviews": int(h.n_reviews[i]),
            "hearing_criteria": {c.id: _num(h.crit_points[i, k]) for k, c in enumerate(self.hearing_criteria)}
            if short else {},
            "shortlist_edit": edit.as_dict() if edit is not None else None,
            "excluded_hearing_reviews": self.hearing_excluded.get(i, []),
        })
        return out

    def to_dict(self, lang: str = "ja", whatif=None) -> dict:
        out = super().to_dict(lang, whatif)
        hp = self.hearing_params
        edits = sorted(self.edits.values(), key=lambda e: (e.action, e.proposal_id))
        return {**out, "stage": "hearing", "hearing": {
            **hp.as_dict(),
            "shortlist_size": int(self.shortlisted.sum()), "cut_size": int(self.cut.sum()),
            "shortlisted_ids": self.shortlist_ids(), "edits": [e.as_dict() for e in edits]}}

    def csv_table(self, lang: str = "ja") -> tuple[list[str], list[list]]:
        """The ranking CSV with the hearing columns after the document ones (criterion columns: document
        criteria, then ``hearing:<id>`` mean points)."""
        crit = self.pack.criterion_ids
        hcrit = [c.id for c in self.hearing_criteria]
        header = (RANK_CSV_COLUMNS + HEARING_CSV_COLUMNS + [f"criterion:{c}" for c in crit]
                  + [f"hearing:{c}" for c in hcrit] + ["reasons", "conditions"])
        sep = label("reason.separator", lang)
        rows = []
        for i in self.order.tolist():
            r = self.result(i, lang)
            reasons = r["reasons_en"] if lang == "en" else r["reasons"]
            rows.append([r[k] for k in RANK_CSV_COLUMNS + HEARING_CSV_COLUMNS] + [r["criteria"][c] for c in crit]
                        + [r["hearing_criteria"].get(c) for c in hcrit]
                        + [sep.join(reasons), sep.join(self.elig.conditions(i, lang))])
        return header, rows


def final_order_keys(rows: np.ndarray, total: np.ndarray, hearing: np.ndarray, document: np.ndarray,
                     hearing_ratio: np.ndarray, requested: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    """stages.md §5: ``rows`` ordered by S desc, B_h desc, B_d desc, each hearing criterion's mean ratio (in
    order) desc, requested asc, id asc — scores compared after rounding to 6 places.

    One stable lexsort, on integers: every score rounded to 6 places is a whole number of micro-points; S and
    B_h share one int64 key where both fit, mean ratios (0 … 1,000,000 < 2**20 micro) go three to a key."""
    if not len(rows):
        return rows
    s, h, d = (_micro(x[rows]) for x in (total, hearing, document))
    ratio = _micro(np.nan_to_num(hearing_ratio[rows], nan=0.0))
    keys = [id_rank[rows], requested[rows]]
    for c in range(ratio.shape[1] - (ratio.shape[1] - 1) % 3 - 1, -1, -3):     # the last group first
        packed = np.zeros(len(rows), np.int64)
        for k in range(c, min(c + 3, ratio.shape[1])):
            packed = (packed << 20) | ratio[:, k]
        keys.append(-packed)
    keys.append(-d)
    s0, h0 = s - s.min(), h - h.min()
    shift = int(h0.max()).bit_length()
    if shift + int(s0.max()).bit_length() <= 62:
        keys.append(-((s0 << shift) | h0))
    else:
        keys += [-h, -s]
    return rows[np.lexsort(keys)]


def _micro(x: np.ndarray) -> np.ndarray:
    """Scores (finite: the ranked rows have counted reviews) as whole micro-points, i.e. rounded to 6 places."""
    return np.rint(r6(x) * 1_000_000).astype(np.int64)
