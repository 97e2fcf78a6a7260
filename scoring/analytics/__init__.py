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

from ..models import Aggregation, Decision, SelectionMethod
from ..packs import CriteriaPack, pack_to_dict, validate_pack
from ..selection import DECIMALS, Ranking, r6, rank, requested_key
from ..table import ReviewTable

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

BLOCK = 100                            # resamples per random block (each block: its own child of the seed)
WORD_BITS = 62                         # integer fields packed into one int64 word (sums never overflow)


def _threads_default() -> int:
    import os

    return max(1, min(2, os.cpu_count() or 1))


class _Engine:
    """The selection rules of selection.md §4–9 evaluated for many resamples at once.

    Fixed across resamples: eligibility (with the chair's resolutions), the number of counted reviews, the
    funded amounts, fact and ratio bonuses, the (normalised) reviewer totals T(r,p). Recomputed in every
    resample: B(p) with the pack's aggregation, the per-criterion mean ratios (criterion floor, tie-break),
    judged bonuses (majority of the resampled reviewers), S(p), qualifying, the ranking and the budget line.

    Layout: one column per *candidate* (eligible, enough counted reviews; nobody else can ever qualify),
    grouped by the number k of counted reviews, each proposal's reviews by ascending T. A resample of a
    proposal is k draws with replacement among its k reviews, drawn two at a time: one uniform integer in
    [0, k²) is an ordered pair of draws (a, b), and per proposal a table holds the pair sums v(a) + v(b), so a
    resample's sums are k/2 gathers. The integer quantities of a review (its total T × D, its judged marks, its
    criterion levels as grid units, its position as a 4-bit count) are packed as bit fields into one int64
    word whose fields cannot overflow, so one gather sums them all.

    Exact integers where the pack allows (criterion ratios on a grid such as quarters, totals that are exact
    multiples of 1/D, bonuses on the same grid): B and S are compared as integers on the grid 1/(L·D), which
    is exactly comparing the core's values rounded to 6 places (selection.md §8) when the grid is coarser than
    2·10⁻⁶ and has no value on a rounding half. The whole key of §8 (S, B, criterion means, requested, id)
    then fits one int64 per proposal and resample, sorted with one np.sort per resample (the column is read
    back from the key's lowest bits). Otherwise (e.g. z-score normalised totals): floats rounded to 6 places
    and a stable radix sort (np.lexsort over 16-bit digits) of the same keys.

    The greedy budget walk runs over rank positions with vector operations across resamples. Resamples are
    drawn in blocks of ``BLOCK`` from ``SeedSequence(seed).spawn``, so a seed gives the same result whatever
    the number of threads (``threads``: blocks split into that many contiguous parts run in parallel).
    """

    def __init__(self, ranking: Ranking, reviews: ReviewTable, use_grid: bool = True, composite: bool = True,
                 threads: int | None = None):
        _check_reviews(ranking, reviews)
        self.ranking = ranking
        pack, params, agg, table = ranking.pack, ranking.params, ranking.agg, ranking.table
        n = table.n
        self.n, self.C = n, len(pack.criteria)
        self.params = params
        self.agg_method = params.aggregation
        self.trim_min = params.trim_min_reviews
        self.threads = _threads_default() if threads is None else max(1, int(threads))
        self.cand = ~ranking.elig.ineligible & (agg.n_reviews >= params.min_reviews) & (agg.n_reviews > 0)
        totals = np.asarray(agg.totals, float)
        ratios = np.asarray(agg.ratios, float).reshape(len(totals), self.C)
        judged_k = [k for k, b in enumerate(pack.bonuses) if b.kind == "judged"]
        self.J = len(judged_k)
        self.judged_pts = np.array([pack.bonuses[k].points for k in judged_k], float)
        other = [k for k in range(len(pack.bonuses)) if k not in judged_k]
        bonus_fixed = ranking.bonus.points[:, other].sum(axis=1) if other else np.zeros(n)
        self.bonus_cap = float(pack.bonus_cap)
        marks = (reviews.marks == 1).astype(np.int64) if self.J else np.zeros((reviews.n, 0), np.int64)
        self.pass_i = int(np.rint(params.pass_line * SCALE))
        self.floor_i = int(np.rint(params.criterion_floor * SCALE))
        self.limit = params.budget_limit(pack)
        # the counted reviews of the candidates, per proposal by ascending T (median and trimmed read order
        # statistics off the draw positions)
        counted = np.nonzero(agg.counted)[0]
        prop = reviews.prop[counted]
        keep = self.cand[prop]
        counted, prop = counted[keep], prop[keep]
        order = np.lexsort((counted, totals[counted], prop))
        counted, prop = counted[order], prop[order]
        k_of = agg.n_reviews
        # columns in the static tie-break order (requested asc, id asc), grouped by k
        id_rank = table.id_rank()
        req_key = requested_key(table, ranking.funded)
        cand_idx = np.nonzero(self.cand)[0]
        static_all = np.empty(n, np.int64)
        static_all[cand_idx[np.lexsort((id_rank[cand_idx], req_key[cand_idx]))]] = np.arange(len(cand_idx))
        starts = np.searchsorted(prop, np.arange(n))
        spec: list[tuple[int, int, int, np.ndarray]] = []  # (k, first column, end column, rows [g, k])
        cols: list[np.ndarray] = []
        c0 = 0
        for k in np.unique(k_of[self.cand]):
            k = int(k)
            props = np.nonzero(self.cand & (k_of == k))[0]
            rows = counted[starts[props][:, None] + np.arange(k)[None, :]]
            spec.append((k, c0, c0 + len(props), rows))
            cols.append(props)
            c0 += len(props)
        self.cols = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, np.int64)
        nc = self.nc = len(self.cols)
        self.ks = [k for k, *_ in spec]
        self.static = static_all[self.cols]
        self.col_of_static = np.empty(nc, np.int64)
        self.col_of_static[self.static] = np.arange(nc)
        self.funded_c = ranking.funded.astype(np.int64)[self.cols]
        self.bonus_fixed_c = bonus_fixed[self.cols]
        t_c = totals[counted] if len(counted) else np.zeros(1)
        self.t_max = float(t_c.max())
        self.grid = self._criterion_grid(pack) if use_grid else None
        self.tint = self._total_grid(t_c) if use_grid else None
        self._key_layout(composite)
        self.groups = [self._group(k, c0, c1, rows, totals, ratios, marks, reviews.levels)
                       for k, c0, c1, rows in spec]

    # -- exact grids ---------------------------------------------------------------------------------------
    def _criterion_grid(self, pack: CriteriaPack) -> dict | None:
        """Exact integer criterion keys, when the pack's ratios lie on a grid (e.g. quarters).

        With ratios = units × u (u = gcd of the ratios in 10⁻⁶) and L = lcm of the review counts k, a mean
        ratio is sum_units × (L / k) × (u / L): an integer on a common grid for every k. When that grid is
        coarser than the core's rounding (u / L ≥ 2·10⁻⁶, and no grid value falls exactly on a rounding
        half), comparing these integers is exactly comparing the rounded means of selection.md §8.
        Otherwise None: the generic path rounds each mean.
        """
        C = self.C
        if not C or not self.ks:
            return None
        micro = {lv: ratio * SCALE for lv, ratio in pack.levels.items()}
        if any(abs(m - round(m)) > 1e-6 for m in micro.values()):
            return None
        mi = {lv: int(round(m)) for lv, m in micro.items()}
        if min(mi.values()) < 0:
            return None
        gu = math.gcd(*mi.values()) or SCALE
        units = {lv: m // gu for lv, m in mi.items()}
        max_units = max(units.values())
        L = math.lcm(*self.ks)
        if gu < 2 * L:
            return None
        span = max_units * L                        # a mean's grid value is in [0, span]
        bits_c = max(span, 1).bit_length()
        per_key = 52 // bits_c
        if per_key < 1:
            return None
        floor_units = {}
        for k in self.ks:  # exact: r6(units·u/k) = round(gu·units/k) in 10⁻⁶; refuse a grid with exact halves
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
        keys = [list(range(j0, min(j0 + per_key, C))) for j0 in range(0, C, per_key)]
        return {"lut": lut, "L": L, "span": span, "bits_c": bits_c, "keys": keys, "floor_units": floor_units}

    def _denominator(self, k: int) -> int:
        """B(p) of a resample is an integer sum of T·D divided by this (the aggregation's divisor)."""
        if self.agg_method == Aggregation.median:
            return 2
        if self.agg_method == Aggregation.trimmed and k >= self.trim_min:
            return k - 2
        return k

    def _total_grid(self, t_c: np.ndarray) -> dict | None:
        """Exact integer B and S keys, when every counted total is a multiple of 1/D and bonuses lie on the
        grid 1/(L_B·D) (L_B = lcm of the aggregation's divisors): then B·L_B·D and S·L_B·D are integers, and
        for a grid coarser than 2·10⁻⁶ with no value on a rounding half (2⁷ ∤ L_B·D), comparing them is
        exactly comparing r6(B) and r6(S). None otherwise (the generic path rounds floats)."""
        from fractions import Fraction

        if not self.ks or not len(t_c) or not np.isfinite(t_c).all() or float(t_c.min()) < 0:
            return None
        D = 1
        for v in np.unique(t_c).tolist():
            f = Fraction(v).limit_denominator(10_000)
            if abs(float(f) - v) > 1e-9 * max(1.0, abs(v)):
                return None
            D = math.lcm(D, f.denominator)
            if D > 500_000:
                return None
        LB = math.lcm(*[self._denominator(k) for k in self.ks])
        LBD = LB * D
        if LBD > 50_000 or LBD % 128 == 0:
            return None

        def on_grid(x: np.ndarray) -> np.ndarray | None:
            y = np.asarray(x, float) * LBD
            yi = np.rint(y)
            if not np.isfinite(y).all() or (np.abs(y - yi) > 1e-7 * np.maximum(1.0, np.abs(y))).any():
                return None
            return yi.astype(np.int64)

        fixed = on_grid(self.bonus_fixed_c)
        pts = on_grid(self.judged_pts)
        cap = on_grid(np.array([self.bonus_cap]))
        tint = np.rint(t_c * D).astype(np.int64)
        if fixed is None or pts is None or cap is None \
                or np.abs(t_c * D - tint).max() > 1e-7 * max(1.0, float(np.abs(tint).max())):
            return None
        t_max = int(tint.max())
        b_pass = (2 * self.pass_i - 1) * LBD // (2 * SCALE) + 1      # r6(B) ≥ pass line ⇔ B·L_B·D ≥ b_pass
        return {"D": D, "LB": LB, "LBD": LBD, "fixed": fixed, "pts": pts, "cap": int(cap[0]),
                "b_pass": b_pass, "b_max": t_max * LB}

    # -- keys ----------------------------------------------------------------------------------------------
    def _key_layout(self, composite: bool) -> None:
        """The sort keys of selection.md §8 (all "smaller sorts first"), their bit widths, and whether they fit
        one int64: [S field (non-qualifying last), B field, criterion key(s), static rank]."""
        C = self.C
        ti, gr = self.tint, self.grid
        if ti is not None:
            bon_lo = min(0, int(ti["fixed"].min()) if len(ti["fixed"]) else 0, ti["cap"])
            bon_hi = max(0, ti["cap"])
            b_lo = min(ti["b_pass"], ti["b_max"])
            self.b_hi = ti["b_max"]
            self.s_hi = ti["b_max"] + bon_hi
            s_lo = b_lo + bon_lo
        else:
            self.b_hi = int(np.rint(self.t_max * SCALE)) + 1
            self.s_hi = int(np.rint((self.t_max + max(self.bonus_cap, 0.0)) * SCALE)) + 1
            b_lo = s_lo = self.pass_i
        self.nonqual = max(self.s_hi - s_lo, 0) + 1
        bits = [self.nonqual.bit_length(), max(self.b_hi - b_lo, 1).bit_length()]
        # exact S = B + bonus: among equal S, "B descending" is "bonus ascending", and the bonus takes few
        # values (fixed bonuses + subsets of the judged ones, capped): its rank among them is a narrower field
        self.bonus_vals = None
        if ti is not None and self.J <= 12:
            fixed = np.unique(ti["fixed"]) if len(ti["fixed"]) else np.zeros(1, np.int64)
            sums = np.zeros(1, np.int64)
            for p in ti["pts"]:
                sums = np.unique(np.concatenate([sums, sums + int(p)]))
            vals = np.unique(np.minimum(fixed[:, None] + sums[None, :], ti["cap"]))
            if len(vals) <= 65_536 and (len(vals) - 1).bit_length() < bits[1]:
                self.bonus_vals = vals
                bits[1] = (len(vals) - 1).bit_length()
                lo, hi = int(vals[0]), int(vals[-1])
                # rank of a bonus value: a lookup table over the value range when it is small
                self.bonus_lut = None
                if hi - lo <= 1_000_000:
                    self.bonus_lut = np.full(hi - lo + 1, -1, np.int64)
                    self.bonus_lut[vals - lo] = np.arange(len(vals))
        if gr is not None:
            self.c_max = []
            for key in gr["keys"]:
                m = 0
                for _ in key:
                    m = (m << gr["bits_c"]) + gr["span"]
                self.c_max.append(m)
                bits.append(gr["bits_c"] * len(key))
        else:
            self.c_max = []
            bits += [20 * (min(j0 + 3, C) - j0) for j0 in range(0, C, 3)]
        bits.append(max(self.nc - 1, 1).bit_length())
        self.key_bits = bits
        self.composite = composite and sum(bits) <= 63
        self.shifts = [sum(bits[i + 1:]) for i in range(len(bits))]

    # -- per group tables ----------------------------------------------------------------------------------
    def _group(self, k: int, c0: int, c1: int, rows: np.ndarray, totals, ratios, marks, levels) -> dict:
        g = c1 - c0
        gr, ti = self.grid, self.tint
        needs_pos = self.agg_method == Aggregation.median or (self.agg_method == Aggregation.trimmed
                                                              and k >= self.trim_min)
        fields: list[tuple[str, np.ndarray, int]] = []   # (name, per-review non-negative ints [g, k], width)
        t_sorted = totals[rows]                                                  # [g, k] ascending
        if ti is not None:
            t_int = np.rint(t_sorted * ti["D"]).astype(np.int64)
            fields.append(("T", t_int, max(int(t_int.max()) * k, 1).bit_length()))
        else:
            t_int = None
        for j in range(self.J):
            fields.append((f"m{j}", marks[rows, j], max(k, 1).bit_length()))
        at_risk: list[int] = []
        if gr is not None:
            u = gr["lut"][np.clip(levels[rows], 0, len(gr["lut"]) - 1)].astype(np.int64)   # [g, k, C]
            scale = gr["L"] // k
            for q, key in enumerate(gr["keys"]):
                packed = np.zeros((g, k), np.int64)
                for c in key:
                    packed = (packed << gr["bits_c"]) + u[:, :, c] * scale
                fields.append((f"c{q}", packed, gr["bits_c"] * len(key)))
            # a criterion can fall under the floor only where some review of the group is under it on its own
            at_risk = [c for c in range(self.C) if (u[:, :, c] < gr["floor_units"][k] / k).any()]
        nibbles = needs_pos and k <= 15
        if nibbles:  # how often each position was drawn, 4 bits per position
            fields.append(("cnt", np.broadcast_to(np.left_shift(1, 4 * np.arange(k, dtype=np.int64)), (g, k)),
                           4 * k))
        words: list[list[tuple[str, int, int]]] = []      # per word: (name, shift, width)
        vals: list[np.ndarray] = []
        for name, v, width in fields:
            if width > WORD_BITS:
                raise RuntimeError("bootstrap field wider than a word")
            if not words or sum(w for *_, w in words[-1]) + width > WORD_BITS:
                words.append([])
                vals.append(np.zeros((g, k), np.int64))
            shift = sum(w for *_, w in words[-1])
            words[-1].append((name, shift, width))
            vals[-1] = vals[-1] + (np.asarray(v, np.int64) << shift)
        floats: list[tuple[str, np.ndarray]] = []
        if ti is None:
            floats.append(("T", t_sorted))
        if gr is None:
            for c in range(self.C):
                floats.append((f"r{c}", ratios[rows][:, :, c]))
        field_of = {name: (wi, shift, width) for wi, word in enumerate(words) for name, shift, width in word}
        pair = k * k <= 65_535
        return {"k": k, "c0": c0, "c1": c1, "rows": rows, "pair": pair, "needs_pos": needs_pos,
                "nibbles": nibbles, "t_sorted": t_sorted, "t_int": t_int, "at_risk": at_risk,
                "field_of": field_of, "float_names": [name for name, _ in floats],
                "int_tables": [self._tables(v, k, pair) for v in vals],
                "float_tables": [self._tables(v, k, pair) for _, v in floats]}

    @staticmethod
    def _tables(v: np.ndarray, k: int, pair: bool) -> tuple[np.ndarray | None, np.ndarray]:
        """(pair table [g·k²] of v(a) + v(b) at a·k + b, single table [g·k]), flattened for np.take."""
        v = np.ascontiguousarray(v)
        two = (v[:, :, None] + v[:, None, :]).reshape(-1) if pair else None
        return two, v.reshape(-1)

    # -- draws ---------------------------------------------------------------------------------------------
    def _draw(self, rng: np.random.Generator, R: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group: (pair codes [k//2, g, R] in [0, k²), single codes [k % 2, g, R] in [0, k)); without pair
        tables (k > 255) every draw is a single."""
        out = []
        for grp in self.groups:
            k, g = grp["k"], grp["c1"] - grp["c0"]
            if grp["pair"]:
                pairs = rng.integers(0, k * k, size=(k // 2, g, R), dtype=np.uint16)  # (uint16: faster than uint8)
                singles = rng.integers(0, k, size=(k % 2, g, R), dtype=np.uint16)
            else:
                pairs = np.zeros((0, g, R), np.int64)
                singles = rng.integers(0, k, size=(k, g, R), dtype=np.int64)
            out.append((pairs, singles))
        return out

    def codes_of_positions(self, positions: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Explicit draws: positions[i] [g, R, k] (which of its k reviews, in ascending T, each draw takes)."""
        out = []
        for grp, pos in zip(self.groups, positions):
            k = grp["k"]
            pos = np.moveaxis(np.asarray(pos, np.int64), 2, 0)                    # [k, g, R]
            if grp["pair"]:
                m = k // 2
                out.append((pos[0:2 * m:2] * k + pos[1:2 * m:2], pos[2 * m:]))
            else:
                out.append((np.zeros((0,) + pos.shape[1:], np.int64), pos))
        return out

    @staticmethod
    def _sum(tables: tuple[np.ndarray | None, np.ndarray], idx2: list, idx1: list) -> np.ndarray:
        two, one = tables
        s = None
        for i in idx2:
            x = np.take(two, i)
            s = x if s is None else np.add(s, x, out=s)
        for i in idx1:
            x = np.take(one, i)
            s = x if s is None else np.add(s, x, out=s)
        return s

    # -- one block of resamples ----------------------------------------------------------------------------
    def _group_keys(self, grp: dict, pairs: np.ndarray, singles: np.ndarray):
        """→ (sort keys [g, R] of one group for R resamples: the one composite int64 key, or every key of the
        layout for the radix sort; qualifying [g, R])."""
        k, g = grp["k"], grp["c1"] - grp["c0"]
        R = pairs.shape[2] if pairs.shape[0] else singles.shape[2]
        big = g * k * k >= 2 ** 31
        off2 = (np.arange(g, dtype=np.int64 if big else np.int32) * (k * k))[:, None]
        off1 = (np.arange(g, dtype=np.int64 if big else np.int32) * k)[:, None]
        idx2 = [np.add(p, off2) for p in pairs]
        idx1 = [np.add(s, off1) for s in singles]
        words = [self._sum(t, idx2, idx1) for t in grp["int_tables"]]
        fl = {name: self._sum(t, idx2, idx1) for name, t in zip(grp["float_names"], grp["float_tables"])}
        fo = grp["field_of"]

        def field(name: str) -> np.ndarray:
            wi, shift, width = fo[name]
            w = words[wi]
            return (w >> shift) & ((1 << width) - 1) if shift or width < 63 else w

        ti, gr = self.tint, self.grid
        lo = hi = None
        if grp["needs_pos"]:
            if grp["nibbles"]:
                cw = field("cnt")
                cnt = np.stack([(cw >> (4 * j)) & 15 for j in range(k)])            # [k, g, R]
            else:
                pos = [p // k for p in pairs] + [p % k for p in pairs] + list(singles)
                cnt = np.stack([sum((p == j).astype(np.int64) for p in pos) for j in range(k)])
            if self.agg_method == Aggregation.median:
                cum = np.cumsum(cnt, axis=0)
                lo = (cum > (k - 1) // 2).argmax(axis=0)
                hi = (cum > k // 2).argmax(axis=0)
            else:
                drawn = cnt > 0
                lo = drawn.argmax(axis=0)
                hi = k - 1 - drawn[::-1].argmax(axis=0)
        rows_g = np.arange(g)[:, None]
        if ti is not None:
            t_sum = field("T")
            t_int = grp["t_int"]
            d = self._denominator(k)
            if self.agg_method == Aggregation.median:
                num = t_int[rows_g, lo] + t_int[rows_g, hi]
            elif lo is not None:
                num = t_sum - t_int[rows_g, lo] - t_int[rows_g, hi]
            else:
                num = t_sum
            b_key = num * (ti["LB"] // d) if ti["LB"] != d else num
            q = b_key >= ti["b_pass"]
            fixed = ti["fixed"][grp["c0"]:grp["c1"], None]
            bonus = None
            if self.J or fixed.any():
                bonus = np.broadcast_to(fixed, b_key.shape).copy()
                for j in range(self.J):  # judged: strictly more than half of the (resampled) counted reviewers
                    wi, shift, width = fo[f"m{j}"]
                    won = (words[wi] & (((1 << width) - 1) << shift)) >= ((k // 2 + 1) << shift)
                    bonus += won * int(ti["pts"][j])
                np.minimum(bonus, ti["cap"], out=bonus)
                s_key = b_key + bonus
            else:
                s_key = b_key
        else:
            t_sum, t_sorted = fl["T"], grp["t_sorted"]
            if self.agg_method == Aggregation.median:
                b = (t_sorted[rows_g, lo] + t_sorted[rows_g, hi]) / 2.0
            elif lo is not None:
                b = (t_sum - t_sorted[rows_g, lo] - t_sorted[rows_g, hi]) / (k - 2)
            else:
                b = t_sum / k
            if self.J or self.bonus_fixed_c[grp["c0"]:grp["c1"]].any():
                bonus = np.repeat(self.bonus_fixed_c[grp["c0"]:grp["c1"], None], R, axis=1)
                for j in range(self.J):
                    bonus += (2 * field(f"m{j}") > k) * self.judged_pts[j]
                np.minimum(bonus, self.bonus_cap, out=bonus)
                total = b + bonus
            else:
                total = b
            b_key = np.rint(b * SCALE).astype(np.int64)
            s_key = np.rint(total * SCALE).astype(np.int64)
            q = b_key >= self.pass_i
        c_fields = []
        if gr is not None:
            thr = gr["floor_units"][k] * (gr["L"] // k)
            mask = (1 << gr["bits_c"]) - 1
            for q_i, key in enumerate(gr["keys"]):
                cf = field(f"c{q_i}")
                for pos_in_key, c in enumerate(key):
                    if c in grp["at_risk"]:  # the field compared in place: (cf & mask·2^shift) ≥ thr·2^shift
                        shift = gr["bits_c"] * (len(key) - 1 - pos_in_key)
                        q &= (cf & (mask << shift)) >= (thr << shift)
                c_fields.append(self.c_max[q_i] - cf)
        elif self.C:
            c_i = [np.rint(fl[f"r{c}"] * (SCALE / k)).astype(np.int64) for c in range(self.C)]
            for c in range(self.C):
                q &= c_i[c] >= self.floor_i
            for j0 in range(0, self.C, 3):  # 20 bits each (10⁶ < 2²⁰), three to a key
                packed = np.zeros(q.shape, np.int64)
                for c in range(j0, min(j0 + 3, self.C)):
                    packed = (packed << 20) | (SCALE - c_i[c])
                c_fields.append(packed)
        st = self.static[grp["c0"]:grp["c1"], None]
        s_f = np.subtract(self.s_hi, s_key, out=s_key if s_key is not b_key else None)
        if self.bonus_vals is None:
            b_f = np.subtract(self.b_hi, b_key, out=b_key)
        elif len(self.bonus_vals) == 1:
            b_f = np.zeros_like(b_key)
        else:  # the bonus's rank among its possible values (each resample's bonus is one of them)
            bonus = np.zeros_like(b_key) if bonus is None else bonus
            if self.bonus_lut is not None:
                b_f = np.take(self.bonus_lut, bonus - int(self.bonus_vals[0]))
            else:
                b_f = np.searchsorted(self.bonus_vals, bonus)
        fields = [s_f, b_f] + c_fields
        # the fields' ranges are exact by construction (B ≤ max T, bonus within its bounds, criterion sums ≤
        # span; the qualifying have B at or above the pass line): check the lower bound, which any slip breaks
        for key in fields:
            if key.size and int(key.min()) < 0:
                raise RuntimeError("sort key out of range in the bootstrap engine")
        if self.composite:  # one int64: S | B | criteria | static, non-qualifying after every qualifying
            comp = s_f << self.shifts[0]
            for key, sh in zip(fields[1:], self.shifts[1:]):
                np.bitwise_or(comp, key << sh, out=comp)
            np.copyto(comp, self.nonqual << self.shifts[0], where=~q)
            np.bitwise_or(comp, st, out=comp)
            return [comp], q
        keys = [np.where(q, s_f, self.nonqual)] + [np.where(q, key, 0) for key in fields[1:]]
        keys.append(np.broadcast_to(st, q.shape))
        return keys, q

    def _order(self, draws: list[tuple[np.ndarray, np.ndarray]], R: int):
        """→ (columns by rank [R, nc] best first, number qualifying [R], qualifying [R, nc]) of one block."""
        nc = self.nc
        qual = np.empty((R, nc), bool)
        if self.composite:
            comp = np.empty((R, nc), np.int64)
            for grp, (pairs, singles) in zip(self.groups, draws):
                (key,), q = self._group_keys(grp, pairs, singles)
                comp[:, grp["c0"]:grp["c1"]] = key.T
                qual[:, grp["c0"]:grp["c1"]] = q.T
            comp.sort(axis=1)
            order = self.col_of_static[comp & ((1 << self.key_bits[-1]) - 1)]
        else:
            full = [np.empty((R, nc), np.int64) for _ in self.key_bits]
            for grp, (pairs, singles) in zip(self.groups, draws):
                keys, q = self._group_keys(grp, pairs, singles)
                for dst, key in zip(full, keys):
                    dst[:, grp["c0"]:grp["c1"]] = key.T
                qual[:, grp["c0"]:grp["c1"]] = q.T
            order = np.lexsort(self._digits(full, self.key_bits), axis=1)
        return order, qual.sum(axis=1), qual

    @staticmethod
    def _digits(keys: list[np.ndarray], bits: list[int]) -> list[np.ndarray]:
        """Split non-negative integer keys (most significant first) into 16-bit digits, least significant
        first, for np.lexsort (which radix-sorts 16-bit keys)."""
        out: list[np.ndarray] = []
        for key, nb in zip(reversed(keys), reversed(bits)):
            for shift in range(0, max(nb, 1), 16):
                out.append(((key >> shift) & 0xFFFF).astype(np.uint16))
        return out

    def _walk(self, order: np.ndarray, nq: np.ndarray) -> np.ndarray:
        """The budget line for every resample at once → selected, by rank position [R, nc]."""
        R, nc = order.shape
        limit = int(self.limit)
        f = np.ascontiguousarray(np.take(self.funded_c, order).T)              # [nc, R] by rank position
        qpos = np.arange(nc)[:, None] < nq[None, :]                            # qualifying positions
        if self.params.selection == SelectionMethod.greedy_stop:
            f[~qpos] = 0
            return ((np.cumsum(f, axis=0) <= limit) & qpos).T
        # greedy_skip: the leading run that fits as a whole (every position qualifying and the running sum
        # within the budget) is taken in every resample; find its end in chunks of positions, then walk the
        # remaining rank positions, all resamples at once (integers: money stays exact)
        f[~qpos] = limit + 1                                                   # non-qualifying: never fits
        carry = np.zeros(R, np.int64)
        j0 = 0
        while j0 < nc and limit < 1 << 55:  # (65 values of at most limit + 1 summed stay within int64)
            j1 = min(nc, j0 + 64)
            cum = np.cumsum(f[j0:j1], axis=0)
            cum += carry
            fits = cum <= limit
            if not fits.all():
                m = int(np.where(fits.all(axis=0), j1 - j0, fits.argmin(axis=0)).min())
                if m:
                    carry = cum[m - 1]
                j0 += m
                break
            carry = cum[-1]
            j0 = j1
        sel = np.zeros((nc, R), bool)
        sel[:j0] = True
        remaining = limit - carry
        n_walk = int(nq.max()) if len(nq) else 0
        fmin = int(self.funded_c.min()) if nc else 0
        take = np.empty(R, bool)
        for j in range(j0, n_walk):
            a = f[j]
            np.less_equal(a, remaining, out=take)
            sel[j] = take
            remaining -= a * take
            if fmin > 0 and j % 16 == 15 and (remaining < fmin).all():
                break
        return sel.T

    def _scatter(self, order: np.ndarray, nq: np.ndarray, ranks: np.ndarray, selected: np.ndarray) -> None:
        """Ranks and the budget line of resamples [R, nc] in rank order → per column (in place)."""
        R, nc = order.shape
        flat = (order + (np.arange(R, dtype=np.int64) * nc)[:, None]).ravel()
        pos = np.arange(1, nc + 1, dtype=np.int32)[None, :]
        ranks.ravel()[flat] = np.where(pos <= nq[:, None], pos, 0).ravel()
        if self.limit is not None and nc:
            selected.ravel()[flat] = self._walk(order, nq).ravel()

    def _rank_draws(self, draws: list[tuple[np.ndarray, np.ndarray]], R: int):
        """→ (rank [R, nc] 0 = unranked, selected [R, nc], qualifying [R, nc]) for explicit draws."""
        order, nq, qual = self._order(draws, R)
        ranks = np.zeros((R, self.nc), np.int32)
        selected = np.zeros((R, self.nc), bool)
        self._scatter(order, nq, ranks, selected)
        return ranks, selected, qual

    def rank_positions(self, positions: list[np.ndarray]):
        """The engine on explicit draws: positions[i] [g, R, k] per group → (rank, selected, qualifying)."""
        R = positions[0].shape[1] if positions else 1
        return self._rank_draws(self.codes_of_positions(positions), R)

    def identity(self) -> tuple[np.ndarray, np.ndarray]:
        """The engine on the original reviews (each drawn once), per proposal: must equal the official ranking."""
        ranks = np.zeros(self.n, np.int64)
        selected = np.zeros(self.n, bool)
        if self.nc:
            pos = [np.broadcast_to(np.arange(g["k"]), (g["c1"] - g["c0"], 1, g["k"])) for g in self.groups]
            r, s, _ = self.rank_positions(pos)
            ranks[self.cols] = r[0]
            selected[self.cols] = s[0]
        return ranks, selected

    def run(self, n_resamples: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """→ rank [R, nc] (0 = unranked), selected [R, nc], qualifying [R, nc]; column j is proposal cols[j].

        Block b of ``BLOCK`` resamples draws from child b of ``SeedSequence(seed)``: the result depends on the
        seed only, not on the number of threads."""
        nc = self.nc
        ranks = np.zeros((n_resamples, nc), np.int32)
        selected = np.zeros((n_resamples, nc), bool)
        qual = np.zeros((n_resamples, nc), bool)
        if nc == 0:
            return ranks, selected, qual
        n_blocks = -(-n_resamples // BLOCK)
        children = np.random.SeedSequence(seed).spawn(n_blocks)

        def part(blocks: range) -> None:  # blocks of draws and sorts, then one budget walk over the part
            p0, p1 = blocks.start * BLOCK, min(blocks.stop * BLOCK, n_resamples)
            order = np.empty((p1 - p0, nc), np.int64)
            nq = np.empty(p1 - p0, np.int64)
            for b in blocks:
                r0, r1 = b * BLOCK, min((b + 1) * BLOCK, n_resamples)
                rng = np.random.Generator(np.random.PCG64(children[b]))
                o, n_q, q = self._order(self._draw(rng, r1 - r0), r1 - r0)
                order[r0 - p0:r1 - p0], nq[r0 - p0:r1 - p0], qual[r0:r1] = o, n_q, q
            self._scatter(order, nq, ranks[p0:p1], selected[p0:p1])

        n_parts = min(self.threads, n_blocks)
        bounds = [n_blocks * i // n_parts for i in range(n_parts + 1)]
        parts = [range(bounds[i], bounds[i + 1]) for i in range(n_parts)]
        if n_parts == 1:
            part(parts[0])
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(n_parts) as ex:
                for fut in [ex.submit(part, p) for p in parts]:
                    fut.result()
        return ranks, selected, qual


def _order_stat_bounds(R: int, level: float) -> tuple[int, int]:
    """Indices (0-based, into the R sorted values) of the lower and upper bound of a central interval."""
    a = (1.0 - level) / 2.0
    lo = int(math.floor(a * R + 1e-9))
    hi = int(math.ceil((1.0 - a) * R - 1e-9)) - 1
    return lo, max(lo, hi)


def bootstrap_ranks(ranking: Ranking, reviews: ReviewTable, n_resamples: int = DEFAULT_RESAMPLES,
                    seed: int = 0, threads: int | None = None) -> dict:
    """Rank intervals and selection probabilities by resampling each proposal's counted reviews.

    Per proposal: median rank, 80% and 95% rank intervals, P(selected), P(qualifying) and whether it is in the
    gray zone (strictly more than 2.5% of the resamples on each side of the funding line, i.e. its 95%
    interval of outcomes holds both "selected" and "not selected"). Deterministic for a given seed, whatever
    the number of ``threads`` (default: up to 2, the CPUs available).
    """
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    eng = _Engine(ranking, reviews, threads=threads)
    n = eng.n
    id_ranks, id_sel = eng.identity()
    reproduces = bool(np.array_equal(id_ranks, ranking.rank) and np.array_equal(id_sel, _selected(ranking)))
    ranks_c, selected_c, qual_c = eng.run(n_resamples, seed)
    R = n_resamples
    unranked = n + 1
    bounds = {name: _order_stat_bounds(R, lvl) for name, lvl in INTERVALS.items()}
    # per proposal: sorted resampled ranks (unranked = n + 1, worse than any rank); non-candidates never rank
    sorted_c = np.where(ranks_c.T > 0, ranks_c.T, unranked)                  # [nc, R]
    sorted_c.sort(axis=1)
    # per proposal, the order statistics read: its resampled ranks in ascending order at these positions
    at = sorted({(R - 1) // 2} | {j for lh in bounds.values() for j in lh})
    stats = np.full((n, len(at)), unranked, np.int64)
    stats[eng.cols] = sorted_c[:, at]
    col = {j: stats[:, m].tolist() for m, j in enumerate(at)}
    med = col[(R - 1) // 2]  # the lower median: always an attained rank
    n_sel = np.zeros(n, np.int64)
    n_sel[eng.cols] = selected_c.sum(axis=0)
    n_qual = np.zeros(n, np.int64)
    n_qual[eng.cols] = qual_c.sum(axis=0)
    p_sel = (n_sel / R).tolist()
    p_qual = (n_qual / R).tolist()
    has_line = eng.limit is not None
    side_min = int(math.floor((1.0 - GRAY_LEVEL) / 2.0 * R + 1e-9))  # more than this on each side
    gray = (has_line & eng.cand & (n_sel > side_min) & ((R - n_sel) > side_min)).tolist()

    def bound(v: int) -> int | None:
        return None if v >= unranked else int(v)

    decisions = [d.value for d in Decision]
    ids, rank_, dec, total, cand = (ranking.table.ids, ranking.rank.tolist(), ranking.decision.tolist(),
                                    ranking.total, eng.cand.tolist())
    rows = []
    for i in ranking.order.tolist():
        iv = {name: [bound(col[lo][i]), bound(col[hi][i])] for name, (lo, hi) in bounds.items()}
        rows.append({
            "proposal_id": str(ids[i]),
            "rank": int(rank_[i]) or None,
            "decision": decisions[dec[i]],
            "total_score": _f(total[i]),
            "median_rank": bound(med[i]),
            "rank_80": iv["80"], "rank_95": iv["95"],
            "p_selected": float(p_sel[i]) if has_line else None,
            "p_qualifying": float(p_qual[i]),
            "gray_zone": bool(gray[i]),
            "resampled": bool(cand[i]),
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
