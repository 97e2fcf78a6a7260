"""Benchmark: the chair workbook for 10,000 proposals × 10 criteria against openpyxl's floor.

The floor is openpyxl's write-only mode writing the same cells (the values read back from the chair workbook,
sheet by sheet, row by row) with no styles, charts or print setup — measured in the same run. Prints the
figures; the last line is one JSON object: {"workbook_vs_floor_ratio": …, "peak_mb": …}.

    python bench/excel.py [--proposals 10000] [--criteria 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook, load_workbook  # noqa: E402

from scoring.call import assemble  # noqa: E402
from scoring.io.chair_workbook import chair_workbook  # noqa: E402
from scoring.models import Proposal, Reviewer  # noqa: E402
from scoring.io.packs import load_pack  # noqa: E402
from scoring.packs import pack_to_dict, validate_pack  # noqa: E402
from scoring.selection import Params  # noqa: E402


def make_pack(n_criteria: int):
    d = pack_to_dict(load_pack("autonomous_l4"))
    levels = [s["level"] for s in d["scale"]]
    pts = 100 / n_criteria
    d["criteria"] = [{"id": f"c{k:02d}", "order": k + 1, "points": pts, "derived": True,
                      "label": {"ja": f"評価項目{k + 1}（実現性・効果・体制の妥当性）", "en": f"Criterion {k + 1}"},
                      "guidance": {lv: {"ja": f"水準{lv}の目安", "en": f"level {lv}"} for lv in levels}}
                     for k in range(n_criteria)]
    d["id"] = "bench_excel"
    return validate_pack(d, "bench")


def make_call(n: int, n_criteria: int, n_reviewers: int = 20, per_proposal: int = 3, seed: int = 7):
    rng = np.random.default_rng(seed)
    pack = make_pack(n_criteria)
    props = []
    for i in range(n):
        pid = f"P-{i:05d}"
        props.append(Proposal.model_validate({
            "id": pid, "pack": pack.id, "title": f"地域公共交通の自動運転レベル4実装に向けた通信検証 第{i}号",
            "applicant": {"name": f"株式会社サンプル{i % 997}", "kind": "company"},
            "consortium": [{"name": f"サンプル市{i % 311}", "kind": "local_government"}],
            "requested_yen": int(rng.integers(50, 160)) * 1_000_000, "technologies": ["local5g"],
            "facts": {"preceding_commercialization_area": bool(i % 3 == 0)}}))
    rids = [f"R{k:02d}" for k in range(n_reviewers)]
    reviewers = [Reviewer(reviewer_id=r, name=f"委員{k}", conflicts=(f"P-{k:05d}",)) for k, r in enumerate(rids)]
    levels = sorted(pack.levels)
    crit = pack.criterion_ids
    rev_r, rev_p = [], []
    for i in range(n):
        for k in rng.choice(n_reviewers, per_proposal, replace=False):
            rev_r.append(rids[k])
            rev_p.append(props[i].id)
    m = len(rev_r)
    C = len(crit)
    vals = rng.choice(levels[1:], size=(m, C))
    df = pd.DataFrame({
        "reviewer_id": np.repeat(rev_r, C), "proposal_id": np.repeat(rev_p, C), "item": np.tile(crit, m),
        "value": vals.reshape(-1).astype(str), "status": "submitted", "comment": ""})
    has = rng.random(len(df)) < 0.05
    df.loc[has, "comment"] = "検証計画は具体的だが、横展開の体制に課題がある。"
    call = assemble(pack, props, df, reviewers)
    return call


def floor_seconds(data: bytes) -> tuple[float, int]:
    """openpyxl write-only mode writing the same cells as plain values."""
    rb = load_workbook(io.BytesIO(data), read_only=True)
    sheets = [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in rb.worksheets]
    rb.close()
    cells = sum(1 for _, rows in sheets for r in rows for v in r if v is not None)
    t0 = time.perf_counter()
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return time.perf_counter() - t0, cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=10_000)
    ap.add_argument("--criteria", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    t0 = time.perf_counter()
    call = make_call(a.proposals, a.criteria)
    ranking = call.rank(Params.from_pack(call.pack, budget=a.proposals * 30_000_000))
    print(f"setup (data + rank): {time.perf_counter() - t0:.2f} s; proposals {call.table.n}, "
          f"criteria {len(call.pack.criteria)}, review rows {call.reviews.n}")
    wb_times, floor_times = [], []
    data = b""
    cells = 0
    for _ in range(a.repeat):
        t = time.perf_counter()
        data = chair_workbook(ranking, call)
        wb_times.append(time.perf_counter() - t)
        f, cells = floor_seconds(data)
        floor_times.append(f)
    tracemalloc.start()
    chair_workbook(ranking, call)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    wb_s, floor_s = min(wb_times), min(floor_times)
    ratio = wb_s / floor_s
    print(f"chair workbook: {wb_s:.2f} s (best of {a.repeat}; all {', '.join(f'{x:.2f}' for x in wb_times)}), "
          f"{len(data) / 1e6:.1f} MB, {cells:,} non-empty cells")
    print(f"floor (write-only, same cells, plain): {floor_s:.2f} s (all {', '.join(f'{x:.2f}' for x in floor_times)})")
    print(f"ratio workbook / floor: {ratio:.2f} (target ≤ 2)")
    print(f"peak Python memory while building the workbook (tracemalloc): {peak / 1e6:.1f} MB")
    print(json.dumps({"workbook_vs_floor_ratio": round(ratio, 3), "peak_mb": round(peak / 1e6, 1)}))


if __name__ == "__main__":
    main()
