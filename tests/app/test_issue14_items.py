"""Issue 14, the parts of items 10 and 11 that had a test of the core only, now through the pages that make the
files (AppTest): the chair's workbook from 順位・採択 is dated in Japan time and has no empty column for the
chair (§11); the self-check's workbook names the applicant's kind in words, in either language, and the English
self-check shows the grant's rounding unit in yen (§10)."""

from __future__ import annotations

import io
import re

import openpyxl

from tests.app.review_fixtures import app_as, no_exception, texts
from tests.app.review_fixtures import data_dir, demo_db, store  # noqa: F401  (fixtures)


def test_the_chairs_workbook_from_the_page_is_dated_in_japan_time_without_an_empty_chair_column(store):
    at = app_as(store, "C01", "chair_ranking")
    at.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    at.button(key="chair_xlsx_prepare").click().run()
    no_exception(at)
    wb = openpyxl.load_workbook(io.BytesIO(at.session_state["chair_xlsx"][1]))
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(values_only=True) if r[0]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0900", summary["作成日時"]), summary["作成日時"]
    header = [c.value for c in next(wb["委員別"].iter_rows(max_row=1))]
    members = [h for h in header[3:] if h]
    assert members and all(h.startswith("R0") for h in members), header       # reviewers only: no C01 column
    for col in range(4, len(header) + 1):                                       # and none of them empty
        assert any(row[col - 1] not in (None, "") for row in wb["委員別"].iter_rows(min_row=2, values_only=True))


def _selfcheck(monkeypatch, lang: str):
    """The self-check filled for a company, in ``lang``; returns the page and the workbooks it offered."""
    import scoring.io.selfcheck_sheet as sheet

    from tests.app.test_dry_run import add_member, open_dry_run, set_levels
    from scoring.io.packs import load_pack

    from streamlit.runtime.media_file_manager import MediaFileManager

    made: list[bytes] = []
    real = sheet.selfcheck_workbook
    monkeypatch.setattr(sheet, "selfcheck_workbook", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    offered: dict[str, object] = {}      # the workbook is built when its button is clicked (issue 15): the callable
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        offered[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    at = open_dry_run(lang)
    at.selectbox(key="dr_pack").set_value("autonomous_l4").run()
    at.text_input(key="dr_app_name").input("株式会社北雪モビリティ")
    at.selectbox(key="dr_app_kind").set_value("company")
    at.text_input(key="dr_requested").input("1億4,800万円").run()
    add_member(at, "岩見沢市", "local_government")
    set_levels(at, {c: 4 for c in load_pack("autonomous_l4").criterion_ids})
    no_exception(at)
    name = next((n for n in offered if n and n.endswith("_selfcheck.xlsx")), None)
    assert name, "the page offered no workbook"
    offered[name]()                      # what the download button does when clicked
    assert made
    return at, openpyxl.load_workbook(io.BytesIO(made[-1]))


def test_the_self_checks_workbook_from_the_page_names_the_applicant_kind_in_words(store, monkeypatch):
    for lang, key, kind in (("ja", "申請者種別", "企業"), ("en", "Applicant kind", "Company")):
        _, wb = _selfcheck(monkeypatch, lang)
        summary = {r[0]: r[1] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)}
        assert summary[key] == kind, summary


def test_the_english_self_check_shows_the_grants_rounding_unit_in_yen(store):
    from tests.app.test_dry_run import open_dry_run

    at = open_dry_run("en")
    at.selectbox(key="dr_pack").set_value("subsidy").run()
    no_exception(at)
    shown = texts(at)
    assert "¥1,000" in shown and "1,000円" not in shown


def test_the_chair_reads_a_declared_conflict_with_its_reason_on_progress(store):
    """§3: the chair was "notified" only by a row with an empty reason; the reviewer now gives one (required,
    confirmed) and 進捗 shows it beside the reviewer and the proposal."""
    at = app_as(store, "R01", "reviewer_scoring", query={"round": "1", "proposal": "L4-003"})
    at.text_input(key="rv_conflict_reason").input("申請者と共同研究中").run()
    at.checkbox(key="rv_conflict_confirm").check().run()
    at.button(key="rv_conflict_declare").click().run()
    no_exception(at)
    chair = app_as(store, "C01", "chair_progress")
    chair.selectbox(key="app_pack_pick").set_value("autonomous_l4").run()
    no_exception(chair)
    assert "委員が申告した利益相反" in texts(chair)
    [rows] = [d.value for d in chair.dataframe if "理由" in d.value.columns and "提案・団体" in d.value.columns]
    assert rows.to_dict("records") == [{"委員": "委員 山田 太郎", "提案・団体": "L4-003", "理由": "申請者と共同研究中"}]
