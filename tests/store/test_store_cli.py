"""The command line: db init, round create, import, user add, assign, export, and rank --round = file rank."""

from __future__ import annotations

import json

import pytest

from scoring.cli import main
from scoring.store import Store
from scoring.store.db import make_engine

from .conftest import ALL_PACKS, SAMPLE


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fresh_database_import_assign_and_rank_round_equals_file_rank(backend, capsys, tmp_path, monkeypatch):
    db = backend.url
    assert run(capsys, "db", "init", "--db", db)[0] == 0  # already at head (the fixture migrated): a no-op
    packs = [x for p in ALL_PACKS for x in ("--pack", p)]
    code, out, err = run(capsys, "round", "create", "令和8年度 1次公募", *packs, "--db", db)
    assert code == 0, err
    rid = json.loads(out)["id"]
    code, out, err = run(capsys, "import", "--round", "令和8年度 1次公募", "--proposals", SAMPLE / "proposals.json",
                         "--reviewers", SAMPLE / "reviewers.csv", "--reviews", SAMPLE / "reviews.csv", "--db", db)
    assert code == 0, err
    assert json.loads(out)["proposals"] == 69
    monkeypatch.setenv("SHINSA_PASSWORD", "a-long-password")
    code, out, err = run(capsys, "user", "add", "chair", "--role", "chair", "--name", "委員長", "--db", db)
    assert code == 0 and json.loads(out)["has_password"] is True, err
    assert Store(engine=make_engine(db)).users.authenticate("chair", "a-long-password").role == "chair"
    code, out, err = run(capsys, "assign", "--round", rid, "--k", "3", "--db", db)
    assert code == 0, err
    for pack in ALL_PACKS:
        from_db, from_files = tmp_path / f"{pack}-db.json", tmp_path / f"{pack}-files.json"
        assert run(capsys, "rank", "--round", rid, "--pack", pack, "--db", db, "--out", from_db)[0] == 0
        assert run(capsys, "rank", "--pack", pack, "--proposals", SAMPLE / "proposals.json", "--reviews",
                   SAMPLE / "reviews.csv", "--reviewers", SAMPLE / "reviewers.csv", "--out", from_files)[0] == 0
        assert from_db.read_bytes() == from_files.read_bytes(), pack
        assert json.loads(from_db.read_text(encoding="utf-8"))["results"]
    # what-if options work the same way
    a = run(capsys, "rank", "--round", rid, "--pack", "autonomous_l4", "--budget", "5億円", "--db", db)
    b = run(capsys, "rank", "--pack", "autonomous_l4", "--proposals", SAMPLE / "proposals.json", "--reviews",
            SAMPLE / "reviews.csv", "--reviewers", SAMPLE / "reviewers.csv", "--budget", "5億円")
    assert a[1] == b[1] and a[0] == b[0] == 0
    code, out, err = run(capsys, "export", "--round", rid, "--out", tmp_path / "exp", "--db", db)
    assert code == 0 and (tmp_path / "exp" / "reviews.csv").exists()


def test_cli_import_errors_exit_2_with_file_row_field(backend, capsys, tmp_path):
    db = backend.url
    run(capsys, "round", "create", "R", "--pack", "autonomous_l4", "--db", db)
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps([{"id": "X-1", "pack": "autonomous_l4", "title": "t",
                                "applicant": {"name": "n", "kind": "alien"}}]), encoding="utf-8")
    code, out, err = run(capsys, "import", "--round", "R", "--proposals", bad, "--db", db)
    assert code == 2 and out == ""
    assert err.startswith(f"{bad}:[0]:applicant.kind:")
    code, out, err = run(capsys, "rank", "--round", "R", "--db", db)
    assert code == 0 and json.loads(out)["results"] == []


def test_rank_without_round_still_requires_the_files(capsys):
    code, out, err = run(capsys, "rank", "--pack", "autonomous_l4")
    assert code == 2 and "--proposals, --reviews" in err


HEAD = "0010"   # the newest migration (0004: the hearing stage; 0005: the outbox; 0006: the hearing timetable; 0007: users.language; 0008: decisions; 0009: discussion; 0010: documents)


@pytest.mark.parametrize("action", ["init"])
def test_db_init_creates_a_wal_sqlite_file_under_the_data_dir(action, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHINSA_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run(capsys, "db", action)
    assert code == 0, err
    assert (tmp_path / "data" / "shinsa.db").exists()
    store = Store()
    with store.db.engine.connect() as conn:
        from sqlalchemy import text
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() > 0
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    store.close()
    code, out, err = run(capsys, "db", "upgrade")
    assert code == 0 and HEAD in out
