"""The selection record (選定結果・選定理由) as .docx, 採択一覧 as .xlsx/.csv and the 「選定結果」 sheet in the chair
workbook, from the worked example of tests/data/decisions-small (decisions.md §4)."""

import csv
import io

from docx import Document
from openpyxl import load_workbook

from scoring.decision_rules import decide
from scoring.io.call import load_call
from scoring.io.chair_workbook import chair_workbook
from scoring.io.selection_record import adopted_list_csv, adopted_list_xlsx, record_docx
from scoring.io.tables import read_decisions
from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "decisions-small"


def decided():
    call = load_call(EX / "pack.yaml", EX / "proposals.json", EX / "reviews.csv", EX / "reviewers.csv")
    return call, decide(call.rank(), read_decisions(EX / "decisions.csv"), source="decisions.csv")


def test_record_docx_lists_every_proposal_and_each_departure_with_its_reason():
    _, d = decided()
    doc = Document(io.BytesIO(record_docx(d, round_name="令和8年度第1回", version=2, by="chair", at="11/29 10:00")))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert "選定結果・選定理由" in text and "第2版" in text and "令和8年度第1回" in text
    assert [r[1] for r in cells[1:]] == ["D-1", "D-2", "D-3", "D-4", "D-5", "D-6"]
    d1 = cells[1]
    assert d1[8] == "40,000,000" and d1[9] == "25,000,000"          # F and A
    assert "基地局の追加分を補助対象外と査定（減額）" in text and "補欠繰上げ（減額による予算残）" in text
    assert "予算 100,000,000円／採択額合計 100,000,000円／残額 0円" in text


def test_adopted_list_for_publication():
    _, d = decided()
    rows = list(csv.reader(io.StringIO(adopted_list_csv(d).decode("utf-8-sig"))))
    assert rows[0] == ["提案番号", "提案者", "提案名", "採否", "採択額（円）"]
    assert [r[0] for r in rows[1:]] == ["D-1", "D-2", "D-3", "D-4"]
    assert rows[1][4] == "25000000"
    ws = load_workbook(io.BytesIO(adopted_list_xlsx(d))).active
    assert ws.title == "採択一覧" and ws.cell(2, 5).value == 25_000_000 and ws.max_row == 5


def test_chair_workbook_carries_the_selection_record_sheet():
    call, d = decided()
    wb = load_workbook(io.BytesIO(chair_workbook(d.ranking, call, decisions=d)))
    assert "選定結果" in wb.sheetnames
    values = [c.value for row in wb["選定結果"].iter_rows() for c in row]
    assert "D-4" in values and 20_000_000 in values
