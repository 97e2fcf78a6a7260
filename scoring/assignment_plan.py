"""Who reviews what, planned (pure): reviewers for proposals so that every proposal gets its panel, no
conflicted reviewer is ever chosen, the reviewers' loads are as even as the conflicts allow, and the
reviewer–proposal graph is **connected with balanced overlap** — every two reviewers are linked by a chain of
shared proposals (so z-scores and calibration compare everyone on one scale) and the number of proposals two
reviewers share is as even across the pairs as possible, in the spirit of a balanced incomplete block design.

The store (``scoring.store.assignments``) reads the round, calls :func:`plan` and writes what it returns;
:func:`design_report` describes any set of panels (the report shown after an automatic assignment and printed
by the CLI).

How (deterministic; ties by the order the reviewers are given in):

1. **Greedy**: proposals with the fewest free reviewers first; each gets the least-loaded free reviewers, ties
   broken toward a reviewer that joins another part of the graph, then toward the fewest proposals shared with
   the panel so far.
2. **Balance**: while a reviewer carries two or more proposals more than another and a chain of new
   assignments can hand one over (``u`` gives proposal ``p`` to ``v``, who gives one on …), it is handed
   over. A load vector without such a chain is the most even one the conflicts allow (the loads of panels
   form a polymatroid; this is its lexicographically optimal base), so loads end within 1 of each other
   whenever any assignment reaches that.
3. **Connect**: while the graph has several parts, swap the reviewers of two new assignments in different
   parts (loads unchanged), or move one within the loads reached in step 2, when that joins parts.
4. **Even the overlap**: swaps that lower the sum of squared pair overlaps (the total is fixed by the panel
   sizes, so a lower sum of squares is a more even spread) and keep the graph connected, within a fixed budget
   of tries.

Only new assignments move: the kept ones (made by hand or by an earlier run) are never touched.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import combinations
from typing import Collection, Mapping, Sequence

__all__ = ["DesignReport", "Plan", "design_report", "plan"]

SWAP_BUDGET = 200_000   # swap evaluations in step 4 (bounds the time on very large rounds)


@dataclass(frozen=True)
class DesignReport:
    """The shape of a set of panels: is the reviewer–proposal graph connected, in how many parts, and how
    many proposals the least and the most overlapping pairs of reviewers share."""
    connected: bool
    components: int           # parts of the graph holding a reviewer (0: nobody assigned)
    reviewers: int            # reviewers with at least one proposal
    min_pair_overlap: int | None   # None with fewer than two reviewers
    max_pair_overlap: int | None


@dataclass(frozen=True)
class Plan:
    added: list[tuple[str, str]]          # (proposal, reviewer) to create, in proposal order then reviewer order
    short: dict[str, int]                 # proposal → reviewers it has after the plan, where fewer than wanted
    load: dict[str, int]                  # reviewer → load after the plan (the given load plus what was added)
    report: DesignReport = field(default_factory=lambda: design_report({}))


class _Parts:
    """Union-find over node names."""

    def __init__(self) -> None:
        self.up: dict = {}

    def find(self, x):
        self.up.setdefault(x, x)
        while self.up[x] != x:
            self.up[x] = self.up[self.up[x]]
            x = self.up[x]
        return x

    def join(self, a, b) -> None:
        self.up[self.find(a)] = self.find(b)


def _parts(panels: Mapping[str, Collection[str]]) -> _Parts:
    uf = _Parts()
    for p, panel in panels.items():
        for r in panel:
            uf.join(("r", r), ("p", p))
    return uf


def _components(panels: Mapping[str, Collection[str]]) -> int:
    uf = _parts(panels)
    return len({uf.find(("r", r)) for panel in panels.values() for r in panel})


def _overlaps(panels: Mapping[str, Collection[str]]) -> dict[frozenset, int]:
    out: dict[frozenset, int] = {}
    for panel in panels.values():
        for a, b in combinations(sorted(panel), 2):
            key = frozenset((a, b))
            out[key] = out.get(key, 0) + 1
    return out


def design_report(panels: Mapping[str, Collection[str]]) -> DesignReport:
    """Connectivity and pair overlap of ``panels`` (proposal → its reviewers)."""
    reviewers = sorted({r for panel in panels.values() for r in panel})
    comps = _components(panels)
    if len(reviewers) < 2:
        return DesignReport(comps <= 1, comps, len(reviewers), None, None)
    ov = _overlaps(panels)
    values = [ov.get(frozenset(pair), 0) for pair in combinations(reviewers, 2)]
    return DesignReport(comps == 1, comps, len(reviewers), min(values), max(values))


def plan(proposals: Sequence[str], reviewers: Sequence[str], want: int | Mapping[str, int],
         kept: Mapping[str, Collection[str]] | None = None, conflicted: Collection[tuple[str, str]] = (),
         load: Mapping[str, int] | None = None, plan_for: Collection[str] | None = None) -> Plan:
    """Plan new assignments.

    ``proposals``: the pack's proposals in import order (the graph and the report cover all of them);
    ``reviewers``: who may be assigned, in tie-break order; ``want``: reviewers per proposal (or per proposal
    id); ``kept``: proposal → reviewers already assigned (kept as they are, counted in the panel);
    ``conflicted``: (reviewer, proposal) pairs never to assign; ``load``: reviewer → proposals carried already
    (across the round; default 0); ``plan_for``: only these proposals get new reviewers (default: all).
    """
    kept = {p: set(kept.get(p, ())) for p in proposals} if kept else {p: set() for p in proposals}
    conflicted = set(conflicted)
    order = {r: i for i, r in enumerate(reviewers)}
    load = {r: int((load or {}).get(r, 0)) for r in reviewers}
    targets = [p for p in proposals if plan_for is None or p in set(plan_for)]
    wanted = {p: int(want[p]) if isinstance(want, Mapping) else int(want) for p in targets}
    cand = {p: [r for r in reviewers if (r, p) not in conflicted and r not in kept[p]] for p in targets}
    panels = {p: set(kept[p]) for p in proposals}
    new: dict[str, set[str]] = {p: set() for p in targets}

    # 1. greedy, most constrained first
    uf = _parts(panels)
    ov = _overlaps(panels)
    at = {p: i for i, p in enumerate(proposals)}
    for p in sorted(targets, key=lambda p: (len(cand[p]) - max(wanted[p] - len(kept[p]), 0), at[p])):
        need = wanted[p] - len(panels[p])
        free = list(cand[p])
        while need > 0 and free:
            parts = {uf.find(("r", x)) for x in panels[p]} | {uf.find(("p", p))}

            def key(r: str) -> tuple:
                joins = 0 if uf.find(("r", r)) not in parts else 1
                shared = sum(ov.get(frozenset((r, x)), 0) for x in panels[p])
                return (load[r], joins, shared, order[r])
            r = min(free, key=key)
            free.remove(r)
            for x in panels[p]:
                k = frozenset((r, x))
                ov[k] = ov.get(k, 0) + 1
            panels[p].add(r)
            new[p].add(r)
            uf.join(("r", r), ("p", p))
            load[r] += 1
            need -= 1

    _balance(targets, reviewers, cand, panels, new, load, order)
    lo = min((load[r] for r in reviewers), default=0)
    hi = max((load[r] for r in reviewers), default=0)
    _connect(targets, cand, panels, new, load, lo, hi, order)
    _even_out(targets, cand, panels, new, order)

    added = [(p, r) for p in proposals if p in new for r in sorted(new[p], key=order.__getitem__)]
    short = {p: len(panels[p]) for p in targets if len(panels[p]) < wanted[p]}
    return Plan(added, short, load, design_report(panels))


def _balance(targets, reviewers, cand, panels, new, load, order) -> None:
    """Hand proposals along chains of new assignments from a reviewer to one carrying 2+ fewer."""
    while True:
        moved = False
        holds: dict[str, list[str]] = {}
        for p in targets:
            for x in new[p]:
                holds.setdefault(x, []).append(p)
        for u in sorted(reviewers, key=lambda r: (-load[r], order[r])):
            # breadth-first over reviewers: u → v when u holds a new proposal that v may take
            prev: dict[str, tuple[str, str] | None] = {u: None}
            queue = deque([u])
            while queue:
                x = queue.popleft()
                for p in holds.get(x, ()):
                    for v in cand[p]:
                        if v not in prev and v not in panels[p]:
                            prev[v] = (x, p)
                            queue.append(v)
            best = min(prev, key=lambda v: (load[v], order[v]))
            if load[u] - load[best] < 2:
                continue
            v = best
            while prev[v] is not None:
                x, p = prev[v]
                new[p].discard(x)
                panels[p].discard(x)
                new[p].add(v)
                panels[p].add(v)
                v = x
            load[u] -= 1
            load[best] += 1
            moved = True
            break
        if not moved:
            return


def _movable(targets, new, order) -> list[tuple[str, str]]:
    return [(p, r) for p in targets for r in sorted(new[p], key=order.__getitem__)]


def _swap_ok(p, r, q, s, cand, panels) -> bool:
    return (p != q and r != s and s in cand[p] and r in cand[q] and s not in panels[p] and r not in panels[q])


def _do_swap(p, r, q, s, panels, new) -> None:
    for a, old, nw in ((p, r, s), (q, s, r)):
        panels[a].discard(old)
        new[a].discard(old)
        panels[a].add(nw)
        new[a].add(nw)


def _connect(targets, cand, panels, new, load, lo, hi, order) -> None:
    """Join the graph's parts by swaps (loads unchanged) or moves within the loads [lo, hi]."""
    while (before := _components(panels)) > 1:
        uf = _parts(panels)
        done = False
        moves = _movable(targets, new, order)
        for i, (p, r) in enumerate(moves):
            for q, s in moves[i + 1:]:
                if uf.find(("p", p)) != uf.find(("p", q)) and _swap_ok(p, r, q, s, cand, panels):
                    _do_swap(p, r, q, s, panels, new)
                    if _components(panels) < before:
                        done = True
                        break
                    _do_swap(p, s, q, r, panels, new)     # a panel of one: the parts just trade places
            if done:
                break
            if load[r] - 1 < lo:
                continue
            # move (p, r) to a reviewer of another part (or of none yet) with room under hi
            for s in cand[p]:
                if s in panels[p] or load[s] + 1 > hi or uf.find(("r", s)) == uf.find(("p", p)):
                    continue
                _move(p, r, s, panels, new, load)
                if _components(panels) < before:
                    done = True
                    break
                _move(p, s, r, panels, new, load)     # no gain (r's side fell apart): undo
            if done:
                break
        if not done:
            return


def _move(p, r, s, panels, new, load) -> None:
    panels[p].discard(r)
    new[p].discard(r)
    panels[p].add(s)
    new[p].add(s)
    load[r] -= 1
    load[s] += 1


def _even_out(targets, cand, panels, new, order) -> None:
    """Swaps that make the pair overlaps more even and keep the graph in as few parts."""
    ov = _overlaps(panels)
    parts = _components(panels)
    budget = SWAP_BUDGET

    def delta(p, r, q, s) -> int:
        # change of Σ overlap² when r leaves p for s and s leaves q for r
        change: dict[frozenset, int] = {}
        for a, old, nw in ((p, r, s), (q, s, r)):
            for x in panels[a]:
                if x == old:
                    continue
                change[frozenset((old, x))] = change.get(frozenset((old, x)), 0) - 1
                change[frozenset((nw, x))] = change.get(frozenset((nw, x)), 0) + 1
        return sum((ov.get(k, 0) + d) ** 2 - ov.get(k, 0) ** 2 for k, d in change.items() if d)

    improved = True
    while improved and budget > 0:
        improved = False
        moves = _movable(targets, new, order)
        for i, (p, r) in enumerate(moves):
            if r not in new[p]:
                continue
            for q, s in moves[i + 1:]:
                budget -= 1
                if budget <= 0:
                    return
                if s not in new[q] or not _swap_ok(p, r, q, s, cand, panels):
                    continue
                d = delta(p, r, q, s)
                if d >= 0:
                    continue
                _do_swap(p, r, q, s, panels, new)
                if _components(panels) > parts:
                    _do_swap(p, s, q, r, panels, new)     # undo: it split the graph
                    continue
                ov = _overlaps(panels)
                improved = True
                break
