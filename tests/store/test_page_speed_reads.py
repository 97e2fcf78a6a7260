"""What a reviewer's pages read on every run (issue 15, docs/app.md "Page speed"): listing one's assignments reads
no proposal's JSON unless a conflict of interest is declared, and then only once per store."""

from __future__ import annotations

from sqlalchemy import event

from .conftest import login



def _statements(store) -> list[str]:
    seen: list[str] = []
    event.listen(store.db.engine, "before_cursor_execute", lambda c, cur, statement, *a: seen.append(statement))
    return seen


def test_listing_assignments_reads_no_proposal_json_without_a_declared_conflict(store, sample_round):
    seen = _statements(store)
    r01 = store.users.get("R01")
    mine = store.assignments.list_assignments_for(r01, include_locked=True)
    assert len(mine) == 64 and all(a.status != "conflict" for a in mine)
    assert seen and not [s for s in seen if "proposals.data" in s]


def test_a_declared_conflict_is_listed_without_rereading_the_proposals_json(store, sample_round):
    r01 = store.users.get("R01")
    store.assignments.declare_conflict(r01, sample_round, proposal_id="L4-001", reason="元所属")
    store.assignments.list_assignments_for(r01, include_locked=True)      # the store has parsed the proposals now
    seen = _statements(store)
    again = store.assignments.list_assignments_for(r01, include_locked=True)
    assert [a.proposal_id for a in again if a.status == "conflict"] == ["L4-001"]
    assert not [s for s in seen if "proposals.data" in s]    # the parsed proposals are the store's, not reread
    # a conflict declared since counts at once (the declarations themselves are read on every call)
    store.assignments.declare_conflict(r01, sample_round, proposal_id="L4-003", reason="共同研究")
    assert [a.proposal_id for a in store.assignments.list_assignments_for(r01, include_locked=True)
            if a.status == "conflict"] == ["L4-001", "L4-003"]


def test_the_chairs_reads_of_proposals_take_no_json_once_parsed_and_keep_the_conflicts(store, small_round, chair):
    """進捗 and ラウンド管理 (issue 15): the progress matrix, the proposal list, every assignment and the proposals a
    conflict left short read the proposal rows without their JSON once the store has parsed them — and the
    conflict of interest (C with 株式会社みちのく, so with T-003, decided from the proposal's members) still holds."""
    store.assignments.auto_assign(chair, small_round, "autonomous_l4", 4)
    store.assignments.declare_conflict(login(store, "A"), small_round, proposal_id="T-001", reason="元所属")

    def reads():
        return (store.rounds.progress(chair, small_round), [p.id for p in store.rounds.list_proposals(chair, small_round)],
                [(a.proposal_id, a.reviewer, a.status) for a in store.assignments.list_assignments(chair, small_round)],
                store.assignments.short_of_reviewers(chair, small_round, "autonomous_l4"))

    first = reads()
    seen = _statements(store)
    again = reads()
    assert seen and not [s for s in seen if "proposals.data" in s]
    assert again[1:] == first[1:] and again[0].cells == first[0].cells
    assert again[1] == [f"T-{i:03d}" for i in range(1, 7)]
    assert again[0].cell("C", "T-003") == "conflict" and again[0].cell("A", "T-003") == "assigned"
    assert again[0].cell("A", "T-001") == "conflict"
    assert [(p, r) for p, r, s in again[2] if s == "conflict"] == [("T-001", "A")]
    assert [u.proposal_id for u in again[3]] == ["T-001"]


def test_an_import_keeps_its_parsed_proposals_and_a_read_without_conflicts_parses_none(store, chair, tmp_path,
                                                                                     monkeypatch):
    """The import's own validated proposals are the store's once committed (ラウンド管理 redrawn after an import
    parses none of them again); the assignments and the proposals short of reviewers parse no proposal while no
    conflict is declared in the round; a failed import leaves nothing kept."""
    from scoring.models import Proposal
    from scoring.store import SYSTEM
    from scoring.store.store import Store

    from .conftest import small_proposals, write_files

    parsed: list[int] = []
    real = Store._model_from
    monkeypatch.setattr(Store, "_model_from", lambda self, pk, data: parsed.append(pk) or real(self, pk, data))
    r = store.rounds.create_round(SYSTEM, "取込", ["autonomous_l4"]).id
    files = write_files(tmp_path, small_proposals(5), [("A", "委員A", "reviewer", "")])
    kept = dict(store._models)
    bad = dict(files, proposals=write_files(tmp_path, small_proposals(5, pack="nope"), [])["proposals"])
    try:
        store.rounds.import_files(SYSTEM, r, **bad)
    except Exception:
        pass
    assert store._models == kept                          # nothing kept from a refused import
    store.rounds.import_files(SYSTEM, r, **files)
    store.assignments.assign(chair, r, "T-001", "A")
    seen = _statements(store)
    got = store.rounds.list_proposals(chair, r)
    assert [p.id for p in got] == [f"T-{i:03d}" for i in range(1, 6)] and got[0].title == "実証 T-001"
    assert got == [Proposal.model_validate(x) for x in small_proposals(5)]    # what parsing the JSON gives
    assert [a.status for a in store.assignments.list_assignments(chair, r)] == ["assigned"]
    assert store.assignments.short_of_reviewers(chair, r, "autonomous_l4") == []
    assert parsed == [] and not [s for s in seen if "proposals.data" in s]
