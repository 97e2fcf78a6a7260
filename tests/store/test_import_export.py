"""Import (all or nothing, every problem listed) and export (import ∘ export is the identity)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from scoring.errors import InputError
from scoring.store import SYSTEM

from .conftest import ALL_PACKS, SAMPLE, small_proposals, write_files

TABLES = ["proposals", "users", "round_members", "conflicts", "reviews", "assignments"]


def counts(store) -> dict:
    with store.db.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}


def read_csv(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_import_with_errors_writes_nothing_and_lists_every_problem(store, tmp_path):
    r = store.rounds.create_round(SYSTEM, "誤りあり", ["autonomous_l4"])
    props = small_proposals(4)
    props[2]["requested_yen"] = "たくさん"
    props[3]["pack"] = "subsidy"  # not a pack of this round
    reviews = [["A", "T-001", "service_need", 9, "submitted", ""],
               ["Z", "T-002", "service_need", 3, "draft", ""]]
    files = write_files(tmp_path, props, [("A", "委員A", "reviewer", ""), ("B", "委員B", "judge", "")], reviews)
    before = counts(store)
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, **files)
    lines = [str(p) for p in exc.value.problems]
    assert any(l.startswith(f"{files['proposals']}:[2]:requested_yen:") for l in lines), lines
    assert any(l.startswith(f"{files['reviewers']}:3:role:") for l in lines), lines
    assert counts(store) == before
    # the reviewers file fixed, the proposals and reviews still wrong
    files = write_files(tmp_path, props, [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", "")], reviews)
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, **files)
    lines = [str(p) for p in exc.value.problems]
    assert any(":[2]:requested_yen:" in l for l in lines)
    assert counts(store) == before
    # proposals fixed: the pack problem, the level and the unknown reviewer are all listed together
    props[2]["requested_yen"] = "1億円"
    files = write_files(tmp_path, props, [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", "")], reviews)
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, **files)
    lines = [str(p) for p in exc.value.problems]
    assert f"{files['proposals']}:[3]:pack: proposal T-004: 'subsidy' is not a pack of round '誤りあり' " \
           "(packs: autonomous_l4)" in lines
    assert counts(store) == before
    props[3]["pack"] = "autonomous_l4"
    files = write_files(tmp_path, props, [("A", "委員A", "reviewer", ""), ("B", "委員B", "reviewer", "")], reviews)
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, **files)
    lines = [str(p) for p in exc.value.problems]
    assert f"{files['reviews']}:2:value: '9' is not a level of the scale [1, 2, 3, 4, 5]" in lines
    assert f"{files['reviews']}:3:reviewer_id: 'Z' is not in the reviewers file" in lines
    assert counts(store) == before


def test_importing_the_same_proposals_twice_is_refused_whole(store, tmp_path):
    r = store.rounds.create_round(SYSTEM, "二重", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(3), [("A", "委員A", "reviewer", "")])
    store.rounds.import_files(SYSTEM, r.id, **files)
    before = counts(store)
    with pytest.raises(InputError, match="'T-001' is already in round"):
        store.rounds.import_files(SYSTEM, r.id, proposals=files["proposals"])
    assert counts(store) == before


def test_export_gives_back_exactly_what_was_imported(store, sample_round, chair, tmp_path):
    out = tmp_path / "out"
    store.rounds.export_files(chair, sample_round, out)
    assert json.loads((out / "proposals.json").read_text(encoding="utf-8")) == \
        json.loads((SAMPLE / "proposals.json").read_text(encoding="utf-8"))
    assert read_csv(out / "reviewers.csv") == read_csv(SAMPLE / "reviewers.csv")
    key = lambda r: (r["reviewer_id"], r["proposal_id"], r["item"])  # noqa: E731
    assert sorted(read_csv(out / "reviews.csv"), key=key) == sorted(read_csv(SAMPLE / "reviews.csv"), key=key)
    # and round again: export → import into a new round → export is byte for byte the same
    r2 = store.rounds.create_round(SYSTEM, "再取込", ALL_PACKS)
    # the same reviewers are already users: they join the new round's committee
    store.rounds.import_files(SYSTEM, r2.id, out / "proposals.json", out / "reviewers.csv", out / "reviews.csv")
    out2 = tmp_path / "out2"
    store.rounds.export_files(chair, r2.id, out2)
    for name in ("proposals.json", "reviewers.csv", "reviews.csv", "assignments.csv"):
        assert (out2 / name).read_bytes() == (out / name).read_bytes(), name
    assert store.rounds.rank_round(chair, r2.id, "autonomous_l4").to_dict() == \
        store.rounds.rank_round(chair, sample_round, "autonomous_l4").to_dict()


def test_a_rounds_pack_is_a_frozen_copy(store, tmp_path):
    from scoring.io.packs import pack_path

    src = pack_path("autonomous_l4").read_text(encoding="utf-8")
    mine = tmp_path / "my_l4.yaml"
    mine.write_text(src, encoding="utf-8")
    r = store.rounds.create_round(SYSTEM, "凍結", [str(mine)])
    edited = src.replace("pass_line: 60.0", "pass_line: 99.0")
    assert edited != src
    mine.write_text(edited, encoding="utf-8")
    fresh = type(store)(engine=store.db.engine)  # a new store: nothing cached, reads the stored copy
    assert fresh.rounds.pack(r.id).selection.pass_line == 60.0
    assert fresh.rounds.get_round(SYSTEM, r.id).packs == {"autonomous_l4": "2026.1"}


def test_formula_like_comments_survive_export_and_reimport(store, tmp_path):
    chair_user = SYSTEM
    r = store.rounds.create_round(SYSTEM, "数式風コメント", ["autonomous_l4"])
    hostile = '=HYPERLINK("http://x"; "y")'
    reviews = [["A", "T-001", c, 4, "submitted", hostile if c == "service_need" else "-1点の懸念"]
               for c in ("service_need", "verification_items", "verification_environment",
                         "remote_monitoring_safety", "rollout_plan")]
    files = write_files(tmp_path, small_proposals(1), [("A", "委員A", "reviewer", "")], reviews)
    store.rounds.import_files(SYSTEM, r.id, **files)
    out = tmp_path / "out-formula"
    store.rounds.export_files(chair_user, r.id, out)
    raw = (out / "reviews.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in raw and "'-1点" in raw          # guarded for spreadsheets
    r2 = store.rounds.create_round(SYSTEM, "数式風コメント再取込", ["autonomous_l4"])
    store.rounds.import_files(SYSTEM, r2.id, out / "proposals.json", out / "reviewers.csv", out / "reviews.csv")
    got = store.reviews.get_review(SYSTEM, r2.id, "T-001", "A")
    assert got.comments["service_need"] == hostile           # read back exactly as written
    assert got.comments["rollout_plan"] == "-1点の懸念"
