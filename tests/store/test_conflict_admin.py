"""Issue 14 §3: conflicts of interest need a reason, the chair and the secretariat add and remove them (store and
command line, audited), and a proposal a conflict left short of reviewers is found and put right by the
automatic assignment of that one proposal (never a conflicted reviewer, the least-loaded first)."""

from __future__ import annotations

import json

import pytest

from scoring.cli import main
from scoring.errors import InputError
from scoring.store import SYSTEM, PermissionDenied

from .conftest import login


def test_a_conflict_needs_a_reason_when_declared_set_or_removed(store, small_round, chair):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    for reason in ("", "   "):
        with pytest.raises(InputError, match="reason"):
            store.assignments.declare_conflict(a, small_round, proposal_id="T-001", reason=reason)
        with pytest.raises(InputError, match="reason"):
            store.assignments.set_conflict(chair, small_round, "B", proposal_id="T-001", reason=reason)
    assert store.assignments.list_conflicts(chair, small_round, "A") == []
    c = store.assignments.declare_conflict(a, small_round, proposal_id="T-001", reason="親族が勤務")
    with pytest.raises(InputError, match="reason"):
        store.assignments.remove_conflict(chair, small_round, c.id, reason="")
    assert [x.reason for x in store.assignments.list_conflicts(chair, small_round, "A")] == ["親族が勤務"]


def test_chair_and_secretariat_add_and_remove_conflicts_audited(store, small_round, chair, secretariat):
    store.assignments.assign(SYSTEM, small_round, "T-002", "B")
    for who, reviewer in ((chair, "B"), (secretariat, "D")):
        c = store.assignments.set_conflict(who, small_round, reviewer, proposal_id="T-002", reason="元同僚")
        assert store.assignments.is_conflicted(small_round, "T-002", reviewer)
        assert c.created_by == who.username
        store.assignments.remove_conflict(who, small_round, c.id, reason="誤登録")
        assert not store.assignments.is_conflicted(small_round, "T-002", reviewer)
    log = [(e.actor, e.action, e.subject) for e in store.audit.query(chair, small_round, entity="conflict")]
    assert ("jimu", "conflict.remove", "D") in log and ("chair", "conflict.add", "B") in log
    removal = next(e for e in store.audit.query(chair, small_round, entity="conflict")
                   if e.action == "conflict.remove" and e.subject == "B")
    assert removal.before["reason"] == "元同僚" and removal.after["removal_reason"] == "誤登録"
    a = login(store, "A")
    with pytest.raises(PermissionDenied):
        store.assignments.set_conflict(a, small_round, "B", proposal_id="T-001", reason="x")
    c = store.assignments.declare_conflict(a, small_round, proposal_id="T-001", reason="親族")
    with pytest.raises(PermissionDenied):
        store.assignments.remove_conflict(a, small_round, c.id, reason="やはり問題なし")


def test_a_proposal_a_conflict_left_short_is_flagged_and_reassigned_by_coi_and_load(store, small_round, chair):
    rep = store.assignments.auto_assign(chair, small_round, "autonomous_l4", 3)
    assert not rep.unsatisfied
    assert store.assignments.short_of_reviewers(chair, small_round) == []
    before = {(a.proposal_id, a.reviewer) for a in store.assignments.list_assignments(chair, small_round)}
    panel = sorted(r for p, r in before if p == "T-001")
    leaving = panel[0]
    store.assignments.declare_conflict(login(store, leaving), small_round, proposal_id="T-001", reason="共同研究者")
    [short] = store.assignments.short_of_reviewers(chair, small_round, "autonomous_l4")
    assert (short.proposal_id, short.have, short.wanted) == ("T-001", 2, 3)
    rep = store.assignments.auto_assign(chair, small_round, "autonomous_l4", short.wanted, proposals=["T-001"])
    [(pid, new)] = rep.added
    assert pid == "T-001" and new not in panel                      # never the conflicted reviewer again
    after = {(a.proposal_id, a.reviewer) for a in store.assignments.list_assignments(chair, small_round)}
    assert after - before == {("T-001", new)}                        # no other proposal touched
    assert store.assignments.short_of_reviewers(chair, small_round) == []


def test_the_short_panel_is_the_packs_usual_panel_when_larger_than_min_reviews(store, small_round, chair):
    store.assignments.auto_assign(chair, small_round, "autonomous_l4", 4)   # C is conflicted with T-003
    store.assignments.declare_conflict(login(store, "A"), small_round, proposal_id="T-005", reason="顧問")
    shorts = {s.proposal_id: (s.have, s.wanted) for s in store.assignments.short_of_reviewers(chair, small_round)}
    assert shorts == {"T-005": (3, 4)}     # T-003 has three (C never was on it): no conflict took one away


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_conflict_add_list_remove_needs_a_reason(backend, store, small_round, capsys):
    db = backend.url
    code, out, err = run(capsys, "conflict", "add", "--round", small_round, "--reviewer", "B", "--proposal", "T-004",
                         "--db", db)
    assert code == 2 and "reason" in err
    code, out, err = run(capsys, "conflict", "add", "--round", small_round, "--reviewer", "B", "--proposal", "T-004",
                         "--reason", "兼業先", "--db", db)
    assert code == 0, err
    cid = json.loads(out)["id"]
    assert store.assignments.is_conflicted(small_round, "T-004", "B")
    code, out, err = run(capsys, "conflict", "list", "--round", small_round, "--reviewer", "B", "--db", db)
    assert [(c["proposal_id"], c["reason"]) for c in json.loads(out)] == [("T-004", "兼業先")]
    assert run(capsys, "conflict", "remove", "--round", small_round, "--id", cid, "--db", db)[0] == 2
    code, out, err = run(capsys, "conflict", "remove", "--round", small_round, "--id", cid, "--reason", "誤り",
                         "--db", db)
    assert code == 0, err
    assert not store.assignments.is_conflicted(small_round, "T-004", "B")
    assert [e.action for e in store.audit.query(SYSTEM, small_round, entity="conflict")][:2] == \
        ["conflict.remove", "conflict.add"]
