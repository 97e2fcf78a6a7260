"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL: ``SHINSA_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test
gets a fresh schema (unique per xdist worker and test), created by the real migrations and dropped afterwards.
If PostgreSQL is unreachable the PostgreSQL half of the tests FAILS with a clear message; it is never skipped.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from scoring.store import SYSTEM, Store
from scoring.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_proposals"
PG_URL = os.environ.get("SHINSA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ALL_PACKS = ["autonomous_l4", "advanced_comms", "ai_edge", "subsidy", "planning_support", "promotion_system"]

os.environ.setdefault("SHINSA_BCRYPT_ROUNDS", "4")  # the cost factor only changes speed, not behaviour
# WAL + NORMAL still keeps every commit when a process is killed (test_kill checks exactly that); FULL, the
# default, adds an fsync per commit against power loss, which a test cannot exercise anyway.
os.environ.setdefault("SHINSA_SQLITE_SYNCHRONOUS", "NORMAL")


@dataclass
class Backend:
    name: str
    url: str          # a URL that opens this test's database (the PostgreSQL one carries its search_path)
    store: Store

    def new_store(self) -> Store:
        """A second, independent store (its own engine and connections) on the same database."""
        return Store(engine=make_engine(self.url))


_admin = None


def _pg_admin():
    global _admin
    if _admin is None:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the same message
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} ({type(exc).__name__}: {exc}). The store tests "
                        "need it (CI and development machines run it on 127.0.0.1:5432; set SHINSA_TEST_PG_URL "
                        "otherwise). They are never skipped.", pytrace=False)
        _admin = engine
    return _admin


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shinsa.db'}"
        store = Store(url, create=True)
        try:
            yield Backend("sqlite", url, store)
        finally:
            store.close()
        return
    admin = _pg_admin()
    schema = f"shinsa_t_{worker}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    store = None
    try:
        store = Store(engine=make_engine(url), create=True)
        yield Backend("postgres", url, store)
    finally:
        if store is not None:
            store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def store(backend) -> Store:
    return backend.store


@pytest.fixture
def chair(store):
    return store.users.add_user(SYSTEM, "chair", "委員長", "chair", "chair-password-1")


@pytest.fixture
def secretariat(store):
    return store.users.add_user(SYSTEM, "jimu", "事務局", "secretariat", "jimu-password-1")


@pytest.fixture
def sample_round(store):
    """The shipped sample (69 proposals, six packs, R01–R06 + C01, 345 reviews) imported into one round."""
    r = store.rounds.create_round(SYSTEM, "令和8年度 1次公募", ALL_PACKS)
    store.rounds.import_files(SYSTEM, r.id, SAMPLE / "proposals.json", SAMPLE / "reviewers.csv",
                              SAMPLE / "reviews.csv")
    return r.id


def small_proposals(n: int, prefix: str = "T", pack: str = "autonomous_l4", members=None) -> list[dict]:
    """``n`` valid proposals of ``pack`` (a local government in every consortium)."""
    out = []
    for i in range(1, n + 1):
        pid = f"{prefix}-{i:03d}"
        out.append({"id": pid, "pack": pack, "title": f"実証 {pid}",
                    "applicant": {"name": f"株式会社テスト{i}", "kind": "company"},
                    "consortium": [{"name": f"テスト市{i}", "kind": "local_government"}]
                    + [{"name": m, "kind": "company"} for m in (members or {}).get(pid, [])],
                    "requested_yen": 100_000_000, "technologies": ["local5g"], "facts": {}})
    return out


def write_files(tmp_path: Path, proposals: list[dict], reviewers: list[tuple[str, str, str, str]],
                reviews: list[list] | None = None) -> dict:
    d = tmp_path / f"in-{uuid.uuid4().hex[:6]}"
    d.mkdir()
    (d / "proposals.json").write_text(json.dumps(proposals, ensure_ascii=False), encoding="utf-8")
    lines = ["reviewer_id,name,role,conflicts"] + [",".join(r) for r in reviewers]
    (d / "reviewers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = {"proposals": d / "proposals.json", "reviewers": d / "reviewers.csv"}
    if reviews is not None:
        rl = ["reviewer_id,proposal_id,item,value,status,comment"] + [",".join(map(str, r)) for r in reviews]
        (d / "reviews.csv").write_text("\n".join(rl) + "\n", encoding="utf-8")
        files["reviews"] = d / "reviews.csv"
    return files


@pytest.fixture
def small_round(store, tmp_path):
    """Pack autonomous_l4; proposals T-001…T-006 (T-003 has member 株式会社みちのく); reviewers A, B, C, D;
    C is conflicted with the organisation 株式会社みちのく (so with T-003)."""
    r = store.rounds.create_round(SYSTEM, "小テスト", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(6, members={"T-003": ["株式会社みちのく"]}),
                        [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", ""),
                         ("C", "委員C", "reviewer", "株式会社みちのく"), ("D", "委員D", "reviewer", "")])
    store.rounds.import_files(SYSTEM, r.id, **files)
    for u in "ABCD":
        store.users.set_password(SYSTEM, u, f"password-{u}-123")
    return r.id


def login(store, username):
    return store.users.authenticate(username, f"password-{username}-123")


LEVELS = {"service_need": 4, "verification_items": 4, "verification_environment": 3, "remote_monitoring_safety": 4,
          "rollout_plan": 5}  # every criterion of autonomous_l4

