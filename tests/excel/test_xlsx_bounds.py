"""Hostile and careless workbooks (issue 12, items 1 and 7): every reader of a workbook a user hands us refuses what
would expand beyond its bounds — with exit 2 and a message naming the file and part or cell — in bounded memory;
and the intake list loses nothing silently (rows below the declared dimension, formulas without a saved value).

The resource tests run the reader in a subprocess under a 1 GiB address-space limit (tests/excel/hostile.py), so
a regression fails (MemoryError / killed) instead of swapping; the timeout only keeps CI from hanging.
"""

from __future__ import annotations

import io
import random

import pytest

from scoring.errors import InputError
from scoring.io import read_proposals
from scoring.io.intake import read_intake
from scoring.io.xlsx_guard import MAX_CELL_CHARS, check_xlsx
from tests.excel.hostile import (READ_INTAKE, bomb_member, deflated, intake_bytes, members_of, patched,
                                 raw_zip, run_limited, sheet_xml, valid_row)

SHEET1 = "xl/worksheets/sheet1.xml"       # 応募 in the template
STRINGS = "xl/sharedStrings.xml"


def refused(data: bytes, name: str = "応募一覧.xlsx") -> str:
    with pytest.raises(InputError) as exc:
        read_intake(data, source_name=name)
    return str(exc.value)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """1.1 MB on disk; its 応募 sheet expands to 1 GiB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    path.write_bytes(patched(intake_bytes(), {SHEET1: bomb_member(SHEET1)}))
    assert path.stat().st_size < 2_000_000
    return path


# --- item 1: bounded expansion, in a memory-limited subprocess ----------------------------------------------------

def test_cli_check_refuses_a_zip_bomb_with_exit_2_naming_file_and_part(bomb):
    proc = run_limited(["-m", "scoring", "check", "--pack", "autonomous_l4", "--proposals", str(bomb)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{bomb}:{SHEET1}:(file): this part expands to 1,024.0 MB, over the limit of 64.0 MB" in proc.stderr
    assert "SHINSA_XLSX_MAX_MEMBER_BYTES" in proc.stderr


def test_reader_api_refuses_a_zip_bomb_given_as_upload_bytes(bomb):
    proc = run_limited(["-c", READ_INTAKE, str(bomb), "upload.xlsx"])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"upload.xlsx:{SHEET1}:(file): this part expands to 1,024.0 MB" in proc.stdout


def test_a_member_that_lies_about_its_size_is_never_inflated_past_it(tmp_path):
    """The directory says 40 KB; the deflate stream holds 1 GiB. Reading stops at 40 KB: refused, in bounds."""
    m = bomb_member(SHEET1)
    m.declared = 40_000
    path = tmp_path / "liar.xlsx"
    path.write_bytes(patched(intake_bytes(), {SHEET1: m}))
    proc = run_limited(["-m", "scoring", "check", "--pack", "autonomous_l4", "--proposals", str(path)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{path}:{SHEET1}:(file): not a readable .xlsx workbook: BadZipFile: Bad CRC-32" in proc.stderr


def test_a_huge_shared_string_is_refused_naming_it(tmp_path):
    rng = random.Random(12)   # varied text: within the size and ratio limits, far over a cell's
    big = "長" + "".join(rng.choices([chr(c) for c in range(0x4E00, 0x9FA0)], k=2_000_000))
    parts = members_of(intake_bytes())
    strings = (f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
               f"<si><t>{big}</t></si></sst>").encode()
    ct = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlf'
                             b'ormats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>')
    path = tmp_path / "strings.xlsx"
    path.write_bytes(patched(intake_bytes(), {STRINGS: strings, "[Content_Types].xml": ct,
                                              "xl/_rels/workbook.xml.rels": rels}))
    proc = run_limited(["-m", "scoring", "check", "--pack", "autonomous_l4", "--proposals", str(path)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert (f"{path}:{STRINGS}:(file): shared string 0 has over {MAX_CELL_CHARS:,} characters (Excel's limit for "
            "a cell), starting '長") in proc.stderr


def test_a_merged_range_over_the_whole_sheet_is_refused_before_openpyxl_expands_it(tmp_path):
    """openpyxl (not read-only, as for score sheets) makes a cell object for every merged cell: 17 billion."""
    path = tmp_path / "sheet.xlsx"
    xml = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',
                    extra='<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>')
    path.write_bytes(patched(intake_bytes(), {SHEET1: xml}))
    code = ("import sys\nfrom scoring.io.xlsx_style import open_workbook\n"
            "wb, problems, _ = open_workbook(sys.argv[1], 'sheet.xlsx')\nprint(problems)\n")
    proc = run_limited(["-c", code, str(path)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "sheet.xlsx', row='応募!A1:XFD1048576'" in proc.stdout
    assert "merged or hyperlinked ranges cover over 1,000,000 cells" in proc.stdout


def test_a_score_sheet_whose_fingerprint_names_a_billion_rows_is_refused_at_once(tmp_path, example_paths):
    """The grid of expected cells was built for max_row rows before the digest was checked: 7 billion cells."""
    from openpyxl import load_workbook

    from scoring.io.packs import load_pack
    from scoring.io.score_sheets import FINGERPRINT_SHEET, score_sheet
    from scoring.io.tables import read_reviewers

    pack = load_pack("autonomous_l4")
    props = read_proposals(example_paths["proposals"])
    reviewer = read_reviewers(example_paths["reviewers"])[0]
    wb = load_workbook(io.BytesIO(score_sheet(pack, props, reviewer)))
    fp = wb[FINGERPRINT_SHEET]
    row = next(c.row for c in fp["A"] if c.value == "max_row")
    fp.cell(row, 2).value = "1000000000"
    path = tmp_path / "sheet.xlsx"
    wb.save(path)
    proc = run_limited(["-m", "scoring", "import-sheets", "--pack", "autonomous_l4", "--proposals",
                        str(example_paths["proposals"]), "--reviewers", str(example_paths["reviewers"]),
                        "--out", str(tmp_path / "reviews.csv"), str(path)])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{path}:{FINGERPRINT_SHEET}!B{row}:fingerprint: the hidden fingerprint sheet was altered" in proc.stderr


# --- item 1: the other bounds, through the reader API (cheap files) ------------------------------------------------

def test_more_rows_than_the_limit_are_refused_naming_the_row(monkeypatch):
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(1, 100_002))
    msg = refused(patched(intake_bytes(), {SHEET1: sheet_xml(rows)}))
    assert "応募一覧.xlsx:応募:(file): row 100,001 is beyond the limit of 100,000 rows (SHINSA_XLSX_MAX_ROWS)" in msg
    monkeypatch.setenv("SHINSA_XLSX_MAX_ROWS", "200000")   # a committee that needs more says so
    assert "beyond the limit" not in refused(patched(intake_bytes(), {SHEET1: sheet_xml(rows)}))


def test_one_cell_far_down_is_refused_without_reading_a_million_empty_rows():
    xml = sheet_xml('<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    msg = refused(patched(intake_bytes(), {SHEET1: xml}))
    assert "row 1,048,576 is beyond the limit of 100,000 rows (SHINSA_XLSX_MAX_ROWS)" in msg


def test_a_used_range_over_the_cell_limit_is_refused(monkeypatch):
    monkeypatch.setenv("SHINSA_XLSX_MAX_CELLS", "1000")
    xml = sheet_xml('<row r="1"><c r="ALL1"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>')
    msg = refused(patched(intake_bytes(), {SHEET1: xml}))
    assert "応募一覧.xlsx:応募:(file): the sheet's used range A1:ALL2 is over 1,000 cells (SHINSA_XLSX_MAX_CELLS)" in msg


def test_a_long_inline_cell_is_refused_naming_the_cell():
    xml = sheet_xml(f'<row r="2"><c r="C2" t="inlineStr"><is><t>{"x" * 40_000}</t></is></c></row>')
    msg = refused(patched(intake_bytes(), {SHEET1: xml}))
    assert ("応募一覧.xlsx:応募!C2:(file): cell C2 has over 32,767 characters (Excel's limit for a cell), "
            "starting 'xxx") in msg


def test_a_dtd_entity_expansion_and_deep_nesting_are_refused():
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
              '<c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>').encode()
    assert "応募一覧.xlsx:応募:(file): a DTD (<!DOCTYPE …>) is not allowed in a workbook" in refused(
        patched(intake_bytes(), {SHEET1: laughs}))
    deep = sheet_xml("", extra="<x>" * 100 + "</x>" * 100)
    assert "XML nested over 64 levels deep" in refused(patched(intake_bytes(), {SHEET1: deep}))


def test_too_many_members_a_big_file_and_a_high_ratio_are_refused(monkeypatch):
    many = raw_zip([deflated(f"x/{i}.bin", b"") for i in range(1001)])
    assert "the zip has 1,001 parts, over the limit of 1,000" in refused(many)
    monkeypatch.setenv("SHINSA_XLSX_MAX_FILE_BYTES", "1000")
    assert "over the limit of 1,000 bytes (SHINSA_XLSX_MAX_FILE_BYTES)" in refused(intake_bytes())
    monkeypatch.delenv("SHINSA_XLSX_MAX_FILE_BYTES")
    spaces = patched(intake_bytes(), {"xl/padding.xml": b"<p>" + b" " * (8 << 20) + b"</p>"})
    assert "xl/padding.xml:(file): this part expands" in refused(spaces)
    assert "over the limit of 100 (SHINSA_XLSX_MAX_RATIO)" in refused(spaces)
    monkeypatch.setenv("SHINSA_XLSX_MAX_RATIO", "nonsense")
    assert "SHINSA_XLSX_MAX_RATIO: (setting): must be a positive whole number, not 'nonsense'" in refused(spaces)


def test_the_limits_refuse_nothing_an_honest_workbook_holds():
    """The shipped template, filled, passes the scan and reads (path, bytes and file object alike)."""
    data = intake_bytes([valid_row("L4-1"), valid_row("L4-2")])
    _, scan = check_xlsx(data, "x.xlsx")
    assert scan.uncached == {}
    assert [p.id for p in read_intake(io.BytesIO(data))] == ["L4-1", "L4-2"]


def test_not_a_zip_and_a_missing_file_are_named(tmp_path):
    assert "nope.xlsx: (file): not a readable .xlsx workbook: BadZipFile" in refused(b"hello", "nope.xlsx")
    with pytest.raises(InputError, match="file not found"):
        read_intake(tmp_path / "missing.xlsx")


# --- item 7: nothing lost silently ---------------------------------------------------------------------------------

def test_a_row_below_the_declared_dimension_is_read():
    data = intake_bytes([valid_row("L4-1"), valid_row("L4-2"), valid_row("L4-3")])
    xml = members_of(data)[SHEET1]
    assert b'<dimension ref="' in xml
    start = xml.index(b'<dimension ref="')
    lying = xml[:start] + b'<dimension ref="A1:K2"/>' + xml[xml.index(b"/>", start) + 2:]
    got = read_intake(patched(data, {SHEET1: lying}))
    assert [p.id for p in got] == ["L4-1", "L4-2", "L4-3"]


def test_a_formula_without_a_saved_value_is_refused_naming_the_cell(tmp_path):
    data = intake_bytes([valid_row("L4-1"), valid_row("L4-2", 申請額="=10^8")])  # openpyxl saves <f> and no value
    msg = refused(data)
    assert "応募一覧.xlsx:応募!H3:requested_yen: the formula '=10^8' has no saved value" in msg
    assert "open it in Excel and save it, or type the value" in msg
    # the same formula with the value Excel saved beside it is read as that value
    xml = members_of(data)[SHEET1]
    assert b"<f>10^8</f><v" in xml
    start = xml.index(b"<f>10^8</f>") + len(b"<f>10^8</f>")
    end = xml.index(b"</c>", start)
    cached = xml[:start] + b"<v>100000000</v>" + xml[end:]
    got = read_intake(patched(data, {SHEET1: cached}))
    assert got[1].requested_yen == 100_000_000
    # and through the command line: exit 2, the cell named
    path = tmp_path / "応募一覧.xlsx"
    path.write_bytes(data)
    proc = run_limited(["-m", "scoring", "check", "--pack", "autonomous_l4", "--proposals", str(path)])
    assert proc.returncode == 2 and f"{path}:応募!H3:requested_yen: the formula '=10^8'" in proc.stderr


def test_a_formula_cell_with_no_value_element_at_all_is_refused():
    data = intake_bytes([valid_row("L4-1", 申請額="=10^8")])
    xml = members_of(data)[SHEET1]
    start = xml.index(b"<f>10^8</f>") + len(b"<f>10^8</f>")
    bare = xml[:start] + xml[xml.index(b"</c>", start):]
    assert "応募!H2:requested_yen: the formula '=10^8' has no saved value" in refused(patched(data, {SHEET1: bare}))
