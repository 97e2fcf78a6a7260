"""The chair's workbook: values as LibreOffice reads them equal the JSON output; layout; formula injection."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring.cli import main
from scoring.io.xlsx_style import Styles, text_cell

from .conftest import SAMPLE, lo_sheets_csv, soffice_convert

HOSTILE_TITLE = '=HYPERLINK("http://x","y")'
HOSTILE_COMMENTS = ["=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1)", "審査コメント：体制は妥当"]


def run(argv, capsys) -> bytes:
    rc = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return out.out.encode() if isinstance(out.out, str) else out.out


def rank_args(p, extra=()):
    return ["rank", "--pack", p["pack"], "--proposals", p["proposals"], "--reviews", p["reviews"],
            "--reviewers", p["reviewers"], "--budget", "300000000", *extra]


def _num(text: str):
    return None if text == "" else float(text)


@pytest.fixture
def hostile(tmp_path, example_paths):
    """The worked example with a hostile title and hostile comments."""
    props = json.loads(Path(example_paths["proposals"]).read_text(encoding="utf-8"))
    props[1]["title"] = HOSTILE_TITLE
    props[0]["applicant"]["name"] = "+cmd|' /C calc'!A0"
    (tmp_path / "proposals.json").write_text(json.dumps(props, ensure_ascii=False), encoding="utf-8")
    rows = list(csv.DictReader(Path(example_paths["reviews"]).open(encoding="utf-8")))
    for k, text in enumerate(HOSTILE_COMMENTS):
        rows[k]["comment"] = text
    with (tmp_path / "reviews.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dict(example_paths, proposals=tmp_path / "proposals.json", reviews=tmp_path / "reviews.csv")


@pytest.mark.libreoffice
def test_libreoffice_reads_the_values_of_the_json_output(tmp_path, example_paths, capsys):
    out = tmp_path / "chair.xlsx"
    run(rank_args(example_paths, ["--format", "xlsx", "--out", out]), capsys)
    data = json.loads(run(rank_args(example_paths, ["--format", "json", "--out", "-"]), capsys))
    sheets = lo_sheets_csv(out, tmp_path / "csv")
    assert {"概要", "採択候補一覧", "評価項目別", "委員別", "所見", "要件審査", "グラフ"} <= set(sheets)
    header, *rows = sheets["採択候補一覧"]
    assert header[:5] == ["順位", "提案ID", "提案名", "申請者", "判定"]
    rows = [r for r in rows if any(r)]
    assert len(rows) == len(data["results"])
    for row, res in zip(rows, data["results"]):
        assert row[1] == res["proposal_id"]
        assert _num(row[0]) == res["rank"]
        assert row[2] == res["title"] and row[3] == res["applicant"]
        assert row[4] == res["decision_label"]
        assert _num(row[5]) == res["waitlist_position"]
        for col, key in ((6, "base_score"), (7, "bonus"), (8, "total_score")):
            assert _num(row[col]) == pytest.approx(res[key], rel=1e-13, abs=1e-13)
        assert _num(row[9]) == res["n_reviews"]
        assert _num(row[10]) == res["requested_yen"]
        assert _num(row[11]) == res["funded_yen"]
        assert (row[12] == "あり") == res["capped"]
        assert _num(row[13]) == res["cumulative_funded_yen"]
        assert row[14] == " / ".join(res["reasons"])
    # per criterion
    header, *crit_rows = sheets["評価項目別"]
    for row, res in zip([r for r in crit_rows if any(r)], data["results"]):
        assert row[1] == res["proposal_id"]
        values = [_num(x) for x in row[3:3 + len(res["criteria"])]]
        assert values == pytest.approx(list(res["criteria"].values()), rel=1e-13)
    # summary: budget and counts
    summary = {r[0]: r[1] for r in sheets["概要"] if len(r) > 1}
    assert _num(summary["予算総額（円）"]) == data["budget"]["total_yen"]
    assert _num(summary["採択額合計（円）"]) == data["budget"]["used_yen"]
    assert _num(summary["残額（円）"]) == data["budget"]["remaining_yen"]
    assert _num(summary["採択"]) == data["counts"]["selected"]
    assert _num(summary["要件不適合"]) == data["counts"]["ineligible"]
    assert _num(summary["合格点 (pass_line) — 基礎点で判定"]) == data["parameters"]["pass_line"]
    # eligibility: every rule of every proposal
    elig = [r for r in sheets["要件審査"][1:] if any(r)]
    expected = [(res["proposal_id"], e["rule"], e["reason"]) for res in data["results"] for e in res["eligibility"]]
    assert [(r[0], r[2], r[5]) for r in elig] == expected


def test_full_precision_formats_and_print_setup(tmp_path, example_paths, capsys):
    out = tmp_path / "chair.xlsx"
    run(rank_args(example_paths, ["--format", "xlsx", "--out", out]), capsys)
    data = json.loads(run(rank_args(example_paths, ["--format", "json", "--out", "-"]), capsys))
    wb = load_workbook(out)
    ws = wb["採択候補一覧"]
    for r, res in enumerate(data["results"], 2):
        assert ws.cell(r, 7).value == res["base_score"]  # every bit of the double, not 16 digits
        assert ws.cell(r, 9).value == res["total_score"]
        assert ws.cell(r, 7).number_format == "0.00"
        assert ws.cell(r, 12).number_format == "#,##0"
    crit = wb["評価項目別"]
    assert crit.cell(2, 4).value == data["results"][0]["criteria"]["service_need"]
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:P{len(data['results']) + 1}"
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and str(ws.page_setup.fitToWidth) == "1"
    # selected rows filled, the funding line under the last selected row
    selected_rows = [r for r, res in enumerate(data["results"], 2) if res["decision"] == "selected"]
    assert selected_rows
    for r in range(2, len(data["results"]) + 2):
        fill = ws.cell(r, 2).fill.fgColor.rgb
        assert (fill == "00E2EFDA") == (r in selected_rows)
        thick = ws.cell(r, 5).border.bottom.style == "thick"
        assert thick == (r == max(selected_rows))
    # two native charts: stacked totals with the pass line; cumulative funding against the budget
    with zipfile.ZipFile(out) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 2
        c1, c2 = (z.read(n).decode() for n in charts)
    assert "barChart" in c1 and "lineChart" in c1 and "'グラフ'!$D$2" in c1  # D = 合格点
    assert "lineChart" in c2 and "'グラフ'!$J$2" in c2  # J = 予算
    graph = wb["グラフ"]
    assert {graph.cell(r, 4).value for r in range(2, graph.max_row + 1) if graph.cell(r, 1).value} == {60}
    assert graph.cell(3, 10).value == data["budget"]["total_yen"]


@pytest.mark.libreoffice
def test_pdf_is_a4_landscape(tmp_path, example_paths, capsys):
    out = tmp_path / "chair.xlsx"
    run(rank_args(example_paths, ["--format", "xlsx", "--out", out]), capsys)
    pdf = soffice_convert(out, "pdf", tmp_path / "pdf")[0].read_bytes()
    assert pdf.startswith(b"%PDF")
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", pdf))
    assert boxes, "no page boxes found"
    for w, h in boxes:  # A4 landscape is 842 × 595 points
        assert round(float(w)) == 842 and round(float(h)) == 595


@pytest.mark.libreoffice
def test_hostile_text_stays_text(tmp_path, hostile, capsys):
    out = tmp_path / "chair.xlsx"
    run(rank_args(hostile, ["--format", "xlsx", "--out", out]), capsys)
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode() and "<f " not in z.read(name).decode()
    wb = load_workbook(out)
    ws = wb["採択候補一覧"]
    titles = {ws.cell(r, 3).value: ws.cell(r, 3) for r in range(2, ws.max_row + 1)}
    cell = titles[HOSTILE_TITLE]
    assert cell.data_type == "s" and cell.quotePrefix
    comments = [c.value for row in wb["所見"].iter_rows(min_row=2) for c in row[4:5]]
    assert sorted(comments) == sorted(HOSTILE_COMMENTS)
    # LibreOffice, an independent reader, sees the literal text, not a formula result ("y")
    sheets = lo_sheets_csv(out, tmp_path / "csv")
    lo_titles = [r[2] for r in sheets["採択候補一覧"][1:] if any(r)]
    assert HOSTILE_TITLE in lo_titles and "y" not in lo_titles
    assert "+cmd|' /C calc'!A0" in [r[3] for r in sheets["採択候補一覧"][1:]]
    assert sorted(r[4] for r in sheets["所見"][1:] if any(r)) == sorted(HOSTILE_COMMENTS)


def test_csv_export_is_formula_safe(tmp_path, hostile, capsys):
    text = run(rank_args(hostile, ["--format", "csv", "--out", "-"]), capsys).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    titles = [r["title"] for r in rows]
    assert "'" + HOSTILE_TITLE in titles and HOSTILE_TITLE not in titles
    assert all(not t.startswith(("=", "+", "-", "@")) for r in rows for t in r.values())


@pytest.mark.parametrize("text", ["\tcmd", "\r=1", "=1", "+1", "-1", "@A1"])
def test_every_formula_prefix_gets_the_quote_flag(text):
    from openpyxl import Workbook

    ws = Workbook().active
    cell = text_cell(ws, Styles(ws), text)
    assert cell.value == text and cell.data_type == "s" and cell.quotePrefix


def test_comments_anonymised_per_setting(tmp_path, hostile, capsys):
    from scoring.io.call import load_call
    from scoring.io.chair_workbook import chair_workbook

    call = load_call(hostile["pack"], hostile["proposals"], hostile["reviews"], hostile["reviewers"])
    ranking = call.rank()
    for anonymise in (True, False):
        wb = load_workbook(io.BytesIO(chair_workbook(ranking, call, anonymise=anonymise, round_name="第1回")))
        who = {r[2] for r in wb["所見"].iter_rows(min_row=2, values_only=True)}
        named = {"X1 委員1"}
        assert (who & named == set()) == anonymise
        if anonymise:
            assert all(w.startswith("委員") and not w.startswith("委員1") for w in who)
        assert wb["概要"]["B2"].value == "第1回"


def test_sample_data_workbook_matches_json(tmp_path, capsys):
    if not (SAMPLE / "proposals.json").exists():
        pytest.fail("sample_proposals/ is missing")
    args = ["rank", "--pack", "autonomous_l4", "--proposals", SAMPLE / "proposals.json", "--reviews",
            SAMPLE / "reviews.csv", "--reviewers", SAMPLE / "reviewers.csv"]
    data = json.loads(run(args + ["--format", "json", "--out", "-"], capsys))
    out = tmp_path / "s.xlsx"
    run(args + ["--format", "xlsx", "--out", out], capsys)
    ws = load_workbook(out)["採択候補一覧"]
    got = [(ws.cell(r, 2).value, ws.cell(r, 5).value, ws.cell(r, 9).value, ws.cell(r, 12).value)
           for r in range(2, ws.max_row + 1)]
    want = [(x["proposal_id"], x["decision_label"], x["total_score"], x["funded_yen"]) for x in data["results"]]
    assert got == want
    rev = load_workbook(out)["委員別"]
    marks = [c.value for row in rev.iter_rows(min_row=2) for c in row[3:]]
    excluded = sum(len(x["excluded_reviews"]) for x in data["results"])
    assert marks.count("利益相反") >= excluded


def test_anonymous_labels_hide_the_ids_in_both_languages():
    from scoring.io.chair_workbook import anonymous_labels

    ids = [f"R{k:02d}" for k in range(30)]
    ja, en = anonymous_labels(ids, "salt"), anonymous_labels(ids, "salt", lang="en")
    assert sorted(ja.values())[:2] == ["委員A", "委員AA"] and len(set(ja.values())) == 30
    assert {rid: en[rid].replace("Reviewer ", "委員") for rid in ids} == ja     # the same letter per reviewer
    assert [ja[r] for r in ids[:5]] != ["委員A", "委員B", "委員C", "委員D", "委員E"]   # not in id order


def test_a_whatif_workbook_says_so_on_every_sheet_and_lists_what_differs():
    """A workbook made under a what-if (the chair's page) has every sheet named 試算_…, printed with the banner,
    and 概要 lists the pack's and the what-if's values; the official workbook has none of it."""
    from scoring.io.call import load_call
    from scoring.io.chair_workbook import chair_workbook
    from scoring.params import WhatIf

    ex = Path(__file__).resolve().parents[1] / "data" / "l4-small"
    call = load_call("autonomous_l4", ex / "proposals.json", ex / "reviews.csv", ex / "reviewers.csv")
    official = load_workbook(io.BytesIO(chair_workbook(call.rank(), call, whatif=WhatIf())))
    whatif = WhatIf(budget=300_000_000, pass_line=70)
    trial = load_workbook(io.BytesIO(chair_workbook(call.rank(whatif), call, whatif=whatif)))
    assert not any(n.startswith("試算_") for n in official.sheetnames)
    assert trial.sheetnames == ["試算_" + n for n in official.sheetnames]
    assert all(ws.oddHeader.center.text == "試算 — 公式の審査結果ではありません" for ws in trial.worksheets)
    summary = [[c for c in row if c is not None] for row in trial.worksheets[0].iter_rows(values_only=True)]
    assert "【試算" in summary[0][0]
    changes = {r[0]: r[1] for r in summary if len(r) == 2 and " → " in str(r[1])}
    assert changes == {"予算": "1,700,000,000円 → 300,000,000円", "合格点": "60 → 70"}
    assert official.worksheets[0]["A1"].value == "審査結果（委員長用）"


def test_the_workbook_is_dated_in_the_committees_time_zone_and_lists_only_members_with_reviews(tmp_path):
    """作成日時 is in SHINSA_TZ (Asia/Tokyo here), as the UI shows times, not UTC; 委員別 has a column for each
    member who reviewed (or declared a conflict), not an empty one for a chair who reviewed nothing."""
    from datetime import datetime, timezone

    from scoring.io.call import load_call
    from scoring.io.chair_workbook import chair_workbook

    ex = Path(__file__).resolve().parents[1] / "data" / "l4-small"
    reviewers = tmp_path / "reviewers.csv"
    reviewers.write_text((ex / "reviewers.csv").read_text(encoding="utf-8") + "C1,委員長,chair,\n", encoding="utf-8")
    call = load_call("autonomous_l4", ex / "proposals.json", ex / "reviews.csv", reviewers)
    made = datetime(2026, 1, 5, 1, 30, tzinfo=timezone.utc)
    wb = load_workbook(io.BytesIO(chair_workbook(call.rank(), call, generated_at=made)))
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(values_only=True) if r[0]}
    assert summary["作成日時"] == "2026-01-05 10:30:00 +0900"
    header = [c.value for c in next(wb["委員別"].iter_rows(max_row=1))]
    assert header[3:] == ["X1 委員1", "X2 委員2", "X3 委員3"]
