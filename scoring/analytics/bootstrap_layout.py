"""The bootstrap engine's layout (selection.md §10, docs/analytics.md): built once per ranking, read by every
resample of :class:`~scoring.analytics.bootstrap.BootstrapEngine` (which draws, sorts and walks the line)."""

from __future__ import annotations

import math
import os
from fractions import Fraction

import numpy as np

from ..models import Aggregation
from ..packs import CriteriaPack
from ..selection import Ranking, requested_key
from ..table import ReviewTable
from .common import SCALE, check_reviews

WORD_BITS = 62                         # integer fields packed into one int64 word (sums never overflow)


def threads_default() -> int:
    """Threads of the bootstrap by default: up to 2, the CPUs available."""
    return max(1, min(2, os.cpu_count() or 1))


class EngineLayout:
    """The fixed part of :class:`~scoring.analytics.bootstrap.BootstrapEngine`, built once per ranking: which
    proposals can rank, their columns and groups, the exact integer grids, the sort-key layout and the
    per-group gather tables.

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
    """

    def __init__(self, ranking: Ranking, reviews: ReviewTable, use_grid: bool = True, composite: bool = True,
                 threads: int | None = None):
        check_reviews(ranking, reviews)
        self.ranking = ranking
        pack, params, agg, table = ranking.pack, ranking.params, ranking.agg, ranking.table
        n = table.n
        self.n, self.C = n, len(pack.criteria)
        self.params = params
        self.agg_method = params.aggregation
        self.trim_min = params.trim_min_reviews
        self.threads = threads_default() if threads is None else max(1, int(threads))
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

    def denominator(self, k: int) -> int:
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
        LB = math.lcm(*[self.denominator(k) for k in self.ks])
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
