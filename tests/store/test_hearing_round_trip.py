"""The hearing stage survives the round's files and the schema's history, on SQLite and PostgreSQL:

- ``export`` then ``import`` (with ``stages.json``) into a fresh database keeps each pack's stage, the fixed
  shortlist, the hearing parameters, the shortlist edits (who and when) and the hearing reviews identical;
- a database at revision 0003 (before the hearing stage) with rounds and reviews, upgraded to head, has every
  review a document review, every pack in stage document, and ranks exactly as before.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import MetaData, insert, inspect, select, text

from scoring.errors import InputError
from scoring.hearing_ranking import HearingParams
from scoring.store import SYSTEM, Store
from scoring.store.db import make_engine
from scoring.store.migrate import current, upgrade
from tests.factories import ROOT

from . import conftest
from .conftest import ALL_PACKS

EX = ROOT / "tests" / "data" / "hearing-small"
TOP2 = HearingParams(shortlist_method="top_n", n=2, combine="weighted", document_weight=0.4, hearing_weight=0.6,
                     pass_line=60.0, min_reviews=3)


@pytest.fixture
def fresh_url(backend, tmp_path):
    """The URL of a second, empty database on the same backend (no schema yet)."""
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = conftest._pg_admin()
    schema = f"shinsa_f_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{conftest.PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def split_reviews(tmp_path):
    lines = (EX / "reviews.csv").read_text(encoding="utf-8").splitlines()
    doc, hear = tmp_path / "doc.csv", tmp_path / "hear.csv"
    doc.write_text("\n".join([lines[0]] + [x for x in lines[1:] if ",hearing:" not in x]) + "\n", encoding="utf-8")
    # H-3 is left off the shortlist below: its hearing reviews are not given; one of H-4's is a draft
    hear.write_text("\n".join([lines[0]] + [x.replace(",submitted,", ",draft,") if x.startswith("R3,H-4") else x
                                            for x in lines[1:] if ",hearing:" in x and ",H-3," not in x]) + "\n",
                    encoding="utf-8")
    return doc, hear


def state(store, rid):
    info = store.hearings.get_stage(SYSTEM, rid)
    edits = [(e.proposal_id, e.action, e.reason, e.by, e.at) for e in store.hearings.list_edits(SYSTEM, rid)]
    reviews = sorted((r.reviewer, r.proposal_id, r.status, r.levels, r.comments)
                     for r in store.reviews.list_reviews(SYSTEM, rid, stage="hearing"))
    return (info.stage, info.shortlist, info.hearing_params), edits, reviews


def test_export_then_import_into_a_fresh_store_keeps_the_hearing_stage(store, chair, fresh_url, tmp_path):
    r = store.rounds.create_round(SYSTEM, "ヒアリング", [str(EX / "pack.yaml")])
    doc, hear = split_reviews(tmp_path)
    store.rounds.import_files(SYSTEM, r.id, EX / "proposals.json", EX / "reviewers.csv", doc)
    store.hearings.set_stage(chair, r.id, None, "shortlist", hearing=TOP2)
    store.hearings.add_to_shortlist(chair, r.id, None, "H-4", "地域への波及")
    store.hearings.add_to_shortlist(chair, r.id, None, "H-5", "評価が分かれた")
    store.hearings.remove_from_shortlist(chair, r.id, None, "H-5", "辞退の申し出")
    store.hearings.set_stage(chair, r.id, None, "hearing")
    store.rounds.import_files(SYSTEM, r.id, reviews=hear)
    before = state(store, r.id)
    assert before[0][:2] == ("hearing", ("H-1", "H-2", "H-4")) and len(before[1]) == 3
    assert {x[2] for x in before[2]} == {"submitted", "draft"} and len(before[2]) == 9
    out = tmp_path / "out"
    names = [p.name for p in store.rounds.export_files(chair, r.id, out)]
    assert "stages.json" in names

    fresh = Store(engine=make_engine(fresh_url), create=True)
    try:
        r2 = fresh.rounds.create_round(SYSTEM, "ヒアリング", [str(EX / "pack.yaml")])
        fresh.rounds.import_files(SYSTEM, r2.id, out / "proposals.json", out / "reviewers.csv", out / "reviews.csv",
                                  stages=out / "stages.json")
        assert state(fresh, r2.id) == before
        assert fresh.hearings.rank_hearing_round(SYSTEM, r2.id).to_dict() == \
            store.hearings.rank_hearing_round(SYSTEM, r.id).to_dict()
        out2 = tmp_path / "out2"
        fresh.rounds.export_files(SYSTEM, r2.id, out2)
        for name in names:
            assert (out2 / name).read_bytes() == (out / name).read_bytes(), name
        # the restored round goes on as the stored one would: back to the shortlist stage with a reason
        assert fresh.hearings.set_stage(SYSTEM, r2.id, None, "shortlist", reason="見直し").shortlist is None
    finally:
        fresh.close()


def test_a_bad_stages_file_is_refused_whole_with_file_row_field(store, chair, tmp_path):
    r = store.rounds.create_round(SYSTEM, "誤り", [str(EX / "pack.yaml")])
    bad = [{"pack": "hearing_small", "stage": "hearing", "shortlist": ["H-1", "X-9"], "hearing_params": {"n": 0},
            "edits": [{"proposal_id": "H-5", "action": "keep", "reason": " ", "by": "chair", "at": "yesterday"}]},
           {"pack": "subsidy", "stage": "document"}]
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        store.rounds.import_files(SYSTEM, r.id, EX / "proposals.json", EX / "reviewers.csv", stages=path)
    lines = [str(p) for p in exc.value.problems]
    for want in (f"{path}:[0]:shortlist: 'X-9' is not a proposal of pack hearing_small",
                 f"{path}:[0]:hearing_params: ", f"{path}:[0].edits[0]:action: 'keep' is not one of",
                 f"{path}:[0].edits[0]:reason: a shortlist change needs a reason",
                 f"{path}:[0].edits[0]:at: 'yesterday' is not a date and time",
                 f"{path}:[1]:pack: 'subsidy' is not a pack of the round"):
        assert any(x.startswith(want) for x in lines), (want, lines)
    assert store.rounds.list_proposals(SYSTEM, r.id) == []                       # nothing written
    assert store.hearings.get_stage(SYSTEM, r.id).stage == "document"


# --- the upgrade from 0003 ------------------------------------------------------------------------------------

def copy_into(src_engine, dst_engine) -> dict[str, int]:
    """Every row of every table the destination (an older schema) has, columns in common only."""
    src_meta, dst_meta = MetaData(), MetaData()
    src_meta.reflect(src_engine)
    dst_meta.reflect(dst_engine)
    copied = {}
    with src_engine.connect() as src, dst_engine.begin() as dst:
        for table in dst_meta.sorted_tables:
            if table.name == "alembic_version" or table.name not in src_meta.tables:
                continue
            cols = [c.name for c in table.columns if c.name in src_meta.tables[table.name].columns]
            rows = [dict(r._mapping) for r in src.execute(select(*[src_meta.tables[table.name].c[c] for c in cols]))]
            if rows:
                dst.execute(insert(table), rows)
            copied[table.name] = len(rows)
    return copied


def test_a_0003_database_with_data_upgrades_to_document_stage_and_ranks_as_before(store, chair, sample_round,
                                                                                   fresh_url):
    before = {p: store.rounds.rank_round(chair, sample_round, p).to_dict() for p in ALL_PACKS}
    old = make_engine(fresh_url)
    try:
        upgrade(old, "0003")
        assert current(old) == "0003"
        copied = copy_into(store.db.engine, old)
        assert copied["reviews"] == 345 and copied["proposals"] == 69 and copied["round_packs"] == 6
        with old.connect() as conn:
            cols = {c["name"] for c in inspect(conn).get_columns("reviews")}
            assert "shortlist_edits" not in inspect(conn).get_table_names()
        assert "stage" not in cols                                               # truly the 0003 schema
        upgrade(old)                                                             # to head
        with old.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM reviews WHERE stage <> 'document'")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM reviews")).scalar() == 345
            assert conn.execute(text("SELECT count(*) FROM round_packs WHERE stage <> 'document' "
                                     "OR shortlist IS NOT NULL OR hearing_params IS NOT NULL")).scalar() == 0
        upgraded = Store(engine=old)
        assert {s.pack_id: s.stage for s in (upgraded.hearings.get_stage(SYSTEM, sample_round, p)
                                             for p in ALL_PACKS)} == {p: "document" for p in ALL_PACKS}
        for p in ALL_PACKS:      # the chair's account was copied with its id: the same acting user
            assert upgraded.rounds.rank_round(chair, sample_round, p).to_dict() == before[p], p
        assert len(upgraded.reviews.list_reviews(SYSTEM, sample_round)) == 345
    finally:
        old.dispose()
