"""Offline score sheets: fill as a reviewer would, import, compare; tampered sheets refused naming the cell."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring.cli import main
from scoring.errors import InputError
from scoring.io import read_proposals, read_reviewers
from scoring.io.score_sheets import FINGERPRINT_SHEET, SCORE_SHEET, read_score_sheets, score_sheet
from scoring.models import Reviewer
from scoring.io.packs import load_pack

COMMENTS = {("X1", "EX-1", "service_need"): "課題設定は明確。\n2行目の所見",
            ("X2", "EX-2", "rollout_plan"): '=HYPERLINK("http://x","y")',
            ("X3", "EX-4", "verification_items"): "-ハンドオーバーの検証が不足"}


def cells_by_key(ws):
    out = {}
    for r in range(1, ws.max_row + 1):
        out[(ws.cell(r, 1).value, ws.cell(r, 2).value)] = r
    return out


def fill(path: Path, reviews: list[dict]) -> None:
    """What a reviewer does in Excel: pick levels, write comments, set the status of each proposal."""
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    rows = cells_by_key(ws)
    for rv in reviews:
        r = rows[(rv["proposal_id"], rv["item"])]
        ws.cell(r, 5).value = int(rv["value"])
        if rv["comment"]:
            ws.cell(r, 6).value = rv["comment"]
            ws.cell(r, 6).data_type = "s"
        ws.cell(rows[(rv["proposal_id"], "status")], 5).value = "提出" if rv["status"] == "submitted" else "下書き"
    wb.save(path)


def test_round_trip_through_the_cli(tmp_path, example_paths, capsys):
    p = example_paths
    sheets = tmp_path / "sheets"
    assert main(["template", "--pack", p["pack"], "--proposals", str(p["proposals"]), "--reviewer", "all",
                 "--reviewers", str(p["reviewers"]), "--out", str(sheets)]) == 0
    original = list(csv.DictReader(Path(p["reviews"]).open(encoding="utf-8")))
    for row in original:
        row["comment"] = COMMENTS.get((row["reviewer_id"], row["proposal_id"], row["item"]), "")
    files = sorted(sheets.glob("*.xlsx"))
    assert [f.name for f in files] == ["score_sheet_X1.xlsx", "score_sheet_X2.xlsx", "score_sheet_X3.xlsx"]
    for f in files:
        rid = f.stem.split("_")[-1]
        fill(f, [r for r in original if r["reviewer_id"] == rid])
    capsys.readouterr()
    out = tmp_path / "reviews.csv"
    assert main(["import-sheets", *map(str, files), "--pack", p["pack"], "--proposals", str(p["proposals"]),
                 "--reviewers", str(p["reviewers"]), "--out", str(out)]) == 0, capsys.readouterr().err
    imported = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    key = lambda r: (r["reviewer_id"], r["proposal_id"], r["item"])  # noqa: E731
    assert sorted(map(key, imported)) == sorted(map(key, original))
    by = {key(r): r for r in imported}
    for r in original:
        got = by[key(r)]
        assert (got["value"], got["status"]) == (r["value"], r["status"])
        expected = r["comment"]
        if expected.startswith(("=", "+", "-", "@")):
            expected = "'" + expected  # the CSV is formula-safe (scoring.io.csv_bytes)
        assert got["comment"] == expected
    # ranking the imported reviews gives the ranking of the original ones
    def rank(reviews):
        capsys.readouterr()
        assert main(["rank", "--pack", p["pack"], "--proposals", str(p["proposals"]), "--reviews", str(reviews),
                     "--reviewers", str(p["reviewers"]), "--budget", "300000000", "--format", "json",
                     "--out", "-"]) == 0
        res = json.loads(capsys.readouterr().out)["results"]
        return [(x["proposal_id"], x["decision"], x["total_score"], x["funded_yen"]) for x in res]
    assert rank(out) == rank(p["reviews"])


@pytest.fixture
def one(tmp_path, example_paths):
    pack = load_pack("autonomous_l4")
    props = read_proposals(example_paths["proposals"])
    reviewers = read_reviewers(example_paths["reviewers"])
    path = tmp_path / "x1.xlsx"
    path.write_bytes(score_sheet(pack, props, reviewers[0]))
    return pack, props, reviewers, path


def problems(fn) -> list[str]:
    with pytest.raises(InputError) as exc:
        fn()
    return [str(p) for p in exc.value.problems]


def test_sheet_layout_locked_with_dropdowns(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    assert wb[FINGERPRINT_SHEET].sheet_state == "veryHidden"
    assert ws.protection.sheet and wb.security.lockStructure
    rows = cells_by_key(ws)
    r = rows[("EX-1", "service_need")]
    assert ws.cell(r, 5).protection.locked is False and ws.cell(r, 6).protection.locked is False
    assert ws.cell(r, 3).protection.locked is not False and ws.cell(r, 7).protection.locked is not False
    assert "5：" in ws.cell(r, 7).value  # guidance per level
    lists = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert f"E{r}" in lists['"5,4,3,2,1"'].split() or any(
        f"E{r}" in rng for rng in lists['"5,4,3,2,1"'].split())
    assert '"下書き,提出"' in lists


def test_filled_by_reviewer_imports(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    rows = cells_by_key(ws)
    for k, c in enumerate(pack.criterion_ids):
        ws.cell(rows[("EX-3", c)], 5).value = ["5", "４", 3.0, "2 やや不十分", 1][k]
    ws.cell(rows[("EX-3", "status")], 5).value = "提出"
    wb.save(path)
    got = read_score_sheets([path], pack, props, reviewers)
    assert [(r.proposal_id, r.item, r.value, r.status.value) for r in got] == [
        ("EX-3", c, v, "submitted") for c, v in zip(pack.criterion_ids, [5, 4, 3, 2, 1])]


def test_tampered_locked_cell_refused_naming_it(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    r = cells_by_key(ws)[("EX-2", "verification_items")]
    ws.cell(r, 2).value = "service_need"  # re-labelled item
    ws.cell(r, 4).value = 50              # points changed
    wb.save(path)
    msgs = problems(lambda: read_score_sheets([path], pack, props, reviewers))
    assert any(f"{SCORE_SHEET}!B{r}:structure" in m for m in msgs)
    assert any(f"{SCORE_SHEET}!D{r}:structure" in m for m in msgs)


def test_inserted_row_refused(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    wb[SCORE_SHEET].insert_rows(10)
    wb.save(path)
    msgs = problems(lambda: read_score_sheets([path], pack, props, reviewers))
    assert any(f"{SCORE_SHEET}!A10:structure" in m for m in msgs)


def test_edited_fingerprint_refused(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    wb[FINGERPRINT_SHEET]["B5"].value = "X2"  # pretend to be another reviewer
    wb.save(path)
    msgs = problems(lambda: read_score_sheets([path], pack, props, reviewers))
    assert msgs == [f"{path}:{FINGERPRINT_SHEET}!B8:fingerprint: the hidden fingerprint sheet was altered; "
                    "issue a new sheet with `template`"]


def test_sheet_of_another_pack_refused(one):
    pack, props, reviewers, path = one
    other = load_pack("ai_edge")
    msgs = problems(lambda: read_score_sheets([path], other, props, reviewers))
    assert any(f"{FINGERPRINT_SHEET}!B2:pack" in m and "autonomous_l4" in m for m in msgs)


def test_unknown_reviewer_refused(one):
    pack, props, reviewers, path = one
    msgs = problems(lambda: read_score_sheets([path], pack, props, reviewers[1:]))
    assert any(f"{SCORE_SHEET}!B2:reviewer_id" in m for m in msgs)


def test_level_outside_scale_and_blank_submitted_named(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    rows = cells_by_key(ws)
    ws.cell(rows[("EX-1", "service_need")], 5).value = 7
    ws.cell(rows[("EX-1", "verification_items")], 5).value = "とても良い"
    ws.cell(rows[("EX-1", "status")], 5).value = "提出"
    wb.save(path)
    msgs = problems(lambda: read_score_sheets([path], pack, props, reviewers))
    assert any(f"!E{rows[('EX-1', 'service_need')]}:value: '7' is not a level" in m for m in msgs)
    assert any(f"!E{rows[('EX-1', 'verification_items')]}:value: 'とても良い'" in m for m in msgs)
    assert any(f"!E{rows[('EX-1', 'rollout_plan')]}:value: submitted review" in m for m in msgs)


def test_conflicted_proposal_never_on_the_sheet_and_refused_on_import(tmp_path, example_paths):
    pack = load_pack("autonomous_l4")
    props = read_proposals(example_paths["proposals"])
    x1 = Reviewer(reviewer_id="X1", conflicts="EX-2;丁村")  # by id, and by organisation (EX-4's applicant)
    wb = load_workbook(io.BytesIO(score_sheet(pack, props, x1)))
    ids = {wb[SCORE_SHEET].cell(r, 1).value for r in range(8, wb[SCORE_SHEET].max_row + 1)}
    assert ids == {"EX-1", "EX-3", "EX-5"}
    # a sheet issued before the conflict was declared, filled for EX-2
    path = tmp_path / "old.xlsx"
    path.write_bytes(score_sheet(pack, props, Reviewer(reviewer_id="X1")))
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    rows = cells_by_key(ws)
    ws.cell(rows[("EX-2", "service_need")], 5).value = 4
    wb.save(path)
    msgs = problems(lambda: read_score_sheets([path], pack, props, [x1]))
    assert any(f"!E{rows[('EX-2', 'service_need')]}:proposal_id" in m and "conflict of interest" in m for m in msgs)


def test_same_review_in_two_files_refused(one, tmp_path):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    ws.cell(cells_by_key(ws)[("EX-1", "service_need")], 5).value = 3
    wb.save(path)
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(path.read_bytes())
    msgs = problems(lambda: read_score_sheets([path, copy], pack, props, reviewers))
    assert len(msgs) == 1 and str(copy) in msgs[0] and "also in" in msgs[0]


# --- signed sheets (SHINSA_SHEET_KEY) ---------------------------------------------------------------------------

def forge_reviewer(path: Path, reviewer_id: str) -> None:
    """What a reviewer who read this code could do to an unsigned sheet: name another reviewer and recompute
    the plain SHA-256 digest the way the importer checks it."""
    import hashlib

    wb = load_workbook(path)
    fp = wb[FINGERPRINT_SHEET]
    fp["B5"].value = reviewer_id
    head = [str(fp.cell(row=k, column=2).value or "") for k in range(1, 8)]
    max_row = int(head[6])
    grid = [[fp.cell(row=10 + r, column=c).value or "" for c in range(1, 8)] for r in range(1, max_row + 1)]
    fp["B8"].value = hashlib.sha256(json.dumps([head, grid], ensure_ascii=False).encode("utf-8")).hexdigest()
    wb.save(path)


def test_unsigned_sheet_catches_casual_edits_but_not_a_forger(one):
    """The documented limit of unsigned sheets: a recomputed digest passes (why SHINSA_SHEET_KEY exists)."""
    pack, props, reviewers, path = one
    assert load_workbook(path)[FINGERPRINT_SHEET]["B9"].value == "sha256"
    forge_reviewer(path, reviewers[1].reviewer_id)
    read_score_sheets([path], pack, props, reviewers)     # accepted: nothing to refuse it with


def test_signed_sheet_round_trips_and_refuses_a_forged_reviewer(tmp_path, example_paths, monkeypatch):
    monkeypatch.setenv("SHINSA_SHEET_KEY", "committee secret 2026")
    pack = load_pack("autonomous_l4")
    props = read_proposals(example_paths["proposals"])
    reviewers = read_reviewers(example_paths["reviewers"])
    path = tmp_path / "signed.xlsx"
    path.write_bytes(score_sheet(pack, props, reviewers[0]))
    assert load_workbook(path)[FINGERPRINT_SHEET]["B9"].value == "hmac-sha256"
    fill(path, [{"proposal_id": "EX-1", "item": c.id, "value": 4, "status": "submitted", "comment": ""}
                for c in pack.criteria])
    rows = read_score_sheets([path], pack, props, reviewers)
    assert {(r.reviewer_id, r.proposal_id, r.item, float(r.value)) for r in rows
            if not r.item.startswith("bonus:")} == {(reviewers[0].reviewer_id, "EX-1", c.id, 4.0) for c in pack.criteria}

    forge_reviewer(path, reviewers[1].reviewer_id)
    assert problems(lambda: read_score_sheets([path], pack, props, reviewers)) == [
        f"{path}:{FINGERPRINT_SHEET}!B8:fingerprint: the hidden fingerprint sheet was altered; issue a new sheet "
        "with `template` (or it was signed with another key)"]


def test_signature_and_key_must_match(one, tmp_path, example_paths, monkeypatch):
    pack, props, reviewers, unsigned = one
    monkeypatch.setenv("SHINSA_SHEET_KEY", "committee secret 2026")
    assert problems(lambda: read_score_sheets([unsigned], pack, props, reviewers)) == [
        f"{unsigned}:{FINGERPRINT_SHEET}!B9:fingerprint: the sheet is not signed with the committee's key "
        "(SHINSA_SHEET_KEY is set); issue a new sheet with `template`"]
    signed = tmp_path / "signed.xlsx"
    signed.write_bytes(score_sheet(pack, props, reviewers[0]))
    monkeypatch.setenv("SHINSA_SHEET_KEY", "another key")
    assert "signed with another key" in problems(lambda: read_score_sheets([signed], pack, props, reviewers))[0]
    monkeypatch.delenv("SHINSA_SHEET_KEY")
    assert problems(lambda: read_score_sheets([signed], pack, props, reviewers)) == [
        f"{signed}:{FINGERPRINT_SHEET}!B9:fingerprint: the sheet is signed: set SHINSA_SHEET_KEY to the key it "
        "was issued with"]


def test_sheets_read_from_bytes_file_objects_and_named_pairs(one):
    pack, props, reviewers, path = one
    wb = load_workbook(path)
    ws = wb[SCORE_SHEET]
    rows = cells_by_key(ws)
    for c in pack.criterion_ids:
        ws.cell(rows[("EX-3", c)], 5).value = 4
    ws.cell(rows[("EX-3", "status")], 5).value = "提出"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    want = [("EX-3", c, 4) for c in pack.criterion_ids]
    for source in (data, io.BytesIO(data), ("x1.xlsx", data)):
        got = read_score_sheets([source], pack, props, reviewers)
        assert [(r.proposal_id, r.item, r.value) for r in got] == want
    # the same review twice: the second file is named by the pair's name, the first by the file object's
    upload = io.BytesIO(data)
    upload.name = "upload.xlsx"
    msgs = problems(lambda: read_score_sheets([upload, ("again.xlsx", data)], pack, props, reviewers))
    assert msgs and all(m.startswith("again.xlsx:") and "also in upload.xlsx" in m for m in msgs)


def test_template_for_all_reviewers_refuses_ids_that_would_share_a_file(tmp_path, example_paths, capsys):
    """R1 and =R1, R/2 and R_2 map to one safe file name each: nothing is written, exit 2 names both ids."""
    p = example_paths
    reviewers = tmp_path / "reviewers.csv"
    reviewers.write_text("reviewer_id,name\nR1,一\n=R1,二\nR/2,三\nR_2,四\nr3,五\n", encoding="utf-8")
    sheets = tmp_path / "sheets"
    capsys.readouterr()
    assert main(["template", "--pack", p["pack"], "--proposals", str(p["proposals"]), "--reviewer", "all",
                 "--reviewers", str(reviewers), "--out", str(sheets)]) == 2
    err = capsys.readouterr().err
    assert "'R1' and '=R1' would both be written to score_sheet_R1.xlsx" in err
    assert "'R/2' and 'R_2'" in err and "score_sheet_R_2.xlsx" in err
    assert not sheets.exists() or not list(sheets.iterdir())
    reviewers.write_text("reviewer_id,name\nR1,一\nR/2,三\nr1,五\n", encoding="utf-8")   # case only: one file on Windows
    assert main(["template", "--pack", p["pack"], "--proposals", str(p["proposals"]), "--reviewer", "all",
                 "--reviewers", str(reviewers), "--out", str(sheets)]) == 2
    assert "'R1' and 'r1'" in capsys.readouterr().err
