"""Automatic assignment: k reviewers per proposal, balanced, never conflicted, existing ones kept."""

from __future__ import annotations

from scoring.store import SYSTEM

from .conftest import small_proposals, write_files


def _round(store, tmp_path, n_props=12, reviewers="ABCDE", conflicts=None, members=None):
    r = store.rounds.create_round(SYSTEM, f"割当{n_props}{reviewers}", ["autonomous_l4"])
    rows = [(u, f"委員{u}", "reviewer", (conflicts or {}).get(u, "")) for u in reviewers]
    store.rounds.import_files(SYSTEM, r.id, **write_files(tmp_path, small_proposals(n_props, members=members), rows))
    return r.id


def _pairs(store, chair, rid):
    return {(a.proposal_id, a.reviewer) for a in store.assignments.list_assignments(chair, rid)}


def test_every_proposal_gets_k_reviewers_and_the_load_is_balanced(store, chair, tmp_path):
    rid = _round(store, tmp_path, 12, "ABCDE")
    rep = store.assignments.auto_assign(chair, rid, k=3)  # default pack of a one-pack round
    assert not rep.unsatisfied and len(rep.added) == 36
    pairs = _pairs(store, chair, rid)
    for i in range(1, 13):
        assert len({u for p, u in pairs if p == f"T-{i:03d}"}) == 3
    loads = list(rep.load.values())
    assert sum(loads) == 36 and max(loads) - min(loads) <= 1


def test_k_defaults_to_the_packs_min_reviews(store, chair, tmp_path):
    rid = _round(store, tmp_path, 4, "ABCD")
    rep = store.assignments.auto_assign(chair, rid)
    assert store.rounds.pack(rid).selection.min_reviews == 3 and len(rep.added) == 12


def test_conflicted_reviewers_are_never_assigned_and_shortfalls_are_reported(store, chair, tmp_path):
    # A conflicted with T-001 by id, B with T-002's consortium member, C and D with T-001 as well
    rid = _round(store, tmp_path, 6, "ABCDE", conflicts={"A": "T-001", "B": "株式会社みちのく", "C": "T-001",
                                                         "D": "T-001"},
                 members={"T-002": ["株式会社みちのく"]})
    rep = store.assignments.auto_assign(chair, rid, k=3)
    pairs = _pairs(store, chair, rid)
    for u, p in (("A", "T-001"), ("B", "T-002"), ("C", "T-001"), ("D", "T-001")):
        assert (p, u) not in pairs
        assert store.assignments.is_conflicted(rid, p, u)
    assert [(u.proposal_id, u.have, u.wanted) for u in rep.unsatisfied] == [("T-001", 2, 3)]  # only B and E are free
    assert "3 conflicted" in rep.unsatisfied[0].reason
    for i in range(2, 7):
        assert len({u for p, u in pairs if p == f"T-{i:03d}"}) == 3


def test_existing_assignments_are_kept_and_counted(store, chair, tmp_path):
    rid = _round(store, tmp_path, 5, "ABCDE")
    for p in ("T-001", "T-002", "T-003"):
        store.assignments.assign(chair, rid, p, "E")
    store.assignments.assign(chair, rid, "T-001", "D")
    rep = store.assignments.auto_assign(chair, rid, k=2)
    pairs = _pairs(store, chair, rid)
    assert {("T-001", "E"), ("T-002", "E"), ("T-003", "E"), ("T-001", "D")} <= pairs
    assert rep.kept == 4
    assert {p for p, u in pairs if p == "T-001"} and len([1 for p, u in pairs if p == "T-001"]) == 2
    assert len(pairs) == 10 and len(rep.added) == 6
    assert "E" not in {u for p, u in rep.added}  # E already carries 3 of the 10
    again = store.assignments.auto_assign(chair, rid, k=2)
    assert again.added == [] and _pairs(store, chair, rid) == pairs


def test_six_reviewers_three_each_form_one_connected_panel_reported(store, chair, tmp_path):
    # issue 14 §8: least-loaded-first with ties by name made two halves (A–C on odd, D–F on even proposals)
    rid = _round(store, tmp_path, 10, "ABCDEF")
    rep = store.assignments.auto_assign(chair, rid, k=3)
    assert not rep.unsatisfied and len(rep.added) == 30 and set(rep.load.values()) == {5}
    d = rep.design
    assert (d.connected, d.components, d.reviewers) == (True, 1, 6)
    assert (d.min_pair_overlap, d.max_pair_overlap) == (2, 2)
    panels: dict[str, set[str]] = {}
    for p, u in _pairs(store, chair, rid):
        panels.setdefault(p, set()).add(u)
    assert {"A", "B", "C"} not in panels.values() or {"D", "E", "F"} not in panels.values()


def test_cli_assign_prints_the_design(backend, store, tmp_path, capsys):
    import json

    from scoring.cli import main
    rid = _round(store, tmp_path, 10, "ABCDEF")
    code = main(["assign", "--round", str(rid), "--k", "3", "--db", backend.url])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["packs"][0]["design"] == {"connected": True, "components": 1, "reviewers": 6,
                                         "min_pair_overlap": 2, "max_pair_overlap": 2}
