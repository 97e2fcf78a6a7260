"""Round deadline (評価締切, migration 0002) and reading one's assignments in a locked round — on SQLite and
PostgreSQL (issue 4: 担当案件 shows the deadline; a locked round stays readable)."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.errors import InputError
from scoring.store import SYSTEM, PermissionDenied, RoundLocked
from scoring.store.migrate import current
from tests.store.conftest import LEVELS, login


def test_schema_is_at_the_newest_revision(store):
    assert current(store.db.engine) == "0010"  # 0002 added rounds.deadline; 0004 the hearing stage; 0005 outbox; 0006 the hearing timetable; 0007 users.language; 0008 decisions; 0009 discussion; 0010 documents


def test_chair_sets_and_clears_the_deadline_logged(store, chair, small_round):
    assert store.rounds.get_round(chair, small_round).deadline is None
    info = store.rounds.set_deadline(chair, small_round, "2027-01-15")
    assert info.deadline == date(2027, 1, 15)
    assert store.rounds.get_round(login(store, "A"), small_round).deadline == date(2027, 1, 15)
    assert store.rounds.list_rounds(chair)[0].deadline == date(2027, 1, 15)
    store.rounds.set_deadline(chair, small_round, None)
    assert store.rounds.get_round(chair, small_round).deadline is None
    log = [e for e in store.audit.query(chair, small_round) if e.action == "round.deadline"]
    assert [(e.before, e.after) for e in reversed(log)] == [
        ({"deadline": None}, {"deadline": "2027-01-15"}), ({"deadline": "2027-01-15"}, {"deadline": None})]


def test_deadline_refused_for_others_bad_dates_and_locked_rounds(store, chair, secretariat, small_round):
    with pytest.raises(PermissionDenied):
        store.rounds.set_deadline(login(store, "A"), small_round, "2027-01-15")
    assert store.rounds.set_deadline(secretariat, small_round, "2027-01-15").deadline.isoformat() == "2027-01-15"
    store.rounds.set_deadline(secretariat, small_round, None)     # issue 14 §14: the secretariat sets it too
    with pytest.raises(InputError, match="deadline"):
        store.rounds.set_deadline(chair, small_round, "2027-02-30")
    store.rounds.lock_round(chair, small_round)
    with pytest.raises(RoundLocked):
        store.rounds.set_deadline(chair, small_round, "2027-01-15")
    assert store.rounds.get_round(chair, small_round).deadline is None


def test_locked_round_assignments_listed_on_request_only(store, chair, small_round):
    a = login(store, "A")
    store.assignments.assign(chair, small_round, "T-001", "A")
    v = store.reviews.save_draft(a, small_round, "T-001", levels=LEVELS, base_version=0)
    store.reviews.submit(a, small_round, "T-001", version=v)
    before = store.assignments.list_assignments_for(a)
    store.rounds.lock_round(chair, small_round)
    assert store.assignments.list_assignments_for(a) == []                      # unchanged default: open rounds
    locked = store.assignments.list_assignments_for(a, include_locked=True)
    assert [(x.proposal_id, x.status) for x in locked] == [(x.proposal_id, x.status) for x in before]
    assert ("T-001", "submitted") in [(x.proposal_id, x.status) for x in locked]
    assert store.reviews.get_review(a, small_round, "T-001").levels == LEVELS   # readable, read-only
    with pytest.raises(RoundLocked):
        store.reviews.save_draft(a, small_round, "T-001", levels=LEVELS, base_version=2)
    # only one's own assignments, also in locked rounds
    assert {x.reviewer for x in store.assignments.list_assignments_for(login(store, "B"), include_locked=True)} <= {"B"}


def test_cli_round_create_with_deadline(backend, tmp_path, capsys):
    import json

    from scoring.cli import main

    rc = main(["round", "create", "締切つき", "--pack", "autonomous_l4", "--deadline", "2027-03-31",
               "--db", backend.url])
    assert rc in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["deadline"] == "2027-03-31"
    assert backend.store.rounds.get_round(SYSTEM, "締切つき").deadline == date(2027, 3, 31)
    assert main(["round", "create", "悪い締切", "--pack", "autonomous_l4", "--deadline", "2027-13-01",
                 "--db", backend.url]) == 2
    assert "--deadline" in capsys.readouterr().err
    assert [r.name for r in backend.store.rounds.list_rounds(SYSTEM)] == ["締切つき"]


def test_a_deadline_given_at_creation_is_set_in_the_same_step_by_a_chair_only(store, chair, secretariat):
    info = store.rounds.create_round(chair, "締切つき2", ["autonomous_l4"], deadline="2027-02-01")
    assert info.deadline == date(2027, 2, 1) == store.rounds.get_round(chair, info.id).deadline
    log = [e for e in store.audit.query(chair, info.id) if e.action.startswith("round.")]
    assert [e.action for e in log] == ["round.create"] and log[0].after["deadline"] == "2027-02-01"
    with pytest.raises(PermissionDenied):
        store.rounds.create_round(secretariat, "締切つき3", ["autonomous_l4"], deadline="2027-02-01")
    with pytest.raises(InputError):
        store.rounds.create_round(chair, "締切つき4", ["autonomous_l4"], deadline="2027-02-30")
    assert [r.name for r in store.rounds.list_rounds(chair)] == ["締切つき2"]
