"""Benchmark of the scoring core (not a test): how close the full rank pipeline runs to a numpy floor.

Synthetic calls of P proposals × R reviewers × 10 criteria, built straight into the columnar tables the core
ranks (the load step — models → tables — is timed and printed separately). For each size it prints:
- pipeline: ``scoring.selection.rank`` in-process (eligibility, COI, totals, aggregation, per-criterion means,
  bonus, qualifying, tie-break sort, budget walk, waitlist) — the median of several runs;
- floor: a minimal numpy computation of the same reviewer totals + per-proposal mean + sort;
- their ratio; the scaling ratio time(5M scores) / time(500k scores); peak traced memory of the pipeline.
Targets (issue #2): ratio ≤ 5 at 5M scores, ≤ 10 at 100k; scaling ≤ 12. Last line: one JSON object.
Two stages (issue #17, stages.md): at 100k proposals, ``scoring.stages.rank_hearing`` (document stage, shortlist
by the ``line`` method — every selected and waitlisted proposal, about half the call —, 5 hearing reviews of 3
criteria per shortlisted proposal, final ranking and budget line) against the one-stage ``rank``; target ≤ 1.5.
Decisions (issue #18, decisions.md): at 100k proposals, ``scoring.decision_rules.decide`` on the ranking — the
proposed decisions alone, and with 1,000 changes (reductions, each with a reason) — its time and its ratio to
``rank`` (no target: reported).

    python bench/core.py            # the three sizes
    python bench/core.py --quick    # small sizes only, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.models import Proposal, Reviewer  # noqa: E402
from scoring.io.packs import pack_path, read_pack_file  # noqa: E402
from scoring.packs import validate_pack  # noqa: E402
from scoring.selection import Params, rank  # noqa: E402
from scoring.stages import rank_hearing  # noqa: E402
from scoring.decision_rules import decide  # noqa: E402
from scoring.decisions import DecisionEdit  # noqa: E402
from scoring.table import ProposalTable, ReviewTable  # noqa: E402

N_CRITERIA = 10


def bench_pack():
    """advanced_comms (rules, expense checks, fact + judged bonuses) with 10 criteria of 10 points."""
    data = read_pack_file(pack_path("advanced_comms"))
    guidance = {lv: {"ja": "…"} for lv in range(1, 6)}
    data["criteria"] = [{"id": f"c{k}", "order": k, "points": 10, "label": {"ja": f"項目{k}"}, "guidance": guidance}
                        for k in range(N_CRITERIA)]
    data["hearing"] = {"criteria": [{"id": f"h{k}", "order": k, "points": p, "label": {"ja": f"ヒアリング{k}"},
                                     "guidance": guidance} for k, p in enumerate((40, 30, 30))],
                       "shortlist": {"method": "line"},
                       "combine": {"method": "weighted", "document_weight": 0.4, "hearing_weight": 0.6}}
    return validate_pack(data, "bench-pack")


def two_stage(pack, n_props: int, n_reviewers: int, repeat: int) -> dict:
    """The two-stage pipeline against the one-stage one on the same call (issue #17: ratio ≤ 1.5)."""
    table, reviews, reviewers, _ = make_call(pack, n_props, n_reviewers)
    params = Params.from_pack(pack, budget=n_props * 40_000_000)
    probe = rank_hearing(pack, table, reviews, reviewers, params)          # the shortlist, no hearing reviews yet
    short = np.nonzero(probe.shortlisted)[0]
    rng = np.random.default_rng(1)
    prop = np.repeat(short, n_reviewers)
    rev_ids = np.array([f"R{k:04d}" for k in range(max(n_reviewers * 20, 50))], dtype=object)
    who = rev_ids[(prop * 7 + np.tile(np.arange(n_reviewers), len(short))) % len(rev_ids)]
    levels = rng.integers(1, 6, size=(len(prop), 3)).astype(np.int16)
    reviews.hearing = ReviewTable(who, prop.astype(np.int64), np.ones(len(prop), bool), levels,
                                  np.zeros((len(prop), 0), np.int8))
    result = rank_hearing(pack, table, reviews, reviewers, params)
    assert result.used <= params.budget_yen and int(result.shortlisted.sum()) == len(short)
    t_one = timed(lambda: rank(pack, table, reviews, reviewers, params), repeat)
    t_two = timed(lambda: rank_hearing(pack, table, reviews, reviewers, params), repeat)
    row = {"proposals": n_props, "shortlisted": len(short), "hearing_reviews": len(prop), "one_stage_s": t_one,
           "two_stage_s": t_two, "ratio_two_stage": t_two / t_one}
    print(f"two stages, {n_props:,} proposals ({len(short):,} shortlisted, {len(prop):,} hearing reviews): "
          f"{t_two * 1000:.1f} ms vs one stage {t_one * 1000:.1f} ms, ratio {row['ratio_two_stage']:.2f} "
          "(target ≤ 1.5)", flush=True)
    return row


def decide_step(pack, n_props: int, n_reviewers: int, repeat: int) -> dict:
    """decisions.md on a ranking of ``n_props``: decide with no change and with 1,000 reductions, vs rank."""
    table, reviews, reviewers, _ = make_call(pack, n_props, n_reviewers)
    params = Params.from_pack(pack, budget=n_props * 40_000_000)
    ranking = rank(pack, table, reviews, reviewers, params)
    adopted = np.flatnonzero(ranking.decision == 0)[:1000]
    edits = [DecisionEdit(str(table.ids[i]), awarded_yen=int(ranking.funded[i]) - 1000, reason="査定による減額",
                          row=str(k + 2)) for k, i in enumerate(adopted.tolist())]
    assert decide(ranking, edits).reduced.sum() == len(edits)
    t_rank = timed(lambda: rank(pack, table, reviews, reviewers, params), repeat)
    t_none = timed(lambda: decide(ranking), repeat)
    t_edit = timed(lambda: decide(ranking, edits), repeat)
    row = {"proposals": n_props, "rank_s": t_rank, "decide_s": t_none, "decide_edits_s": t_edit,
           "ratio_decide": t_none / t_rank, "ratio_decide_edits": t_edit / t_rank}
    print(f"decide, {n_props:,} proposals: {t_none * 1000:.1f} ms (ratio to rank {row['ratio_decide']:.3f}); "
          f"with {len(edits):,} changes {t_edit * 1000:.1f} ms (ratio {row['ratio_decide_edits']:.3f}); "
          f"rank {t_rank * 1000:.1f} ms", flush=True)
    return row


KINDS = ["local_government", "company", "startup", "local_ict_company", "university"]


def make_call(pack, n_props: int, n_reviewers: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    props = []
    kinds = rng.integers(0, len(KINDS), size=(n_props, 3))
    req = rng.integers(1, 15, size=n_props) * 10_000_000
    for i in range(n_props):
        props.append(Proposal.model_construct(
            id=f"P{i:06d}", pack=pack.id, title="", summary="", eligible_cost_yen=None,
            applicant=_Applicant(f"org{i}", KINDS[kinds[i, 0]]),
            consortium=[_Member(f"org{(i * 7) % n_props}", KINDS[kinds[i, 1]]),
                        _Member(f"partner{i % 97}", KINDS[kinds[i, 2]])],
            requested_yen=int(req[i]), technologies=[_Tech("local5g")] if i % 50 else [_Tech("lte")],
            facts={"digikatsu_chusankan": bool(i % 3 == 0)}, cost_lines=[]))
    table = ProposalTable.from_proposals(props)
    t_load = time.perf_counter() - t0

    n_rows = n_props * n_reviewers
    prop = np.repeat(np.arange(n_props, dtype=np.int64), n_reviewers)
    rev_ids = np.array([f"R{k:04d}" for k in range(max(n_reviewers * 20, 50))], dtype=object)
    reviewer = rev_ids[(prop * 13 + np.tile(np.arange(n_reviewers), n_props)) % len(rev_ids)]
    quality = rng.normal(3.2, 0.8, size=n_props)[prop]
    levels = np.clip(np.rint(quality[:, None] + rng.normal(0, 0.9, size=(n_rows, N_CRITERIA))), 1, 5).astype(np.int16)
    submitted = rng.random(n_rows) > 0.03
    marks = (rng.random((n_rows, 1)) > 0.5).astype(np.int8)
    reviews = ReviewTable(reviewer, prop, submitted, levels, marks)
    reviewers = [Reviewer(reviewer_id=str(r), conflicts=(f"org{k}",)) for k, r in enumerate(rev_ids[:50])]
    return table, reviews, reviewers, t_load


class _Applicant:
    def __init__(self, name, kind):
        from scoring.models import MemberKind
        self.name, self.kind = name, MemberKind(kind)


class _Member(_Applicant):
    pass


class _Tech:
    def __init__(self, value):
        self.value = value


def floor(pack, reviews: ReviewTable, n_props: int):
    """Reviewer totals, per-proposal mean and a sort — nothing else."""
    lut = np.array([np.nan, 0.0, 0.25, 0.5, 0.75, 1.0])
    points = np.full(N_CRITERIA, 10.0)
    totals = lut[reviews.levels] @ points
    sums = np.bincount(reviews.prop, weights=totals, minlength=n_props)
    counts = np.bincount(reviews.prop, minlength=n_props)
    mean = sums / counts
    return np.argsort(-mean, kind="stable")


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(pack, n_props: int, n_reviewers: int, repeat: int) -> dict:
    table, reviews, reviewers, t_load = make_call(pack, n_props, n_reviewers)
    params = Params.from_pack(pack, budget=n_props * 40_000_000)
    result = rank(pack, table, reviews, reviewers, params)  # warm-up, and a sanity check below
    assert result.used <= params.budget_yen
    t_pipe = timed(lambda: rank(pack, table, reviews, reviewers, params), repeat)
    t_floor = timed(lambda: floor(pack, reviews, n_props), repeat)
    tracemalloc.start()
    rank(pack, table, reviews, reviewers, params)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scores = n_props * n_reviewers * N_CRITERIA
    row = {"proposals": n_props, "reviewers": n_reviewers, "scores": scores, "pipeline_s": t_pipe,
           "floor_s": t_floor, "ratio": t_pipe / t_floor, "load_s": t_load, "peak_mb": peak / 2**20,
           "selected": int((result.decision == 0).sum())}
    print(f"{n_props:>7,} proposals × {n_reviewers:>2} reviewers × {N_CRITERIA} criteria = {scores:>9,} scores: "
          f"pipeline {t_pipe * 1000:8.1f} ms, floor {t_floor * 1000:7.1f} ms, ratio {row['ratio']:5.2f}, "
          f"peak {row['peak_mb']:7.1f} MB (load {t_load:.2f} s, not in the pipeline)", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    pack = bench_pack()
    if args.quick:
        sizes = [(200, 10, 5), (2_000, 5, 5), (20_000, 5, 3)]
    else:
        # repeats: short runs are timed more often (a median of 5 runs of ~10 ms moved by 2× between runs)
        sizes = [(1_000, 10, 51), (10_000, 5, 31), (100_000, 5, 9)]
    rows = [run(pack, p, r, rep) for p, r, rep in sizes]
    two = two_stage(pack, *((20_000, 5, 3) if args.quick else (100_000, 5, 9)))
    dec = decide_step(pack, *((20_000, 5, 3) if args.quick else (100_000, 5, 9)))
    small, mid, big = rows
    scaling = big["pipeline_s"] / mid["pipeline_s"]
    print(f"scaling time({big['scores']:,}) / time({mid['scores']:,}) = {scaling:.2f} (10× the data; target ≤ 12)")
    print(f"targets: ratio at 5M ≤ 5 → {big['ratio']:.2f}; ratio at 100k ≤ 10 → {small['ratio']:.2f}")
    print(json.dumps({"ratio_5m": round(big["ratio"], 3), "ratio_100k": round(small["ratio"], 3),
                      "scaling": round(scaling, 3), "peak_mb": round(max(r["peak_mb"] for r in rows), 1),
                      "ratio_two_stage_100k": round(two["ratio_two_stage"], 3),
                      "ratio_decide_100k": round(dec["ratio_decide"], 3),
                      "ratio_decide_edits_100k": round(dec["ratio_decide_edits"], 3)}))


if __name__ == "__main__":
    main()
