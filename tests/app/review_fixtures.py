"""Fixtures for the AppTest tests of the reviewer / chair / admin pages (issue 4).

Each test gets its own SQLite store in a temp folder (``SHINSA_DATA_DIR``), a copy of one demo round seeded
once per worker through the store's public API (app.demo.seed_demo), so tests are safe under pytest-xdist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "review_app.py")
PAGES = {name: f"app/pages/{name}.py" for name in
         ("reviewer_home", "reviewer_scoring", "chair_ranking", "chair_progress", "chair_proposal", "admin_round",
          "login", "dry_run")}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A seeded demo database file (once per worker)."""
    import os

    from app.demo import seed_demo
    from scoring.store import Store

    folder = tmp_path_factory.mktemp("demo_seed")
    old = os.environ.get("SHINSA_DATA_DIR")
    os.environ["SHINSA_DATA_DIR"] = str(folder)
    try:
        store = Store(create=True)
        assert seed_demo(store)
        store.close()
    finally:
        if old is None:
            os.environ.pop("SHINSA_DATA_DIR", None)
        else:
            os.environ["SHINSA_DATA_DIR"] = old
    return folder / "shinsa.db"


@pytest.fixture()
def data_dir(demo_db, tmp_path, monkeypatch) -> Path:
    """This test's own copy of the demo database; the app's cached store is reset to use it."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(demo_db, folder / "shinsa.db")
    monkeypatch.setenv("SHINSA_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SHINSA_DEMO", raising=False)
    from app import session

    session.reset_store()
    yield folder
    session.reset_store()


@pytest.fixture()
def store(data_dir):
    from scoring.store import Store

    s = Store()
    yield s
    s.close()


def user(store, username: str):
    from app.auth import User

    info = store.users.get(username)
    return User(username=info.username, display_name=info.display_name, role=info.role, reviewer_id=info.username)


def app_as(store, username: str | None, page: str | None = None, query: dict | None = None):
    """An AppTest of review_app.py, logged in as ``username`` (None = anonymous), on ``page`` if given."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    if username is not None:
        at.session_state["auth_user"] = user(store, username)
    if query:
        for k, v in query.items():
            at.query_params[k] = v
    at.run()
    if page is not None:
        at.switch_page(PAGES[page])
        at.run()
    return at


def texts(at) -> str:
    """Everything shown as text on the page (titles, markdown, alerts, captions, metrics)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert not any("問い合わせ番号" in str(e) or "reference:" in str(e) for e in errors), errors
