"""A process killed (SIGKILL) in the middle of a batch of saves: the database opens cleanly and holds every save
the process reported as committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import text

from scoring.store import SYSTEM, Store
from scoring.store.db import make_engine

from .conftest import ROOT, small_proposals, write_files

WRITER = textwrap.dedent("""
    import sys
    from scoring.store import Store
    from scoring.store.db import make_engine
    url, round_id = sys.argv[1], int(sys.argv[2])
    store = Store(engine=make_engine(url))
    me = store.users.get("K")
    for n in range(20):  # 20 passes over 60 proposals: 1,200 saves, each based on the one before
        for i in range(1, 61):
            pid = f"T-{i:03d}"
            v = store.reviews.save_draft(me, round_id, pid, {"service_need": 1 + (i + n) % 5},
                                         {"service_need": f"save {i}"}, {}, f"batch save {i} v{n + 1}",
                                         base_version=n)
            print(pid, v, flush=True)
""")


def test_sigkill_in_the_middle_of_saves_keeps_every_committed_save(backend, tmp_path):
    store = backend.store
    r = store.rounds.create_round(SYSTEM, "強制終了", ["autonomous_l4"])
    store.rounds.import_files(SYSTEM, r.id, **write_files(tmp_path, small_proposals(60), [("K", "委員K", "reviewer", "")]))
    store.assignments.auto_assign(SYSTEM, r.id, k=1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, backend.url, str(r.id)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    reported = []
    for line in proc.stdout:
        reported.append(line.split())
        if len(reported) == 100:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    reported += [line.split() for line in proc.stdout.read().splitlines()]  # committed, printed, not yet read
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert 100 <= len(reported) < 1200  # killed in the middle of the batch
    last = {}
    for pid, version in reported:
        last[pid] = int(version)

    fresh = Store(engine=make_engine(backend.url))  # a new engine: as after a restart
    try:
        with fresh.db.engine.connect() as conn:
            if backend.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            stored = {pid: (lv, oc) for pid, lv, oc in conn.execute(text(
                "SELECT p.proposal_id, r.version, r.overall_comment FROM reviews r "
                "JOIN proposals p ON p.id = r.proposal_pk"))}
        beyond = 0
        for pid, version in last.items():
            v, comment = stored[pid]
            assert v in (version, version + 1)  # + 1: the one save in flight may have committed unreported
            beyond += v - version
            assert comment == f"batch save {int(pid[2:])} v{v}"
        assert beyond <= 1 and len(stored) <= len(last) + 1
        chair = fresh.users.add_user(SYSTEM, "chair", "委員長", "chair", "chair-password-1")
        for rv in fresh.reviews.list_reviews(chair, r.id):
            i = int(rv.proposal_id[2:])
            assert rv.levels == {"service_need": 1 + (i + rv.version - 1) % 5}
            assert rv.comments == {"service_need": f"save {i}"}
        # and the database keeps working
        me = fresh.users.get("K")
        pid, v = sorted(last.items())[0]
        v = stored[pid][0]
        assert fresh.reviews.save_draft(me, r.id, pid, {"service_need": 5}, {}, {}, "after", base_version=v) == v + 1
    finally:
        fresh.close()
