"""The worked example of the hearing stage (tests/data/hearing-small, computed by hand in its README from
stages.md), through the real command line: a tie at the shortlist cut, a weighted final order that differs from
the document order, a not-shortlisted proposal and a hearing pass-line failure."""

import json
import subprocess
import sys

import pytest

from tests.factories import ROOT

EX = ROOT / "tests" / "data" / "hearing-small"
ARGS = ["--pack", str(EX / "pack.yaml"), "--proposals", str(EX / "proposals.json"), "--reviews",
        str(EX / "reviews.csv"), "--reviewers", str(EX / "reviewers.csv")]


def run(*extra, check=True):
    return subprocess.run([sys.executable, "-m", "scoring", "rank", *ARGS, *extra], cwd=ROOT, capture_output=True,
                          text=True, check=check)


def test_hearing_small_matches_the_hand_computed_expected_on_every_field():
    got = json.loads(run("--stage", "hearing", "--format", "json", "--out", "-").stdout)
    expected = json.loads((EX / "expected.json").read_text(encoding="utf-8"))
    assert got["pack"] == expected["pack"] and got["stage"] == "hearing"
    assert got["budget"] == expected["budget"]
    for key, value in expected["hearing"].items():
        assert got["hearing"][key] == value, key
    assert [r["proposal_id"] for r in got["results"]] == [r["proposal_id"] for r in expected["results"]]
    for g, e in zip(got["results"], expected["results"]):
        for key, value in e.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, abs=1e-9), (e["proposal_id"], key)
            else:
                assert g[key] == value, (e["proposal_id"], key)


def test_without_stage_hearing_the_hearing_section_is_ignored():
    got = json.loads(run("--format", "json").stdout)
    ids = [(r["proposal_id"], r["decision"], r["rank"]) for r in got["results"]]
    # the document stage alone: H-1 (100), H-2 (93.33), H-4 (80, B 80), H-3 (80, B 75); 300M budget, greedy_skip
    assert ids[:4] == [("H-1", "selected", 1), ("H-2", "selected", 2), ("H-4", "over_budget", 3),
                       ("H-3", "selected", 4)] or ids[:4] == [("H-1", "selected", 1), ("H-2", "selected", 2),
                                                              ("H-4", "waitlisted", 3), ("H-3", "selected", 4)]
    assert "shortlisted" not in got["results"][0] and "stage" not in got


def test_a_shortlist_file_adds_with_its_reason_and_the_csv_has_the_hearing_columns(tmp_path):
    sl = tmp_path / "shortlist.csv"
    sl.write_text("proposal_id,action,reason\nH-5,add,書面審査で評価が分かれたため\n", encoding="utf-8")
    got = json.loads(run("--stage", "hearing", "--shortlist", str(sl)).stdout)
    h5 = next(r for r in got["results"] if r["proposal_id"] == "H-5")
    assert h5["shortlisted"] and h5["decision"] == "insufficient_reviews" and h5["n_hearing_reviews"] == 0
    assert h5["shortlist_edit"]["reason"] == "書面審査で評価が分かれたため"
    assert any("書面審査で評価が分かれたため" in x for x in h5["reasons"])
    csv = run("--stage", "hearing", "--format", "csv").stdout.splitlines()
    header = csv[0].split(",")
    for col in ("shortlisted", "document_score", "hearing_score", "n_hearing_reviews", "hearing:h1"):
        assert col in header


@pytest.mark.parametrize("rows, where", [
    ("H-6,add,理由", "shortlist.csv:2:proposal_id"),          # non-qualifying (below the document pass line)
    ("H-1,add,理由", "shortlist.csv:2:proposal_id"),          # already shortlisted
    ("H-5,remove,理由", "shortlist.csv:2:proposal_id"),       # removing one not shortlisted
    ("H-9,add,理由", "shortlist.csv:2:proposal_id"),          # unknown proposal
    ("H-5,add,", "shortlist.csv:2:reason"),                   # no reason
    ("H-5,promote,理由", "shortlist.csv:2:action"),           # unknown action
])
def test_a_bad_shortlist_row_exits_2_naming_file_row_and_field(tmp_path, rows, where):
    sl = tmp_path / "shortlist.csv"
    sl.write_text("proposal_id,action,reason\n" + rows + "\n", encoding="utf-8")
    out = run("--stage", "hearing", "--shortlist", str(sl), "--out", str(tmp_path / "out.json"), check=False)
    assert out.returncode == 2, out.stderr
    assert where in out.stderr.replace(str(sl), "shortlist.csv")
    assert not (tmp_path / "out.json").exists()


def test_a_hearing_review_of_a_proposal_not_shortlisted_exits_2(tmp_path):
    reviews = (EX / "reviews.csv").read_text(encoding="utf-8") + ("R1,H-5,hearing:h1,3,submitted,\n"
                                                                   "R1,H-5,hearing:h2,3,submitted,\n")
    lines = reviews.count("\n") - 1
    (tmp_path / "reviews.csv").write_text(reviews, encoding="utf-8")
    args = [a if a != str(EX / "reviews.csv") else str(tmp_path / "reviews.csv") for a in ARGS]
    out = subprocess.run([sys.executable, "-m", "scoring", "rank", *args, "--stage", "hearing"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert f"reviews.csv:{lines}:proposal_id" in out.stderr and "not shortlisted" in out.stderr


def test_an_unknown_hearing_criterion_and_a_hearing_item_on_a_pack_without_hearing_exit_2(tmp_path):
    reviews = (EX / "reviews.csv").read_text(encoding="utf-8") + "R1,H-1,hearing:nope,3,submitted,\n"
    (tmp_path / "reviews.csv").write_text(reviews, encoding="utf-8")
    args = [a if a != str(EX / "reviews.csv") else str(tmp_path / "reviews.csv") for a in ARGS]
    out = subprocess.run([sys.executable, "-m", "scoring", "rank", *args, "--stage", "hearing"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 2 and ":item: 'hearing:nope' is not a hearing criterion" in out.stderr
    pack = (EX / "pack.yaml").read_text(encoding="utf-8")
    (tmp_path / "nohearing.yaml").write_text(pack[:pack.index("hearing:\n")], encoding="utf-8")
    args = [a if a != str(EX / "pack.yaml") else str(tmp_path / "nohearing.yaml") for a in args]
    out = subprocess.run([sys.executable, "-m", "scoring", "rank", *args], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and ":item: 'hearing:h1': pack hearing_small has no hearing stage" in out.stderr


def test_stage_hearing_on_a_pack_without_hearing_and_shortlist_without_stage_exit_2(tmp_path):
    l4 = ROOT / "tests" / "data" / "l4-small"
    out = subprocess.run([sys.executable, "-m", "scoring", "rank", "--pack", str(EX / "pack.yaml").replace(
        "pack.yaml", "pack.yaml"), "--proposals", str(EX / "proposals.json"), "--reviews", str(EX / "reviews.csv"),
        "--shortlist", str(EX / "reviews.csv")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "--stage hearing" in out.stderr
    out = subprocess.run([sys.executable, "-m", "scoring", "rank", "--pack", "promotion_system", "--proposals",
                          str(l4 / "proposals.json"), "--reviews", str(l4 / "reviews.csv"), "--stage", "hearing"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "hearing" in out.stderr
