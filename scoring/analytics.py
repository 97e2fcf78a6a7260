"""Beyond the funding line (selection.md §10): optimal portfolio, rank uncertainty, reviewer calibration,
sensitivity. Everything here is reported beside the official decision and never changes it.

Pure numpy/scipy: no Streamlit, database or spreadsheet import. Every function takes the official
:class:`~scoring.selection.Ranking` and the :class:`~scoring.table.ReviewTable` it was ranked from (a
:class:`~scoring.call.Call` also works for :func:`analyze`) and returns plain JSON-serialisable dicts.
Definitions and how to read the figures: ``docs/analytics.md``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from .models import Aggregation, Decision, SelectionMethod
from .packs import CriteriaPack, pack_to_dict, validate_pack
from .selection import DECIMALS, Ranking, r6, rank
from .table import ReviewTable

_CODE = {d: i for i, d in enumerate(Decision)}
_QUALIFYING = np.array([_CODE[d] for d in (Decision.selected, Decision.waitlisted, Decision.over_budget,
                                           Decision.ranked)])
SCALE = 10 ** DECIMALS                 # scores compared as integers of 1e-6 points (selection.md §8)
DEFAULT_RESAMPLES = 1000
DEFAULT_LENIENCY_THRESHOLD = 10.0      # points of the pack's total
SENSITIVITY_FACTORS = (0.8, 1.2)
INTERVALS = {"80": 0.80, "95": 0.95}
GRAY_LEVEL = 0.95                      # the gray zone uses the 95% interval (docs/analytics.md)


# --- small helpers -----------------------------------------------------------------------------------------

def _f(x: Any) -> float | None:
    """A JSON-safe float (None for NaN/inf/None)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _qualifying(ranking: Ranking) -> np.ndarray:
    return np.isin(ranking.decision, _QUALIFYING)


def _selected(ranking: Ranking) -> np.ndarray:
    return ranking.decision == _CODE[Decision.selected]


def _unit(pack: CriteriaPack) -> str:
    return "count" if pack.is_capacity else "yen"


def _check_reviews(ranking: Ranking, reviews: ReviewTable) -> None:
    if reviews.n != len(ranking.agg.counted):
        raise ValueError(f"reviews has {reviews.n} rows but the ranking was computed from "
                         f"{len(ranking.agg.counted)}: pass the ReviewTable the ranking was ranked from")


# =============================================================================================================
# 1. Optimal portfolio: exact 0/1 knapsack beside the greedy line
# =============================================================================================================

def knapsack(values: np.ndarray, weights: np.ndarray, capacity: int, time_limit: float | None = None
             ) -> tuple[np.ndarray, str]:
    """Exact 0/1 knapsack: maximise Σ values·x subject to Σ weights·x ≤ capacity, x ∈ {0,1}.

    ``values`` are integers (scores × 10⁶), ``weights`` and ``capacity`` non-negative integers (yen or a
    count). Solved with :func:`scipy.optimize.milp` (HiGHS) with a zero optimality gap, then checked in exact
    integer arithmetic. Returns (chosen mask, status) where status is ``optimal`` or ``time_limit``.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    values = np.asarray(values, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.int64)
    n = len(values)
    chosen = np.zeros(n, bool)
    if n == 0 or capacity < 0:
        return chosen, "optimal"
    # items that can never help (too heavy or worthless) are left out; free items with value are always in
    free = (weights == 0) & (values > 0)
    cand = np.nonzero((weights > 0) & (weights <= capacity) & (values > 0))[0]
    chosen[free] = True
    if len(cand) == 0:
        return chosen, "optimal"
    w = weights[cand]
    if int(w.sum()) <= capacity:  # everything fits
        chosen[cand] = True
        return chosen, "optimal"
    g = int(np.gcd.reduce(w))  # exact rescaling keeps the numbers small for the solver
    ws, cap = w // g, capacity // g
    v = values[cand].astype(float)
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(c=-v, integrality=np.ones(len(cand)), bounds=Bounds(0, 1),
               constraints=LinearConstraint(ws.astype(float)[None, :], -np.inf, float(cap)), options=options)
    if res.x is None:
        raise RuntimeError(f"knapsack solver failed: {res.message}")
    x = res.x > 0.5
    # exact feasibility in integers; should the solver's tolerance ever admit an overweight set, drop the
    # lowest value-per-weight items until it fits (and say it is not proven optimal)
    status = "optimal" if res.status == 0 else "time_limit"
    if int(w[x].sum()) > capacity:
        order = np.argsort(v[x] / w[x], kind="stable")
        idx = np.nonzero(x)[0][order]
        for j in idx:
            x[j] = False
            if int(w[x].sum()) <= capacity:
                break
        status = "time_limit"
    chosen[cand[x]] = True
    return chosen, status


def optimal_portfolio(ranking: Ranking, time_limit: float | None = 60.0) -> dict:
    """The set of qualifying proposals maximising Σ S(p) within the budget, beside the greedy selection."""
    pack, params = ranking.pack, ranking.params
    limit = params.budget_limit(pack)
    unit = _unit(pack)
    if limit is None:
        return {"available": False, "unit": unit, "budget": None,
                "reason": "予算（採択件数）が設定されていないため、採択ラインも最適ポートフォリオも計算しません。",
                "reason_en": "No budget (or capacity) is set, so there is no funding line and no portfolio."}
    q = np.nonzero(_qualifying(ranking))[0]
    score = np.round(ranking.total * SCALE).astype(np.int64, copy=False) if ranking.table.n else np.zeros(0, np.int64)
    funded = ranking.funded.astype(np.int64)
    greedy = _selected(ranking)
    chosen_q, status = knapsack(score[q], funded[q], int(limit), time_limit)
    optimal = np.zeros(ranking.table.n, bool)
    optimal[q[chosen_q]] = True
    g_score, o_score = int(score[greedy].sum()), int(score[optimal].sum())
    if g_score > o_score:  # the solver stopped short of the greedy set itself: not a proven optimum
        status = "not_proven"
    if g_score >= o_score:
        # the greedy line is itself optimal (ties included): show it as the optimum, so that the "difference"
        # is never an arbitrary equal-score swap chosen by the solver
        optimal = greedy.copy()
        o_score = g_score

    def side(mask: np.ndarray) -> dict:
        idx = [i for i in ranking.order if mask[i]]
        used = int(funded[mask].sum())
        return {"proposal_ids": [str(ranking.table.ids[i]) for i in idx], "n": len(idx),
                "total_score": float(score[mask].sum()) / SCALE, "used": used, "unused": int(limit) - used}

    def rows(mask: np.ndarray) -> list[dict]:
        return [{"proposal_id": str(ranking.table.ids[i]), "rank": int(ranking.rank[i]) or None,
                 "decision": list(Decision)[ranking.decision[i]].value,
                 "total_score": _f(ranking.total[i]), "funded": int(funded[i])}
                for i in ranking.order if mask[i]]

    gain = (o_score - g_score) / SCALE
    g, o = side(greedy), side(optimal)
    return {
        "available": True, "unit": unit, "budget": int(limit), "method": "milp", "status": status,
        "selection_method": params.selection.value,
        "greedy": g, "optimal": o,
        "only_in_optimal": rows(optimal & ~greedy), "only_in_greedy": rows(greedy & ~optimal),
        "score_gain": gain, "greedy_is_optimal": o_score == g_score,
        "greedy_unused": g["unused"],
        "reading": _portfolio_reading(g, o, gain, unit, "ja"), "reading_en": _portfolio_reading(g, o, gain, unit, "en"),
    }


def _amount(x: int, unit: str, lang: str) -> str:
    if unit == "count":
        return f"{x:,} proposals" if lang == "en" else f"{x:,}件"
    return f"{x:,} yen" if lang == "en" else f"{x:,}円"


def _portfolio_reading(g: dict, o: dict, gain: float, unit: str, lang: str) -> str:
    left = _amount(g["unused"], unit, lang)
    if gain <= 0:
        if lang == "en":
            return f"The greedy funding line is already optimal: no other set within the budget has a higher " \
                   f"total score. Budget left unused: {left}."
        return f"順位順の採択（貪欲法）は既に最適です：予算内でこれより合計点の高い組合せはありません。未使用予算：{left}。"
    if lang == "en":
        return f"An exact optimum within the budget scores {gain:.2f} points more in total " \
               f"({o['total_score']:.2f} vs {g['total_score']:.2f}); the greedy line leaves {left} unused. " \
               f"Reported for information: the official decision follows the ranking."
    return f"予算内の厳密な最適組合せは合計点が {gain:.2f} 点高くなります（{o['total_score']:.2f} 対 " \
           f"{g['total_score']:.2f}）。順位順の採択では {left} が未使用です。参考情報であり、正式な採択は順位に従います。"


# =============================================================================================================
# 2. Rank uncertainty: bootstrap over each proposal's counted reviews, vectorised across resamples
# =============================================================================================================

class _Engine:
    """The selection rules of selection.md §4–9 evaluated for many resamples at once.

    Fixed across resamples: eligibility (with the chair's resolutions), the number of counted reviews, the
    funded amounts, fact and ratio bonuses, the (normalised) reviewer totals T(r,p). Recomputed in every
    resample: B(p) with the pack's aggregation, the per-criterion mean ratios (criterion floor, tie-break),
    judged bonuses (majority of the resampled reviewers), S(p), qualifying, the ranking and the budget line.

    Layout: one column per *candidate* (eligible, enough counted reviews; nobody else can ever qualify),
    grouped by the number k of counted reviews. A resample of a proposal is a vector of k counts (how often
    each of its reviews was drawn, summing to k), so sums over a resample are one batched matrix product per
    group. Scores are compared as integers of 10⁻⁶ points, exactly like the core's rounding to 6 places, and
    the ranking is one stable radix sort (np.lexsort over 16-bit digits) of the keys of selection.md §8.
    """

    def __init__(self, ranking: Ranking, reviews: ReviewTable, use_grid: bool = True):
        _check_reviews(ranking, reviews)
        self.ranking = ranking
        pack, params, agg, table = ranking.pack, ranking.params, ranking.agg, ranking.table
        n = table.n
        self.n, self.C = n, len(pack.criteria)
        self.params = params
        self.agg_method = params.aggregation
        self.trim_min = params.trim_min_reviews
        self.cand = ~ranking.elig.ineligible & (agg.n_reviews >= params.min_reviews) & (agg.n_reviews > 0)
        totals = np.asarray(agg.totals, float)
        ratios = np.asarray(agg.ratios, float).reshape(len(totals), self.C)
        judged_k = [k for k, b in enumerate(pack.bonuses) if b.kind == "judged"]
        self.J = len(judged_k)
        self.judged_pts = np.array([pack.bonuses[k].points for k in judged_k], float)
        other = [k for k in range(len(pack.bonuses)) if k not in judged_k]
        bonus_fixed = ranking.bonus.points[:, other].sum(axis=1) if other else np.zeros(n)
        self.bonus_cap = float(pack.bonus_cap)
        marks = (reviews.marks == 1).astype(float) if self.J else np.zeros((reviews.n, 0))
        self.pass_i = int(np.rint(params.pass_line * SCALE))
        self.floor_i = int(np.rint(params.criterion_floor * SCALE))
        self.limit = params.budget_limit(pack)
        # groups: vals [g, k, 1 + C + J] = (T, ratio per criterion, judged marks) of each counted review,
        # the reviews of a proposal by ascending T (median and trimmed read order statistics off the counts)
        counted = np.nonzero(agg.counted)[0]
        prop = reviews.prop[counted]
        keep = self.cand[prop]
        counted, prop = counted[keep], prop[keep]
        order = np.lexsort((counted, totals[counted], prop))
        counted, prop = counted[order], prop[order]
        k_of = agg.n_reviews
        group_rows: list[tuple[int, int, int, np.ndarray]] = []    # (k, first column, end column, rows [g, k])
        cols: list[np.ndarray] = []
        c0 = 0
        for k in np.unique(k_of[self.cand]):
            props = np.nonzero(self.cand & (k_of == k))[0]
            rows = counted[np.isin(prop, props)].reshape(len(props), int(k))
            group_rows.append((int(k), c0, c0 + len(props), rows))
            cols.append(props)
            c0 += len(props)
        self.groups = group_rows  # (for _criterion_grid: the k of each group)
        self.cols = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, np.int64)
        self.grid = self._criterion_grid(pack) if use_grid else None
        # vals [g, k, m] per group: T | judged marks | criterion columns (grid: packed keys, then the unit
        # columns of the criteria at risk of the floor; generic: the ratio of every criterion)
        self.groups = []
        for k, c0, c1, rows in group_rows:
            parts = [totals[rows][:, :, None], marks[rows]]
            if self.grid is not None:
                packed, at_risk, risk_units = self._grid_columns(k, reviews.levels[rows])
                parts += [packed, risk_units]
                extra = (packed.shape[2], at_risk)
            else:
                parts.append(ratios[rows])
                extra = None
            vals = np.concatenate(parts, axis=2)                                    # [g, k, m]
            self.groups.append((k, c0, c1, np.ascontiguousarray(vals.transpose(0, 2, 1)), extra))  # [g, m, k]
        self.n_rows = int(sum(g[3].shape[0] * g[3].shape[2] for g in self.groups))
        nc = self.nc = len(self.cols)
        # static tie-breaks (requested asc, id asc) as one integer key, the least significant
        id_rank = np.empty(n, np.int64)
        id_rank[np.argsort(table.ids, kind="stable")] = np.arange(n)
        requested_key = np.where(table.requested_known, table.requested, ranking.funded)
        self.static = np.empty(nc, np.int64)
        self.static[np.lexsort((id_rank[self.cols], requested_key[self.cols]))] = np.arange(nc)
        self.funded_c = ranking.funded.astype(np.int64)[self.cols]
        self.bonus_fixed_c = bonus_fixed[self.cols]
        # key ranges: a qualifying B is in [pass line, max T], S in [B, max T + bonus cap]
        t_c = totals[counted] if len(counted) else np.zeros(1)
        self.b_hi = int(np.rint(float(t_c.max()) * SCALE)) + 1
        self.s_hi = int(np.rint((float(t_c.max()) + self.bonus_cap) * SCALE)) + 1
        self.s_bits = max(self.s_hi - self.pass_i + 1, 1).bit_length()
        self.b_bits = max(self.b_hi - self.pass_i, 1).bit_length()

    def _criterion_grid(self, pack: CriteriaPack) -> dict | None:
        """Exact integer criterion keys, when the pack's ratios lie on a grid (e.g. quarters).

        With ratios = units × u (u = gcd of the ratios in 10⁻⁶) and L = lcm of the review counts k, a mean
        ratio is sum_units × (L / k) × (u / L): an integer on a common grid for every k. When that grid is
        coarser than the core's rounding (u / L ≥ 2·10⁻⁶, and no grid value falls exactly on a rounding
        half), comparing these integers is exactly comparing the rounded means of selection.md §8, and the
        integers come straight out of the matrix product (exact in float64 below 2⁵³). Otherwise None: the
        generic path rounds each mean.
        """
        C = self.C
        if not C or not self.groups:
            return None
        micro = {lv: ratio * SCALE for lv, ratio in pack.levels.items()}
        if any(abs(m - round(m)) > 1e-6 for m in micro.values()):
            return None
        mi = {lv: int(round(m)) for lv, m in micro.items()}
        gu = math.gcd(*mi.values()) or SCALE
        units = {lv: m // gu for lv, m in mi.items()}
        max_units = max(units.values())
        ks = [k for k, *_ in self.groups]
        L = math.lcm(*ks)
        if gu < 2 * L:
            return None
        span = max_units * L                        # a mean's grid value is in [0, span]
        bits_c = max(span, 1).bit_length()
        per_key = 52 // bits_c
        if per_key < 1:
            return None
        floor_units = {}
        for k in ks:  # exact: r6(units·u/k) = round(gu·units/k) in 10⁻⁶; refuse a grid with exact halves
            thr = None
            for su in range(max_units * k + 1):
                num, den = 2 * gu * su, k
                if num % den == 0 and (num // den) % 2 == 1:
                    return None
                if thr is None and (num + den) // (2 * den) >= self.floor_i:
                    thr = su
            floor_units[k] = max_units * k + 1 if thr is None else thr
        lut = np.zeros(max(units) + 1, np.int64)
        for lv, uu in units.items():
            lut[lv] = uu
        return {"lut": lut, "L": L, "span": span, "bits_c": bits_c, "per_key": per_key,
                "floor_units": floor_units}

    def _grid_columns(self, k: int, lv: np.ndarray) -> tuple[np.ndarray, list[int], np.ndarray]:
        """For a group's levels [g, k, C]: exact packed criterion-key columns [g, k, n_keys] (value per review,
        summing to Σ_c (span − grid value of c) · 2^shift_c, best first), the criteria at risk of the floor and
        their unit columns."""
        gr = self.grid
        C = self.C
        u = gr["lut"][np.clip(lv, 0, len(gr["lut"]) - 1)].astype(np.int64)         # [g, k, C]
        scale = gr["L"] // k
        cols = []
        for j0 in range(0, C, gr["per_key"]):
            packed = np.zeros(u.shape[:2], np.int64)
            for c in range(j0, min(j0 + gr["per_key"], C)):
                packed = (packed << gr["bits_c"]) + u[:, :, c] * scale
            cols.append(packed)
        # a criterion can fall under the floor only where some review of the group is under it on its own
        at_risk = [c for c in range(C) if (u[:, :, c] < gr["floor_units"][k] / k).any()]
        return np.stack(cols, axis=2).astype(float), at_risk, u[:, :, at_risk].astype(float)

    # -- one chunk of resamples ----------------------------------------------------------------------------
    def _keys(self, counts: list[np.ndarray]) -> tuple[list[np.ndarray], list[int], np.ndarray]:
        """counts[i]: [g, k, R] draw counts of group i → (sort keys [nc, R] most significant first, their bit
        widths, qualifying [nc, R]) — one column per resample. Keys: S (non-qualifying last), B, the criterion mean ratios in pack order
        (all "smaller sorts first"), then the static tie-breaks."""
        R = counts[0].shape[2] if counts else 1
        nc, C, J = self.nc, self.C, self.J
        gr = self.grid
        sb_packed = self.s_bits + self.b_bits <= 63
        s_key = np.empty((nc, R), np.int64)
        b_key = s_key if sb_packed else np.empty((nc, R), np.int64)
        if gr is not None:
            n_ck = -(-C // gr["per_key"])
            c_bits = [gr["bits_c"] * (min(j0 + gr["per_key"], C) - j0) for j0 in range(0, C, gr["per_key"])]
            c_max = []
            for j0 in range(0, C, gr["per_key"]):
                m = 0
                for _ in range(j0, min(j0 + gr["per_key"], C)):
                    m = (m << gr["bits_c"]) + gr["span"]
                c_max.append(m)
        else:
            n_ck = -(-C // 3)
            c_bits = [20 * (min(j0 + 3, C) - j0) for j0 in range(0, C, 3)]
        c_keys = [np.empty((nc, R), np.int64) for _ in range(n_ck)]
        qual = np.empty((nc, R), bool)
        nonqual = self.s_hi - self.pass_i + 1
        for (k, c0, c1, vals, extra), w in zip(self.groups, counts):
            sums = np.matmul(vals, w if w.dtype == np.float64 else w.astype(np.float64))  # [g, m, R]
            t_sorted = vals[:, 0, :, None]                                          # [g, k, 1] ascending
            if self.agg_method == Aggregation.median:
                cum = np.cumsum(w, axis=1)
                lo = np.take_along_axis(t_sorted, (cum > (k - 1) // 2).argmax(axis=1)[:, None, :], 1)[:, 0]
                hi = np.take_along_axis(t_sorted, (cum > k // 2).argmax(axis=1)[:, None, :], 1)[:, 0]
                b = (lo + hi) / 2.0
            elif self.agg_method == Aggregation.trimmed and k >= self.trim_min:
                drawn = w > 0
                lo = np.take_along_axis(t_sorted, drawn.argmax(axis=1)[:, None, :], 1)[:, 0]
                hi = np.take_along_axis(t_sorted, (k - 1 - drawn[:, ::-1].argmax(axis=1))[:, None, :], 1)[:, 0]
                b = (sums[:, 0] - lo - hi) / (k - 2)
            else:
                b = sums[:, 0] / k
            if J or self.bonus_fixed_c[c0:c1].any():
                bonus = np.repeat(self.bonus_fixed_c[c0:c1, None], b.shape[1], axis=1)
                for j in range(J):  # judged: strictly more than half of the (resampled) counted reviewers
                    bonus += (2 * sums[:, 1 + j] > k) * self.judged_pts[j]
                np.minimum(bonus, self.bonus_cap, out=bonus)
                total = b + bonus
            else:
                total = b
            b_i = np.rint(b * SCALE).astype(np.int64)                              # [g, R]
            s_i = np.rint(total * SCALE).astype(np.int64)
            q = b_i >= self.pass_i
            crit = sums[:, 1 + J:]
            if gr is not None:
                n_packed, at_risk = extra
                if at_risk:  # exact integers in float: the unit sums against the group's threshold
                    q &= (crit[:, n_packed:] >= gr["floor_units"][k] - 0.5).all(axis=1)
                c_vals = [np.int64(c_max[j]) - crit[:, j].astype(np.int64) for j in range(n_ck)]
            elif C:
                c_i = np.rint(crit * (SCALE / k)).astype(np.int64)                  # rounded mean ratios
                q &= (c_i >= self.floor_i).all(axis=1)
                c_vals = []
                for j0 in range(0, C, 3):  # 20 bits each (10⁶ < 2²⁰), three to a key
                    packed = np.zeros(q.shape, np.int64)
                    for c in range(j0, min(j0 + 3, C)):
                        packed = (packed << 20) | (SCALE - c_i[:, c])
                    c_vals.append(packed)
            else:
                c_vals = []
            qual[c0:c1] = q
            sk = np.where(q, self.s_hi - s_i, nonqual)
            bk = np.where(q, self.b_hi - b_i, 0)
            if sb_packed:
                np.bitwise_or(sk << self.b_bits, bk, out=s_key[c0:c1])
            else:
                s_key[c0:c1] = sk
                b_key[c0:c1] = bk
            for j in range(n_ck):
                np.multiply(q, c_vals[j], out=c_keys[j][c0:c1])
        if sb_packed:
            keys, bits = [s_key], [self.s_bits + self.b_bits]
        else:
            keys, bits = [s_key, b_key], [self.s_bits, self.b_bits]
        keys += c_keys + [np.broadcast_to(self.static[:, None], (nc, R))]
        bits += c_bits + [max(nc - 1, 1).bit_length()]
        for key, nb in zip(keys[:-1], bits[:-1]):  # the ranges are exact by construction; check them anyway
            if key.size and (int(key.min()) < 0 or int(key.max()) >= (1 << nb)):
                raise RuntimeError("sort key out of range in the bootstrap engine")
        return keys, bits, qual

    @staticmethod
    def _digits(keys: list[np.ndarray], bits: list[int]) -> list[np.ndarray]:
        """Split non-negative integer keys (most significant first) into 16-bit digits, least significant
        first, for np.lexsort (which radix-sorts 16-bit keys)."""
        out: list[np.ndarray] = []
        for key, nb in zip(reversed(keys), reversed(bits)):
            for shift in range(0, max(nb, 1), 16):
                out.append(((key >> shift) & 0xFFFF).astype(np.uint16))
        return out

    def _rank(self, counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """→ (rank [nc, R] 0 = unranked, selected [nc, R], qualifying [nc, R]) for one chunk of resamples."""
        keys, bits, qual = self._keys(counts)
        nc, R = qual.shape
        order = np.lexsort(self._digits(keys, bits), axis=0)                   # per resample: columns, best first
        q_sorted = np.take_along_axis(qual, order, axis=0)
        pos = np.empty((nc, R), np.int32)
        np.put_along_axis(pos, order, np.broadcast_to(np.arange(1, nc + 1, dtype=np.int32)[:, None], (nc, R)), axis=0)
        ranks = np.where(qual, pos, 0)
        selected = np.zeros((nc, R), bool)
        if self.limit is not None and nc:
            f_sorted = self.funded_c[order]
            limit = int(self.limit)
            if self.params.selection == SelectionMethod.greedy_stop:
                cum = np.cumsum(np.where(q_sorted, f_sorted, 0), axis=0)
                sel_sorted = q_sorted & (cum <= limit)
            else:  # greedy_skip: walk the rank positions, all resamples at once (integers: money stays exact)
                sel_sorted = np.zeros((nc, R), bool)
                remaining = np.full(R, limit, np.int64)
                n_walk = int(q_sorted.sum(axis=0).max())
                fmin = int(self.funded_c.min())
                take = np.empty(R, bool)
                for j in range(n_walk):
                    a = f_sorted[j]
                    np.less_equal(a, remaining, out=take)
                    take &= q_sorted[j]
                    sel_sorted[j] = take
                    remaining -= a * take
                    if fmin > 0 and j % 16 == 15 and (remaining < fmin).all():
                        break
            np.put_along_axis(selected, order, sel_sorted, axis=0)
        return ranks, selected, qual

    def identity(self) -> tuple[np.ndarray, np.ndarray]:
        """The engine on the original reviews (each drawn once), per proposal: must equal the official ranking."""
        counts = [np.ones((c1 - c0, k, 1), np.int64) for k, c0, c1, *_ in self.groups]
        ranks = np.zeros(self.n, np.int64)
        selected = np.zeros(self.n, bool)
        if self.nc:
            r, s, _ = self._rank(counts)
            ranks[self.cols] = r[:, 0]
            selected[self.cols] = s[:, 0]
        return ranks, selected

    def run(self, n_resamples: int, seed: int, chunk_elems: int = 1_500_000
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """→ rank [R, nc] (0 = unranked), selected [R, nc], qualifying [R, nc]; column j is proposal cols[j]."""
        rng = np.random.default_rng(seed)
        nc = self.nc
        per_resample = max(self.n_rows, nc * (4 + self.C), 1)
        chunk = int(max(1, min(n_resamples, chunk_elems // per_resample)))
        ranks = np.zeros((n_resamples, nc), np.int32)
        selected = np.zeros((n_resamples, nc), bool)
        qual = np.zeros((n_resamples, nc), bool)
        if nc == 0:
            return ranks, selected, qual
        for start in range(0, n_resamples, chunk):
            R = min(chunk, n_resamples - start)
            counts = []
            for k, c0, c1, *_ in self.groups:
                g = c1 - c0
                # k draws with replacement per proposal and resample: u[i, d, r] = which review of proposal i
                # the d-th draw of resample r takes; counts w[i, j, r] = how often review j was drawn
                u = rng.integers(0, k, size=(g, k, R), dtype=np.uint8 if k < 256 else np.int64)
                if k <= 16:  # k comparisons of small integers beat a scatter for few reviews
                    w = np.empty((g, k, R))
                    for j in range(k):
                        np.sum(u == j, axis=1, out=w[:, j, :])
                else:
                    at = np.arange(g, dtype=np.int64)[:, None, None] * (k * R) + np.arange(R, dtype=np.int64)
                    flat = (at + u.astype(np.int64) * R).ravel()
                    w = np.bincount(flat, minlength=g * k * R).reshape(g, k, R).astype(np.float64)
                counts.append(w)
            r, s, q = self._rank(counts)
            ranks[start:start + R] = r.T
            selected[start:start + R] = s.T
            qual[start:start + R] = q.T
        return ranks, selected, qual


def _order_stat_bounds(R: int, level: float) -> tuple[int, int]:
    """Indices (0-based, into the R sorted values) of the lower and upper bound of a central interval."""
    a = (1.0 - level) / 2.0
    lo = int(math.floor(a * R + 1e-9))
    hi = int(math.ceil((1.0 - a) * R - 1e-9)) - 1
    return lo, max(lo, hi)


def bootstrap_ranks(ranking: Ranking, reviews: ReviewTable, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0) -> dict:
    """Rank intervals and selection probabilities by resampling each proposal's counted reviews.

    Per proposal: median rank, 80% and 95% rank intervals, P(selected), P(qualifying) and whether it is in the
    gray zone (strictly more than 2.5% of the resamples on each side of the funding line, i.e. its 95%
    interval of outcomes holds both "selected" and "not selected"). Deterministic for a given seed.
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    eng = _Engine(ranking, reviews)
    n = eng.n
    id_ranks, id_sel = eng.identity()
    reproduces = bool(np.array_equal(id_ranks, ranking.rank) and np.array_equal(id_sel, _selected(ranking)))
    ranks_c, selected_c, qual_c = eng.run(n_resamples, seed)
    R = n_resamples
    unranked = n + 1
    bounds = {name: _order_stat_bounds(R, lvl) for name, lvl in INTERVALS.items()}
    # per proposal: sorted resampled ranks (unranked = n + 1, worse than any rank); non-candidates never rank
    sorted_c = np.sort(np.where(ranks_c > 0, ranks_c, unranked), axis=0)
    sorted_ranks = np.full((R, n), unranked, np.int64)
    sorted_ranks[:, eng.cols] = sorted_c
    med = sorted_ranks[(R - 1) // 2]  # the lower median: always an attained rank
    n_sel = np.zeros(n, np.int64)
    n_sel[eng.cols] = selected_c.sum(axis=0)
    n_qual = np.zeros(n, np.int64)
    n_qual[eng.cols] = qual_c.sum(axis=0)
    p_sel = n_sel / R
    p_qual = n_qual / R
    has_line = eng.limit is not None
    side_min = int(math.floor((1.0 - GRAY_LEVEL) / 2.0 * R + 1e-9))  # more than this on each side
    gray = has_line & eng.cand & (n_sel > side_min) & ((R - n_sel) > side_min)

    def bound(v: int) -> int | None:
        return None if v >= unranked else int(v)

    rows = []
    for i in ranking.order:
        i = int(i)
        iv = {name: [bound(sorted_ranks[lo, i]), bound(sorted_ranks[hi, i])] for name, (lo, hi) in bounds.items()}
        rows.append({
            "proposal_id": str(ranking.table.ids[i]),
            "rank": int(ranking.rank[i]) or None,
            "decision": list(Decision)[ranking.decision[i]].value,
            "total_score": _f(ranking.total[i]),
            "median_rank": bound(med[i]),
            "rank_80": iv["80"], "rank_95": iv["95"],
            "p_selected": float(p_sel[i]) if has_line else None,
            "p_qualifying": float(p_qual[i]),
            "gray_zone": bool(gray[i]),
            "resampled": bool(eng.cand[i]),
        })
    gray_ids = [r["proposal_id"] for r in rows if r["gray_zone"]]
    return {
        "n_resamples": R, "seed": int(seed), "aggregation": eng.agg_method.value,
        "budget_line": has_line, "reproduces_official": reproduces,
        "gray_zone": gray_ids,
        "gray_zone_rule": {"level": GRAY_LEVEL, "min_resamples_each_side": side_min + 1},
        "proposals": rows,
        "reading": _uncertainty_reading(gray_ids, has_line, R, "ja"),
        "reading_en": _uncertainty_reading(gray_ids, has_line, R, "en"),
    }


def _uncertainty_reading(gray: list[str], has_line: bool, R: int, lang: str) -> str:
    if not has_line:
        return ("No budget is set: rank intervals only, no selection probability." if lang == "en"
                else "予算が設定されていないため、順位の区間のみを示し、採択確率は計算しません。")
    if not gray:
        return (f"Over {R:,} resamples of the reviews, no proposal's 95% interval crosses the funding line."
                if lang == "en" else
                f"評価の再標本化（{R:,}回）で、95%区間が採択ラインをまたぐ提案はありません。")
    ids = ", ".join(gray) if lang == "en" else "、".join(gray)
    if lang == "en":
        return f"{len(gray)} proposal(s) in the gray zone around the funding line ({ids}): their selection " \
               f"depends on which reviewers happened to score them. Discuss them first."
    return f"採択ライン付近のグレーゾーンに {len(gray)} 件（{ids}）：採否が評価委員の組合せに左右されます。" \
           f"委員会で優先して議論してください。"


# =============================================================================================================
# 3. Reviewer calibration and agreement
# =============================================================================================================

def icc_k(y: np.ndarray) -> dict:
    """Shrout–Fleiss (1979) two-way ICC(2,k) and ICC(3,k) of a complete targets × raters matrix."""
    y = np.asarray(y, float)
    n, k = y.shape
    gm = y.mean()
    ss_rows = k * ((y.mean(axis=1) - gm) ** 2).sum()
    ss_cols = n * ((y.mean(axis=0) - gm) ** 2).sum()
    ss_tot = ((y - gm) ** 2).sum()
    ss_err = ss_tot - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    icc2 = (msr - mse) / (msr + (msc - mse) / n) if (msr + (msc - mse) / n) != 0 else float("nan")
    icc3 = (msr - mse) / msr if msr != 0 else float("nan")
    return {"icc2k": float(icc2), "icc3k": float(icc3), "ms_rows": float(msr), "ms_cols": float(msc),
            "ms_error": float(mse)}


def kendall_w(y: np.ndarray) -> float:
    """Kendall's W with the tie correction, of a complete objects × raters matrix (raters rank the objects)."""
    from scipy.stats import rankdata

    y = np.asarray(y, float)
    n, m = y.shape
    r = rankdata(y, axis=0)                                    # average ranks for ties, per rater (column)
    s = ((r.sum(axis=1) - m * (n + 1) / 2.0) ** 2).sum()
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(y[:, j], return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denom = m * m * (n ** 3 - n) - m * ties
    return float(12.0 * s / denom) if denom > 0 else float("nan")


def balanced_subset(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A complete block of a proposals × reviewers presence matrix: repeatedly drop the proposal or reviewer
    with the largest share of missing reviews (ties: the smaller line, then the later one) until complete.
    Returns (row mask, column mask)."""
    rows = present.any(axis=1)
    cols = present.any(axis=0)
    while rows.any() and cols.any():
        sub = present[np.ix_(rows, cols)]
        if sub.all():
            break
        r_idx, c_idx = np.nonzero(rows)[0], np.nonzero(cols)[0]
        r_miss = 1.0 - sub.mean(axis=1)
        c_miss = 1.0 - sub.mean(axis=0)
        rj = int(np.lexsort((-np.arange(len(r_miss)), -r_miss))[0])
        cj = int(np.lexsort((-np.arange(len(c_miss)), -c_miss))[0])
        if r_miss[rj] > c_miss[cj] or (r_miss[rj] == c_miss[cj] and len(c_idx) >= len(r_idx)):
            rows[r_idx[rj]] = False
        else:
            cols[c_idx[cj]] = False
    return rows, cols


def _agreement_reading(icc2: float | None, w: float | None, lang: str) -> str:
    parts = []
    if icc2 is not None:
        if icc2 >= 0.9:
            parts.append(("Reviewers' total scores agree excellently (ICC(2,k) ≥ 0.9)." if lang == "en"
                          else "委員間の評価は非常によく一致しています（ICC(2,k) ≥ 0.9）。"))
        elif icc2 >= 0.75:
            parts.append(("Reviewers' total scores agree well (ICC(2,k) 0.75–0.9)." if lang == "en"
                          else "委員間の評価はよく一致しています（ICC(2,k) 0.75〜0.9）。"))
        elif icc2 >= 0.5:
            parts.append(("Agreement between reviewers is moderate (ICC(2,k) 0.5–0.75): check closely ranked "
                          "proposals in the meeting." if lang == "en"
                          else "委員間の評価の一致は中程度です（ICC(2,k) 0.5〜0.75）。順位の近い提案は委員会で確認してください。"))
        else:
            parts.append(("Scores vary widely between reviewers (ICC(2,k) < 0.5): the ranking is fragile; "
                          "discuss the proposals near the funding line." if lang == "en"
                          else "評価のばらつきが大きい（ICC(2,k) < 0.5）。順位は不安定です。採択ライン付近の提案を委員会で議論してください。"))
    if w is not None:
        if w >= 0.7:
            parts.append("The reviewers' orderings agree strongly (Kendall's W ≥ 0.7)." if lang == "en"
                         else "順位付けの一致度は高い（Kendall の W ≥ 0.7）。")
        elif w >= 0.5:
            parts.append("The reviewers' orderings agree moderately (Kendall's W 0.5–0.7)." if lang == "en"
                         else "順位付けの一致度は中程度（Kendall の W 0.5〜0.7）。")
        elif w >= 0.3:
            parts.append("The reviewers' orderings agree weakly (Kendall's W 0.3–0.5)." if lang == "en"
                         else "順位付けの一致度は低い（Kendall の W 0.3〜0.5）。")
        else:
            parts.append("The reviewers order the proposals very differently (Kendall's W < 0.3)." if lang == "en"
                         else "委員ごとの順位付けが大きく異なります（Kendall の W < 0.3）。評価のばらつきが大きい。")
    return " ".join(parts) if lang == "en" else "".join(parts)


def _leniency_reading(len_: float | None, flagged: bool, threshold: float, lang: str) -> str:
    if len_ is None:
        return ("No proposal shared with another reviewer." if lang == "en"
                else "他の委員と共通の評価対象がありません。")
    if flagged:
        if lang == "en":
            return f"{'More lenient' if len_ > 0 else 'Stricter'} than the others by {abs(len_):.2f} points " \
                   f"on average (threshold {threshold:g})."
        return f"他の委員より平均 {abs(len_):.2f} 点{'甘い' if len_ > 0 else '厳しい'}評価です（基準 {threshold:g} 点）。"
    if lang == "en":
        return f"In line with the others ({len_:+.2f} points on average)."
    return f"他の委員とおおむね同水準です（平均差 {len_:+.2f} 点）。"


def calibration(ranking: Ranking, reviews: ReviewTable, reviewers: list | None = None,
                threshold: float = DEFAULT_LENIENCY_THRESHOLD) -> dict:
    """Per reviewer leniency against the panel, agreement (ICC(2,k), ICC(3,k), Kendall's W) and per-proposal
    disagreement. Uses the raw reviewer totals T(r,p) (before any normalisation) of counted reviews."""
    _check_reviews(ranking, reviews)
    pack, agg, table = ranking.pack, ranking.agg, ranking.table
    n, C = table.n, len(pack.criteria)
    idx = np.nonzero(agg.counted)[0]
    prop = reviews.prop[idx]
    t = np.asarray(agg.raw_totals, float)[idx]
    points = np.array([c.points for c in pack.criteria], float)
    cp = agg.ratios[idx] * points[None, :] if len(idx) else np.zeros((0, C))
    rev = reviews.reviewer[idx].astype(str)
    uniq, codes = np.unique(rev, return_inverse=True) if len(idx) else (np.zeros(0, str), np.zeros(0, np.int64))
    V = len(uniq)
    names = {r.reviewer_id: r.name for r in (reviewers or [])}

    # leniency: T(r,p) − mean of the other reviewers' T on p, averaged over r's proposals that others reviewed
    cnt = np.bincount(prop, minlength=n)
    s_t = np.bincount(prop, weights=t, minlength=n)
    s_c = np.stack([np.bincount(prop, weights=cp[:, c], minlength=n) for c in range(C)], axis=1) if C else \
        np.zeros((n, 0))
    has_other = cnt[prop] >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (s_t[prop] - t) / (cnt[prop] - 1)
        others_c = (s_c[prop] - cp) / (cnt[prop] - 1)[:, None]
    diff = np.where(has_other, t - others, 0.0)
    diff_c = np.where(has_other[:, None], cp - others_c, 0.0)
    n_r = np.bincount(codes, minlength=V)
    n_shared = np.bincount(codes, weights=has_other.astype(float), minlength=V)
    mean_r = np.bincount(codes, weights=t, minlength=V) / np.maximum(n_r, 1)
    dev = t - mean_r[codes]
    var_r = np.bincount(codes, weights=dev * dev, minlength=V) / np.maximum(n_r - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        len_r = np.bincount(codes, weights=diff, minlength=V) / n_shared
        panel_r = np.bincount(codes, weights=np.where(has_other, others, 0.0), minlength=V) / n_shared
        len_c = np.stack([np.bincount(codes, weights=diff_c[:, c], minlength=V) for c in range(C)], axis=1) \
            / n_shared[:, None] if C else np.zeros((V, 0))
    reviewer_rows = []
    for v in range(V):
        lv = _f(len_r[v]) if n_shared[v] else None
        flagged = lv is not None and abs(lv) > threshold
        reviewer_rows.append({
            "reviewer_id": str(uniq[v]), "name": names.get(str(uniq[v]), ""),
            "n_reviews": int(n_r[v]), "n_shared": int(n_shared[v]),
            "mean": _f(mean_r[v]), "sd": _f(math.sqrt(var_r[v])) if n_r[v] >= 2 else None,
            "panel_mean": _f(panel_r[v]) if n_shared[v] else None,
            "leniency": lv,
            "criteria_leniency": {c.id: (_f(len_c[v, k]) if n_shared[v] else None)
                                  for k, c in enumerate(pack.criteria)},
            "flagged": bool(flagged),
            "reading": _leniency_reading(lv, flagged, threshold, "ja"),
            "reading_en": _leniency_reading(lv, flagged, threshold, "en"),
        })
    reviewer_rows.sort(key=lambda r: (-(abs(r["leniency"]) if r["leniency"] is not None else -1), r["reviewer_id"]))

    agreement = _agreement(prop, codes, t, n, V, uniq, table.ids)

    # disagreement per proposal: sd and range of the counted reviewer totals
    dis = []
    if len(idx):
        order = np.lexsort((t, prop))
        ts, ps = t[order], prop[order]
        starts = np.searchsorted(ps, np.arange(n))
        mean_p = s_t / np.maximum(cnt, 1)
        dev_p = t - mean_p[prop]
        var_p = np.bincount(prop, weights=dev_p * dev_p, minlength=n) / np.maximum(cnt - 1, 1)
        for i in range(n):
            k = int(cnt[i])
            if k < 2:
                continue
            lo, hi = float(ts[starts[i]]), float(ts[starts[i] + k - 1])
            dis.append({"proposal_id": str(table.ids[i]), "n": k, "mean": _f(mean_p[i]),
                        "sd": _f(math.sqrt(var_p[i])), "min": lo, "max": hi, "range": hi - lo,
                        "rank": int(ranking.rank[i]) or None,
                        "decision": list(Decision)[ranking.decision[i]].value})
        dis.sort(key=lambda r: (-(r["sd"] or 0.0), r["proposal_id"]))
    return {"threshold": float(threshold), "basis": "raw reviewer totals of counted reviews",
            "n_reviewers": V, "n_flagged": sum(r["flagged"] for r in reviewer_rows),
            "reviewers": reviewer_rows, "agreement": agreement, "disagreement": dis}


def _agreement(prop, codes, t, n, V, uniq, ids) -> dict:
    out: dict[str, Any] = {"icc2k": None, "icc3k": None, "kendall_w": None, "balanced": None,
                           "reason": None, "reason_en": None}
    if V < 2 or len(t) == 0:
        out["reason"] = "評価委員が2名未満のため一致度を計算できません。"
        out["reason_en"] = "Fewer than 2 reviewers: agreement cannot be computed."
        out["reading"], out["reading_en"] = out["reason"], out["reason_en"]
        return out
    y = np.full((n, V), np.nan)
    y[prop, codes] = t
    present = ~np.isnan(y)
    rows, cols = balanced_subset(present)
    nr, nc = int(rows.sum()), int(cols.sum())
    left_p = int(present.any(axis=1).sum()) - nr
    left_v = V - nc
    if nr < 3 or nc < 2:
        out["reason"] = (f"評価の割当てが均衡していないため（全員が共通して評価した提案が{nr}件・委員{nc}名）、"
                         "ICC と Kendall の W は計算しません（3件以上・2名以上の完全な組が必要）。")
        out["reason_en"] = (f"The design is not balanced enough (a complete block of only {nr} proposals × {nc} "
                            "reviewers): ICC and Kendall's W need at least 3 proposals all scored by the same "
                            "2 or more reviewers.")
        out["reading"], out["reading_en"] = out["reason"], out["reason_en"]
        return out
    sub = y[np.ix_(rows, cols)]
    icc = icc_k(sub)
    w = kendall_w(sub)
    out.update({"icc2k": _f(icc["icc2k"]), "icc3k": _f(icc["icc3k"]), "kendall_w": _f(w),
                "balanced": {"n_proposals": nr, "n_reviewers": nc,
                             "reviewer_ids": [str(u) for u in uniq[cols]],
                             "proposal_ids": [str(p) for p in ids[rows]],
                             "left_out_proposals": left_p, "left_out_reviewers": left_v}})
    if left_p or left_v:
        out["reason"] = f"均衡した部分（提案{nr}件 × 委員{nc}名）で計算（提案{left_p}件・委員{left_v}名を除外）。"
        out["reason_en"] = f"Computed on the balanced block of {nr} proposals × {nc} reviewers " \
                           f"({left_p} proposals and {left_v} reviewers left out)."
    out["reading"] = _agreement_reading(out["icc2k"], out["kendall_w"], "ja")
    out["reading_en"] = _agreement_reading(out["icc2k"], out["kendall_w"], "en")
    return out


# =============================================================================================================
# 4. Sensitivity: criterion points ±20%, other aggregation methods
# =============================================================================================================

def _resolutions(ranking: Ranking) -> dict:
    """The chair's resolutions the ranking was computed with, rebuilt from its eligibility result."""
    rules = ranking.elig.rules
    return {(str(ranking.table.ids[i]), rules[k].id): res for (i, k), res in ranking.elig.resolved_by.items()}


def _rerank(ranking: Ranking, reviews: ReviewTable, pack: CriteriaPack | None = None, **param_changes) -> Ranking:
    """rank() again with the same inputs (conflicted rows removed, so no reviewer list is needed; resolutions
    rebuilt) and a changed pack or parameters."""
    sub = reviews.subset(~ranking.agg.conflicted)
    params = replace(ranking.params, **param_changes) if param_changes else ranking.params
    return rank(pack or ranking.pack, ranking.table, sub, None, params, _resolutions(ranking))


def scaled_pack(pack: CriteriaPack, criterion_id: str, factor: float) -> CriteriaPack:
    """A validated copy of the pack with one criterion's points × factor (total_points follows)."""
    data = pack_to_dict(pack)
    for c in data["criteria"]:
        if c["id"] == criterion_id:
            c["points"] = float(c["points"]) * factor
            break
    else:
        raise KeyError(criterion_id)
    data["total_points"] = sum(float(c["points"]) for c in data["criteria"])
    return validate_pack(data, source=f"{pack.source or pack.id} ({criterion_id} ×{factor:g})")


def _compare(base: Ranking, other: Ranking) -> dict:
    ids = base.table.ids
    sel0, sel1 = _selected(base), _selected(other)
    changed = np.nonzero(base.decision != other.decision)[0]
    both = (base.rank > 0) & (other.rank > 0)
    shift = np.abs(base.rank - other.rank)[both]
    dec = list(Decision)
    return {
        "entered": [str(ids[i]) for i in other.order if sel1[i] and not sel0[i]],
        "left": [str(ids[i]) for i in base.order if sel0[i] and not sel1[i]],
        "decision_changes": [{"proposal_id": str(ids[i]), "from": dec[base.decision[i]].value,
                              "to": dec[other.decision[i]].value,
                              "rank_from": int(base.rank[i]) or None, "rank_to": int(other.rank[i]) or None}
                             for i in changed],
        "n_rank_changes": int((base.rank != other.rank).sum()),
        "max_rank_shift": int(shift.max()) if len(shift) else 0,
    }


def sensitivity(ranking: Ranking, reviews: ReviewTable, factors: tuple[float, ...] = SENSITIVITY_FACTORS) -> dict:
    """Re-rank with each criterion's points × each factor, and under every other aggregation method."""
    _check_reviews(ranking, reviews)
    same = _rerank(ranking, reviews)
    if not (np.array_equal(same.decision, ranking.decision) and np.array_equal(same.rank, ranking.rank)):
        raise ValueError("the ranking cannot be reproduced from these reviews: pass the ReviewTable it was "
                         "ranked from")
    crit_rows = []
    flips: dict[str, list[str]] = {}
    for c in ranking.pack.criteria:
        for f in factors:
            other = _rerank(ranking, reviews, pack=scaled_pack(ranking.pack, c.id, f))
            row = {"criterion": c.id, "label": c.label.ja, "label_en": c.label.get("en"), "factor": float(f),
                   "points": float(c.points * f), **_compare(ranking, other)}
            crit_rows.append(row)
            for pid in row["entered"] + row["left"]:
                flips.setdefault(pid, []).append(f"{c.id}×{f:g}")
    agg_rows = []
    for a in Aggregation:
        if a == ranking.params.aggregation:
            continue
        other = _rerank(ranking, reviews, aggregation=a)
        row = {"aggregation": a.value, **_compare(ranking, other)}
        agg_rows.append(row)
        for pid in row["entered"] + row["left"]:
            flips.setdefault(pid, []).append(f"aggregation={a.value}")
    stable = not flips
    return {"factors": [float(f) for f in factors], "pass_line": float(ranking.params.pass_line),
            "criteria": crit_rows, "aggregation": agg_rows,
            "flips": [{"proposal_id": pid, "under": v} for pid, v in flips.items()],
            "reading": ("配点の±20%変更・集計方法の変更のいずれでも採択される提案は変わりません。" if stable else
                        f"配点や集計方法の変更で採否が入れ替わる提案が {len(flips)} 件あります："
                        + "、".join(flips) + "。"),
            "reading_en": ("No variant (criterion points ±20%, other aggregation methods) changes the selected set."
                           if stable else f"{len(flips)} proposal(s) change selection under some variant: "
                           + ", ".join(flips) + ".")}


# =============================================================================================================
# Everything at once
# =============================================================================================================

def analyze(source: Any, reviews: ReviewTable | None = None, *, reviewers: list | None = None, params=None,
            resolutions: dict | None = None, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
            leniency_threshold: float = DEFAULT_LENIENCY_THRESHOLD, portfolio_time_limit: float | None = 60.0
            ) -> dict:
    """All analyses of one pack's round as one JSON-serialisable dict.

    ``source`` is a :class:`~scoring.call.Call` (ranked here with ``params``/``resolutions``) or an official
    :class:`~scoring.selection.Ranking` (then ``reviews`` is the ReviewTable it was ranked from).
    """
    if isinstance(source, Ranking):
        if reviews is None:
            raise ValueError("analyze(ranking, reviews): the ReviewTable the ranking was ranked from is needed")
        ranking = source
    else:  # a Call
        ranking = source.rank(params, resolutions)
        reviews = source.reviews if reviews is None else reviews
        reviewers = source.reviewers if reviewers is None else reviewers
    return {
        "pack": ranking.pack.id, "pack_version": ranking.pack.version,
        "parameters": ranking.params.as_dict(ranking.pack), "budget": ranking.budget_dict(),
        "counts": ranking.counts(),
        "portfolio": optimal_portfolio(ranking, portfolio_time_limit),
        "uncertainty": bootstrap_ranks(ranking, reviews, n_resamples, seed),
        "calibration": calibration(ranking, reviews, reviewers, leniency_threshold),
        "sensitivity": sensitivity(ranking, reviews),
    }


__all__ = ["analyze", "optimal_portfolio", "bootstrap_ranks", "calibration", "sensitivity", "knapsack", "icc_k",
           "kendall_w", "balanced_subset", "scaled_pack"]
