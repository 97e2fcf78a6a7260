"""The command line's contract: exit codes, `file:row:field: message` lines, nothing written on error."""

import json
import subprocess
import sys

import pytest

from tests.factories import EXAMPLE, ROOT

EX = EXAMPLE


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "scoring", *map(str, args)], cwd=cwd, capture_output=True, text=True)


def proposals_with(tmp_path, mutate):
    data = json.loads((EX / "proposals.json").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "proposals.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def reviews_with(tmp_path, extra_lines=(), replace=None):
    text = (EX / "reviews.csv").read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    text = text.rstrip("\n") + "\n" + "".join(line + "\n" for line in extra_lines)
    path = tmp_path / "reviews.csv"
    path.write_text(text, encoding="utf-8")
    return path


def rank_to(tmp_path, proposals=EX / "proposals.json", reviews=EX / "reviews.csv", pack="autonomous_l4", *extra):
    out = tmp_path / "out.json"
    res = run("rank", "--pack", pack, "--proposals", proposals, "--reviews", reviews,
              "--reviewers", EX / "reviewers.csv", "--format", "json", "--out", out, *extra)
    return res, out


def assert_refused(res, out, *needles):
    assert res.returncode == 2, res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr
    assert not out.exists(), "nothing may be written on invalid input"
    assert not list(out.parent.glob(".out.json.*")), "no temporary file left behind"


def test_rank_writes_json_and_csv(tmp_path):
    res, out = rank_to(tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["results"][0]["proposal_id"] == "EX-2"
    csv_out = tmp_path / "out.csv"
    res = run("rank", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews",
              EX / "reviews.csv", "--budget", "3億円", "--format", "csv", "--out", csv_out)
    assert res.returncode == 0, res.stderr
    lines = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("rank,proposal_id,title,applicant,decision")
    assert lines[1].startswith("1,EX-2,")


def test_rank_refuses_an_unknown_pack_id_with_exit_2(tmp_path):
    res, out = rank_to(tmp_path, EX / "proposals.json", EX / "reviews.csv", "no_such_pack")
    assert_refused(res, out, "unknown pack 'no_such_pack'")


def test_an_unknown_member_kind_is_refused_naming_row_and_field(tmp_path):
    p = proposals_with(tmp_path, lambda d: d[1]["consortium"][0].update(kind="municipality"))
    res, out = rank_to(tmp_path, p)
    assert_refused(res, out, f"{p}:[1]:consortium[0].kind: proposal EX-2: 'municipality' is not one of")


def test_duplicate_and_missing_proposal_ids_are_refused(tmp_path):
    def mutate(d):
        d[2]["id"] = "EX-1"
        del d[3]["id"]
    p = proposals_with(tmp_path, mutate)
    res, out = rank_to(tmp_path, p)
    assert_refused(res, out, f"{p}:[2]:id: duplicate proposal id 'EX-1' (first at [0])",
                   f"{p}:[3]:id: required field is missing")


@pytest.mark.parametrize("amount, message", [
    (-1, "must not be negative: -1"),
    ("百万円", "cannot read as yen: '百万円'"),
])
def test_negative_or_unparseable_amount(tmp_path, amount, message):
    p = proposals_with(tmp_path, lambda d: d[0].update(requested_yen=amount))
    res, out = rank_to(tmp_path, p)
    assert_refused(res, out, f"{p}:[0]:requested_yen: proposal EX-1: {message}")


def test_review_of_unknown_criterion(tmp_path):
    r = reviews_with(tmp_path, ["X1,EX-1,safety,4,submitted,"])
    res, out = rank_to(tmp_path, reviews=r)
    assert_refused(res, out, f"{r}:77:item: 'safety' is not a criterion or judged bonus of pack autonomous_l4")


def test_review_with_unknown_level(tmp_path):
    r = reviews_with(tmp_path, replace=("X1,EX-1,service_need,4,", "X1,EX-1,service_need,6,"))
    res, out = rank_to(tmp_path, reviews=r)
    assert_refused(res, out, f"{r}:2:value: '6' is not a level of the scale [1, 2, 3, 4, 5]")


def test_review_row_for_a_proposal_not_in_the_file(tmp_path):
    r = reviews_with(tmp_path, ["X1,EX-9,service_need,4,submitted,"])
    res, out = rank_to(tmp_path, reviews=r)
    assert_refused(res, out, f"{r}:77:proposal_id: 'EX-9' is not a proposal in the proposals file")


def test_every_problem_is_listed_at_once(tmp_path):
    r = reviews_with(tmp_path, ["X1,EX-9,service_need,4,submitted,", "X1,EX-1,safety,4,submitted,",
                                "X1,EX-1,service_need,4,submitted,"])
    res, out = rank_to(tmp_path, reviews=r)
    assert_refused(res, out, f"{r}:77:proposal_id", f"{r}:78:item", f"{r}:79:item: duplicate row")


def test_incomplete_submitted_review_is_refused(tmp_path):
    text = (EX / "reviews.csv").read_text(encoding="utf-8").replace("X1,EX-1,rollout_plan,4,submitted,\n", "")
    r = tmp_path / "reviews.csv"
    r.write_text(text, encoding="utf-8")
    res, out = rank_to(tmp_path, reviews=r)
    assert_refused(res, out, "submitted review by 'X1' of 'EX-1' has no level for: rollout_plan")


def test_bad_arguments_exit_2(tmp_path):
    out = tmp_path / "out.json"
    res = run("rank", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json", "--reviews", EX / "reviews.csv",
              "--budget", "lots", "--out", out)
    assert res.returncode == 2 and "--budget" in res.stderr and not out.exists()
    assert run("frobnicate").returncode == 2


def test_validate_pack_and_check(tmp_path):
    res = run("validate-pack", "autonomous_l4")
    assert res.returncode == 0 and res.stdout.strip().endswith("OK")
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "criteria" / "autonomous_l4.yaml").read_text(encoding="utf-8")
                   .replace("points: 25", "points: -25", 1), encoding="utf-8")
    res = run("validate-pack", bad)
    assert res.returncode == 2
    assert f"{bad}: criteria[1].points: must be > 0 (got -25)" in res.stderr
    res = run("check", "--pack", "autonomous_l4", "--proposals", EX / "proposals.json")
    assert res.returncode == 0
    rows = {r["proposal_id"]: r for r in json.loads(res.stdout)["results"]}
    assert rows["EX-3"]["eligible"] is False and rows["EX-1"]["eligible"] is True


def test_other_packs_are_skipped_and_counted(tmp_path):
    def mutate(d):
        d.append({**d[0], "id": "AC-X", "pack": "advanced_comms"})
    p = proposals_with(tmp_path, mutate)
    res, out = rank_to(tmp_path, p)
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["skipped_other_packs"] == 1
    assert "AC-X" not in {r["proposal_id"] for r in got["results"]}


def test_csv_export_is_formula_safe_and_reads_back_as_written(tmp_path):
    from scoring.io import csv_bytes, read_csv_table

    hostile = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "普通のコメント"]
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(["comment"], [[h] for h in hostile]))
    raw = path.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert all(not line.lstrip('"').startswith(("=", "+", "-", "@")) for line in raw), raw
    assert list(read_csv_table(path, ["comment"])["comment"]) == hostile
