"""Columnar views of a call: proposals (with members, technologies, facts, cost lines) and reviews.

The selection rules run over these columns with numpy so that a national-size call ranks in well under a
second. The models (:mod:`scoring.models`) are the validated boundary; the tables are built from them once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .models import MemberKind, Proposal, Technology
from .organisations import organisation_key

KIND_CODE = {k.value: i for i, k in enumerate(MemberKind)}
TECH_CODE = {t.value: i for i, t in enumerate(Technology)}


@dataclass
class ProposalTable:
    """One row per proposal of one pack, in input order."""

    proposals: list[Proposal]
    ids: np.ndarray                 # object (str)
    requested: np.ndarray           # int64 yen, 0 where missing
    requested_known: np.ndarray     # bool
    eligible_cost: np.ndarray       # int64 yen, 0 where missing
    eligible_cost_known: np.ndarray
    applicant_kind: np.ndarray      # str
    m_prop: np.ndarray              # members (applicant included): proposal index
    m_kind: np.ndarray              # str
    m_is_applicant: np.ndarray      # bool
    m_name: np.ndarray              # object (str)
    t_prop: np.ndarray              # technologies: proposal index
    t_tech: np.ndarray              # str
    l_prop: np.ndarray              # cost lines: proposal index
    l_no: np.ndarray                # line number within the proposal (0-based)
    l_fields: dict[str, np.ndarray]  # object arrays, None where missing
    m_kind_code: np.ndarray | None = None   # int8 codes of m_kind (KIND_CODE)
    t_tech_code: np.ndarray | None = None   # int8 codes of t_tech (TECH_CODE)
    m_name_code: np.ndarray | None = None   # int64 code of each member's name
    name_codes: dict[str, int] | None = None
    _facts: dict[str, np.ndarray] = field(default_factory=dict)
    _fact_known: dict[str, np.ndarray] = field(default_factory=dict)
    _index: dict[str, int] | None = None
    _id_rank: np.ndarray | None = None
    _id_order: np.ndarray | None = None
    _org_codes: dict[str, list[int]] | None = None
    conflict_cache: dict = field(default_factory=dict, repr=False)   # reviewers' conflicts → pairs (aggregate)

    @property
    def n(self) -> int:
        return len(self.ids)

    def fact(self, name: str) -> np.ndarray:
        """Object array of one fact (None where the proposal lacks it)."""
        col = self._facts.get(name)
        if col is None:  # a fact no proposal has
            col = np.full(self.n, None, dtype=object)
            self._facts[name] = col
            self._fact_known[name] = np.zeros(self.n, bool)
        return col

    def organisation_codes(self) -> dict[str, list[int]]:
        """Member-name codes (:attr:`m_name_code`) by organisation key (:func:`scoring.organisations.organisation_key`):
        computed once per table, over distinct names only, for the conflict-of-interest rule."""
        if self._org_codes is None:
            out: dict[str, list[int]] = {}
            for name, code in (self.name_codes or {}).items():
                out.setdefault(organisation_key(name), []).append(code)
            self._org_codes = out
        return self._org_codes

    def fact_known(self, name: str) -> np.ndarray:
        self.fact(name)
        return self._fact_known[name]

    def __post_init__(self) -> None:
        # integer codes once, at load, so that every rank works on ints
        if self.m_kind_code is None:
            self.m_kind_code = np.array([KIND_CODE[k] for k in self.m_kind], dtype=np.int8)
        if self.t_tech_code is None:
            self.t_tech_code = np.array([TECH_CODE[t] for t in self.t_tech], dtype=np.int8)
        if self.m_name_code is None:
            codes, names = pd.factorize(pd.Series(self.m_name, dtype=object))
            self.m_name_code = np.asarray(codes, dtype=np.int64)
            self.name_codes = {name: k for k, name in enumerate(names)}
        if not self._facts and self.proposals:
            # every fact column at load (one pass), with where it is known
            cols: dict[str, list] = {}
            for i, p in enumerate(self.proposals):
                for key, value in p.facts.items():
                    cols.setdefault(key, []).append((i, value))
            for key, pairs in cols.items():
                col = np.full(self.n, None, dtype=object)
                known = np.zeros(self.n, bool)
                for i, value in pairs:
                    col[i] = value
                    known[i] = value is not None
                self._facts[key] = col
                self._fact_known[key] = known
        self.index_of()
        self.id_rank()

    def id_order(self) -> np.ndarray:
        """Rows in proposal-id string order, built once."""
        if self._id_order is None:
            self._id_order = np.argsort(self.ids, kind="stable")
        return self._id_order

    def id_rank(self) -> np.ndarray:
        """Each proposal's position in proposal-id string order (the last tie-break), built once."""
        if self._id_rank is None:
            r = np.empty(self.n, np.int64)
            r[self.id_order()] = np.arange(self.n)
            self._id_rank = r
        return self._id_rank

    def index_of(self) -> dict[str, int]:
        """proposal id → row (built once)."""
        if self._index is None:
            self._index = {pid: i for i, pid in enumerate(self.ids)}
        return self._index

    @classmethod
    def from_proposals(cls, proposals: Sequence[Proposal]) -> "ProposalTable":
        proposals = list(proposals)
        n = len(proposals)
        ids = np.array([p.id for p in proposals] + [""], dtype=object)[:-1]
        req = [p.requested_yen for p in proposals]
        ec = [p.eligible_cost_yen for p in proposals]
        m_prop, m_kind, m_app, m_name = [], [], [], []
        t_prop, t_tech = [], []
        l_prop, l_no = [], []
        lf: dict[str, list] = {k: [] for k in ("category", "amount_yen", "unit_price_yen", "useful_life_years",
                                               "years", "cannot_lease_reason", "item")}
        for i, p in enumerate(proposals):
            for name, kind, is_app in p.members():
                m_prop.append(i)
                m_kind.append(kind.value)
                m_app.append(is_app)
                m_name.append(name)
            for t in p.technologies:
                t_prop.append(i)
                t_tech.append(t.value)
            for j, line in enumerate(p.cost_lines):
                l_prop.append(i)
                l_no.append(j)
                lf["category"].append(line.category.value)
                lf["amount_yen"].append(line.amount_yen)
                lf["unit_price_yen"].append(line.unit_price_yen)
                lf["useful_life_years"].append(line.useful_life_years)
                lf["years"].append(line.years)
                reason = line.cannot_lease_reason
                lf["cannot_lease_reason"].append(reason if reason else None)
                lf["item"].append(line.item)

        def obj(values: list) -> np.ndarray:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            return arr

        def text(values: list) -> np.ndarray:  # closed vocabularies: fixed-width unicode, fast isin
            return np.array(values, dtype=str) if values else np.zeros(0, dtype="<U1")

        return cls(
            proposals=proposals,
            ids=ids,
            requested=np.array([r or 0 for r in req], dtype=np.int64).reshape(n),
            requested_known=np.array([r is not None for r in req], dtype=bool).reshape(n),
            eligible_cost=np.array([c or 0 for c in ec], dtype=np.int64).reshape(n),
            eligible_cost_known=np.array([c is not None for c in ec], dtype=bool).reshape(n),
            applicant_kind=text([p.applicant.kind.value for p in proposals]),
            m_prop=np.array(m_prop, dtype=np.int64),
            m_kind=text(m_kind),
            m_is_applicant=np.array(m_app, dtype=bool),
            m_name=obj(m_name),
            t_prop=np.array(t_prop, dtype=np.int64),
            t_tech=text(t_tech),
            l_prop=np.array(l_prop, dtype=np.int64),
            l_no=np.array(l_no, dtype=np.int64),
            l_fields={k: obj(v) for k, v in lf.items()},
        )


@dataclass
class ReviewTable:
    """One row per (reviewer, proposal) review of one pack, levels as a matrix.

    ``levels[r, c]`` is the level given on criterion c (0 = not given); ``marks[r, b]`` is 1/0 for judged bonus
    b (-1 = not given). ``prop`` indexes the :class:`ProposalTable` the table was built against.
    """

    reviewer: np.ndarray   # object (str)
    prop: np.ndarray       # int64 proposal index
    submitted: np.ndarray  # bool
    levels: np.ndarray     # int16 [n, C]
    marks: np.ndarray      # int8 [n, B_judged]
    comments: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (reviewer, proposal) → item → text
    line: np.ndarray | None = None   # the input row (line) each review was first named on, for messages
    source: str = ""                 # the input the reviews came from, for messages
    hearing: "ReviewTable | None" = None   # the hearing-stage reviews (items hearing:<id>, stages.md), if any
    # (reviewer, proposal) → item → what the reviewer wrote for the applicant (optional column applicant_comment,
    # 「申請者への所見」, decisions.md §5); the internal ``comments`` never leave the committee
    applicant_comments: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    rcode: np.ndarray = field(init=False, repr=False)           # int64 code of the reviewer per row
    reviewer_names: np.ndarray = field(init=False, repr=False)  # code → reviewer id
    by_prop: np.ndarray = field(init=False, repr=False)         # row order grouped by proposal

    def __post_init__(self) -> None:
        # integer reviewer codes once, at load: every per-rank step then works on ints, not strings
        codes, names = pd.factorize(pd.Series(self.reviewer, dtype=object), sort=True)
        self.rcode = np.asarray(codes, dtype=np.int64)
        self.reviewer_names = np.asarray(names, dtype=object)
        self.by_prop = np.argsort(self.prop, kind="stable")  # rows grouped by proposal

    @property
    def n(self) -> int:
        return len(self.prop)

    @classmethod
    def empty(cls, n_criteria: int, n_judged: int) -> "ReviewTable":
        return cls(np.empty(0, dtype=object), np.empty(0, dtype=np.int64), np.empty(0, dtype=bool),
                   np.zeros((0, n_criteria), dtype=np.int16), np.zeros((0, n_judged), dtype=np.int8))

    def subset(self, mask: np.ndarray) -> "ReviewTable":
        return ReviewTable(self.reviewer[mask], self.prop[mask], self.submitted[mask], self.levels[mask],
                           self.marks[mask], self.comments, None if self.line is None else self.line[mask],
                           self.source, self.hearing, self.applicant_comments)


def concat_members(names: Iterable[str]) -> str:
    return "・".join(names)
