"""From reviews to a ranked selection list (selection.md §6–9): qualify → funded amount → rank → budget line.

:func:`rank` is the one entry point every adapter (CLI, store, app, Excel) calls. It returns a
:class:`Ranking` that holds the columns and renders per-proposal results with their reasons on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .aggregate import Aggregate, aggregate_scores
from .bonus import BonusResult, compute_bonus
from .eligibility import FAIL, NEEDS_CHECK, STATUS_OF_CODE, EligibilityResult, evaluate, per_proposal_cap
from .money import format_score
from .models import DECISION_LABELS, Aggregation, Decision, Normalization, Reviewer, SelectionMethod
from .packs import CriteriaPack
from .table import ProposalTable, ReviewTable

DECIMALS = 6  # scores and thresholds are compared after rounding to 6 places (selection.md §8)

_DECISION_CODES = list(Decision)
_CODE = {d: i for i, d in enumerate(_DECISION_CODES)}


@dataclass(frozen=True)
class Params:
    """The parameters of one run; a pack gives the defaults, a chair may override any of them (what-if)."""

    aggregation: Aggregation = Aggregation.mean
    normalization: Normalization = Normalization.none
    selection: SelectionMethod = SelectionMethod.greedy_skip
    pass_line: float = 60.0
    criterion_floor: float = 0.25
    min_reviews: int = 3
    trim_min_reviews: int = 5
    waitlist: int = 3
    budget_yen: int | None = None
    capacity_count: int | None = None

    @classmethod
    def from_pack(cls, pack: CriteriaPack, **overrides: Any) -> "Params":
        s = pack.selection
        p = cls(aggregation=s.aggregation, normalization=s.normalization, selection=s.method,
                pass_line=s.pass_line, criterion_floor=s.criterion_floor, min_reviews=s.min_reviews,
                trim_min_reviews=s.trim_min_reviews, waitlist=s.waitlist, budget_yen=pack.budget.budget_yen,
                capacity_count=pack.budget.capacity_count)
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key, enum in (("aggregation", Aggregation), ("normalization", Normalization),
                          ("selection", SelectionMethod)):
            if key in clean:
                clean[key] = enum(clean[key])
        if "budget" in clean:  # one knob: yen for money packs, a count for capacity packs
            b = int(clean.pop("budget"))
            clean["capacity_count" if pack.is_capacity else "budget_yen"] = b
        return replace(p, **clean)

    def budget_limit(self, pack: CriteriaPack) -> int | None:
        return self.capacity_count if pack.is_capacity else self.budget_yen

    def as_dict(self, pack: CriteriaPack) -> dict:
        out = {"aggregation": self.aggregation.value, "normalization": self.normalization.value,
               "selection": self.selection.value, "pass_line": float(self.pass_line),
               "criterion_floor": float(self.criterion_floor), "min_reviews": int(self.min_reviews),
               "waitlist": int(self.waitlist), "budget_yen": self.budget_yen,
               "trim_min_reviews": int(self.trim_min_reviews)}
        if pack.is_capacity:
            out["capacity_count"] = self.capacity_count
        return out


def r6(x: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), DECIMALS)


@dataclass
class Ranking:
    pack: CriteriaPack
    params: Params
    table: ProposalTable
    agg: Aggregate
    bonus: BonusResult
    elig: EligibilityResult
    decision: np.ndarray        # int codes into Decision
    rank: np.ndarray            # int, 0 = unranked
    waitlist_position: np.ndarray  # int, 0 = none
    funded: np.ndarray          # int64 yen (count for capacity packs)
    capped: np.ndarray          # bool
    cap: np.ndarray             # int64 per-proposal cap
    cumulative: np.ndarray      # int64 cumulative funded among selected, in rank order (0 for others)
    order: np.ndarray           # output order (ranked, then unranked by id)
    remaining_at: np.ndarray    # remaining budget when the walk reached this proposal (-1 if not walked)
    reviews: ReviewTable | None = None
    skipped_other_packs: int = 0
    used: int = 0
    excluded: dict = field(default_factory=dict)

    # --- figures -------------------------------------------------------------------------------------------
    @property
    def base(self) -> np.ndarray:
        return self.agg.base

    @property
    def total(self) -> np.ndarray:
        return self.agg.base + self.bonus.total

    def decisions(self) -> list[Decision]:
        return [_DECISION_CODES[c] for c in self.decision]

    def budget_dict(self) -> dict:
        limit = self.params.budget_limit(self.pack)
        if self.pack.is_capacity:
            return {"total_yen": None, "used_yen": None, "remaining_yen": None, "capacity_count": limit,
                    "used_count": int(self.used), "remaining_count": None if limit is None else int(limit - self.used)}
        return {"total_yen": limit, "used_yen": int(self.used),
                "remaining_yen": None if limit is None else int(limit - self.used)}

    @property
    def funding_line(self) -> int | None:
        """selection.md §9, drawn: how many ranked proposals stand above the budget line — it is drawn after the
        last selected one (with greedy_skip an over_budget proposal may stand above it). None without a budget.
        The ranked table, the chart and the workbook all draw it here."""
        if self.params.budget_limit(self.pack) is None:
            return None
        ranked = self.order[self.rank[self.order] > 0]
        sel = np.flatnonzero(self.decision[ranked] == _CODE[Decision.selected])
        return int(sel[-1]) + 1 if len(sel) else 0

    def counts(self) -> dict[str, int]:
        out = {d.value: 0 for d in Decision}
        for c in self.decision:
            out[_DECISION_CODES[c].value] += 1
        return out

    # --- per proposal --------------------------------------------------------------------------------------
    def reasons(self, i: int, lang: str = "ja") -> list[str]:
        d = _DECISION_CODES[self.decision[i]]
        p = self.params
        en = lang == "en"
        out: list[str] = []
        if d == Decision.ineligible:
            for k in range(len(self.elig.rules)):
                if self.elig.status[i, k] == FAIL:
                    out.append(self.elig.reason(i, k, lang))
        elif d == Decision.insufficient_reviews:
            n = int(self.agg.n_reviews[i])
            out.append(f"{n} counted reviews, {p.min_reviews} needed" if en
                       else f"提出済み評価が{n}件（最低{p.min_reviews}件必要）")
        elif d == Decision.below_criterion_floor:
            for c, crit in enumerate(self.pack.criteria):
                ratio = self.agg.crit_ratio[i, c]
                if r6(ratio) < r6(p.criterion_floor):
                    r, f = format_score(ratio), format_score(p.criterion_floor)
                    out.append(f"{crit.label.get(lang)}: mean ratio {r} < floor {f}" if en
                               else f"「{crit.label.ja}」の平均評点率 {r} が最低基準 {f} 未満")
        elif d == Decision.below_pass_line:
            b, line = format_score(self.base[i]), format_score(p.pass_line)
            out.append(f"base score {b} < pass line {line} (bonus does not count)" if en
                       else f"基礎点 {b} が合格点 {line} 未満（加点は算入しません）")
        elif d in (Decision.over_budget, Decision.waitlisted):
            unit = "" if self.pack.is_capacity else "円"
            rem = int(self.remaining_at[i])
            if p.selection == SelectionMethod.greedy_stop and rem >= int(self.funded[i]):
                out.append("below the funding line (greedy_stop)" if en else "採択ラインより下位（greedy_stop）")
            else:
                out.append(f"remaining budget {rem:,}{unit} < funded amount {int(self.funded[i]):,}{unit}" if en
                           else f"予算残額 {rem:,}{unit} が交付額 {int(self.funded[i]):,}{unit} に不足")
            if d == Decision.waitlisted:
                out.append(f"waitlist #{int(self.waitlist_position[i])}" if en
                           else f"補欠 {int(self.waitlist_position[i])} 位")
        for k in range(len(self.elig.rules)):
            if self.elig.status[i, k] == NEEDS_CHECK:
                out.append(("needs check — " if en else "要確認 — ") + self.elig.reason(i, k, lang))
        if self.capped[i]:
            cap = int(self.cap[i])
            out.append(f"requested amount above the cap: funded at {cap:,} yen (amount to be adjusted)" if en
                       else f"申請額が上限額を超過：上限 {cap:,}円 で算定（金額調整）")
        return out

    def result(self, i: int, lang: str = "ja") -> dict:
        """One proposal's result in the JSON shape of formats.md (plus documented extra fields)."""
        t, pack = self.table, self.pack
        prop = t.proposals[i]
        d = _DECISION_CODES[self.decision[i]]
        base = self.base[i]
        n_counted = int(self.agg.n_reviews[i])
        crit = {c.id: _num(self.agg.crit_points[i, k]) for k, c in enumerate(pack.criteria)}
        crit_ratio = {c.id: _num(self.agg.crit_ratio[i, k]) for k, c in enumerate(pack.criteria)}
        elig = [{"rule": r.id, "status": STATUS_OF_CODE[int(self.elig.status[i, k])].value,
                 "reason": self.elig.reason(i, k, "ja"), "reason_en": self.elig.reason(i, k, "en")}
                for k, r in enumerate(self.elig.rules)]
        bonus_items = [{"id": b.id, "kind": b.kind, "points": float(self.bonus.points[i, k]),
                        "awarded": bool(self.bonus.points[i, k] > 0),
                        "reason": self.bonus.reason(pack, i, k, n_counted, "ja"),
                        "reason_en": self.bonus.reason(pack, i, k, n_counted, "en")}
                       for k, b in enumerate(pack.bonuses)]
        ja, en = DECISION_LABELS[d]
        return {
            "proposal_id": prop.id,
            "decision": d.value,
            "decision_label": ja if lang == "ja" else en,
            "rank": int(self.rank[i]) or None,
            "waitlist_position": int(self.waitlist_position[i]) or None,
            "base_score": _num(base),
            "bonus": float(self.bonus.total[i]),
            "total_score": _num(base + self.bonus.total[i]),
            "n_reviews": n_counted,
            "requested_yen": prop.requested_yen,
            "eligible_cost_yen": prop.eligible_cost_yen,
            "funded_yen": int(self.funded[i]),
            "capped": bool(self.capped[i]),
            "cumulative_funded_yen": int(self.cumulative[i]) if self.cumulative[i] else None,
            "title": prop.title,
            "applicant": prop.applicant.name,
            "criteria": crit,
            "criteria_ratio": crit_ratio,
            "bonus_items": bonus_items,
            "eligibility": elig,
            "conditions": self.elig.conditions(i, "ja"),
            "reasons": self.reasons(i, "ja"),
            "reasons_en": self.reasons(i, "en"),
            "expense_flags": self.elig.expense_flags.get(i, []),
            "excluded_reviews": self.excluded.get(i, []),
        }

    def results(self, lang: str = "ja") -> list[dict]:
        return [self.result(int(i), lang) for i in self.order]

    def to_dict(self, lang: str = "ja") -> dict:
        return {"pack": self.pack.id, "pack_version": self.pack.version,
                "parameters": self.params.as_dict(self.pack), "budget": self.budget_dict(),
                "skipped_other_packs": self.skipped_other_packs, "counts": self.counts(),
                "results": self.results(lang)}


def _num(x: float) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def tie_break_order(rows: np.ndarray, total6: np.ndarray, base6: np.ndarray, crit6: np.ndarray,
                    requested: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    """selection.md §8: S desc, B desc, criterion mean ratios in pack order desc, requested asc, id asc.

    Sorts on (S, B) first, then refines only the runs that still tie, one key at a time (criteria packed three
    to an int64, then requested, then id — unique, so the refining ends there). Each step sorts only what is
    still tied, which on real calls (few distinct totals: most rows tie on S and B) is much less than a
    lexsort of every tied row on every key. The result equals one stable lexsort over the whole chain
    (tests/test_properties.py checks exactly that).
    """
    if not len(rows):
        return rows
    order = rows[_desc_order(total6[rows], base6[rows])]
    s, b = total6[order], base6[order]
    same = (s[1:] == s[:-1]) & (b[1:] == b[:-1])
    if not same.any():
        return order
    pos, run = _runs(np.arange(len(order)), same)
    keys = [(lambda sub, c=c: _criterion_key(crit6[sub, c:c + 3])) for c in range(0, crit6.shape[1], 3)]
    keys += [lambda sub: requested[sub], lambda sub: id_rank[sub]]
    for key in keys:                      # most significant first; all ascending
        sub = order[pos]
        kv = key(sub)
        perm = np.lexsort((kv, run))
        sub, kv, run = sub[perm], kv[perm], run[perm]
        order[pos] = sub                  # a run keeps its block of positions, sorted inside it
        same = (run[1:] == run[:-1]) & (kv[1:] == kv[:-1])
        if not same.any():
            break
        pos, run = _runs(pos, same)
    return order


def _runs(pos: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions that tie with a neighbour (``same[j]``: element j+1 ties with j) and a run id for each."""
    tied = np.zeros(len(pos), bool)
    tied[1:] |= same
    tied[:-1] |= same
    idx = np.nonzero(tied)[0]
    start = np.ones(len(idx), bool)
    inner = idx > 0
    start[inner] = ~same[idx[inner] - 1]
    return pos[idx], np.cumsum(start)


def _desc_order(total6: np.ndarray, base6: np.ndarray) -> np.ndarray:
    """Stable order by S desc, then B desc. Both are rounded to 6 places: as integers of micro-points they pack
    into one int64 key (one sort instead of a two-key lexsort) whenever they are finite and fit in 62 bits."""
    if np.isfinite(total6).all() and np.isfinite(base6).all():
        t = np.rint(total6 * 1_000_000).astype(np.int64)
        b = np.rint(base6 * 1_000_000).astype(np.int64)
        t -= t.min()
        b -= b.min()
        shift = int(b.max()).bit_length()
        if shift + int(t.max()).bit_length() <= 62:
            return np.argsort(-((t << shift) | b), kind="stable")
    return np.lexsort((-base6, -total6))


def _criterion_key(crit6: np.ndarray) -> np.ndarray:
    """An ascending sort key for 'these (at most three) criteria's mean ratios, in pack order, descending'.
    Ratios rounded to 6 places lie in [0, 1]: as integers of 20 bits, three pack into one int64, exactly."""
    micro = np.rint(np.nan_to_num(crit6, nan=0.0) * 1_000_000).astype(np.int64)  # 0 … 1,000,000 < 2**20
    key = np.zeros(len(crit6), np.int64)
    for c in range(crit6.shape[1]):
        key = (key << 20) | micro[:, c]
    return -key


def requested_key(table: ProposalTable, funded: np.ndarray) -> np.ndarray:
    """selection.md §8's 'requested asc' key: the requested amount, or the funded one where none was requested."""
    return np.where(table.requested_known, table.requested, funded)


def greedy_stop(amounts: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """selection.md §9, greedy_stop: take the ranked amounts in order until the first that does not fit; nothing
    after it. Returns (selected, remaining budget when each was reached), as :func:`greedy_skip`."""
    f = np.asarray(amounts, dtype=np.int64)
    cum = np.cumsum(f)
    k = int(np.searchsorted(cum, limit, side="right"))    # f[:k] fit together; the walk stops at f[k]
    sel = np.zeros(len(f), bool)
    sel[:k] = True
    return sel, int(limit) - np.minimum(cum - f, cum[k - 1] if k else 0)


def greedy_skip(amounts: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """selection.md §9, greedy_skip: walk the ranked amounts, take each one that still fits in the remaining
    budget, skip the others. Returns (selected, remaining budget when each was reached); integer yen throughout.

    Everything up to the first amount that does not fit is taken at once (a cumulative sum); after it only
    amounts no larger than what is then left can ever fit, and what is left only shrinks, so the sequential
    walk visits just those candidates."""
    f = np.asarray(amounts, dtype=np.int64)
    sel = np.zeros(len(f), bool)
    cum = np.cumsum(f)
    k = int(np.searchsorted(cum, limit, side="right"))    # f[:k] fit together; f[k] (if any) does not
    sel[:k] = True
    remaining = int(limit) - (int(cum[k - 1]) if k else 0)
    if k < len(f):
        tail = np.nonzero(f[k:] <= remaining)[0] + k
        for j, amount in zip(tail.tolist(), f[tail].tolist()):   # sequential by nature, ints stay exact
            if amount <= remaining:
                sel[j] = True
                remaining -= amount
    taken = np.where(sel, f, 0)
    rem_at = int(limit) - (np.cumsum(taken) - taken)
    return sel, rem_at


def funded_amounts(pack: CriteriaPack, table: ProposalTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """selection.md §7: (funded, capped, cap) per proposal; integer yen, no floating point in money."""
    f = pack.funding
    n = table.n
    cap = per_proposal_cap(pack, table)
    if f.mode == "capacity":
        return np.ones(n, np.int64), np.zeros(n, bool), cap
    if f.mode == "subsidy":
        rate = f.subsidy_rate
        grant = (table.eligible_cost * rate.numerator) // (rate.denominator * f.rounding_yen) * f.rounding_yen
        capped = grant > cap
        return np.minimum(grant, cap), capped & (f.over_cap == "clamp"), cap
    req = table.requested
    if f.over_cap == "clamp":
        capped = req > cap
        return np.minimum(req, cap), capped, cap
    return req.copy(), np.zeros(n, bool), cap


def rank(pack: CriteriaPack, table: ProposalTable, reviews: ReviewTable, reviewers: list[Reviewer] | None = None,
         params: Params | None = None, resolutions: dict | None = None, skipped_other_packs: int = 0) -> Ranking:
    """Rank one pack's proposals exactly as selection.md says."""
    params = params or Params.from_pack(pack)
    n = table.n
    elig = evaluate(pack, table, resolutions)
    agg = aggregate_scores(pack, table, reviews, reviewers, params.aggregation, params.normalization,
                           params.trim_min_reviews)
    bonus = compute_bonus(pack, table, reviews, agg.counted, agg.n_reviews)
    funded, capped, cap = funded_amounts(pack, table)

    # §6 qualifying, in precedence order
    base6 = r6(np.nan_to_num(agg.base, nan=-np.inf))
    decision = np.full(n, _CODE[Decision.ranked], np.int64)
    below_pass = base6 < r6(params.pass_line)
    crit6 = r6(agg.crit_ratio)
    with np.errstate(invalid="ignore"):  # NaN (no counted review) is never below: insufficient_reviews decides
        below_floor = (crit6 < r6(params.criterion_floor)).any(axis=1) if crit6.size else np.zeros(n, bool)
    insufficient = agg.n_reviews < params.min_reviews
    ineligible = elig.ineligible
    decision[below_pass] = _CODE[Decision.below_pass_line]
    decision[below_floor] = _CODE[Decision.below_criterion_floor]
    decision[insufficient] = _CODE[Decision.insufficient_reviews]
    decision[ineligible] = _CODE[Decision.ineligible]
    qualifying = np.nonzero(decision == _CODE[Decision.ranked])[0]

    # §8 ranking: S desc, B desc, criterion mean ratios in pack order desc, requested asc, id asc
    total = agg.base + bonus.total
    id_rank = table.id_rank()
    ranked = tie_break_order(qualifying, r6(total), base6, crit6, requested_key(table, funded), id_rank)
    rank_no = np.zeros(n, np.int64)
    rank_no[ranked] = np.arange(1, len(ranked) + 1)

    # §9 budget line
    limit = params.budget_limit(pack)
    waitlist_pos = np.zeros(n, np.int64)
    cumulative = np.zeros(n, np.int64)
    remaining_at = np.full(n, -1, np.int64)
    used = 0
    if limit is not None and len(ranked):
        f = funded[ranked]
        walk = greedy_stop if params.selection == SelectionMethod.greedy_stop else greedy_skip
        sel, rem_at = walk(f, int(limit))
        decision[ranked[sel]] = _CODE[Decision.selected]
        over = ranked[~sel]
        decision[over] = _CODE[Decision.over_budget]
        wl = over[: params.waitlist]
        decision[wl] = _CODE[Decision.waitlisted]
        waitlist_pos[wl] = np.arange(1, len(wl) + 1)
        cumulative[ranked[sel]] = np.cumsum(f[sel])
        remaining_at[ranked] = rem_at
        used = int(f[sel].sum())

    by_id = table.id_order()
    unranked = by_id[rank_no[by_id] == 0]
    order = np.concatenate([ranked, unranked]).astype(np.int64)

    excluded: dict[int, list] = {}
    if agg.conflicted.any():
        for j in np.nonzero(agg.conflicted)[0]:
            excluded.setdefault(int(reviews.prop[j]), []).append(
                {"reviewer_id": str(reviews.reviewer[j]), "reason": "conflict_of_interest"})

    return Ranking(pack, params, table, agg, bonus, elig, decision, rank_no, waitlist_pos, funded, capped, cap,
                   cumulative, order, remaining_at, reviews, skipped_other_packs, used, excluded)
