"""Page speed (issue 15) without timing anything: what a page run must not do, for the chair's pages and the
self-check. Files for download are built when their button is clicked (a callable given to
``st.download_button``), not on every run of the page; the callable still gives the same file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager

from scoring.store import SYSTEM
from tests.app.review_fixtures import no_exception
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)

D = Path(__file__).resolve().parents[1] / "data" / "decisions-small"


@pytest.fixture()
def deferred(monkeypatch):
    """The download callables a run registers (file name → callable), and the file builders' calls."""
    files: dict[str, object] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        files[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return files


def counted(monkeypatch, module, name: str, calls: list) -> None:
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapper)


def test_decisions_page_builds_the_record_files_only_when_asked(store, deferred, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from scoring.io import decision_sheets, selection_record
    from tests.app.review_fixtures import APP, user

    r = store.rounds.create_round(SYSTEM, "令和8年度 採否テスト", [D / "pack.yaml"])
    store.rounds.import_files(SYSTEM, r.id, D / "proposals.json", D / "reviewers.csv", D / "reviews.csv")
    built: list[str] = []
    for module, name in ((selection_record, "record_docx"), (selection_record, "adopted_list_xlsx"),
                         (selection_record, "adopted_list_csv"), (decision_sheets, "decisions_workbook")):
        counted(monkeypatch, module, name, built)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["auth_user"] = user(store, "C01")
    at.run()
    at.switch_page("app/pages/chair_decisions.py")
    at.run()
    no_exception(at)
    assert built == []                           # a run of the page builds none of the four files
    names = sorted(n for n in deferred if n.startswith(("selection_record_", "adopted_")))
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "xlsx", "docx", "xlsx"]
    record = Document(io.BytesIO(deferred[next(n for n in names if n.endswith(".docx"))]()))
    assert "選定結果" in record.paragraphs[0].text and "令和8年度 採否テスト" in record.paragraphs[1].text
    rows = list(csv.reader(io.StringIO(deferred[next(n for n in names if n.endswith(".csv"))]().decode("utf-8-sig"))))
    assert rows[0][0] == "提案番号" and len(rows) > 1
    for name in (n for n in names if n.endswith(".xlsx")):
        assert load_workbook(io.BytesIO(deferred[name]())).sheetnames
    assert sorted(built) == ["adopted_list_csv", "adopted_list_xlsx", "decisions_workbook", "record_docx"]


def test_self_check_builds_its_workbook_only_when_asked(deferred, monkeypatch):
    from tests.app.test_dry_run import fill_l4, open_dry_run, set_levels

    from scoring.io import selfcheck_sheet

    built: list[str] = []
    counted(monkeypatch, selfcheck_sheet, "selfcheck_workbook", built)
    at = open_dry_run()
    fill_l4(at, [("岩見沢市", "local_government")])
    set_levels(at, {c: 4 for c in ("service_need", "verification_items", "verification_environment",
                                   "remote_monitoring_safety", "rollout_plan")})
    no_exception(at)
    assert built == []                           # field and level changes build no workbook
    name = next(n for n in deferred if n.endswith("_selfcheck.xlsx"))
    wb = load_workbook(io.BytesIO(deferred[name]()))
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["基礎点（見込）"] == pytest.approx(75.0)
    assert built == ["selfcheck_workbook"]
