"""The chair workbook of `python -m scoring rank … --format xlsx --analysis` carries the 分析 sheet, and what it
shows is analyze()'s result for the same round (default 1,000 resamples, seed 0)."""

import csv
import io
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from scoring.analytics import analyze
from scoring.io.call import load_call
from scoring.selection import Params

from tests.factories import EXAMPLE, ROOT

DATA = ROOT / "sample_proposals"  # the demo round: a gray zone, a better portfolio, a flagged reviewer
EX = EXAMPLE
EVIL = '=HYPERLINK("http://example.invalid","x")'
DECISION_JA = {"selected": "採択", "waitlisted": "補欠", "over_budget": "予算超過", "ranked": "順位付け",
               "below_pass_line": "合格点未満", "below_criterion_floor": "項目最低基準未満",
               "insufficient_reviews": "評価数不足", "ineligible": "要件不適合"}


def run(*args):
    return subprocess.run([sys.executable, "-m", "scoring", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def interval(iv):
    lo, hi = iv
    if lo is None and hi is None:
        return "順位外"
    return f"{'順位外' if lo is None else lo}〜{'順位外' if hi is None else hi}"


def num(values):
    """Figures as the workbook stores them: 15 significant digits (Excel's precision)."""
    return [pytest.approx(v, rel=1e-14, abs=0) if isinstance(v, float) else v for v in values]


def blank(v):
    return None if v in ("", None) else v


def table_after(rows, header_start):
    """The rows of the table whose header row begins with header_start, up to the next empty row."""
    k = next(i for i, r in enumerate(rows) if tuple(r[:len(header_start)]) == tuple(header_start))
    out = []
    for r in rows[k + 1:]:
        if all(v is None for v in r):
            break
        out.append(r)
    return out


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chair_analysis")
    # a reviewer whose name is a formula: every text cell must stay text
    rows = list(csv.DictReader(io.StringIO((DATA / "reviewers.csv").read_text(encoding="utf-8"))))
    rows[0]["name"] = EVIL
    reviewers = tmp / "reviewers.csv"
    with reviewers.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp / "chair.xlsx"
    r = run("rank", "--pack", "autonomous_l4", "--proposals", DATA / "proposals.json", "--reviews",
            DATA / "reviews.csv", "--reviewers", reviewers, "--format", "xlsx", "--analysis", "--out", out)
    assert r.returncode == 0, r.stderr
    call = load_call("autonomous_l4", DATA / "proposals.json", DATA / "reviews.csv", reviewers)
    expected = analyze(call, params=Params.from_pack(call.pack))
    # the demo round exercises every part of the sheet (else this test would compare empty lists)
    assert expected["uncertainty"]["gray_zone"], "the demo round should have a gray zone"
    assert expected["portfolio"]["only_in_optimal"], "the demo round's greedy line should not be optimal"
    assert expected["calibration"]["agreement"]["icc2k"] is not None
    return load_workbook(out), expected


def test_the_chair_workbook_has_the_analysis_sheet_beside_its_own_sheets(workbook):
    wb, _ = workbook
    assert "分析" in wb.sheetnames
    assert len(wb.sheetnames) > 1 and wb.sheetnames[-1] == "分析"  # the chair's sheets come first


def test_portfolio_figures_equal_analyze(workbook):
    wb, a = workbook
    p = a["portfolio"]
    assert p["available"] is True
    rows = [list(r) for r in wb["分析"].iter_rows(values_only=True)]
    sides = {r[0]: r for r in table_after(rows, (None, "件数", "合計点"))}
    for label, key in (("順位順（貪欲法）", "greedy"), ("最適", "optimal")):
        got = sides[label]
        assert got[1:5] == [p[key]["n"], p[key]["total_score"], p[key]["used"], p[key]["unused"]]
    gain = next(r for r in rows if r[0] == "合計点の差（最適 − 順位順）")
    assert gain[1] == p["score_gain"]
    diff = [r for r in rows if r[0] in ("最適のみ", "順位順のみ")]
    assert [r[1] for r in diff if r[0] == "最適のみ"] == [x["proposal_id"] for x in p["only_in_optimal"]]
    assert [r[1] for r in diff if r[0] == "順位順のみ"] == [x["proposal_id"] for x in p["only_in_greedy"]]


def test_rank_intervals_and_gray_zone_equal_analyze(workbook):
    wb, a = workbook
    u = a["uncertainty"]
    assert u["n_resamples"] == 1000 and u["seed"] == 0 and u["reproduces_official"] is True
    rows = [list(r) for r in wb["分析"].iter_rows(values_only=True)]
    title = next(r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("2. 順位の不確実性"))
    assert "1,000" in title and "シード 0" in title
    table = table_after(rows, ("提案ID", "順位", "判定", "合計点", "順位の中央値", "80%区間", "95%区間"))
    assert [r[0] for r in table] == [p["proposal_id"] for p in u["proposals"]]
    for r, p in zip(table, u["proposals"]):
        assert blank(r[1]) == p["rank"]
        assert r[2] == DECISION_JA[p["decision"]]
        assert r[3] == p["total_score"]
        assert blank(r[4]) == p["median_rank"]
        assert r[5] == interval(p["rank_80"]) and r[6] == interval(p["rank_95"])
        assert r[7] == p["p_selected"] and r[8] == p["p_qualifying"]
        assert (r[9] == "★") == p["gray_zone"]
    assert [r[0] for r in table if r[9] == "★"] == u["gray_zone"]


def test_calibration_figures_equal_analyze(workbook):
    wb, a = workbook
    c = a["calibration"]
    rows = [list(r) for r in wb["分析"].iter_rows(values_only=True)]
    icc = next(r for r in rows if r[0] == "ICC(2,k)")
    ag = c["agreement"]
    assert [blank(icc[1]), icc[2], blank(icc[3]), icc[4], blank(icc[5])] == \
        num([ag["icc2k"], "ICC(3,k)", ag["icc3k"], "Kendall の W", ag["kendall_w"]])
    after = table_after(rows, ("委員ID", "氏名", "評価件数", "平均点"))
    table, rest = after[:len(c["reviewers"])], after[len(c["reviewers"]):]
    assert [r[0] for r in table] == [x["reviewer_id"] for x in c["reviewers"]]
    assert rest[0][0].startswith("寛厳：")  # the table ends with the panel: no other reviewer row follows
    for r, x in zip(table, c["reviewers"]):
        assert r[2:7] == num([x["n_reviews"], x["mean"], x["sd"], x["panel_mean"], x["leniency"]])
        assert (r[7] == "⚠") == x["flagged"]
    dis = table_after(rows, ("提案ID", "順位", "判定", "評価数", "平均", "標準偏差"))
    assert [[r[0], r[3], r[5], r[8]] for r in dis] == [num([x["proposal_id"], x["n"], x["sd"], x["range"]])
                                                      for x in c["disagreement"]]


def test_text_cells_of_the_analysis_sheet_are_never_formulas(workbook):
    wb, a = workbook
    cells = [cell for row in wb["分析"].iter_rows() for cell in row if cell.value is not None]
    assert cells and not any(cell.data_type == "f" for cell in cells)
    names = [cell.value for cell in cells if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert names and all(v == "'" + EVIL for v in names)  # the reviewer's name, kept as quoted text
    assert any(x["name"] == EVIL for x in a["calibration"]["reviewers"])


def test_analysis_flag_needs_the_workbook_format(tmp_path):
    out = tmp_path / "r.json"
    r = run("rank", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews",
            EX / "reviews.csv", "--format", "json", "--analysis", "--out", out)
    assert r.returncode == 2 and "--analysis" in r.stderr and "xlsx" in r.stderr
    assert not out.exists()


def test_new_figures_of_issue_13_are_on_the_sheet_in_japanese(workbook):
    wb, a = workbook
    rows = [list(r) for r in wb["分析"].iter_rows(values_only=True)]
    al = a["calibration"]["agreement"]["all"]
    head = next(r for r in rows if r[0] == "全評価での一致度")
    assert head[1:7] == ["評価数", al["n_reviews"], "提案数", al["n_proposals"], "委員数", al["n_reviewers"]]
    for name, key in (("ICC(A,k̂)", "icc_ak"), ("Krippendorff の α", "alpha")):
        r = next(r for r in rows if r[0] == name)
        assert r[1:4] == num([al[key], *al[f"{key}_ci"]]) and isinstance(r[4], str)
    assert any(isinstance(r[0], str) and r[0] == a["calibration"]["agreement"]["reading"] for r in rows)
    u = a["uncertainty"]
    table = table_after(rows, ("提案ID", "順位", "判定", "合計点", "順位の中央値", "80%区間", "95%区間"))
    for r, p in zip(table, u["proposals"]):
        assert r[10:13] == num([p["p_selected_mcse"], p["expected_rank"], p["sucra"]])
        assert r[13] == interval(p["rank_50"])
    assert any(isinstance(r[0], str) and "順位の95%区間が採択ライン（11位と次の間）をまたぐ" in r[0] for r in rows)
    adj = a["leniency_adjusted"]
    assert any(isinstance(r[0], str) and r[0].startswith("5. 委員の甘辛を補正した順位") for r in rows)
    t5 = table_after(rows, ("提案ID", "正式な順位", "補正後の順位"))
    assert [[r[0], r[1], r[2]] for r in t5[:len(adj["proposals"])]] == \
        [[p["proposal_id"], p["rank"], p["adjusted_rank"]] for p in adj["proposals"]]
    sens = table_after(rows, ("変更", "新たに採択", "採択から外れる"))
    assert [r[6] for r in sens[:len(a["sensitivity"]["criteria"])]] == \
        num([x["pass_line"] for x in a["sensitivity"]["criteria"]])
