"""The worked example of ../shared/examples/l4-small, through the real command line (the repository's copy,
tests/data/l4-small, checked against the specification's whenever that is beside the clone)."""

import json
import subprocess
import sys

from tests.factories import EXAMPLE, ROOT, SHARED

EX = EXAMPLE


def test_the_repository_copy_is_the_specifications_example():
    spec = SHARED / "examples" / "l4-small"
    names = sorted(f.name for f in EX.iterdir())
    names = [n for n in names if n != "README.md"]
    assert names == ["expected.json", "proposals.json", "reviewers.csv", "reviews.csv"]
    if spec.exists():        # beside a clone of the workspace: the copy must not drift from the specification
        assert names == sorted(f.name for f in spec.iterdir())
        assert all((EX / n).read_bytes() == (spec / n).read_bytes() for n in names)


def test_l4_small_matches_expected_on_every_field():
    out = subprocess.run(
        [sys.executable, "-m", "scoring", "rank", "--pack", "autonomous_l4", "--proposals", str(EX / "proposals.json"),
         "--reviews", str(EX / "reviews.csv"), "--reviewers", str(EX / "reviewers.csv"), "--budget", "300000000",
         "--format", "json", "--out", "-"], cwd=ROOT, capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    expected = json.loads((EX / "expected.json").read_text(encoding="utf-8"))
    assert got["pack"] == expected["pack"]
    assert got["budget"] == expected["budget"]
    assert got["skipped_other_packs"] == expected["skipped_other_packs"]
    assert [r["proposal_id"] for r in got["results"]] == [r["proposal_id"] for r in expected["results"]]
    for g, e in zip(got["results"], expected["results"]):
        for key, value in e.items():
            assert g[key] == value, (e["proposal_id"], key)
    # the real output has more: parameters, criteria, eligibility, conditions
    assert got["parameters"]["budget_yen"] == 300_000_000 and got["parameters"]["pass_line"] == 60.0
    ex3 = next(r for r in got["results"] if r["proposal_id"] == "EX-3")
    assert any(e["rule"] == "consortium_local_government" and e["status"] == "fail" for e in ex3["eligibility"])
