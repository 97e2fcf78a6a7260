"""The file adapter (scoring.io): readers take a path, bytes or a file object alike; the core reads no file."""

import ast
import io

import numpy as np
import pandas as pd
import pytest

from scoring.call import assemble
from scoring.errors import InputError, PackError, Problem, ProblemCollector
from scoring.io import read_proposals, read_reviewers, read_reviews
from scoring.io.call import load_call
from scoring.io.packs import load_pack, pack_path, read_pack_file
from scoring.reviews import build_review_table, reviews_from_rows, split_by_pack
from scoring.table import ProposalTable
from tests.factories import ROOT

S = ROOT / "sample_proposals"
PACK = "autonomous_l4"


def _ranked(call):
    return [(r["proposal_id"], r["decision"], r["total_score"]) for r in call.rank().results()]


def test_a_call_from_bytes_and_file_objects_ranks_as_from_paths():
    by_path = load_call(PACK, S / "proposals.json", S / "reviews.csv", S / "reviewers.csv")
    with open(S / "reviewers.csv", "rb") as reviewers:
        by_content = load_call(pack_path(PACK).read_bytes(), (S / "proposals.json").read_bytes(),
                               io.BytesIO((S / "reviews.csv").read_bytes()), reviewers)
    assert _ranked(by_content) == _ranked(by_path)
    assert by_content.reviews.comments == by_path.reviews.comments
    assert by_content.pack.criterion_ids == by_path.pack.criterion_ids


def test_content_is_named_by_name_then_by_the_file_objects_name_then_by_a_placeholder():
    bad = b'[{"id": "X-1"}]'
    with pytest.raises(InputError) as named:
        read_proposals(bad, name="upload/proposals.json")
    assert all(p.file == "upload/proposals.json" and p.row == "[0]" for p in named.value.problems)
    upload = io.BytesIO(b"reviewer_id,proposal_id\n")
    upload.name = "reviews.csv"
    with pytest.raises(InputError, match=r"reviews\.csv:1:item: required column is missing"):
        read_reviews(upload)
    with pytest.raises(InputError, match=r"^\(reviewers\):3:reviewer_id: duplicate reviewer id 'R1'"):
        read_reviewers(b"reviewer_id\nR1\nR1\n")
    with pytest.raises(InputError, match=r"^\(proposals\):line 1:\(json\): not valid JSON"):
        read_proposals(b"{")


def test_unreadable_content_and_missing_files_keep_their_messages(tmp_path):
    with pytest.raises(InputError, match=r"x\.csv: \(file\): cannot read as UTF-8 text"):
        read_reviews(b"\xff\xfe\x00bad", name="x.csv")
    missing = tmp_path / "none.json"
    with pytest.raises(InputError, match=rf"{missing}: \(file\): file not found"):
        read_proposals(missing)
    # an intake list is read from its bytes too (no temporary file); a broken one says so, naming the upload
    with pytest.raises(InputError, match=r"^book\.xlsx: \(file\): not a readable \.xlsx workbook"):
        read_proposals(b"PK\x03\x04rest", name="book.xlsx")


def test_a_pack_from_bytes_validates_as_the_shipped_file():
    data = pack_path(PACK).read_bytes()
    pack = load_pack(data, name="mine.yaml")
    assert pack.criterion_ids == load_pack(PACK).criterion_ids and pack.source == "mine.yaml"
    assert read_pack_file(io.BytesIO(data)) == read_pack_file(pack_path(PACK))
    with pytest.raises(PackError, match=r"^bad\.yaml: line 1: not valid YAML"):
        load_pack(b"a: [", name="bad.yaml")
    with pytest.raises(PackError, match=r"^\(pack\): \(root\): a pack must be a mapping"):
        read_pack_file(b"- 1\n")


def test_load_call_lists_the_problems_of_every_file_together():
    with pytest.raises(InputError) as caught:
        load_call(b"- 1\n", b"{", b"reviewer_id\n", b"reviewer_id\nR1\nR1\n")
    assert [p.file for p in caught.value.problems] == ["(pack)", "(proposals)", "(reviewers)"] + ["(reviews)"] * 4


def test_problem_collector_keeps_every_steps_problems_and_raises_them_in_order():
    def fails(name):
        raise InputError([Problem(name, None, "f", "bad")])

    found = ProblemCollector()
    assert found.run(lambda: 3) == 3 and not found
    assert found.run(fails, "a", default=[]) == []
    with found.catching():
        fails("b")
    found.add(Problem("c", "2", "g", "worse"))
    with pytest.raises(InputError) as caught:
        found.raise_if_any()
    assert [p.file for p in caught.value.problems] == ["a", "b", "c"]
    with pytest.raises(InputError, match="d: f: bad"):
        with ProblemCollector() as inner:
            inner.run(fails, "d")
    with ProblemCollector():  # nothing kept: nothing raised
        pass


def _reviews_and_table():
    pack = load_pack(PACK)
    props = read_proposals(S / "proposals.json")
    mine, _ = split_by_pack(props, pack)
    return pack, props, ProposalTable.from_proposals(mine), read_reviews(S / "reviews.csv")


def test_integer_levels_from_the_store_build_the_same_table_as_the_csvs_text():
    pack, props, table, df = _reviews_and_table()
    ids = {p.id for p in props}
    as_text = build_review_table(df, pack, table, ids, "r.csv")
    numeric = df.assign(value=df["value"].astype(int), comment=df["comment"].replace("", None))
    as_ints = build_review_table(numeric, pack, table, ids, "r.csv")
    assert np.array_equal(as_text.levels, as_ints.levels) and np.array_equal(as_text.marks, as_ints.marks)
    assert np.array_equal(as_text.submitted, as_ints.submitted) and as_text.comments == as_ints.comments
    rows = df.drop(columns="_line").to_dict("records")
    stored = [dict(r, value=int(r["value"])) for r in rows]
    assert reviews_from_rows(stored).equals(reviews_from_rows(rows))


@pytest.mark.parametrize("bad, message", [(7, "'7' is not a level of the scale"),
                                          (2.5, "'2.5' is not a level of the scale"),
                                          (None, "'' is not a level of the scale")])
def test_a_bad_integer_level_is_refused_with_the_csvs_message(bad, message):
    pack, props, table, df = _reviews_and_table()
    j = int(np.nonzero((df["proposal_id"].str.startswith("L4")) & ~df["item"].str.startswith("bonus:"))[0][0])
    as_text = df.copy()
    as_text.loc[j, "value"] = "" if bad is None else str(bad)
    values = pd.Series(df["value"].astype(int), dtype=object)
    values[j] = bad
    msgs = []
    for frame in (as_text, df.assign(value=values)):
        with pytest.raises(InputError) as caught:
            assemble(pack, props, frame, None, "r.csv")
        msgs.append([str(p) for p in caught.value.problems])
    assert msgs[0] == msgs[1] and message in msgs[0][0]


CORE_WITHOUT_FILES = ["scoring/packs.py", "scoring/call.py", "scoring/reviews.py", "scoring/errors.py"]


@pytest.mark.parametrize("path", CORE_WITHOUT_FILES)
def test_the_core_modules_of_this_area_read_no_file(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                 and n.level == 0}
    relative = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
    assert not imported & {"yaml", "pathlib", "os", "io", "openpyxl", "sqlalchemy", "streamlit"}
    assert not {m for m in relative if m and m.split(".")[0] in ("io", "store", "cli")}
    assert "open(" not in (ROOT / path).read_text(encoding="utf-8")
