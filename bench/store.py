"""Benchmark of the store (issue 3): draft-save throughput and p95 latency with 1, 5 and 20 concurrent writers on
SQLite and PostgreSQL, and ranking a stored round of 1,000 proposals × 10 reviewers from the database vs from
files. Prints a table, then one JSON line (the last line).

    python bench/store.py [--saves 600] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Each writer is one reviewer saving drafts of their own reviews again and again (as the app does on every
change), each save based on the version the previous one returned. SQLite runs with the default
synchronous=FULL (an fsync per commit) unless SHINSA_SQLITE_SYNCHRONOUS says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHINSA_BCRYPT_ROUNDS", "4")

from sqlalchemy import create_engine, text  # noqa: E402

from scoring.io.call import load_call  # noqa: E402
from scoring.store import SYSTEM, Store  # noqa: E402
from scoring.store.db import make_engine  # noqa: E402

CRIT = ["service_need", "verification_items", "verification_environment", "remote_monitoring_safety", "rollout_plan"]


def proposals(n: int, prefix: str = "B") -> list[dict]:
    return [{"id": f"{prefix}-{i:04d}", "pack": "autonomous_l4", "title": f"実証 {i}",
             "applicant": {"name": f"株式会社ベンチ{i}", "kind": "company"},
             "consortium": [{"name": f"ベンチ市{i}", "kind": "local_government"}],
             "requested_yen": 50_000_000 + (i * 7919) % 100_000_000, "technologies": ["local5g"],
             "facts": {"preceding_commercialization_area": i % 3 == 0}} for i in range(1, n + 1)]


def write_inputs(d: Path, props: list[dict], reviewers: list[str], reviews: list[list] | None) -> dict:
    (d / "proposals.json").write_text(json.dumps(props, ensure_ascii=False), encoding="utf-8")
    (d / "reviewers.csv").write_text("reviewer_id,name,role,conflicts\n"
                                     + "".join(f"{r},委員{r},reviewer,\n" for r in reviewers), encoding="utf-8")
    out = {"proposals": d / "proposals.json", "reviewers": d / "reviewers.csv"}
    if reviews is not None:
        (d / "reviews.csv").write_text("reviewer_id,proposal_id,item,value,status,comment\n"
                                       + "".join(",".join(map(str, r)) + "\n" for r in reviews), encoding="utf-8")
        out["reviews"] = d / "reviews.csv"
    return out


def save_bench(store: Store, work: Path, writers: int, total_saves: int, per_writer_props: int = 10) -> dict:
    r = store.rounds.create_round(SYSTEM, f"bench-{writers}-{uuid.uuid4().hex[:6]}", ["autonomous_l4"])
    names = [f"W{writers:02d}_{j:02d}" for j in range(writers)]
    d = work / f"in-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    store.rounds.import_files(SYSTEM, r.id, **write_inputs(d, proposals(per_writer_props, f"S{r.id}"), names, None))
    store.assignments.auto_assign(SYSTEM, r.id, k=writers)
    actors = [store.users.get(n) for n in names]
    per_writer = total_saves // writers
    lat: list[list[float]] = [[] for _ in range(writers)]
    errors: list[str] = []
    barrier = threading.Barrier(writers + 1)

    def writer(j: int) -> None:
        me, versions = actors[j], {}
        barrier.wait()
        try:
            for n in range(per_writer):
                k = n % per_writer_props
                pid = f"S{r.id}-{k + 1:04d}"
                levels = {c: 1 + (n + m) % 5 for m, c in enumerate(CRIT[: 1 + n % len(CRIT)])}
                t0 = time.perf_counter()
                versions[pid] = store.reviews.save_draft(me, r.id, pid, levels, {"service_need": f"edit {n}"}, {},
                                                         f"draft {n}", base_version=versions.get(pid, 0))
                lat[j].append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(j,)) for j in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"save errors: {errors[:3]}")
    all_lat = np.array([x for l in lat for x in l]) * 1000
    return {"saves": int(all_lat.size), "seconds": wall, "saves_per_s": all_lat.size / wall,
            "p50_ms": float(np.percentile(all_lat, 50)), "p95_ms": float(np.percentile(all_lat, 95))}


def rank_bench(store: Store, work: Path, repeats: int = 3) -> dict:
    n_props, n_rev = 1000, 10
    props = proposals(n_props, "R")
    names = [f"V{j:02d}" for j in range(n_rev)]
    rng = np.random.default_rng(7)
    reviews = [[v, p["id"], c, int(rng.integers(2, 6)), "submitted", ""] for p in props for v in names for c in CRIT]
    d = work / f"rank-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    files = write_inputs(d, props, names, reviews)
    r = store.rounds.create_round(SYSTEM, f"bench-rank-{uuid.uuid4().hex[:6]}", ["autonomous_l4"])
    t0 = time.perf_counter()
    store.rounds.import_files(SYSTEM, r.id, **files)
    import_s = time.perf_counter() - t0
    chair = store.users.add_user(SYSTEM, f"chair-{uuid.uuid4().hex[:6]}", "委員長", "chair", "bench-password")

    def from_db():
        fresh = Store(engine=store.db.engine)  # no cached packs/proposals: everything read from the database
        return fresh.rounds.rank_round(chair, r.id, "autonomous_l4")

    def from_files():
        return load_call("autonomous_l4", files["proposals"], files["reviews"], files["reviewers"]).rank()

    db_t, file_t = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = from_db()
        db_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = from_files()
        file_t.append(time.perf_counter() - t0)
    assert a.to_dict() == b.to_dict(), "database and file rankings differ"
    return {"import_s": import_s, "db_rank_s": min(db_t), "file_rank_s": min(file_t),
            "ratio": min(db_t) / min(file_t)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--saves", type=int, default=600, help="saves per configuration")
    ap.add_argument("--pg", default=os.environ.get("SHINSA_TEST_PG_URL",
                                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shinsa-bench-"))
    results: dict[str, dict] = {}

    sqlite_store = Store(f"sqlite:///{work / 'bench.db'}", create=True)
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    schema = f"shinsa_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg_store = Store(engine=make_engine(f"{args.pg}?options=-csearch_path%3D{schema}"), create=True)
    try:
        for name, store in (("sqlite", sqlite_store), ("postgres", pg_store)):
            for w in (1, 5, 20):
                res = save_bench(store, work, w, args.saves)
                results[f"{name}_{w}"] = res
                print(f"{name:9s} writers={w:2d}  {res['saves']:5d} saves in {res['seconds']:6.2f} s  "
                      f"{res['saves_per_s']:7.1f} saves/s  p50 {res['p50_ms']:6.1f} ms  p95 {res['p95_ms']:6.1f} ms",
                      flush=True)
        rank = rank_bench(sqlite_store, work)
        print(f"rank 1,000 proposals x 10 reviewers (SQLite): from db {rank['db_rank_s']:.3f} s, from files "
              f"{rank['file_rank_s']:.3f} s, ratio {rank['ratio']:.2f} (import took {rank['import_s']:.2f} s)")
    finally:
        sqlite_store.close()
        pg_store.close()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    print(json.dumps({
        "sqlite_saves_per_s_20": round(results["sqlite_20"]["saves_per_s"], 1),
        "postgres_saves_per_s_20": round(results["postgres_20"]["saves_per_s"], 1),
        "p95_ms_20": round(results["sqlite_20"]["p95_ms"], 2),
        "postgres_p95_ms_20": round(results["postgres_20"]["p95_ms"], 2),
        "sqlite_saves_per_s_1": round(results["sqlite_1"]["saves_per_s"], 1),
        "sqlite_saves_per_s_5": round(results["sqlite_5"]["saves_per_s"], 1),
        "postgres_saves_per_s_1": round(results["postgres_1"]["saves_per_s"], 1),
        "postgres_saves_per_s_5": round(results["postgres_5"]["saves_per_s"], 1),
        "db_vs_file_rank_ratio": round(rank["ratio"], 3),
        "import_10k_reviews_s": round(rank["import_s"], 2),   # 1,000 proposals, 10 reviewers, 50,000 rows (SQLite)
        "sqlite_synchronous": (os.environ.get("SHINSA_SQLITE_SYNCHRONOUS") or "FULL").upper(),
    }))


if __name__ == "__main__":
    main()
