"""Demo mode (``streamlit run review_app.py -- --demo`` or ``SHINSA_DEMO=1``): on an empty database, a demo
round from ``sample_proposals/`` and demo accounts whose credentials the login page and docs/app.md state.

Without demo mode nothing is seeded and no account with a known password ever exists (the first chair is
created with the command line). Seeding goes through the store's public services only, as the command line
(``SYSTEM``) would.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .session import get_store

if TYPE_CHECKING:
    from scoring.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_proposals"
DEMO_ROUND = "デモ 令和8年度 1次公募"
DEMO_PASSWORD = "shinsa-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    role: str


DEMO_ACCOUNTS = (
    DemoAccount("C01", "委員長 渡辺 誠", "chair"),
    DemoAccount("R01", "委員 山田 太郎", "reviewer"),
    DemoAccount("R02", "委員 佐藤 花子", "reviewer"),
    DemoAccount("R03", "委員 鈴木 一郎", "reviewer"),
    DemoAccount("R04", "委員 高橋 恵美", "reviewer"),
    DemoAccount("R05", "委員 田中 健二", "reviewer"),
    DemoAccount("S01", "事務局 小林 優子", "secretariat"),   # not in reviewers.csv: created here
)

# The demo reviewer R01 finds these still to do (their sample reviews are left out of the import).
OPEN_FOR_R01 = ("L4-001", "L4-003", "AC-002")

# The hearing stage under way in one programme (issue 17): the chair cut the shortlist with the top 7 of the
# document ranking, added the 9th with a reason and fixed it; three members submitted their hearing reviews
# (one left one proposal open, so it lacks a review); R01 still has every hearing form to do.
HEARING_PACK = "ai_edge"
HEARING_TOP_N = 7
HEARING_ADD = ("AI-004", "実証フィールドの自治体が決定済みで、導入体制をヒアリングで確かめたい")
HEARING_REVIEWERS = ("R02", "R04", "R05")


def _packs() -> list[str]:
    data = json.loads((SAMPLES / "proposals.json").read_text(encoding="utf-8"))
    seen: list[str] = []
    for p in data:
        if p["pack"] not in seen:
            seen.append(p["pack"])
    return seen


def seed_demo(store: Store) -> bool:
    """Create the demo round and accounts if the database is empty. Returns True if it seeded now."""
    from scoring.store import SYSTEM, Duplicate

    if store.users.list_users(SYSTEM) or store.rounds.list_rounds(SYSTEM):
        return False
    try:
        rnd = store.rounds.create_round(SYSTEM, DEMO_ROUND, _packs(), description="デモ用のサンプル審査")
    except Duplicate:  # another process seeded at the same moment
        return False
    with tempfile.TemporaryDirectory(prefix="shinsa-demo-") as tmp:
        reviews = Path(tmp) / "reviews.csv"
        with open(SAMPLES / "reviews.csv", encoding="utf-8", newline="") as src, \
                open(reviews, "w", encoding="utf-8", newline="") as dst:
            reader = csv.DictReader(src)
            writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
            writer.writeheader()
            for row in reader:
                if row["reviewer_id"] == "R01" and row["proposal_id"] in OPEN_FOR_R01:
                    continue
                writer.writerow(row)
        store.rounds.import_files(SYSTEM, rnd.id, proposals=SAMPLES / "proposals.json",
                                  reviewers=SAMPLES / "reviewers.csv", reviews=reviews)
    for pid in OPEN_FOR_R01:
        store.assignments.assign(SYSTEM, rnd.id, pid, "R01")
    if (SAMPLES / "documents").is_dir():   # each proposal's 提案書 PDF (scripts/make_sample_pdfs.py)
        store.documents.add_documents(SYSTEM, rnd.id, SAMPLES / "documents")
    for account in DEMO_ACCOUNTS:
        if account.role == "secretariat":
            store.users.add_user(SYSTEM, account.username, account.name, account.role, DEMO_PASSWORD)
        else:
            store.users.set_password(SYSTEM, account.username, DEMO_PASSWORD)
    seed_hearing(store, rnd.id)
    return True


def seed_hearing(store: Store, round_id: int) -> None:
    """The hearing stage of :data:`HEARING_PACK`, through the store's services as the chair and the members
    would do it: the shortlist (a what-if of the method, one addition with its reason) fixed, then hearing
    reviews submitted — levels from each proposal's document rank, so the final order is a story to read."""
    from scoring.hearing_ranking import HearingParams

    chair = store.users.get("C01")
    pack = store.rounds.pack(round_id, HEARING_PACK)
    hearing = HearingParams.from_pack(pack, shortlist_method="top_n", n=HEARING_TOP_N)
    store.hearings.set_stage(chair, round_id, HEARING_PACK, "shortlist", hearing=hearing)
    store.hearings.add_to_shortlist(chair, round_id, HEARING_PACK, *HEARING_ADD)
    fixed = store.hearings.set_stage(chair, round_id, HEARING_PACK, "hearing").shortlist
    criteria = list(pack.hearing.criterion_ids)
    for k, username in enumerate(HEARING_REVIEWERS):
        me = store.users.get(username)
        for j, pid in enumerate(fixed):
            if k == len(HEARING_REVIEWERS) - 1 and j == len(fixed) - 1:
                continue     # R05 has not scored the last slot yet: it lacks a hearing review
            # the later in the document order, the better the hearing went (a final order that differs)
            level = 3 + (j * 2 + k) // len(fixed) if j % 2 else 4 - (j + k) % 2
            levels = {c: min(5, max(1, level + (i % 2))) for i, c in enumerate(criteria)}
            v = store.reviews.save_draft(me, round_id, pid, levels, {criteria[0]: "質疑で計画の具体性を確認した。"},
                                         None, "", base_version=0, stage="hearing")
            store.reviews.submit(me, round_id, pid, v, stage="hearing")


# Seeding takes seconds (the sample round, its documents, seven bcrypt passwords): it runs in a background thread,
# once per database and server process, and the first page is drawn meanwhile with a note that the demo data are
# being prepared (issue 15). A login waits for it (:func:`wait_demo`).
_seeding: dict[tuple, threading.Event] = {}
_seeding_lock = threading.Lock()


def _database() -> tuple:
    """The database the store opens (the environment names it), known without opening the store."""
    return os.environ.get("DATABASE_URL"), os.environ.get("SHINSA_DATA_DIR")


def _seed(key: tuple, done: threading.Event) -> None:
    try:
        if _database() == key:      # still the database it was started for (tests switch databases)
            seed_demo(get_store())
    finally:
        done.set()     # a failure is logged by the thread; the pages then show what the store has


def ensure_demo() -> bool:
    """Start seeding the demo data (once per database and server process, in the background); True once they are
    ready. Safe to call on every run."""
    key = _database()
    with _seeding_lock:
        done = _seeding.get(key)
        if done is None:
            done = _seeding[key] = threading.Event()
            threading.Thread(target=_seed, args=(key, done), name="shinsa-demo-seed", daemon=True).start()
    return done.is_set()


def demo_ready() -> bool:
    """Whether the demo data are seeded (False before :func:`ensure_demo` started seeding them)."""
    with _seeding_lock:
        done = _seeding.get(_database())
    return done is not None and done.is_set()


def wait_demo(timeout: float = 300) -> None:
    """Wait until the demo data are ready (a login in demo mode right after a server start)."""
    ensure_demo()
    with _seeding_lock:
        done = _seeding[_database()]
    done.wait(timeout)
