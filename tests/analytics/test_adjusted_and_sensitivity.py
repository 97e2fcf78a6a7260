"""Sensitivity rescales the pass line with the total (issue 13 §4); the leniency-adjusted ranking removes the
reviewer effect of a mixed model on all reviews and never replaces the official ranking (§5)."""

from pathlib import Path

import numpy as np
import pytest

from scoring.analytics import analyze, leniency_adjusted, sensitivity
from scoring.selection import rank

from .synth import make_pack, make_proposals, make_reviews

ROOT = Path(__file__).resolve().parents[2]


def advanced_comms():
    from scoring.io.call import load_call

    d = ROOT / "sample_proposals"
    call = load_call("advanced_comms", d / "proposals.json", d / "reviews.csv", d / "reviewers.csv")
    return call.rank(), call.reviews


def test_scaled_points_rescale_the_pass_line_by_default():
    ranking, reviews = advanced_comms()
    s = sensitivity(ranking, reviews)
    assert s["pass_line_mode"] == "scaled"
    for row in s["criteria"]:
        assert row["pass_line"] == pytest.approx(60.0 * row["total_points"] / 100.0)
        assert "AC-009" not in row["left"]  # 61.25 of 100 stays above the bar when the bar follows the total
    assert "合格点も満点に比例" in s["reading"] and "rescaled" in s["reading_en"]


def test_raw_pass_line_is_the_option_that_keeps_60():
    ranking, reviews = advanced_comms()
    s = sensitivity(ranking, reviews, pass_line="raw")
    shrunk = [row for row in s["criteria"] if row["factor"] == 0.8]
    assert shrunk and all(row["pass_line"] == 60.0 and "AC-009" in row["left"] for row in shrunk)
    with pytest.raises(ValueError):
        sensitivity(ranking, reviews, pass_line="other")


def lenient_round():
    """R03 scores proposals 0–3 only and one level higher on every criterion; proposals 4–7 are truly better
    on one criterion. Officially 0–3 come first; with R03's leniency removed, 4–7 do."""
    P, V = 8, 4
    levels = np.full((P, V, 5), 3)
    levels[4:, :, 0] = 4
    levels[:4, 3, :] += 1
    present = np.ones((P, V), bool)
    present[4:, 3] = False
    pack = make_pack(budget_yen=200_000_000, pass_line=0, criterion_floor=0)
    table = make_proposals([50_000_000] * P)
    reviews = make_reviews(levels, present=present)
    return rank(pack, table, reviews), reviews


def test_leniency_adjusted_ranking_removes_the_lenient_reviewer_beside_the_official_one():
    ranking, reviews = lenient_round()
    official = (ranking.rank.copy(), ranking.decision.copy())
    assert sorted(ranking.rank[:4]) == [1, 2, 3, 4]
    adj = leniency_adjusted(ranking, reviews)
    assert adj["available"] and adj["reviewers"][0]["reviewer_id"] == "R03" and adj["reviewers"][0]["effect"] > 0
    by_id = {r["proposal_id"]: r for r in adj["proposals"]}
    assert sorted(by_id[f"P{i:04d}"]["adjusted_rank"] for i in range(4, 8)) == [1, 2, 3, 4]
    # the budget funds 4: every one of the 8 moves across the line
    assert adj["line_after_rank"] == 4 and len(adj["crossing"]) == 8
    assert "採択ラインをまたぐ" in adj["reading"] and "official ranking stands" in adj["reading_en"]
    assert np.array_equal(ranking.rank, official[0]) and np.array_equal(ranking.decision, official[1])
    a = analyze(ranking, reviews, n_resamples=200, seed=0)
    assert a["leniency_adjusted"]["crossing"] == adj["crossing"]


def test_analyze_command_takes_the_interval_level_and_the_raw_pass_line(tmp_path):
    import json
    import subprocess
    import sys

    d = ROOT / "sample_proposals"
    out = tmp_path / "a.json"

    def run(*extra):
        return subprocess.run([sys.executable, "-m", "scoring", "analyze", "--pack", "advanced_comms", "--proposals",
                               d / "proposals.json", "--reviews", d / "reviews.csv", *extra, "--out", out],
                              cwd=ROOT, capture_output=True, text=True)

    r = run("--level", "80", "--sensitivity-pass-line", "raw")
    assert r.returncode == 0, r.stderr
    a = json.loads(out.read_text(encoding="utf-8"))
    assert a["uncertainty"]["level"] == 0.8 and a["sensitivity"]["pass_line_mode"] == "raw"
    assert all(p["rank_interval"] == p["rank_80"] for p in a["uncertainty"]["proposals"])
    assert "leniency_adjusted" in a and a["calibration"]["agreement"]["all"]["n_reviews"] > 0
    r = run("--level", "90")
    assert r.returncode == 2 and "--level" in r.stderr
