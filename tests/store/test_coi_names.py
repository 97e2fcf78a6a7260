"""Conflicts declared by organisation hold whatever the spelling (issue 12 §6), on SQLite and PostgreSQL."""

from __future__ import annotations

from scoring.store import SYSTEM
from tests.store.conftest import small_proposals, write_files


def test_organisation_conflicts_match_every_spelling(store, chair, tmp_path):
    r = store.rounds.create_round(SYSTEM, "表記ゆれ", ["autonomous_l4"])
    files = write_files(tmp_path, small_proposals(4),
                        [("A", "委員A", "reviewer", "株式会社　テスト1"),   # full-width space
                         ("B", "委員B", "reviewer", "㈱テスト2"),          # abbreviation
                         ("C", "委員C", "reviewer", "株式会社テスト３"),    # full-width digit
                         ("D", "委員D", "reviewer", "")])
    store.rounds.import_files(SYSTEM, r.id, **files)
    conflicted = {(u, p) for u in "ABCD" for p in ("T-001", "T-002", "T-003", "T-004")
                  if store.assignments.is_conflicted(r.id, p, u)}
    assert conflicted == {("A", "T-001"), ("B", "T-002"), ("C", "T-003")}
    report = store.assignments.auto_assign(chair, r.id, k=3)
    assigned = {(a.reviewer, a.proposal_id) for a in store.assignments.list_assignments(chair, r.id)}
    assert not assigned & conflicted and report is not None
