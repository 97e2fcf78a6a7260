"""Hostile and careless text inputs (issue #12, items 1 text part, 4, 10, 13): every JSON/CSV/YAML reader bounds
what it expands and refuses beyond with exit 2 and a short `file:row:field: message`.

The hostile files (billion laughs, deep JSON, /dev/zero) run the command line in a subprocess under a 1 GiB
address-space limit with a generous timeout, only so that a regression cannot hang or swap the machine; the
tests assert on the exit code and the message, never on time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import replace

import pytest

from scoring.cli import main
from scoring.errors import MAX_PROBLEMS, InputError, PackError, Problem, quote
from scoring.io import bounded
from scoring.io.call import load_call
from scoring.io.packs import load_pack, pack_path, read_pack_file
from scoring.io.tables import read_json, read_proposals, read_reviewers, read_reviews
from scoring.models import Proposal
from scoring.money import MAX_YEN, MoneyError, parse_yen
from scoring.packs import validate_pack
from tests.factories import EXAMPLE, ROOT, proposal

L4 = pack_path("autonomous_l4").read_text(encoding="utf-8")
MESSAGE_MAX = 400  # a line of stderr: file, row, field and a message quoting at most ~80 characters


def example_proposals() -> list[dict]:
    return json.loads((EXAMPLE / "proposals.json").read_text(encoding="utf-8"))


def write_json(tmp_path, data, name="proposals.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    return code, err


def assert_short_lines(text: str) -> None:
    lines = text.splitlines()
    assert lines, "a refusal says why"
    assert all(len(line) <= MESSAGE_MAX for line in lines), max(lines, key=len)[:500]


def _limited() -> None:  # in the child: 1 GiB of address space, so a regression fails instead of swapping
    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))


def run_limited(*args, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "scoring", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limited, env=env)


@pytest.fixture
def limits(monkeypatch):
    """Set some limits low for one test: ``limits(rows=3)``."""
    def set_(**kw):
        monkeypatch.setattr(bounded, "LIMITS", replace(bounded.LIMITS, **kw))
    return set_


# --- item 4: quoting, message and problem bounds ---------------------------------------------------------------

def test_quote_is_short_whatever_the_value():
    nested: list = []
    for _ in range(5_000):
        nested = [nested]
    cyclic: list = []
    cyclic.append(cyclic)
    for value in ("x" * 10_000_000, 10**5000, nested, cyclic, list(range(10**6)), {str(i): i for i in range(10**5)}):
        text = quote(value)
        assert len(text) <= 80, text
    assert quote("abc") == "'abc'" and quote(42) == "42"
    assert "digits" in quote(10**5000)


def test_problem_messages_and_counts_are_bounded():
    p = Problem("f.json", "[0]", "x" * 5_000, "m" * 50_000)
    assert len(str(p)) < 1_500
    err = InputError([Problem("f", str(i), "x", "bad") for i in range(10_000)])
    assert len(err.problems) == MAX_PROBLEMS + 1 and "9,000 more" in err.problems[-1].message


def test_pack_validation_quotes_a_huge_value_in_a_few_characters():
    data = read_pack_file(pack_path("autonomous_l4"))
    data["total_points"] = ["lol"] * 1_000_000
    data["criteria"] = [{"id": "Bad Id", "bogus": "x" * 100_000}] * 5_000
    with pytest.raises(PackError) as err:
        validate_pack(data, "big.yaml")
    assert len(err.value.problems) <= MAX_PROBLEMS + 1
    assert_short_lines(str(err.value))


def test_a_billion_laughs_pack_is_refused_at_once(tmp_path):
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        text += f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    path = tmp_path / "lol.yaml"
    path.write_text(text, encoding="utf-8")
    assert len(text) < 1_100
    res = run_limited("validate-pack", path)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "lol.yaml: line " in res.stderr and "refused: more than 50,000 values" in res.stderr
    assert_short_lines(res.stderr)


def test_yaml_aliases_beyond_the_budget_a_cycle_and_a_huge_integer_are_refused(tmp_path):
    many = "x: &x 1\nl: [" + ", ".join(["*x"] * 101) + "]\n"
    with pytest.raises(PackError, match=r"line 2: refused: more than 100 aliases"):
        read_pack_file(many.encode(), name="many.yaml")
    with pytest.raises(PackError, match=r"refused: alias \*a inside the value it names"):
        read_pack_file(b"a: &a [1, *a]\n", name="cycle.yaml")
    big = L4.replace("budget_yen: 1700000000", "budget_yen: 1" + "0" * 5000)
    with pytest.raises(PackError) as err:  # was ValueError (Python's 4,300-digit limit): exit 1
        load_pack(big.encode(), name="big.yaml")
    assert "big.yaml: line 211: refused: an integer of more than 1000 digits" in str(err.value)
    assert_short_lines(str(err.value))


def test_a_pack_file_beyond_its_size_is_refused(tmp_path):
    with pytest.raises(PackError, match=r"big.yaml: \(file\): larger than 512 KiB"):
        load_pack(L4.encode() + b"#" * 2**19, name="big.yaml")


def test_a_deep_pack_list_exits_2(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text(L4 + "notes: " + "[" * 20_000 + "]" * 20_000 + "\n", encoding="utf-8")
    code, err = cli(capsys, "validate-pack", path)  # was RecursionError: exit 1
    assert code == 2 and "deep.yaml: line " in err and "nested deeper than 32 levels" in err, err


# --- item 10: numbers of the pack --------------------------------------------------------------------------------

@pytest.mark.parametrize("old,new,field", [
    ("budget_yen: 1700000000", "budget_yen: 1" + "0" * 400, "budget.budget_yen: must be ≤ 10000000000000 (got <a"),
    ("budget_yen: 1700000000", "budget_yen: 10000000000001", "budget.budget_yen: must be ≤ 10000000000000"),
    ("pass_line: 60.0", "pass_line: .inf", "selection.pass_line: "),
    ("pass_line: 60.0", "pass_line: .nan", "selection.pass_line: "),
    ("total_points: 100", "total_points: 1.0e+308", "total_points: must be ≤ 1000"),
], ids=["10^400", "above-ceiling", "inf", "nan", "1e308"])
def test_pack_numbers_are_bounded(tmp_path, capsys, old, new, field):
    assert old in L4
    path = tmp_path / "pack.yaml"
    path.write_text(L4.replace(old, new), encoding="utf-8")
    code, err = cli(capsys, "validate-pack", path)  # 10^400 used to pass, then OverflowError in rank
    assert code == 2 and f"pack.yaml: {field}" in err, err
    assert_short_lines(err)


def test_criterion_points_are_bounded():
    data = read_pack_file(pack_path("autonomous_l4"))
    data["criteria"][0]["points"] = 1e308
    with pytest.raises(PackError, match=r"criteria\[0\]\.points: must be ≤ 1000"):
        validate_pack(data, "p.yaml")


def test_condition_numbers_are_finite_and_bounded():
    data = read_pack_file(pack_path("autonomous_l4"))
    rule = data["eligibility"][0]
    rule["require"] = {"left": {"field": "requested_yen", "plus": float("nan")}, "op": "le", "right": 1e300}
    with pytest.raises(PackError) as err:
        validate_pack(data, "p.yaml")
    text = str(err.value)
    assert "eligibility[0].require.left.plus: must be a finite number" in text
    assert "eligibility[0].require.right: must be between" in text


def test_yen_has_a_ceiling():
    assert parse_yen("10兆円") == MAX_YEN
    for value in ("10兆1円", 10**400, 1e20, "9" * 500):
        with pytest.raises(MoneyError) as err:
            parse_yen(value)
        assert len(str(err.value)) < 200


# --- items 1 and 10: proposals JSON ------------------------------------------------------------------------------

def test_deep_json_exits_2_with_the_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")  # 200 KB
    res = run_limited("check", "--pack", "autonomous_l4", "--proposals", path)  # was RecursionError: exit 1
    assert res.returncode == 2, res.stderr[-2000:]
    assert "deep.json:line 1:(json): arrays/objects nested deeper than 32 levels" in res.stderr
    assert_short_lines(res.stderr)


def test_deep_facts_exit_2_naming_row_or_line(tmp_path, capsys):
    data = example_proposals()
    data[1]["facts"] = {"x": json.loads("[" * 500 + "]" * 500)}  # parsed by json, refused by depth
    code, err = cli(capsys, "check", "--pack", "autonomous_l4", "--proposals", write_json(tmp_path, data))
    assert code == 2 and "proposals.json:[1]:facts.x" in err and "nested deeper than 32 levels" in err, err
    assert_short_lines(err)
    text = json.dumps(example_proposals()).replace('"facts": {', '"facts": {"y": ' + "[" * 5000 + "]" * 5000 + ", ", 1)
    path = tmp_path / "deep_facts.json"
    path.write_text(text, encoding="utf-8")
    code, err = cli(capsys, "check", "--pack", "autonomous_l4", "--proposals", path)  # was RecursionError
    assert code == 2 and "deep_facts.json:line 1:(json): arrays/objects nested deeper than 32" in err, err


@pytest.mark.parametrize("raw,needle", [
    ("1" + "0" * 5000, "[2]:requested_yen: not a number any field can hold (got 10000000000000000000…(5,001 "),
    ("1" + "0" * 400, "[2]:requested_yen: proposal EX-3: must be at most 10,000,000,000,000 yen (10兆円): <a "),
    ("1e400", "[2]:requested_yen: not a number any field can hold (got 1e400)"),
    ("NaN", "[2]:requested_yen: not a number any field can hold (got NaN)"),
    ("100000000000000", "[2]:requested_yen: proposal EX-3: must be at most 10,000,000,000,000 yen"),
], ids=["5001-digits", "401-digits", "1e400", "NaN", "10^14"])
def test_proposal_amounts_are_bounded(tmp_path, capsys, raw, needle):
    text = json.dumps(example_proposals()).replace('"requested_yen": 90000000', f'"requested_yen": {raw}', 1)
    assert raw in text
    code, err = cli(capsys, "check", "--pack", "autonomous_l4", "--proposals", write_json_text(tmp_path, text))
    assert code == 2 and f"proposals.json:{needle}" in err, err
    assert_short_lines(err)


def write_json_text(tmp_path, text):
    path = tmp_path / "proposals.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_facts_are_flat_bounded_and_finite():
    base = proposal("P").model_dump(mode="json")
    for facts, needle in [({"x": 1e300}, "must be between"), ({"x": {"y": 1}}, "not a mapping"),
                          ({f"k{i}": 1 for i in range(501)}, "at most 500 facts"),
                          ({"x" * 201: 1}, "a fact name has 1 to 200 characters"),
                          ({"x": "y" * 100_001}, "at most 100,000 characters")]:
        with pytest.raises(Exception) as err:
            Proposal.model_validate({**base, "facts": facts})
        assert needle in str(err.value)
    assert Proposal.model_validate({**base, "facts": {"x": 1.5, "y": "ok", "z": None, "w": True}}).facts["x"] == 1.5


def test_a_long_text_anywhere_is_refused_with_row_and_field(limits):
    limits(string_chars=1_000)
    data = example_proposals()
    data[3]["extra_note"] = "x" * 5_000
    with pytest.raises(InputError) as err:
        read_json(json.dumps(data).encode(), name="p.json")
    assert str(err.value).startswith("p.json:[3]:extra_note: a text of at most 1,000 characters (got 5,000")
    assert_short_lines(str(err.value))


def test_too_many_proposals_or_containers(limits):
    limits(proposals=3)
    with pytest.raises(InputError, match=r"p.json: \(root\): more than 3 proposals \(got 5\)"):
        read_proposals(json.dumps(example_proposals()).encode(), name="p.json")
    limits(json_containers=10)
    with pytest.raises(InputError, match=r"more than 10 arrays and objects"):
        read_json(json.dumps(example_proposals()).encode(), name="p.json")


def test_a_file_beyond_the_size_limit_is_refused_unread(limits, tmp_path):
    limits(file_bytes=1_000)
    with pytest.raises(InputError, match=r"p.json: \(file\): larger than 1,000 bytes"):
        read_proposals(json.dumps(example_proposals()).encode(), name="p.json")

    class Endless:
        name = "endless.json"
        asked: list = []

        def read(self, n=-1):
            self.asked.append(n)
            if n < 0:
                raise AssertionError("read whole")
            return b" " * n

    with pytest.raises(InputError, match="endless.json"):
        read_proposals(Endless())
    assert Endless.asked == [1_001]


def test_dev_zero_is_refused_in_bounded_memory():
    res = run_limited("check", "--pack", "autonomous_l4", "--proposals", "/dev/zero")  # was MemoryError: exit 1
    assert res.returncode == 2 and "/dev/zero: (file): larger than 32 MiB" in res.stderr, res.stderr[-2000:]


# --- item 1: CSV -------------------------------------------------------------------------------------------------

def test_csv_rows_columns_and_cells_are_bounded(limits):
    reviews = (EXAMPLE / "reviews.csv").read_bytes()
    limits(rows=3)
    with pytest.raises(InputError, match=r"r.csv: \(csv\): more than 3 rows"):
        read_reviews(reviews, name="r.csv")
    limits(rows=1_000_000, columns=5)
    with pytest.raises(InputError, match=r"r.csv:1:\(header\): more than 5 columns"):
        read_reviews(reviews, name="r.csv")
    limits(columns=100, string_chars=100)
    text = reviews.decode("utf-8-sig").splitlines()
    text[3] = text[3] + "z" * 1_000  # the comment of CSV line 4
    with pytest.raises(InputError) as err:
        read_reviews("\n".join(text).encode(), name="r.csv")
    assert str(err.value).startswith("r.csv:4:comment: a cell of at most 100 characters")
    assert_short_lines(str(err.value))


def test_the_column_count_is_read_from_the_first_line_whatever_its_line_ending(limits):
    limits(columns=4)
    rows = "reviewer_id,name\r" + "".join(f"R{i},x\r" for i in range(10))  # 11 commas, 2 columns
    assert len(read_reviewers(rows.encode(), name="rv.csv")) == 10


def test_reviewer_fields_are_bounded():
    rows = "reviewer_id,name\n" + "r" * 300 + ",x\n"
    with pytest.raises(InputError, match=r"rv.csv:2:reviewer_id: String should have at most 200 characters"):
        read_reviewers(rows.encode(), name="rv.csv")


# --- item 13: a proposal of an unknown pack ---------------------------------------------------------------------

def test_an_unknown_pack_id_is_refused_naming_the_row(tmp_path, capsys):
    data = example_proposals()
    data[2]["pack"] = "autonomous_14"
    path = write_json(tmp_path, data)
    code, err = cli(capsys, "check", "--pack", "autonomous_l4", "--proposals", path)  # was: silently skipped
    assert code == 2, err
    assert "proposals.json:[2]:pack: proposal 'EX-3': unknown pack 'autonomous_14'" in err
    assert "did you mean 'autonomous_l4'?" in err
    code, err = cli(capsys, "rank", "--pack", "autonomous_l4", "--proposals", path, "--reviews",
                    EXAMPLE / "reviews.csv", "--out", tmp_path / "out.json")
    assert code == 2 and "proposals.json:[2]:pack" in err and not (tmp_path / "out.json").exists()
    with pytest.raises(InputError, match=r"\[2\]:pack"):
        load_call("autonomous_l4", path)


def test_proposals_of_other_known_packs_are_still_skipped(tmp_path):
    data = example_proposals()
    data[2]["pack"] = "ai_edge"
    call = load_call("autonomous_l4", write_json(tmp_path, data))
    assert call.skipped_other_packs == 1 and len(call.proposals) == 4


def test_a_committees_own_pack_counts_as_known_when_given(tmp_path):
    own = tmp_path / "my_pack.yaml"
    own.write_text(L4.replace("id: autonomous_l4", "id: my_pack", 1), encoding="utf-8")
    data = example_proposals()
    for p in data:
        p["pack"] = "my_pack"
    data[0]["pack"] = "autonomous_l4"
    call = load_call(own, write_json(tmp_path, data))
    assert call.pack.id == "my_pack" and len(call.proposals) == 4 and call.skipped_other_packs == 1
    with pytest.raises(InputError, match=r"\[1\]:pack: proposal 'EX-2': unknown pack 'my_pack'"):
        load_call("autonomous_l4", write_json(tmp_path, data))


def test_the_dry_run_upload_is_read_within_the_limits():
    from app import proposal_form as form

    with pytest.raises(InputError, match=r"deep.json:line 1:\(json\): arrays/objects nested deeper than 32"):
        form.read_upload("deep.json", b"[" * 100_000 + b"]" * 100_000)  # was RecursionError
    with pytest.raises(form.UploadError, match="broken.json"):
        form.read_upload("broken.json", b"{not json")
