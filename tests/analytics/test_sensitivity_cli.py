"""Sensitivity (criterion points ±20 %, other aggregations) and the `analyze` command / 分析 sheet."""

import csv
import io
import json
import shutil
import subprocess
import sys

import numpy as np
from openpyxl import Workbook, load_workbook

from scoring.analytics import scaled_pack, sensitivity
from scoring.io.analysis_sheet import write_analysis_sheet
from scoring.models import Aggregation
from scoring.selection import Params, rank

from tests.factories import EXAMPLE, ROOT

from .synth import make_pack, make_proposals, make_reviews

EX = EXAMPLE


def two_way_round():
    """A and B tie at 67.5; A wins on the first criterion (service_need, 20 points), B on the others.
    Budget for one: scaling service_need by 0.8 hands the place to B."""
    pack = make_pack(budget_yen=150_000_000)
    table = make_proposals([100_000_000, 100_000_000])
    levels = np.zeros((2, 3, 5), int)
    levels[0] = [5, 2, 4, 4, 4]  # 20 + 6.25 + 11.25 + 15 + 15 = 67.5
    levels[1] = [3, 3, 5, 4, 4]  # 10 + 12.5 + 15 + 15 + 15 = 67.5
    return pack, table, make_reviews(levels)


def test_sensitivity_finds_the_flip_and_agrees_with_a_direct_rank():
    pack, table, reviews = two_way_round()
    ranking = rank(pack, table, reviews)
    assert [d.value for d in ranking.decisions()] == ["selected", "waitlisted"]  # tie broken on service_need
    s = sensitivity(ranking, reviews)
    row = next(r for r in s["criteria"] if r["criterion"] == "service_need" and r["factor"] == 0.8)
    assert row["entered"] == ["P0001"] and row["left"] == ["P0000"]
    direct = rank(scaled_pack(pack, "service_need", 0.8), table, reviews)
    assert direct.decision[1] == 0 and direct.decision[0] != 0
    up = next(r for r in s["criteria"] if r["criterion"] == "service_need" and r["factor"] == 1.2)
    assert up["entered"] == [] and up["left"] == []
    flips = {f["proposal_id"]: f["under"] for f in s["flips"]}
    assert "service_need×0.8" in flips["P0000"] and "service_need×0.8" in flips["P0001"]
    assert {r["aggregation"] for r in s["aggregation"]} == {a.value for a in Aggregation} - {"mean"}
    assert "入れ替わる" in s["reading"]


def test_scaled_pack_is_validated_and_keeps_the_total_consistent():
    pack = make_pack()
    p = scaled_pack(pack, "verification_items", 1.2)
    assert p.criteria[1].points == 30.0 and p.total_points == sum(c.points for c in p.criteria)
    assert pack.criteria[1].points == 25.0  # the original is untouched


def test_sensitivity_with_a_stable_round_reports_no_flip():
    pack = make_pack(budget_yen=150_000_000)
    table = make_proposals([100_000_000, 100_000_000])
    levels = np.zeros((2, 3, 5), int)
    levels[0] = 5
    levels[1] = 3
    ranking = rank(pack, table, make_reviews(levels))
    s = sensitivity(ranking, make_reviews(levels))
    assert s["flips"] == [] and all(not r["entered"] and not r["left"] for r in s["criteria"] + s["aggregation"])


def run(*args):
    return subprocess.run([sys.executable, "-m", "scoring", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def test_analyze_command_json(tmp_path):
    out = tmp_path / "analysis.json"
    r = run("analyze", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews",
            EX / "reviews.csv", "--reviewers", EX / "reviewers.csv", "--budget", "300000000", "--seed", "3",
            "--format", "json", "--out", out)
    assert r.returncode == 0, r.stderr
    a = json.loads(out.read_text(encoding="utf-8"))
    assert a["uncertainty"]["n_resamples"] == 1000 and a["uncertainty"]["seed"] == 3
    assert a["uncertainty"]["reproduces_official"] is True
    assert a["portfolio"]["greedy"]["proposal_ids"] == ["EX-2", "EX-1"]
    assert a["portfolio"]["greedy"]["used"] == 290_000_000 and a["portfolio"]["greedy_unused"] == 10_000_000
    ids = [p["proposal_id"] for p in a["uncertainty"]["proposals"]]
    assert ids[:2] == ["EX-2", "EX-1"]
    assert {r["reviewer_id"] for r in a["calibration"]["reviewers"]} == {"X1", "X2", "X3"}


def test_analyze_command_refuses_too_few_resamples_and_writes_nothing(tmp_path):
    out = tmp_path / "a.json"
    r = run("analyze", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews",
            EX / "reviews.csv", "--resamples", "100", "--out", out)
    assert r.returncode == 2 and "--resamples" in r.stderr and "1000" in r.stderr
    assert not out.exists()


def test_analyze_xlsx_has_the_sheet_and_no_formula(tmp_path):
    reviewers = tmp_path / "reviewers.csv"
    rows = list(csv.DictReader(io.StringIO((EX / "reviewers.csv").read_text(encoding="utf-8"))))
    rows[0]["name"] = '=HYPERLINK("http://example.invalid","x")'
    with reviewers.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "analysis.xlsx"
    r = run("analyze", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews",
            EX / "reviews.csv", "--reviewers", reviewers, "--budget", "300000000", "--format", "xlsx", "--out", out)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["分析"]
    ws = wb["分析"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    names = [c.value for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert names and all(v.startswith("'=") for v in names)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert any("最適ポートフォリオ" in t for t in texts) and any("グレーゾーン" in t for t in texts)
    assert any("ICC(2,k)" == t for t in texts)


def test_write_analysis_sheet_refuses_a_second_sheet():
    from scoring.analytics import analyze
    from scoring.io.call import load_call

    call = load_call("autonomous_l4", EX / "proposals.json", EX / "reviews.csv", EX / "reviewers.csv")
    a = analyze(call, params=Params.from_pack(call.pack, budget=300_000_000))
    wb = Workbook()
    ws = write_analysis_sheet(wb, a)
    assert ws.title == "分析"
    try:
        write_analysis_sheet(wb, a)
    except ValueError as exc:
        assert "分析" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a second 分析 sheet was written")
