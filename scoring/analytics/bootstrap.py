"""The bootstrap engine (selection.md §10, docs/analytics.md): the selection rules evaluated for many resamples
of the reviews at once — draws, sort keys, ranks and the budget line, vectorised across resamples."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..models import Aggregation, SelectionMethod
from .bootstrap_layout import EngineLayout
from .common import SCALE

BLOCK = 100                            # resamples per random block (each block: its own child of the seed)


class BootstrapEngine(EngineLayout):
    """The selection rules of selection.md §4–9 evaluated for many resamples at once.

    Fixed across resamples: eligibility (with the chair's resolutions), the number of counted reviews, the
    funded amounts, fact and ratio bonuses, the (normalised) reviewer totals T(r,p). Recomputed in every
    resample: B(p) with the pack's aggregation, the per-criterion mean ratios (criterion floor, tie-break),
    judged bonuses (majority of the resampled reviewers), S(p), qualifying, the ranking and the budget line.

    The greedy budget walk runs over rank positions with vector operations across resamples. Resamples are
    drawn in blocks of ``BLOCK`` from ``SeedSequence(seed).spawn``, so a seed gives the same result whatever
    the number of threads (``threads``: blocks split into that many contiguous parts run in parallel).

    The layout (columns, exact grids, sort keys, gather tables) is built by
    :class:`~scoring.analytics.bootstrap_layout.EngineLayout`; this class draws, sorts and walks the line.
    """

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
            d = self.denominator(k)
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
            with ThreadPoolExecutor(n_parts) as ex:
                for fut in [ex.submit(part, p) for p in parts]:
                    fut.result()
        return ranks, selected, qual
