"""Every rule of who may do what, enforced by the services (not only by the UI)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from scoring.store import (SYSTEM, ConflictOfInterest, PermissionDenied, RoundLocked)

from .conftest import LEVELS, login


def test_a_reviewer_cannot_open_or_write_a_proposal_not_assigned_to_them(store, small_round):
    a = login(store, "A")
    with pytest.raises(PermissionDenied, match="not assigned"):
        store.reviews.get_review(a, small_round, "T-001")
    with pytest.raises(PermissionDenied, match="not assigned"):
        store.reviews.save_draft(a, small_round, "T-001", {"service_need": 3}, {}, {}, "", base_version=0)
    with pytest.raises(PermissionDenied, match="not assigned"):
        store.rounds.get_proposal(a, small_round, "T-001")
    assert store.rounds.list_proposals(a, small_round) == []


def test_a_reviewer_sees_only_their_assigned_proposals(store, small_round):
    store.assignments.assign(SYSTEM, small_round, "T-002", "A")
    store.assignments.assign(SYSTEM, small_round, "T-004", "A")
    store.assignments.assign(SYSTEM, small_round, "T-001", "B")
    a = login(store, "A")
    assert [p.id for p in store.rounds.list_proposals(a, small_round)] == ["T-002", "T-004"]
    assert [x.proposal_id for x in store.assignments.list_assignments_for(a)] == ["T-002", "T-004"]


def test_a_reviewer_cannot_read_or_write_another_reviewers_review(store, small_round):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    store.assignments.assign(SYSTEM, small_round, "T-001", "B")
    a, b = login(store, "A"), login(store, "B")
    store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "A's opinion", base_version=0)
    with pytest.raises(PermissionDenied, match="other reviewers' reviews"):
        store.reviews.get_review(b, small_round, "T-001", reviewer="A")
    # B's own review is separate: B never sees A's content
    assert store.reviews.get_review(b, small_round, "T-001").levels == {}
    with pytest.raises(PermissionDenied):
        store.reviews.list_reviews(b, small_round)


def test_a_conflicted_reviewer_cannot_open_the_proposal_even_if_assigned(store, small_round, chair):
    store.assignments.assign(SYSTEM, small_round, "T-005", "A")
    a = login(store, "A")
    store.reviews.save_draft(a, small_round, "T-005", {"service_need": 2}, {}, {}, "", base_version=0)
    store.assignments.declare_conflict(a, small_round, proposal_id="T-005", reason="親族が申請者に勤務")
    with pytest.raises(ConflictOfInterest):
        store.reviews.get_review(a, small_round, "T-005")
    with pytest.raises(ConflictOfInterest):
        store.reviews.save_draft(a, small_round, "T-005", {"service_need": 5}, {}, {}, "", base_version=1)
    assert [x.status for x in store.assignments.list_assignments_for(a, small_round)] == ["conflict"]
    assert store.rounds.list_proposals(a, small_round) == []
    assert store.rounds.progress(chair, small_round).cell("A", "T-005") == "conflict"


def test_a_conflict_by_organisation_covers_every_proposal_with_that_member(store, small_round):
    # C declared 株式会社みちのく in the reviewers file; T-003 has it as a consortium member
    assert store.assignments.is_conflicted(small_round, "T-003", "C")
    assert not store.assignments.is_conflicted(small_round, "T-004", "C")
    b = login(store, "B")
    store.assignments.assign(SYSTEM, small_round, "T-006", "B")
    store.assignments.declare_conflict(b, small_round, organisation="テスト市6", reason="兼業先")  # T-006's partner
    with pytest.raises(ConflictOfInterest):
        store.reviews.get_review(b, small_round, "T-006")


def test_assigning_a_conflicted_reviewer_is_refused(store, small_round, chair, secretariat):
    with pytest.raises(ConflictOfInterest, match="C has a conflict of interest with T-003"):
        store.assignments.assign(secretariat, small_round, "T-003", "C")
    store.assignments.set_conflict(chair, small_round, "D", proposal_id="T-001", reason="元同僚")
    with pytest.raises(ConflictOfInterest):
        store.assignments.assign(chair, small_round, "T-001", "D")
    assert store.rounds.progress(chair, small_round).cell("C", "T-003") == "conflict"
    assert all(x.reviewer not in ("C", "D") or x.proposal_id not in ("T-003", "T-001")
               for x in store.assignments.list_assignments(chair, small_round))


def test_only_the_chair_and_secretariat_set_conflicts_for_others(store, small_round, secretariat):
    a = login(store, "A")
    with pytest.raises(PermissionDenied):
        store.assignments.set_conflict(a, small_round, "B", proposal_id="T-001", reason="元同僚")
    store.assignments.set_conflict(secretariat, small_round, "B", proposal_id="T-001", reason="元同僚")  # issue 14 §3


def test_submitted_reviews_are_locked_and_only_the_chair_reopens(store, small_round, chair, secretariat):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    v = store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "", base_version=0)
    store.reviews.submit(a, small_round, "T-001", version=v)
    for who in (a, secretariat):
        with pytest.raises(PermissionDenied, match="reopen"):
            store.reviews.reopen(who, small_round, "T-001", "A")
    assert store.reviews.get_review(a, small_round, "T-001").status == "submitted"
    store.reviews.reopen(chair, small_round, "T-001", "A")
    assert store.reviews.get_review(a, small_round, "T-001").status == "draft"


def test_the_secretariat_manages_but_never_reads_scores(store, small_round, secretariat):
    store.assignments.assign(secretariat, small_round, "T-001", "A")
    a = login(store, "A")
    store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "secret", base_version=0)
    progress = store.rounds.progress(secretariat, small_round)
    assert progress.cell("A", "T-001") == "draft"
    with pytest.raises(PermissionDenied):
        store.reviews.get_review(secretariat, small_round, "T-001", reviewer="A")
    with pytest.raises(PermissionDenied):
        store.reviews.list_reviews(secretariat, small_round)
    with pytest.raises(PermissionDenied):
        store.rounds.rank_round(secretariat, small_round)
    with pytest.raises(PermissionDenied):
        store.audit.query(secretariat, small_round)
    with pytest.raises(PermissionDenied):
        store.rounds.export_files(secretariat, small_round, "unused")


def test_the_secretariat_cannot_reach_scores_through_a_chair_account(store, chair, secretariat):
    """It manages reviewer and secretariat accounts, never chair accounts: otherwise it could set a chair's
    password (or make an account a chair) and read every score as that chair."""
    store.users.add_user(SYSTEM, "r9", "委員9", "reviewer")
    for attempt in (lambda: store.users.add_user(secretariat, "c2", "委員長2", "chair", "chair-password-2"),
                    lambda: store.users.set_password(secretariat, "chair", "taken-over-123"),
                    lambda: store.users.update_user(secretariat, "r9", role="chair"),
                    lambda: store.users.update_user(secretariat, "chair", active=False),
                    lambda: store.users.update_user(secretariat, "chair", external_id="oidc|someone")):
        with pytest.raises(PermissionDenied):
            attempt()
    assert store.users.authenticate("chair", "chair-password-1").role == "chair"     # nothing changed
    store.users.set_password(secretariat, "r9", "first-password-9")                  # reviewers: yes
    store.users.add_user(secretariat, "s2", "事務局2", "secretariat", "jimu-password-2")
    store.users.unlock(secretariat, "chair")                                         # unlocking grants nothing
    store.users.add_user(chair, "c2", "委員長2", "chair", "chair-password-2")         # a chair may
    store.users.set_password(chair, "c2", "chair-password-3")
    store.users.set_password(chair, "chair", "chair-password-4")                     # and their own


def test_a_reviewer_cannot_administer(store, small_round, tmp_path):
    a = login(store, "A")
    denied = [
        lambda: store.assignments.assign(a, small_round, "T-001", "A"),
        lambda: store.assignments.auto_assign(a, small_round),
        lambda: store.rounds.rank_round(a, small_round),
        lambda: store.rounds.lock_round(a, small_round),
        lambda: store.rounds.create_round(a, "x", ["autonomous_l4"]),
        lambda: store.rounds.import_files(a, small_round, proposals=tmp_path / "none.json"),
        lambda: store.rounds.export_files(a, small_round, tmp_path / "out"),
        lambda: store.rounds.progress(a, small_round),
        lambda: store.rounds.resolve_needs_check(a, small_round, "T-001", "amount", "pass"),
        lambda: store.users.list_users(a),
        lambda: store.users.add_user(a, "x", "x", "chair", "password-x-123"),
        lambda: store.users.set_password(a, "B", "password-new-1"),
        lambda: store.audit.query(a, small_round),
    ]
    for call in denied:
        with pytest.raises(PermissionDenied):
            call()
    assert not (tmp_path / "out").exists()
    store.users.set_password(a, "A", "password-new-1")  # their own password: allowed
    assert store.users.authenticate("A", "password-new-1").username == "A"


def test_a_locked_round_refuses_every_change(store, small_round, chair):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    v = store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "", base_version=0)
    store.rounds.lock_round(chair, small_round)
    with pytest.raises(RoundLocked):
        store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "late", base_version=v)
    with pytest.raises(RoundLocked):
        store.reviews.submit(a, small_round, "T-001", version=v)
    with pytest.raises(RoundLocked):
        store.assignments.assign(chair, small_round, "T-002", "A")
    with pytest.raises(RoundLocked):
        store.assignments.declare_conflict(a, small_round, proposal_id="T-002", reason="元所属")
    assert store.reviews.get_review(a, small_round, "T-001").overall_comment == ""


def test_a_deactivated_user_is_refused_at_once(store, small_round, chair):
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    a = login(store, "A")
    store.users.update_user(chair, "A", active=False)
    with pytest.raises(PermissionDenied, match="deactivated"):
        store.reviews.save_draft(a, small_round, "T-001", LEVELS, {}, {}, "", base_version=0)
    with pytest.raises(PermissionDenied, match="deactivated"):
        store.reviews.get_review(a, small_round, "T-001")


def test_the_audit_log_is_append_only_in_the_database(backend, small_round):
    store = backend.store
    store.assignments.assign(SYSTEM, small_round, "T-001", "A")
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            with store.db.engine.begin() as conn:
                conn.execute(text(sql))
    with store.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE actor = '(cli)'")).scalar() >= 2


def test_resolving_needs_check_is_the_chairs_and_feeds_the_ranking(store, sample_round, chair, secretariat):
    # SB-009: rental/cloud 7 years → needs_check (sample_proposals/README.md)
    def sb009():
        ranking = store.rounds.rank_round(chair, sample_round, "subsidy")
        return {r["proposal_id"]: r for r in ranking.results()}["SB-009"]

    open_rules = [e["rule"] for e in sb009()["eligibility"] if e["status"] == "needs_check"]
    assert open_rules
    with pytest.raises(PermissionDenied):
        store.rounds.resolve_needs_check(secretariat, sample_round, "SB-009", open_rules[0], "pass")
    for rule in open_rules:
        store.rounds.resolve_needs_check(chair, sample_round, "SB-009", rule, "fail", note="要件を満たさない")
    assert sb009()["decision"] == "ineligible"
    entries = store.audit.query(chair, sample_round, entity="resolution")
    assert len(entries) == len(open_rules) and entries[0].after["status"] == "fail"


def test_a_resolution_changed_elsewhere_is_never_overwritten(store, sample_round, chair):
    """Two chairs (or two tabs) on the same needs_check: the one whose page is out of date gets StaleResolution
    with the stored resolution, and nothing is written."""
    from scoring.store import StaleResolution

    ranking = store.rounds.rank_round(chair, sample_round, "subsidy")
    rule = next(e["rule"] for e in {r["proposal_id"]: r for r in ranking.results()}["SB-009"]["eligibility"]
                if e["status"] == "needs_check")
    store.users.add_user(SYSTEM, "chair2", "副委員長", "chair", "chair-password-2")
    other = store.users.authenticate("chair2", "chair-password-2")
    seen = None                                                   # both pages show it unresolved
    mine = store.rounds.resolve_needs_check(other, sample_round, "SB-009", rule, "pass", expected=seen)
    with pytest.raises(StaleResolution) as exc:
        store.rounds.resolve_needs_check(chair, sample_round, "SB-009", rule, "fail", expected=seen)
    assert exc.value.current == mine
    with pytest.raises(StaleResolution):
        store.rounds.remove_resolution(chair, sample_round, "SB-009", rule, expected=seen)
    [stored] = [r for r in store.rounds.list_resolutions(chair, sample_round) if r.proposal_id == "SB-009"]
    assert stored == mine                                         # nothing overwritten, nothing removed
    changed = store.rounds.resolve_needs_check(chair, sample_round, "SB-009", rule, "fail", expected=stored)
    assert changed.status == "fail"                               # from the current state it works
    with pytest.raises(StaleResolution) as exc:
        store.rounds.remove_resolution(other, sample_round, "SB-009", rule, expected=mine)
    assert exc.value.current.status == "fail"
    store.rounds.remove_resolution(other, sample_round, "SB-009", rule, expected=changed)
    assert not [r for r in store.rounds.list_resolutions(chair, sample_round) if r.proposal_id == "SB-009"]
