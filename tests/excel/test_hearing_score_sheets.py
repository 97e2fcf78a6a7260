"""Offline hearing score sheets through the real command line (docs/excel.md "Hearing score sheets"):
``template --stage hearing`` issues the hearing criteria for the shortlisted proposals only, signed like the
document sheets; ``import-sheets --stage hearing`` gives hearing review rows (items ``hearing:<id>``) that rank;
a sheet of the other stage, or a review of a proposal not shortlisted, is refused with file, cell and field."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from scoring.cli import main
from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "hearing-small"
BASE = ["--pack", EX / "pack.yaml", "--proposals", EX / "proposals.json", "--reviewers", EX / "reviewers.csv"]


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("SHINSA_SHEET_KEY", "committee-secret")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def doc_reviews(tmp_path):
    lines = (EX / "reviews.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "doc.csv"
    path.write_text("\n".join([lines[0]] + [x for x in lines[1:] if ",hearing:" not in x]) + "\n", encoding="utf-8")
    return path


def fill(path, levels: dict[str, tuple[int, int]], status="提出"):
    wb = load_workbook(path)
    ws = wb["評価"]
    for row in ws.iter_rows(min_row=8):
        pid, item = row[0].value, row[1].value
        if pid in levels:
            if item == "status":
                row[4].value = status
            elif item in ("hearing:h1", "hearing:h2"):
                row[4].value = levels[pid][0 if item == "hearing:h1" else 1]
    wb.save(path)


def test_hearing_sheets_issue_the_shortlist_with_hearing_criteria_and_import_as_hearing_reviews(
        capsys, tmp_path, doc_reviews):
    sheet = tmp_path / "R1.xlsx"
    code, _, err = run(capsys, "template", *BASE, "--reviewer", "R1", "--stage", "hearing", "--reviews", doc_reviews,
                       "--out", sheet)
    assert code == 0, err
    wb = load_workbook(sheet)
    ws, fp = wb["評価"], wb["_fingerprint"]
    assert ws["A1"].value == "ヒアリング評価シート（オフライン記入用）"
    body = [(r[0], r[1]) for r in ws.iter_rows(min_row=8, max_col=2, values_only=True)]
    # the shortlist (top 3 with H-4/H-3 tied at the cut) in document rank order; H-5, H-6 are not on it
    assert [p for p, item in body if item == "status"] == ["H-1", "H-2", "H-4", "H-3"]
    assert {item for _, item in body} == {"status", "hearing:h1", "hearing:h2"}     # no document item, no bonus
    assert (fp["B9"].value, fp["B10"].value) == ("hmac-sha256", "hearing")
    fill(sheet, {"H-1": (3, 3), "H-4": (5, 4)})
    code, out, err = run(capsys, "import-sheets", sheet, *BASE, "--stage", "hearing", "--reviews", doc_reviews)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))
    assert [(r["reviewer_id"], r["proposal_id"], r["item"], r["value"], r["status"]) for r in rows] == [
        ("R1", "H-1", "hearing:h1", "3", "submitted"), ("R1", "H-1", "hearing:h2", "3", "submitted"),
        ("R1", "H-4", "hearing:h1", "5", "submitted"), ("R1", "H-4", "hearing:h2", "4", "submitted")]
    # appended to the document reviews they rank as hearing reviews
    both = tmp_path / "both.csv"
    both.write_text(doc_reviews.read_text(encoding="utf-8") + "".join(out.splitlines(keepends=True)[1:]),
                    encoding="utf-8")
    code, out, err = run(capsys, "rank", *BASE, "--reviews", both, "--stage", "hearing", "--format", "json")
    assert code == 0, err
    res = {r["proposal_id"]: r for r in json.loads(out)["results"]}
    assert res["H-4"]["n_hearing_reviews"] == 1 and res["H-4"]["hearing_score"] == pytest.approx(87.5)


def test_a_sheet_of_the_other_stage_is_refused_naming_file_cell_and_field(capsys, tmp_path, doc_reviews):
    hearing, document = tmp_path / "h.xlsx", tmp_path / "d.xlsx"
    assert run(capsys, "template", *BASE, "--reviewer", "R1", "--stage", "hearing", "--reviews", doc_reviews,
               "--out", hearing)[0] == 0
    assert run(capsys, "template", *BASE, "--reviewer", "R1", "--out", document)[0] == 0
    assert load_workbook(document)["_fingerprint"]["B10"].value is None          # document sheets as before
    code, _, err = run(capsys, "import-sheets", hearing, *BASE)
    assert code == 2 and f"{hearing}:_fingerprint!B10:stage: this is a hearing score sheet, not a document one" in err
    code, _, err = run(capsys, "import-sheets", document, *BASE, "--stage", "hearing", "--reviews", doc_reviews)
    assert code == 2 and f"{document}:_fingerprint!B10:stage: this is a document score sheet, not a hearing one" in err
    # the stage is signed: a hearing sheet relabelled as a document one does not import
    wb = load_workbook(hearing)
    wb["_fingerprint"]["B10"].value = None
    wb.save(hearing)
    code, _, err = run(capsys, "import-sheets", hearing, *BASE)
    assert code == 2 and "_fingerprint!B8:fingerprint: the hidden fingerprint sheet was altered" in err


def test_a_review_of_a_proposal_not_shortlisted_is_refused(capsys, tmp_path, doc_reviews):
    added = tmp_path / "shortlist.csv"
    added.write_text("proposal_id,action,reason\nH-5,add,評価が分かれた\n", encoding="utf-8")
    sheet = tmp_path / "R2.xlsx"
    assert run(capsys, "template", *BASE, "--reviewer", "R2", "--stage", "hearing", "--reviews", doc_reviews,
               "--shortlist", added, "--out", sheet)[0] == 0
    fill(sheet, {"H-5": (4, 4), "H-1": (4, 4)})
    code, out, err = run(capsys, "import-sheets", sheet, *BASE, "--stage", "hearing", "--reviews", doc_reviews,
                         "--shortlist", added)
    assert code == 0 and "H-5,hearing:h1" in out, err
    # imported against the shortlist without the addition, H-5 is not shortlisted
    code, out, err = run(capsys, "import-sheets", sheet, *BASE, "--stage", "hearing", "--reviews", doc_reviews)
    assert code == 2 and out == ""
    assert f"{sheet}:評価!A" in err and ":proposal_id: 'H-5' is not on the hearing shortlist" in err
    code, _, err = run(capsys, "template", *BASE, "--reviewer", "R2", "--stage", "hearing", "--out", sheet)
    assert code == 2 and "--reviews: --stage hearing needs the document reviews" in err
