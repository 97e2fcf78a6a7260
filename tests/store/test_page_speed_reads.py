"""What a reviewer's pages read on every run (issue 15, docs/app.md "Page speed"): listing one's assignments reads
no proposal's JSON unless a conflict of interest is declared, and then only once per store."""

from __future__ import annotations

from sqlalchemy import event



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
