"""Opening a store on a database already at the newest migration loads no Alembic (issue 15: every server start
opens the store); an older or new database is still upgraded. ``migrate_head.HEAD`` is Alembic's own head."""

from __future__ import annotations

from sqlalchemy import text

from scoring.store import Store
from scoring.store import migrate
from scoring.store.db import make_engine
from scoring.store.migrate_head import HEAD


def test_the_known_head_is_alembics_head():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(migrate.alembic_config()).get_current_head() == HEAD


def test_a_database_at_the_head_is_opened_without_an_upgrade(backend, monkeypatch):
    upgrades = []
    monkeypatch.setattr(migrate, "upgrade", lambda engine, revision="head": upgrades.append(revision))
    store = Store(engine=make_engine(backend.url), create=True)
    try:
        assert store.schema_revision() == HEAD
        assert upgrades == []
    finally:
        store.close()


def test_an_older_database_is_upgraded_to_the_head(backend):
    from alembic import command

    with backend.store.db.engine.begin() as conn:    # the database as it was before the newest migration
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    assert backend.store.schema_revision() != HEAD
    again = Store(engine=make_engine(backend.url), create=True)
    try:
        assert again.schema_revision() == HEAD
        with again.db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM proposal_documents")).scalar() == 0
    finally:
        again.close()


def test_a_new_database_is_created(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'new.db'}", create=True)
    try:
        assert store.schema_revision() == HEAD
    finally:
        store.close()
