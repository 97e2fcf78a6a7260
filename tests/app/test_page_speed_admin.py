"""Page speed of 進捗 and ラウンド管理 (issue 15) without timing anything: a rerun reads no proposal's JSON and
builds no pandas frame for the big tables (the reviewers × proposals matrix, the assignments), and the tables
sent are byte for byte the Arrow tables of the pandas frames the pages built before."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import event
from streamlit import dataframe_util

from app.i18n import t
from app.progress import CELL_SYMBOLS
from tests.app.review_fixtures import app_as, no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)
from tests.app.test_page_speed import counted, deferred  # noqa: F401  (a fixture)


def _watch(monkeypatch):
    """What the next runs do: the SQL sent, proposal models parsed, pandas frames converted (their widths)."""
    from app.session import get_store
    from scoring.store.store import Store

    seen = {"sql": [], "parsed": [], "frames": []}
    event.listen(get_store().db.engine, "before_cursor_execute",
                 lambda c, cur, statement, *a: seen["sql"].append(statement))
    real_parse, real_convert = Store._model_from, dataframe_util.convert_pandas_df_to_arrow_table

    def parse(self, pk, data):
        seen["parsed"].append(pk)
        return real_parse(self, pk, data)

    def convert(df, **kw):
        seen["frames"].append(df.shape)
        return real_convert(df, **kw)
    monkeypatch.setattr(Store, "_model_from", parse)
    monkeypatch.setattr(dataframe_util, "convert_pandas_df_to_arrow_table", convert)
    return seen


def _sent(at, columns) -> bytes:
    """The Arrow bytes of the page's table with these column titles."""
    for d in at.dataframe:
        if list(d.value.columns) == list(columns):
            return d.proto.arrow_data.data
    raise AssertionError(f"no table with columns {columns[:3]}…")


def _rerun_sends_the_same(at, before, monkeypatch) -> None:
    """The page sent ``before``'s Arrow bytes; a rerun sends them again without reading a proposal's JSON, parsing a
    proposal or building a frame for the table (its Arrow table was kept)."""
    first = _sent(at, before.columns)
    assert first == dataframe_util.convert_pandas_df_to_arrow_bytes(before)
    seen = _watch(monkeypatch)
    at.run()
    no_exception(at)
    assert _sent(at, before.columns) == first
    assert seen["sql"] and not [s for s in seen["sql"] if "proposals.data" in s]
    assert seen["parsed"] == []
    assert before.shape not in seen["frames"]


def test_progress_rerun_reads_no_proposal_json_and_sends_the_same_matrix(store, monkeypatch):
    at = app_as(store, "C01", "chair_progress")
    no_exception(at)
    chair = store.users.get("C01")
    rnd = store.rounds.list_rounds(chair)[-1]
    matrix = store.rounds.progress(chair, rnd.id, next(iter(rnd.packs)))
    names = {r.username: r.name for r in store.rounds.list_reviewers(chair, rnd.id)}
    before = pd.DataFrame([[names.get(row[0]) or row[0]] + [CELL_SYMBOLS[v] for v in row[1:]] for row in matrix.rows()],
                          columns=[t("chair.progress.reviewer")] + matrix.proposals)   # as the page built it
    _rerun_sends_the_same(at, before, monkeypatch)


def test_admin_rerun_reads_no_proposal_json_and_sends_the_same_assignments(store, monkeypatch):
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    chair = store.users.get("C01")
    rnd = store.rounds.list_rounds(chair)[-1]
    rows = [a for a in store.assignments.list_assignments(chair, rnd.id) if a.pack == next(iter(rnd.packs))]
    assert rows
    before = pd.DataFrame({t("admin.assign.proposal"): [a.proposal_id for a in rows],
                           t("admin.assign.reviewer"): [a.reviewer for a in rows],
                           t("admin.assign.status"): [t(f"admin.status.{a.status}") for a in rows]})
    _rerun_sends_the_same(at, before, monkeypatch)


def test_the_kept_arrow_table_is_the_frames_and_changes_with_its_content():
    from app.ui import arrow_table

    cols, rows = ("委員", "P-1", "P-2"), (("委員A", "●", "◐"), ("委員B", "—", "●"))
    table = arrow_table(cols, rows)
    assert dataframe_util.convert_arrow_table_to_arrow_bytes(table) == dataframe_util.convert_pandas_df_to_arrow_bytes(
        pd.DataFrame([list(r) for r in rows], columns=list(cols)))
    assert arrow_table(cols, tuple(rows)) is table                       # kept
    changed = arrow_table(cols, (("委員A", "●", "●"), rows[1]))          # a cell changed: a new table
    assert changed is not table and changed.column("P-2").to_pylist() == ["●", "●"]


def test_admin_builds_the_audit_csv_only_when_asked(store, deferred, monkeypatch):
    """The 操作履歴 CSV is built when its button is clicked (a callable), not on every run; it is the table's CSV."""
    import app.audit as audit

    built: list[str] = []
    counted(monkeypatch, audit, "audit_csv", built)
    at = app_as(store, "C01", "admin_round")
    no_exception(at)
    assert built == []
    name = next(n for n in deferred if n.startswith("audit_round_"))
    body = deferred[name]()
    assert built == ["audit_csv"]
    expected = audit.audit_frame(store.audit.query(store.users.get("C01"), 1, limit=500))
    assert body == audit.audit_csv(expected)
