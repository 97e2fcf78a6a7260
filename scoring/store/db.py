"""Engines and sessions: ``DATABASE_URL`` selects PostgreSQL (or any SQLAlchemy URL); the default is a SQLite file
``$SHINSA_DATA_DIR/shinsa.db`` (``./data`` by default) in WAL mode with a busy timeout and foreign keys on.

SQLite write transactions start with ``BEGIN IMMEDIATE``: in WAL mode a transaction that reads and then writes
would otherwise fail at once with "database is locked" (SQLITE_BUSY_SNAPSHOT) when another writer committed
in between, instead of waiting for the busy timeout. Read transactions stay deferred so readers never queue.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 30_000


def data_dir() -> Path:
    return Path(os.environ.get("SHINSA_DATA_DIR") or "data")


def default_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgres://"):  # the Heroku-style spelling
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return f"sqlite:///{(data_dir() / 'shinsa.db').resolve()}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None, *, schema: str | None = None, pool_size: int = 10) -> Engine:
    """An engine for ``url`` (default :func:`default_url`). ``schema`` (PostgreSQL only) sets the search_path,
    which the tests use to give every run its own schema."""
    url = url or default_url()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                               pool_size=pool_size, max_overflow=20, pool_timeout=60)
        _sqlite_setup(engine)
        return engine
    kwargs = {"pool_size": pool_size, "max_overflow": 20, "pool_pre_ping": True, "pool_timeout": 60}
    if schema:
        kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    return create_engine(url, **kwargs)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # FULL: a committed save survives a killed process and a power cut. NORMAL (SHINSA_SQLITE_SYNCHRONOUS)
        # is about twice as fast and still survives a killed process, but may lose the last saves on power loss.
        sync = (os.environ.get("SHINSA_SQLITE_SYNCHRONOUS") or "FULL").upper()
        cur.execute(f"PRAGMA synchronous={sync if sync in ('FULL', 'NORMAL', 'EXTRA') else 'FULL'}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine with two session factories: :meth:`write` (one transaction, committed on success, rolled
    back on any exception) and :meth:`read`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if self.sqlite else engine
        self._lock = threading.Lock() if self.sqlite else None
        self._writer = writer
        self._write = sessionmaker(bind=writer, expire_on_commit=False, autoflush=True)
        self._read = sessionmaker(bind=engine, expire_on_commit=False)

    @contextmanager
    def _serialised(self):
        # SQLite has one writer at a time anyway; queueing this process's writers on a lock hands the database
        # over at once, instead of each waiter sleeping in SQLite's busy handler (other processes still wait
        # through busy_timeout).
        if self._lock is None:
            yield
        else:
            with self._lock:
                yield

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._serialised(), self._write() as session:
            with session.begin():
                yield session

    @contextmanager
    def write_conn(self) -> Iterator[Connection]:
        """A Core connection in one write transaction: the hot path (draft saves) without ORM overhead."""
        with self._serialised(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()
